/**
 * The interpreter's own paths (lib/program/interpret.ts) against generated code
 * (bit for bit) and the eager engine: loop axes merged into rows that span
 * several rows of the tensor (blocks then end mid-row), with broadcast,
 * strided and padded reads; pads on either axis, whose inner values are read
 * past their arrays' ends where the pad is off; guards whose inner value has
 * another reader; float32; reductions.
 */
import { expect } from "chai";
import {
  Tensor, add, grad, jit, mul, neg, sin, slice, sqrt, sub, sum, tensor, transpose,
} from "../../lib/index.js";
import { padInto } from "../../lib/primitives/shape.js";
import { setJitBackend } from "../../lib/program/jit.js";
import { mergeAxes } from "../../lib/program/interpret.js";
import { expectClose } from "../helpers.js";

/** Deterministic values in (−1.5, 1.5), not symmetric. */
function values(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => 1.5 * Math.sin(seed + 0.7 * i) * Math.cos(0.3 * i * seed));
}

/** f jitted on generated code and on the interpreter: the same bits; and the eager result. */
function checkBoth(f: (...xs: Tensor[]) => Tensor, args: Tensor[], what: string): void {
  const results: Tensor[] = [];
  try {
    for (const b of ["codegen", "interpret"] as const) {
      setJitBackend(b);
      const jf = jit(f);
      jf(...args);
      results.push(jf(...args));
    }
  } finally {
    setJitBackend("auto");
  }
  const [generated, interpreted] = results.map((t) => t.toFloat64Array());
  expect(interpreted.length, what).to.equal(generated.length);
  for (let i = 0; i < generated.length; i++) {
    if (!Object.is(interpreted[i], generated[i])) expect.fail(`${what}[${i}]: interpreter ${interpreted[i]}, generated code ${generated[i]}`);
  }
  expect(results[1].dtype, what).to.equal(f(...args).dtype);
  expectClose(results[1], f(...args), 1e-12, 1e-14, what);
}

describe("program/interpret: merged rows", () => {
  it("merges trailing axes along which every read and the output are contiguous", () => {
    const m = mergeAxes([4, 5, 6], [[30, 6, 1], [0, 0, 0]], [30, 6, 1], new Set());
    expect(m.shape).to.deep.equal([120]);
    expect(m.coefs).to.deep.equal([[1], [0]]);
    expect(m.axisOf).to.deep.equal([0, 0, 0]);
    expect(m.scaleOf).to.deep.equal([30, 6, 1]);
  });

  it("keeps apart axes a read broadcasts or strides along, and the inner axis of a pad's box", () => {
    // A row broadcast along axis 0: coefficient 0 there, not 4·1.
    expect(mergeAxes([3, 4], [[4, 1], [0, 1]], [4, 1], new Set()).shape).to.deep.equal([3, 4]);
    // A transposed read: coefficients (1, 3).
    expect(mergeAxes([3, 4], [[1, 3]], [4, 1], new Set()).shape).to.deep.equal([3, 4]);
    // A box on the inner axis stops the merge; one on the outer axis becomes a range of the merged axis.
    expect(mergeAxes([3, 4], [[4, 1]], [4, 1], new Set([1])).shape).to.deep.equal([3, 4]);
    const outer = mergeAxes([2, 3, 4], [[12, 4, 1]], [12, 4, 1], new Set([1]));
    expect(outer.shape).to.deep.equal([2, 12]);
    expect(outer.axisOf).to.deep.equal([0, 1, 1]);
    expect(outer.scaleOf).to.deep.equal([1, 4, 1]);
    // An inner axis of extent 1 merges whatever its coefficients.
    const unit = mergeAxes([5, 1], [[1, 7]], [1, 1], new Set());
    expect(unit.shape).to.deep.equal([5]);
    expect(unit.coefs).to.deep.equal([[1]]);
    // A sum over the last axis keeps it apart from the kept one.
    expect(mergeAxes([3, 4], [[4, 1]], [1, 0], new Set()).shape).to.deep.equal([3, 4]);
  });

  for (const dtype of ["float64", "float32"] as const) {
    describe(dtype, () => {
      const x = tensor(values(7 * 300, 1), { shape: [7, 300], dtype });
      const y = tensor(values(7 * 300, 2), { shape: [7, 300], dtype });

      it("a contiguous chain over 7×300 (blocks of the merged row end mid-row)", () => {
        checkBoth((a, b) => sqrt(add(mul(a, a), mul(b, 0.5))), [x, y], "chain");
        checkBoth((a) => sum(mul(a, sin(a))), [x], "full sum");
        checkBoth((a) => sum(mul(a, a), 0), [x], "sum over rows");
      });

      it("broadcast rows and columns, and transposed (strided) reads", () => {
        const row = tensor(values(300, 3), { dtype });
        const col = tensor(values(7, 4), { shape: [7, 1], dtype });
        checkBoth((a) => add(mul(a, row), col), [x], "row and column");
        const xt = tensor(values(300 * 7, 5), { shape: [300, 7], dtype });
        checkBoth((a, b) => sub(transpose(a), mul(b, b)), [xt, y], "transposed");
      });

      it("a pad along the outer axis (a range of the merged row), read past the array's start where it is off", () => {
        checkBoth((a) => add(padInto(sin(a), [1, 0], [9, 300]), 0.25), [x], "outer pad");
        checkBoth((a) => mul(padInto(slice(a, [2, 0], [5, 300]), [0, 0], [7, 300]), a), [x], "outer pad, read past the end");
      });

      it("a pad along the inner axis, read before and past each row where it is off", () => {
        checkBoth((a) => add(padInto(sin(a), [0, 2], [7, 302]), 0.5), [x], "inner pad");
        checkBoth((a) => sub(padInto(slice(a, [0, 3], [7, 297]), [0, 0], [7, 300]), a), [x], "inner pad at the end");
      });

      it("a guard whose inner value has another reader keeps that value whole", () => {
        checkBoth((a) => {
          const u = neg(a);
          return add(mul(u, 2), padInto(slice(u, [0, 0], [7, 299]), [0, 0], [7, 300]));
        }, [x], "shared inner");
        checkBoth((a) => {
          const u = neg(a);
          return add(padInto(slice(u, [0, 0], [7, 299]), [0, 0], [7, 300]), mul(u, 2));
        }, [x], "shared inner, guard first");
      });
    });
  }

  it("the denoising gradient (pads on both axes, differences read past the arrays)", () => {
    const N = 40;
    const clean = tensor(values(N * N, 6), { shape: [N, N] });
    const energy = (u: Tensor): Tensor => {
      const dx = sub(slice(u, [1, 0], [N - 1, N]), slice(u, [0, 0], [N - 1, N]));
      const dy = sub(slice(u, [0, 1], [N, N - 1]), slice(u, [0, 0], [N, N - 1]));
      const tv = add(sum(sqrt(add(mul(dx, dx), 0.0025))), sum(sqrt(add(mul(dy, dy), 0.0025))));
      return add(mul(0.5, sum(mul(sub(u, clean), sub(u, clean)))), mul(0.02, tv));
    };
    checkBoth(grad(energy), [tensor(values(N * N, 7), { shape: [N, N] })], "denoising gradient");
  });
});
