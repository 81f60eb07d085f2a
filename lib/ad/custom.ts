/**
 * User-defined derivative rules. `customVjp(f, fwd, bwd)` replaces reverse-mode
 * differentiation of f by the user's pullback; `customJvp(f, rule)` replaces
 * forward mode by the user's pushforward. Each also works in the other mode by
 * transposing the rule (lib/ad/transpose.ts), provided the rule is written with
 * library ops; otherwise that mode is an Error saying why.
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString } from "../tensor/shape.js";
import { bindCustom, type CustomRule, type MaybeTensor } from "../primitives/core.js";
import { isOperand, operand, type Operand } from "../primitives/operands.js";
import { checkOutput } from "../primitives/util.js";
import { checkCotangents, transposeJvp, transposeVjp } from "./transpose.js";
import { DtypeMismatchError } from "../errors.js";

function checkPair(name: string, what: string, pair: unknown): [Tensor, unknown] {
  if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${name}: ${what} must return a pair [out, ${what === "fwd" ? "residuals" : "tangentOut"}], got ${describe(pair)}`);
  return [checkOutput(name, pair[0], false) as Tensor, pair[1]];
}

/**
 * f with a custom pullback. `fwd(...args)` returns [out, residuals] (out must
 * equal f(...args)); `bwd(residuals, ȳ)` returns one cotangent per argument
 * (null for zero). Under jvp the pullback is transposed, which needs bwd to be
 * linear in ȳ and written with library ops.
 */
export function customVjp<R>(
  f: (...args: Tensor[]) => Tensor | number,
  fwd: (...args: Tensor[]) => [Tensor | number, R],
  bwd: (residuals: R, cotangent: Tensor) => (Operand | null)[],
): (...args: Operand[]) => Tensor {
  const name = "customVjp";
  for (const [what, fn] of [["f", f], ["fwd", fwd], ["bwd", bwd]] as const) {
    if (typeof fn !== "function") throw new Error(`${name}: ${what} must be a function, got ${describe(fn)}`);
  }
  const vjp = (primals: Tensor[]): [Tensor, (ct: Tensor) => MaybeTensor[]] => {
    const [out, residuals] = checkPair(name, "fwd", fwd(...primals));
    const pullback = (ct: Tensor): MaybeTensor[] => checkCotangents(name, bwd(residuals as R, ct), primals);
    return [out, pullback];
  };
  const rule: CustomRule = {
    name,
    call: (xs) => checkOutput(name, f(...xs), false) as Tensor,
    vjp,
    // J·ẋ by transposing the pullback (lib/ad/transpose.ts).
    jvp: (primals, tangents) => {
      const [out, pullback] = vjp(primals);
      return [out, transposeVjp(name, pullback, out, tangents)];
    },
  };
  return (...args) => bindCustom(rule, args.map((a, i) => operand(name, a, undefined, `argument ${i}`)));
}

/**
 * f with a custom pushforward. `rule(primals, tangents)` returns [out, J·tangents]
 * (tangents are never null; zeros where an input is not perturbed). Under grad
 * the rule is transposed by reverse mode over its tangent arguments.
 */
export function customJvp(
  f: (...args: Tensor[]) => Tensor | number,
  rule: (primals: Tensor[], tangents: Tensor[]) => [Tensor | number, Operand],
): (...args: Operand[]) => Tensor {
  const name = "customJvp";
  if (typeof f !== "function") throw new Error(`${name}: f must be a function, got ${describe(f)}`);
  if (typeof rule !== "function") throw new Error(`${name}: rule must be a function, got ${describe(rule)}`);
  const jvp = (primals: Tensor[], tangents: Tensor[]): [Tensor, Tensor] => {
    const [out, t] = checkPair(name, "rule", rule(primals, tangents));
    if (!isOperand(t)) throw new Error(`${name}: the rule's tangent must be a Tensor or a value tensor() accepts, got ${describe(t)}`);
    const tangentOut = operand(name, t, out.dtype, `the rule's tangent (its output has shape ${shapeToString(out.shape)})`);
    if (!sameShape(tangentOut.shape, out.shape)) throw new Error(`${name}: the rule's tangent has shape ${shapeToString(tangentOut.shape)} but its output has shape ${shapeToString(out.shape)}`);
    if (tangentOut.dtype !== out.dtype) throw new DtypeMismatchError(`${name}: the rule's tangent is ${tangentOut.dtype} but its output is ${out.dtype}`);
    return [out, tangentOut];
  };
  const custom: CustomRule = {
    name,
    call: (xs) => checkOutput(name, f(...xs), false) as Tensor,
    jvp,
    // The pullback by reverse mode over the rule's tangents (lib/ad/transpose.ts).
    vjp: (primals) => transposeJvp(name, jvp, primals),
  };
  return (...args) => bindCustom(custom, args.map((a, i) => operand(name, a, undefined, `argument ${i}`)));
}
