/**
 * Fusion and the memory plan (lib/program/fuse.ts, executable.ts), read from
 * the compiled form: what becomes one kernel, what is materialised, what runs
 * as a view, and that the arena reuses buffers.
 */
import { expect } from "chai";
import { Tensor, add, div, exp, grad, jit, matmul, mean, mul, sin, slice, sqrt, sub, sum, tanh, tensor, transpose } from "../../lib/index.js";
import { fuse, liveEquations, type Node } from "../../lib/program/fuse.js";
import { traceFunction } from "../../lib/program/trace.js";
import { kernelSources } from "../../lib/program/executable.js";
import { expectClose } from "../helpers.js";

const stepsOf = (f: (...xs: Tensor[]) => unknown, ...args: Tensor[]) =>
  fuse(traceFunction(f as (...xs: unknown[]) => unknown, args.map((a) => ({ shape: a.shape, dtype: a.dtype })), args.map(() => null)).program);

describe("program/fuse: kernels from the primitives' op knowledge", () => {
  it("an elementwise chain with broadcasting and its sum are one kernel", () => {
    const steps = stepsOf((x: Tensor) => sum(mul(exp(sin(x)), tensor([1, 2, 3]))), tensor([[1, 2, 3], [4, 5, 6]]));
    expect(steps.length).to.equal(1);
    expect(steps[0].kind).to.equal("kernel");
  });

  it("the denoising gradient is three kernels: the two difference fields and the gradient that pads them back", () => {
    const N = 6;
    const clean = tensor(new Float64Array(N * N).fill(0.5), { shape: [N, N] });
    const energy = (u: Tensor): Tensor => {
      const dx = sub(slice(u, [1, 0], [N - 1, N]), slice(u, [0, 0], [N - 1, N]));
      const dy = sub(slice(u, [0, 1], [N, N - 1]), slice(u, [0, 0], [N, N - 1]));
      return add(mul(0.5, sum(mul(sub(u, clean), sub(u, clean)))), mul(0.02, add(sum(sqrt(add(mul(dx, dx), 0.0025))), sum(sqrt(add(mul(dy, dy), 0.0025))))));
    };
    const steps = stepsOf(grad(energy), clean);
    expect(steps.every((s) => s.kind === "kernel")).to.equal(true);
    expect(steps.length).to.equal(3);
  });

  it("a value with two consumers that is costly to recompute is materialised once; dead code is dropped", () => {
    const f = (x: Tensor) => {
      const heavy = exp(tanh(exp(sin(exp(x)))));
      sum(mul(x, 100)); // unused
      return add(sum(heavy), mean(mul(heavy, heavy)));
    };
    const x = tensor([0.1, 0.2, 0.3]);
    const traced = traceFunction(f as (...xs: unknown[]) => unknown, [{ shape: [3], dtype: "float64" }], [null]);
    expect(liveEquations(traced.program).length).to.be.lessThan(traced.program.equations.length);
    const steps = fuse(traced.program);
    const has = (n: Node, name: string): boolean =>
      n.kind === "op" ? n.prim.name === name || n.args.some((a) => has(a, name)) : n.kind === "guard" ? has(n.inner, name) : false;
    // tanh is computed by one kernel only, which writes `heavy` for the two reductions to read.
    const withTanh = steps.filter((s) => s.kind === "kernel" && has(s.kernel.root, "tanh"));
    expect(withTanh.length).to.equal(1);
    expect(withTanh[0].kind === "kernel" && withTanh[0].kernel.kind).to.equal("map");
    expectClose(jit(f)(x), f(x), 1e-14);
  });

  it("a transpose read by a matrix product runs as a view, not a copy", () => {
    const X = tensor([[1, 2], [3, 4], [5, 6]]);
    const steps = stepsOf((w: Tensor) => matmul(transpose(X), matmul(X, w)), tensor([1, -1]));
    expect(steps.some((s) => s.kind === "kernel")).to.equal(false);
  });

  it("the arena reuses a buffer once its value is dead, and outputs never live in it", () => {
    const f = jit((x: Tensor) => {
      let y = x;
      for (let k = 0; k < 6; k++) y = tanh(add(exp(mul(y, 0.1)), mul(sin(y), y)));
      return y;
    });
    const x = tensor([0.5, -0.25]);
    const text = f.lower(x).toString();
    const buffers = Number(/arena of (\d+) buffer/.exec(text)![1]);
    expect(buffers).to.be.greaterThan(0).and.lessThan(4);
    const a = f(x);
    const b = f(tensor([1, 2]));
    expect(a.toArray()).to.not.deep.equal(b.toArray());
    expectClose(f(x), a, 0);
  });

  it("generated code computes a repeated subexpression once and reads constants outside the loop", () => {
    const f = (x: Tensor) => {
      const d = sub(slice(x, [1], [3]), slice(x, [0], [3]));
      return sum(mul(d, div(d, sqrt(add(mul(d, d), 0.01)))));
    };
    const x = tensor([0.5, 1, 3, 2]);
    const traced = traceFunction(f as (...xs: unknown[]) => unknown, [{ shape: [4], dtype: "float64" }], [null]);
    const [source] = kernelSources(traced.program, [x]);
    // The difference x[i+1] − x[i] appears once in the loop body, bound to a name.
    expect(source.match(/ - /g)?.length).to.equal(1);
    expect(source).to.match(/const e\d+ = \(D\d\[q\d+_0\] - D\d\[q\d+_0\]\);/);
    // The constant 0.01 is read once, before the loop.
    expect(source.indexOf("const h")).to.be.lessThan(source.indexOf("for ("));
    expectClose(jit(f)(x), f(x), 1e-14);
  });
});
