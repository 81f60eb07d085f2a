/**
 * Reverse mode (lib/ad/reverse.ts): grad, valueAndGrad and vjp against closed
 * forms and central finite differences; broadcasting undone in the backward
 * pass; plain-number and pass-through arguments; a tape that keeps only what
 * the rules read.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Tensor, add, div, exp, grad, jvp, logsumexp, matmul, mean, mul, neg, sin, softplus, sub, sum, tanh, tensor, valueAndGrad, vjp, where,
} from "../../lib/index.js";
import { record } from "../../lib/ad/reverse.js";
import { expectClose, fdGrad, flat, inner, nonContiguous, shapeArb, tensorOf } from "../helpers.js";
import { fdJacobian, flatRows, genericVectorArb, matmulJs, randomMatrix, runs, sigmoidJs, softmaxJs, transposeJs, vec, vectorArb } from "./fixtures.js";
import { scalarFunctions, vectorMaps } from "./subjects.js";

describe("grad: closed forms", () => {
  it("d/dx Σ sin(x)·x = cos(x)·x + sin(x)", () => {
    const xs = [-1.3, 0, 0.4, 2.2];
    expectClose(grad((x: Tensor) => sum(mul(sin(x), x)))(vec(xs)), xs.map((v) => Math.cos(v) * v + Math.sin(v)));
  });

  it("∇ logsumexp(x) = softmax(x)", () => {
    const xs = [0.5, -1, 2, 3.5, -0.25];
    expectClose(grad((x: Tensor) => logsumexp(x))(vec(xs)), softmaxJs(xs), 1e-12, 1e-14);
  });

  it("∇ Σ softplus(x) = sigmoid(x), also for large |x|", () => {
    const xs = [-800, -30, -1, 0, 1, 30, 800];
    expectClose(grad((x: Tensor) => sum(softplus(x)))(vec(xs)), xs.map(sigmoidJs), 1e-12, 1e-300);
  });

  it("∇ ½xᵀAx = ½(A + Aᵀ)x for a non-symmetric A", () => {
    const A = randomMatrix(4, 4, 3);
    const xs = [0.3, -1, 2, 0.5];
    const f = (x: Tensor): Tensor => mul(0.5, sum(mul(x, matmul(tensor(A), x))));
    const expected = xs.map((_, i) => 0.5 * xs.reduce((s, v, j) => s + (A[i][j] + A[j][i]) * v, 0));
    expectClose(grad(f)(vec(xs)), expected, 1e-12, 1e-14);
  });

  it("matrix arguments: ∂/∂A and ∂/∂B of Σ (A B) ⊙ C are C Bᵀ and Aᵀ C", () => {
    const A = randomMatrix(3, 4, 1);
    const B = randomMatrix(4, 2, 2);
    const C = randomMatrix(3, 2, 3);
    const [gA, gB] = grad((a: Tensor, b: Tensor) => sum(mul(matmul(a, b), tensor(C))), { argnums: [0, 1] })(tensor(A), tensor(B)) as Tensor[];
    expect(gA.shape).to.deep.equal([3, 4]);
    expect(gB.shape).to.deep.equal([4, 2]);
    expectClose(gA, flatRows(matmulJs(C, transposeJs(B))), 1e-12, 1e-14);
    expectClose(gB, flatRows(matmulJs(transposeJs(A), C)), 1e-12, 1e-14);
  });

  it("argnums picks arguments in the order given", () => {
    const f = (a: Tensor, b: Tensor, c: Tensor): Tensor => sum(mul(mul(a, b), exp(c)));
    const [a, b, c] = [vec([1, 2]), vec([3, -1]), vec([0, 1])];
    const [gc, ga] = grad(f, { argnums: [2, 0] })(a, b, c) as Tensor[];
    expectClose(gc, [1 * 3 * 1, 2 * -1 * Math.E]);
    expectClose(ga, [3 * 1, -1 * Math.E]);
    expectClose(grad(f, { argnums: 1 })(a, b, c), [1, 2 * Math.E]);
  });

  it("a function that ignores its argument has a zero gradient of the argument's shape", () => {
    const g = grad((_x: Tensor) => tensor(3))(tensor([[1, 2, 3]]));
    expect(g.shape).to.deep.equal([1, 3]);
    expectClose(g, [0, 0, 0]);
    expectClose(grad((_x: Tensor) => 5)(tensor(2)), [0]);
  });

  it("a float32 argument gets a float32 gradient", () => {
    const g = grad((x: Tensor) => sum(mul(x, x)))(tensor([1.5, -2], { dtype: "float32" }));
    expect(g.dtype).to.equal("float32");
    expectClose(g, [3, -4]);
  });

  it("non-contiguous arguments (strided, reversed, transposed views)", () => {
    const x = tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]]);
    const expected = flat(x).map((v) => Math.cos(v) + 2 * v);
    for (const kind of ["padded", "reversed", "transposed"] as const) {
      expectClose(grad((t: Tensor) => sum(add(sin(t), mul(t, t))))(nonContiguous(x, kind)), expected, 1e-12, 1e-14, kind);
    }
  });
});

describe("valueAndGrad", () => {
  it("returns f's value and the gradient from one pass", () => {
    const xs = [0.2, -0.7, 1.1];
    const [value, g] = valueAndGrad((x: Tensor) => sum(mul(exp(x), x)))(vec(xs));
    expect(value).to.be.instanceOf(Tensor);
    expect(value.shape).to.deep.equal([]);
    expectClose(value, xs.reduce((s, v) => s + Math.exp(v) * v, 0), 1e-12);
    expectClose(g, xs.map((v) => Math.exp(v) * (v + 1)), 1e-12);
  });

  it("with argnums an array returns an array of gradients", () => {
    const [value, gs] = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(a, b)), { argnums: [1, 0] })(vec([1, 2]), vec([3, 4]));
    expectClose(value, 11);
    expect(gs).to.be.an("array").with.length(2);
    expectClose(gs[0], [1, 2]);
    expectClose(gs[1], [3, 4]);
  });
});

describe("vjp: closed forms", () => {
  it("vjp of an elementwise map: pullback(ȳ) = ȳ ⊙ f'(x)", () => {
    const xs = [0.1, 1.2, -2];
    const [out, pullback] = vjp((x: Tensor) => mul(sin(x), x), vec(xs));
    expectClose(out, xs.map((v) => Math.sin(v) * v));
    const ct = [1, -2, 0.5];
    const [g] = pullback(vec(ct));
    expectClose(g, xs.map((v, i) => ct[i] * (Math.cos(v) * v + Math.sin(v))), 1e-12);
  });

  it("vjp with several primals returns one cotangent each, zeros for unused ones", () => {
    const [out, pullback] = vjp((a: Tensor, b: Tensor, _c: Tensor) => add(mul(a, b), a), vec([1, 2]), vec([3, 4]), tensor([[7]]));
    expectClose(out, [4, 10]);
    const [ga, gb, gc] = pullback(vec([1, -1]));
    expectClose(ga, [4, -5]);
    expectClose(gb, [1, -2]);
    expect(gc.shape).to.deep.equal([1, 1]);
    expectClose(gc, [0]);
  });

  it("vjp of a matrix-valued function: Xᵀ ȳ for y = X w", () => {
    const X = randomMatrix(5, 3, 4);
    const ct = [1, 2, -1, 0.5, 3];
    const [, pullback] = vjp((w: Tensor) => matmul(tensor(X), w), vec([1, 1, 1]));
    expectClose(pullback(vec(ct))[0], transposeJs(X).map((row) => row.reduce((s, v, i) => s + v * ct[i], 0)), 1e-12);
  });

  it("vjp of a scalar function accepts a number cotangent", () => {
    const [, pullback] = vjp((x: Tensor) => sum(mul(x, x)), vec([1, -3]));
    expectClose(pullback(2)[0], [4, -12]);
  });
});

describe("grad and vjp against finite differences (random inputs)", () => {
  for (const [name, f] of scalarFunctions) {
    it(name, () => {
      fc.assert(
        fc.property(genericVectorArb(6), (x) => {
          expectClose(grad(f)(x), fdGrad((t) => f(t).item(), x), 1e-5, 1e-6, `${name} grad`);
        }),
        runs(8),
      );
    });
  }

  it("vector-valued functions: vjp matches the finite-difference Jacobian and is the adjoint of jvp", () => {
    for (const [name, f] of vectorMaps) {
      fc.assert(
        fc.property(vectorArb(4), vectorArb(4), (x, v) => {
          const J = fdJacobian(f, x);
          const [out, pullback] = vjp(f, x);
          const ct = tensor(flat(out).map((_, i) => Math.cos(i + flat(x)[0])));
          const [g] = pullback(ct);
          expectClose(g, transposeJs(J).map((col) => col.reduce((s, a, i) => s + a * flat(ct)[i], 0)), 1e-5, 1e-6, `${name} vjp`);
          // ⟨ȳ, J ẋ⟩ = ⟨Jᵀ ȳ, ẋ⟩
          const [, tangent] = jvp(f, [x], [v]);
          expectClose([inner(ct, tangent)], [inner(g, v)], 1e-10, 1e-12, `${name} adjoint`);
        }),
        runs(8),
      );
    }
  });

  it("random shapes of rank 0–3", () => {
    fc.assert(
      fc.property(shapeArb(3, 1, 3).chain((s) => tensorOf(s)), (x) => {
        const f = (t: Tensor): Tensor => add(sum(mul(tanh(t), exp(mul(t, 0.3)))), logsumexp(t));
        const g = grad(f)(x);
        expect(g.shape).to.deep.equal(x.shape);
        expectClose(g, fdGrad((t) => f(t).item(), x), 1e-5, 1e-6);
      }),
      runs(20),
    );
  });
});

describe("broadcasting is undone in the backward pass", () => {
  const X = [[1, 2, 3], [4, 5, 6]];
  const columnSums = [5, 7, 9];
  const rowSums = [6, 15];

  it("∂/∂b Σ (X + b)² for b of shape [3], [1,3], [2,1], [] has b's shape and sums over the broadcast axes", () => {
    const f = (b: Tensor): Tensor => sum(mul(add(tensor(X), b), add(tensor(X), b)));
    const bRow = [0.5, -1, 2];
    const expectedRow = bRow.map((bj, j) => 2 * (X[0][j] + bj) + 2 * (X[1][j] + bj));
    const g1 = grad(f)(vec(bRow));
    expect(g1.shape).to.deep.equal([3]);
    expectClose(g1, expectedRow);
    const g2 = grad(f)(tensor([bRow]));
    expect(g2.shape).to.deep.equal([1, 3]);
    expectClose(g2, expectedRow);
    const g3 = grad(f)(tensor([[1], [-1]]));
    expect(g3.shape).to.deep.equal([2, 1]);
    expectClose(g3, [0, 1].map((i) => X[i].reduce((s, v) => s + 2 * (v + (i === 0 ? 1 : -1)), 0)));
    const g4 = grad(f)(tensor(0.5));
    expect(g4.shape).to.deep.equal([]);
    expectClose(g4, X.flat().reduce((s, v) => s + 2 * (v + 0.5), 0));
  });

  it("mul, sub, div and where against a broadcast operand", () => {
    const x = tensor(X);
    expectClose(grad((b: Tensor) => sum(mul(x, b)))(vec([1, 1, 1])), columnSums);
    expectClose(grad((b: Tensor) => sum(sub(x, b)))(tensor([[0], [0]])), [-3, -3]);
    expectClose(grad((b: Tensor) => sum(div(x, b)))(tensor(2)), [-21 / 4]);
    expectClose(grad((b: Tensor) => sum(where(tensor([[1, 0, 1], [0, 1, 1]]), b, x)))(vec([1, 1, 1])), [1, 1, 2]);
    // The broadcast operand may also be the bigger side's partner in the same op.
    const [gx, gb] = grad((a: Tensor, b: Tensor) => sum(mul(a, b)), { argnums: [0, 1] })(x, tensor([[2], [3]])) as Tensor[];
    expectClose(gx, [2, 2, 2, 3, 3, 3]);
    expectClose(gb, rowSums);
  });

  it("batched matmul: the gradient of a shared matrix sums over the batch", () => {
    const batch = [randomMatrix(2, 3, 1), randomMatrix(2, 3, 2)];
    const C = [randomMatrix(2, 4, 3), randomMatrix(2, 4, 4)];
    const B = randomMatrix(3, 4, 5);
    const g = grad((b: Tensor) => sum(mul(matmul(tensor(batch), b), tensor(C))))(tensor(B));
    expect(g.shape).to.deep.equal([3, 4]);
    const expected = matmulJs(transposeJs(batch[0]), C[0]).map((row, i) => row.map((v, j) => v + matmulJs(transposeJs(batch[1]), C[1])[i][j]));
    expectClose(g, flatRows(expected), 1e-12, 1e-14);
  });
});

describe("plain-number and pass-through arguments", () => {
  it("grad w.r.t. a number gives a rank-0 Tensor", () => {
    const g = grad((x: Tensor) => mul(x, mul(x, x)))(2);
    expect(g).to.be.instanceOf(Tensor);
    expect(g.shape).to.deep.equal([]);
    expectClose(g, 12);
    const [value, g2] = valueAndGrad((x: Tensor) => sin(x))(0.5);
    expectClose(value, Math.sin(0.5));
    expect(g2.shape).to.deep.equal([]);
    expectClose(g2, Math.cos(0.5));
  });

  it("f may return a number, or mix numbers into ops", () => {
    // f returns a number that does not depend on x: the gradient is zero
    expectClose(grad((_x: Tensor) => 42)(vec([1, 2])), [0, 0]);
    expectClose(grad((x: Tensor) => add(3, mul(x, 2)))(1.5), 2);
  });

  it("arguments not differentiated reach f unchanged, whatever their type", () => {
    const config = { scale: 3 };
    const label = "weights";
    const callback = (v: number): number => v + 1;
    const list = [1, 2, 3];
    const other = vec([10, 20]);
    const seen: unknown[] = [];
    const f = (x: Tensor, c: typeof config, s: string, cb: typeof callback, l: number[], t: Tensor, u: undefined, n: null): Tensor => {
      seen.push(c, s, cb, l, t, u, n);
      return mul(sum(mul(x, x)), cb(c.scale) + l.length + (s === "weights" ? 1 : 0));
    };
    const g = grad(f)(vec([1, -2]), config, label, callback, list, other, undefined, null);
    expectClose(g, [2 * 8, -4 * 8]);
    expect(seen[0]).to.equal(config);
    expect(seen[1]).to.equal(label);
    expect(seen[2]).to.equal(callback);
    expect(seen[3]).to.equal(list);
    expect(seen[4]).to.equal(other);
    expect(seen[5]).to.equal(undefined);
    expect(seen[6]).to.equal(null);
    expect(config).to.deep.equal({ scale: 3 });
    expect(list).to.deep.equal([1, 2, 3]);
  });

  it("a non-differentiated Tensor argument is treated as a constant", () => {
    const g = grad((x: Tensor, y: Tensor) => sum(mul(x, y)), { argnums: 1 })(vec([2, 3]), vec([5, 7]));
    expectClose(g, [2, 3]);
  });

  it("mean of a matrix: the gradient is 1/n everywhere", () => {
    expectClose(grad((x: Tensor) => mean(x))(tensor([[1, 2], [3, 4], [5, 6]])), new Array(6).fill(1 / 6), 1e-14);
  });

  it("neg and chains of unary ops", () => {
    const xs = [0.2, 1.4];
    expectClose(grad((x: Tensor) => sum(neg(exp(sin(x)))))(vec(xs)), xs.map((v) => -Math.exp(Math.sin(v)) * Math.cos(v)), 1e-12);
  });
});

describe("the tape", () => {
  it("keeps only what each VJP rule reads: large values no rule needs are kept as their shape", () => {
    const n = 2000;
    const x = tensor(Array.from({ length: n }, (_, i) => Math.sin(i)));
    const f = (t: Tensor): Tensor => sum(exp(neg(t)));
    const stored = (t: Tensor): boolean => t.strides.some((s) => s !== 0);
    const rec = record("spec", f, [x]);
    const [negNode, expNode] = ["neg", "exp"].map((name) => rec.trace.tape.find((node) => node.name === name)!);
    // neg's rule reads nothing; exp's reads its output only.
    expect([stored(negNode.primals[0]), stored(negNode.out)]).to.deep.equal([false, false]);
    expect([stored(expNode.primals[0]), stored(expNode.out)]).to.deep.equal([false, true]);
    expect(negNode.out.shape).to.deep.equal([n]);
    // Shown tapes (traceTape) keep every value.
    const shown = record("spec", f, [x], true).trace.tape.find((node) => node.name === "neg")!;
    expect(stored(shown.primals[0])).to.equal(true);
    expectClose(grad(f)(x), flat(x).map((v) => -Math.exp(-v)), 1e-14);
  });
});
