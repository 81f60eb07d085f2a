/**
 * lib/krylov/jacobi.ts: the diagonal of a matrix-free operator by probing, and
 * the Jacobi preconditioner built from it. Every diagonal is compared with the
 * matrix the products come from.
 */
import { expect } from "chai";
import { tensor } from "../../lib/index.js";
import { jacobiPreconditioner, probeDiagonal } from "../../lib/krylov/jacobi.js";
import { rng } from "./helpers.js";

type Matrix = number[][];

/** The in-place product of a dense matrix, counting its calls. */
function counted(A: Matrix): { product: (x: Float64Array, out: Float64Array) => void; calls: () => number } {
  let calls = 0;
  return {
    product: (x, out) => {
      calls++;
      for (let i = 0; i < A.length; i++) {
        let s = 0;
        for (let j = 0; j < x.length; j++) s += A[i][j] * x[j];
        out[i] = s;
      }
    },
    calls: () => calls,
  };
}

function expectDiagonal(A: Matrix, found: Float64Array): void {
  A.forEach((row, i) => expect(Math.abs(found[i] - row[i]), `entry ${i}`).to.be.at.most(1e-12 * Math.max(1, Math.abs(row[i]))));
}

describe("krylov/jacobi: probeDiagonal", () => {
  const next = rng(5);

  it("a band of half-width w: exact from about 4w products", () => {
    for (const [n, w] of [[100, 1], [100, 3], [300, 7]]) {
      const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (Math.abs(i - j) <= w ? next() + (i === j ? 3 : 0) : 0)));
      const { product, calls } = counted(A);
      const { diagonal, products, period } = probeDiagonal(product, n);
      expectDiagonal(A, diagonal);
      expect(period, `w = ${w}`).to.be.above(w);
      expect(products).to.equal(calls());
      expect(products, `w = ${w}`).to.be.at.most(8 * (w + 1));
    }
  });

  it("a 2-D five-point stencil (neighbours at distances 1 and m): exact once the period divides neither", () => {
    const m = 12;
    const n = m * m;
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
      if (i === j) return 4 + (i % 5); // a diagonal that varies
      const [ri, ci, rj, cj] = [Math.floor(i / m), i % m, Math.floor(j / m), j % m];
      return Math.abs(ri - rj) + Math.abs(ci - cj) === 1 ? -1 : 0;
    }));
    const { product, calls } = counted(A);
    const found = probeDiagonal(product, n);
    expectDiagonal(A, found.diagonal);
    expect(m % found.period).to.not.equal(0); // 2 and 4 divide 12: their rounds disagree
    expect(found.period).to.equal(8);
    expect(calls()).to.be.below(3 * n);
  });

  it("a dense matrix, and periodic boundary entries at distance n − 1: the unit vectors end the search, exact", () => {
    const n = 40;
    const dense = Array.from({ length: n }, () => Array.from({ length: n }, () => next()));
    const periodic = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 + next() : Math.abs(i - j) === 1 || Math.abs(i - j) === n - 1 ? -1 : 0)));
    for (const A of [dense, periodic]) {
      const { product, calls } = counted(A);
      const found = probeDiagonal(product, n);
      expectDiagonal(A, found.diagonal);
      expect(calls()).to.be.at.most(3 * n);
    }
  });

  it("float32 products: agreement judged at float32's rounding, so a band still costs 4w products", () => {
    const n = 100;
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (Math.abs(i - j) <= 1 ? next() + (i === j ? 3 : 0) : 0)));
    const { product } = counted(A);
    let calls = 0;
    const rounded = (x: Float64Array, out: Float64Array) => {
      calls++;
      product(Float64Array.from(x, Math.fround), out);
      for (let i = 0; i < n; i++) out[i] = Math.fround(out[i]);
    };
    const { diagonal } = probeDiagonal(rounded, n, 2 ** -23);
    expect(calls).to.equal(4);
    A.forEach((row, i) => expect(Math.abs(diagonal[i] - row[i]), `entry ${i}`).to.be.below(1e-6 * Math.abs(row[i])));
  });

  it("a diagonal operator: four products", () => {
    const n = 50;
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? i - 25 : 0)));
    const { product, calls } = counted(A);
    expectDiagonal(A, probeDiagonal(product, n).diagonal);
    expect(calls()).to.equal(4);
  });
});

describe("krylov/jacobi: jacobiPreconditioner", () => {
  it("divides by d (by |d| when positive), leaving zero entries scaled by the mean |d|", () => {
    const d = Float64Array.from([2, -4, 0, 8]);
    const v = tensor([2, 2, 2, 2]);
    expect(Array.from(jacobiPreconditioner(d, false)(v).toFloat64Array())).to.deep.equal([1, -0.5, 2 / (14 / 3), 0.25]);
    const positive = jacobiPreconditioner(d, true);
    expect(Array.from(positive(v).toFloat64Array())).to.deep.equal([1, 0.5, 2 / (14 / 3), 0.25]);
    const out = new Float64Array(4);
    positive.into(Float64Array.from([4, 4, 4, 4]), out);
    expect(Array.from(out)).to.deep.equal([2, 1, 4 / (14 / 3), 0.5]);
    expect(Array.from(v.toFloat64Array())).to.deep.equal([2, 2, 2, 2]); // not mutated
  });
});
