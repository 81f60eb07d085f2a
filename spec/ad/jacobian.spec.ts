/**
 * jacobian (fwd, rev, auto; argnums as a number or an array), hessian and hvp
 * against closed forms and finite differences.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Tensor, add, exp, hessian, hvp, jacobian, logsumexp, matmul, mul, sin, softplus, sum, tanh, tensor,
} from "../../lib/index.js";
import { expectClose, flat } from "../helpers.js";
import {
  diagJs, fdJacobian, flatRows, matvecJs, randomMatrix, runs, sigmoidJs, softmaxJs, transposeJs, vec, vectorArb,
} from "./fixtures.js";

const modes = ["fwd", "rev", "auto"] as const;

describe("jacobian", () => {
  it("J of A x + sin x is A + diag(cos x), in every mode", () => {
    const A = randomMatrix(3, 3, 21);
    const xs = [0.4, -1.1, 2];
    const expected = A.map((row, i) => row.map((v, j) => v + (i === j ? Math.cos(xs[i]) : 0)));
    for (const mode of modes) {
      const J = jacobian((x: Tensor) => add(matmul(tensor(A), x), sin(x)), { mode })(vec(xs));
      expect(J.shape, mode).to.deep.equal([3, 3]);
      expectClose(J, flatRows(expected), 1e-12, 1e-14, mode);
    }
  });

  it("non-square: a 4×2 Jacobian (auto picks either mode and agrees)", () => {
    const A = randomMatrix(4, 2, 22);
    const xs = [0.3, -0.8];
    const z = matvecJs(A, xs);
    const expected = A.map((row, i) => row.map((v) => v * (1 - Math.tanh(z[i]) ** 2)));
    for (const mode of modes) {
      const J = jacobian((x: Tensor) => tanh(matmul(tensor(A), x)), { mode })(vec(xs));
      expect(J.shape, mode).to.deep.equal([4, 2]);
      expectClose(J, flatRows(expected), 1e-12, 1e-14, mode);
    }
    // and the wide case, 2×4
    const B = transposeJs(A);
    const ys = [0.1, 0.2, -0.3, 0.5];
    for (const mode of modes) {
      const J = jacobian((y: Tensor) => matmul(tensor(B), y), { mode })(vec(ys));
      expect(J.shape, mode).to.deep.equal([2, 4]);
      expectClose(J, flatRows(B), 1e-14, 1e-15, mode);
    }
  });

  it("shape is [...out.shape, ...arg.shape]: exp of a [2,3] matrix is a [2,3,2,3] diagonal", () => {
    const X = [[0.1, 0.2, 0.3], [-1, 0, 1]];
    for (const mode of modes) {
      const J = jacobian((x: Tensor) => exp(x), { mode })(tensor(X));
      expect(J.shape, mode).to.deep.equal([2, 3, 2, 3]);
      const entries = flat(J);
      const xs = X.flat();
      for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
        expectClose([entries[i * 6 + j]], [i === j ? Math.exp(xs[i]) : 0], 1e-14, 1e-15, `${mode} [${i},${j}]`);
      }
    }
  });

  it("scalar output: the Jacobian has the argument's shape; scalar input: the output's shape", () => {
    for (const mode of modes) {
      const g = jacobian((x: Tensor) => sum(mul(x, x)), { mode })(tensor([[1, 2], [3, 4]]));
      expect(g.shape, mode).to.deep.equal([2, 2]);
      expectClose(g, [2, 4, 6, 8], 1e-14, 1e-15, mode);
      const d = jacobian((s: Tensor) => mul(s, vec([1, 2, 3])), { mode })(2);
      expect(d.shape, mode).to.deep.equal([3]);
      expectClose(d, [1, 2, 3], 1e-14, 1e-15, mode);
    }
  });

  it("argnums as an array returns one Jacobian per argument; as a number, one Jacobian", () => {
    const a = [1, 2, 3];
    const b = [0.5, -1, 2];
    const f = (x: Tensor, y: Tensor, scale: number): Tensor => mul(mul(x, exp(y)), scale);
    for (const mode of modes) {
      const [Ja, Jb] = jacobian(f, { mode, argnums: [0, 1] })(vec(a), vec(b), 2) as Tensor[];
      expectClose(Ja, flatRows(diagJs(b.map((v) => 2 * Math.exp(v)))), 1e-14, 1e-15, `${mode} Ja`);
      expectClose(Jb, flatRows(diagJs(b.map((v, i) => 2 * a[i] * Math.exp(v)))), 1e-12, 1e-15, `${mode} Jb`);
      const J1 = jacobian(f, { mode, argnums: 1 })(vec(a), vec(b), 2);
      expect(J1).to.be.instanceOf(Tensor);
      expectClose(J1, flat(Jb), 1e-14, 1e-15, `${mode} argnums 1`);
      const [Jonly] = jacobian(f, { mode, argnums: [1] })(vec(a), vec(b), 2) as Tensor[];
      expectClose(Jonly, flat(Jb), 1e-14, 1e-15, `${mode} argnums [1]`);
    }
  });

  it("matches the finite-difference Jacobian on random inputs, forward and reverse", () => {
    const A = randomMatrix(3, 4, 23);
    const f = (x: Tensor): Tensor => mul(softplus(matmul(tensor(A), x)), logsumexp(x));
    fc.assert(
      fc.property(vectorArb(4), (x) => {
        const expected = flatRows(fdJacobian(f, x));
        expectClose(jacobian(f, { mode: "fwd" })(x), expected, 1e-5, 1e-6, "fwd");
        expectClose(jacobian(f, { mode: "rev" })(x), expected, 1e-5, 1e-6, "rev");
      }),
      runs(15),
    );
  });
});

describe("hessian", () => {
  it("of logsumexp is diag(p) − ppᵀ with p = softmax(x)", () => {
    fc.assert(
      fc.property(vectorArb(5, -3, 3), (x) => {
        const p = softmaxJs(flat(x));
        const expected = p.map((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj));
        const H = hessian((t: Tensor) => logsumexp(t))(x);
        expect(H.shape).to.deep.equal([5, 5]);
        expectClose(H, flatRows(expected), 1e-10, 1e-13);
      }),
      runs(15),
    );
  });

  it("of Σ softplus(x) is diag(σ(x)(1 − σ(x)))", () => {
    const xs = [-3, -0.5, 0, 1.25, 4];
    const H = hessian((t: Tensor) => sum(softplus(t)))(vec(xs));
    expectClose(H, flatRows(diagJs(xs.map((v) => sigmoidJs(v) * (1 - sigmoidJs(v))))), 1e-12, 1e-15);
  });

  it("of softplus(wᵀx) is σ'(wᵀx) w wᵀ", () => {
    const w = [0.5, -1, 2];
    const xs = [0.3, 0.2, -0.1];
    const z = w.reduce((s, v, i) => s + v * xs[i], 0);
    const s = sigmoidJs(z) * (1 - sigmoidJs(z));
    const H = hessian((t: Tensor) => softplus(sum(mul(vec(w), t))))(vec(xs));
    expectClose(H, flatRows(w.map((a) => w.map((b) => s * a * b))), 1e-12, 1e-15);
  });

  it("of xᵀAx is A + Aᵀ for a non-symmetric A (at any x)", () => {
    const A = randomMatrix(4, 4, 24);
    const expected = A.map((row, i) => row.map((v, j) => v + A[j][i]));
    fc.assert(
      fc.property(vectorArb(4), (x) => {
        expectClose(hessian((t: Tensor) => sum(mul(t, matmul(tensor(A), t))))(x), flatRows(expected), 1e-12, 1e-13);
      }),
      runs(10),
    );
  });

  it("w.r.t. another argument (argnums), shaped [...arg.shape, ...arg.shape]", () => {
    const H = hessian((a: Tensor, b: Tensor) => sum(mul(a, mul(b, mul(b, b)))), { argnums: 1 })(vec([1, 2]), tensor([[2, 3]]));
    expect(H.shape).to.deep.equal([1, 2, 1, 2]);
    expectClose(H, [6 * 1 * 2, 0, 0, 6 * 2 * 3]);
  });

  it("of a scalar function of a scalar is its second derivative", () => {
    const H = hessian((t: Tensor) => mul(exp(t), mul(t, t)))(0.7);
    expect(H.shape).to.deep.equal([]);
    expectClose(H, Math.exp(0.7) * (0.49 + 4 * 0.7 + 2), 1e-12);
  });
});

describe("hvp", () => {
  it("H·v for xᵀAx equals (A + Aᵀ) v", () => {
    const A = randomMatrix(4, 4, 25);
    const H = A.map((row, i) => row.map((v, j) => v + A[j][i]));
    fc.assert(
      fc.property(vectorArb(4), vectorArb(4), (x, v) => {
        const out = hvp((t: Tensor) => sum(mul(t, matmul(tensor(A), t))), [x], [v]) as Tensor;
        expect(out).to.be.instanceOf(Tensor);
        expectClose(out, matvecJs(H, flat(v)), 1e-12, 1e-13);
      }),
      runs(10),
    );
  });

  it("H·v for logsumexp equals (diag(p) − ppᵀ) v without forming H", () => {
    fc.assert(
      fc.property(vectorArb(6), vectorArb(6), (x, v) => {
        const p = softmaxJs(flat(x));
        const vs = flat(v);
        const pv = p.reduce((s, pi, i) => s + pi * vs[i], 0);
        const out = hvp((t: Tensor) => logsumexp(t), [x], [v]) as Tensor;
        expectClose(out, p.map((pi, i) => pi * vs[i] - pi * pv), 1e-10, 1e-13);
      }),
      runs(10),
    );
  });

  it("several primals: the blocks Σⱼ Hᵢⱼ vⱼ of f(x, y) = Σ x² y", () => {
    const x = [1, 2];
    const y = [3, -4];
    const vx = [0.5, 1];
    const vy = [-1, 2];
    const out = hvp((a: Tensor, b: Tensor) => sum(mul(mul(a, a), b)), [vec(x), vec(y)], [vec(vx), vec(vy)]) as Tensor[];
    expect(out).to.be.an("array").with.length(2);
    // ∇ₓ = 2xy, ∇ᵧ = x²  ⇒  Hₓₓ = diag(2y), Hₓᵧ = diag(2x), Hᵧᵧ = 0
    expectClose(out[0], x.map((xi, i) => 2 * y[i] * vx[i] + 2 * xi * vy[i]));
    expectClose(out[1], x.map((xi, i) => 2 * xi * vx[i]));
  });

  it("agrees with hessian(f)·v for a function mixing many primitives (and H is symmetric)", () => {
    const A = randomMatrix(4, 4, 26);
    const f = (t: Tensor): Tensor => add(logsumexp(matmul(tensor(A), t)), sum(mul(softplus(t), sin(t))));
    fc.assert(
      fc.property(vectorArb(4), vectorArb(4), (x, v) => {
        const H = hessian(f)(x);
        const rows = [0, 1, 2, 3].map((i) => flat(H).slice(4 * i, 4 * i + 4));
        for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) expectClose([rows[i][j]], [rows[j][i]], 1e-10, 1e-12, `H[${i},${j}]`);
        expectClose(hvp(f, [x], [v]) as Tensor, matvecJs(rows, flat(v)), 1e-10, 1e-12);
      }),
      runs(10),
    );
  });

  it("matches finite differences of the closed-form gradient", () => {
    // f = Σ tanh(x)·x, ∇f = tanh(x) + x(1 − tanh²x) computed in plain JS
    const gradJs = (xs: number[]): number[] => xs.map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
    fc.assert(
      fc.property(vectorArb(5), vectorArb(5), (x, v) => {
        const h = 1e-6;
        const xs = flat(x);
        const vs = flat(v);
        const plus = gradJs(xs.map((a, i) => a + h * vs[i]));
        const minus = gradJs(xs.map((a, i) => a - h * vs[i]));
        const expected = plus.map((a, i) => (a - minus[i]) / (2 * h));
        expectClose(hvp((t: Tensor) => sum(mul(tanh(t), t)), [x], [v]) as Tensor, expected, 1e-5, 1e-6);
      }),
      runs(10),
    );
  });
});
