/**
 * Host steps: a function that cannot be traced into equations (it reads the
 * numbers of its inputs, as an ImplicitFunction's `forward` and its Krylov
 * solves do) recorded whole, as one step of the program that runs it when the
 * program runs. Its derivatives are host steps too: under `jit(grad(f))` the
 * pullback of the call is a step running the engine's `vjp` of the function at
 * run time, so the derivative is the function's own (for an ImplicitFunction,
 * the implicit function theorem's), never a derivative of placeholder values.
 * Outside jit the rule simply runs the function under the transformation.
 */
import type { DType, Tensor } from "../tensor/tensor.js";
import { sizeOf } from "../tensor/shape.js";
import { bindCustom, hiddenFrom, stagingTrace, type CustomRule, type MaybeTensor } from "../primitives/core.js";
import { concat, reshape, slice } from "../primitives/shape.js";
import { jvp } from "../ad/forward.js";
import { vjp } from "../ad/reverse.js";

type Signature = { shape: readonly number[]; dtype: DType };

/** True while jit traces (a staging trace is live): a function that reads values must run as a host step. */
export function staging(): boolean {
  return stagingTrace() !== null;
}

/**
 * `fn(...inputs)` as a host step of the program jit is tracing. `signature` is
 * the output's shape and dtype; when absent, `fn` runs once now, on the
 * placeholder values (zeros), to find it.
 */
export function stagedCall(name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], signature?: Signature): Tensor {
  const trace = stagingTrace();
  let sig = signature;
  if (sig === undefined) {
    const out = trace === null ? fn(...inputs) : hiddenFrom(trace, () => fn(...inputs));
    sig = { shape: out.shape.slice(), dtype: out.dtype };
  }
  return bindCustom(hostRule(name, fn, sig, inputs.map((x) => ({ shape: x.shape.slice(), dtype: x.dtype }))), inputs);
}

function hostRule(name: string, fn: (...xs: Tensor[]) => Tensor, signature: Signature, inputs: readonly Signature[]): CustomRule {
  const n = inputs.length;
  return {
    name,
    closures: true,
    signature,
    call: (xs) => fn(...xs),
    jvp: (primals, tangents) => {
      if (!staging()) return jvp(fn, primals, tangents) as [Tensor, Tensor];
      const out = stagedCall(name, fn, primals, signature);
      const tangent = stagedCall(`${name} (pushforward)`, (...pt) => jvp(fn, pt.slice(0, n), pt.slice(n))[1] as Tensor, [...primals, ...tangents], signature);
      return [out, tangent];
    },
    vjp: (primals) => {
      if (!staging()) {
        const [out, pullback] = vjp(fn, ...primals);
        return [out, (ct) => pullback(ct)];
      }
      const out = stagedCall(name, fn, primals, signature);
      const sizes = inputs.map((s) => sizeOf(s.shape));
      const total = sizes.reduce((a, b) => a + b, 0);
      const pullback = (ct: Tensor): MaybeTensor[] => {
        // One step returns every cotangent, flattened end to end; slices hand each input its own.
        const flat = stagedCall(`${name} (pullback)`, (...pc) => {
          const cts = vjp(fn, ...pc.slice(0, n))[1](pc[n]);
          return cts.length === 1 ? reshape(cts[0], [sizes[0]]) : concat(cts.map((c, i) => reshape(c, [sizes[i]])));
        }, [...primals, ct], { shape: [total], dtype: signature.dtype });
        let start = 0;
        return inputs.map((s, i) => {
          const part = reshape(slice(flat, [start], [sizes[i]]), s.shape.slice());
          start += sizes[i];
          return part;
        });
      };
      return [out, pullback];
    },
  };
}
