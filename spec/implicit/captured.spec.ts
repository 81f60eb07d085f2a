/**
 * Derivatives through values the conditions capture (closures), with only some
 * inputs passed to f.call: the case JAXopt refuses and naive custom rules get
 * silently wrong.
 */
import { expect } from "chai";
import {
  ImplicitFunction, Tensor, tensor, grad, jvp, jacobian, hessian, add, sub, mul, div, exp, log, sum, matmul, transpose,
  logsumexp, concat, slice, reshape, zeros, pow, solve, eye,
} from "../../lib/index.js";
import { expectClose } from "../helpers.js";

const EPS = 0.5;
const n = 4;
const m = 5;
const targets = [[0.1, 0.3], [0.9, -0.2], [-0.5, 0.4], [0.3, 1.1], [-0.2, -0.7]];
const a = Array(n).fill(1 / n);
const b = [0.1, 0.3, 0.2, 0.25, 0.15];

/** Plain log-domain Sinkhorn on numbers, gauge g_{m−1} = 0 (independent of the library). */
function plainSinkhorn(C: number[][]): { f: number[]; g: number[] } {
  const f = Array(n).fill(0);
  const g = Array(m).fill(0);
  const lse = (v: number[]) => {
    const top = Math.max(...v);
    return top + Math.log(v.reduce((s, x) => s + Math.exp(x - top), 0));
  };
  for (let it = 0; it < 5000; it++) {
    for (let i = 0; i < n; i++) f[i] = EPS * Math.log(a[i]) - EPS * lse(g.map((gj, j) => (gj - C[i][j]) / EPS));
    for (let j = 0; j < m; j++) g[j] = EPS * Math.log(b[j]) - EPS * lse(f.map((fi, i) => (fi - C[i][j]) / EPS));
    const shift = g[m - 1];
    for (let j = 0; j < m; j++) g[j] -= shift;
    for (let i = 0; i < n; i++) f[i] += shift;
  }
  return { f, g };
}
function plainCost(points: number[][]): number[][] {
  return points.map((x) => targets.map((y) => (x[0] - y[0]) ** 2 + (x[1] - y[1]) ** 2));
}
/** ⟨P, C⟩ of the optimal entropic plan, all in plain numbers. */
function plainTransportCost(points: number[][]): number {
  const C = plainCost(points);
  const { f, g } = plainSinkhorn(C);
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) s += Math.exp((f[i] + g[j] - C[i][j]) / EPS) * C[i][j];
  return s;
}

/** The same with the library: C computed upstream from the points and captured by the conditions. */
function transportCost(points: Tensor): Tensor {
  const Y = tensor(targets);
  const sq = (t: Tensor) => sum(mul(t, t), 1, true);
  const C = add(sub(sq(points), mul(2, matmul(points, transpose(Y)))), reshape(sq(Y), [1, m])); // ‖x‖² − 2xᵀy + ‖y‖²
  const unpack = (y: Tensor) => ({ f: slice(y, [0], [n]), g: concat([slice(y, [n], [m - 1]), zeros([1])]) });
  const potentials = new ImplicitFunction({
    forward: (aa: Tensor, bb: Tensor) => {
      const { f, g } = plainSinkhorn(C.toArray() as number[][]); // C read as plain numbers: forward is never taped
      void aa; void bb;
      return tensor([...f, ...g.slice(0, m - 1)]);
    },
    conditions: (aa: Tensor, bb: Tensor, y: Tensor) => {
      const { f, g } = unpack(y);
      const Tf = sub(mul(EPS, log(aa)), mul(EPS, logsumexp(div(sub(reshape(g, [1, m]), C), EPS), 1)));
      const Tg = sub(mul(EPS, log(bb)), mul(EPS, logsumexp(div(sub(reshape(f, [n, 1]), C), EPS), 0)));
      return concat([sub(f, Tf), slice(sub(g, Tg), [0], [m - 1])]);
    },
    strict: true,
    strictTol: 1e-9,
  });
  const { f, g } = unpack(potentials.call(tensor(a), tensor(b)));
  const P = exp(div(sub(add(reshape(f, [n, 1]), reshape(g, [1, m])), C), EPS));
  return sum(mul(P, C));
}

describe("ImplicitFunction through captured values", () => {
  const points = [[0.2, 0.1], [-0.4, 0.5], [0.7, 0.6], [0.0, -0.3]];

  it("Sinkhorn with a cost matrix computed upstream and captured: gradient w.r.t. the points vs finite differences", () => {
    const g = grad(transportCost)(tensor(points));
    const h = 1e-5;
    const fd = points.flatMap((p, i) => p.map((_, k) => {
      const plus = points.map((q) => q.slice());
      const minus = points.map((q) => q.slice());
      plus[i][k] += h;
      minus[i][k] -= h;
      return (plainTransportCost(plus) - plainTransportCost(minus)) / (2 * h);
    }));
    expectClose(g, fd, 1e-6, 1e-8);
    // Forward mode along a direction agrees too.
    const dir = tensor([[1, 0], [0, -1], [0.5, 0.5], [-1, 2]]);
    const [, t] = jvp(transportCost, [tensor(points)], [dir]);
    expectClose(t, [fd.reduce((s, v, i) => s + v * dir.toFloat64Array()[i], 0)], 1e-6, 1e-8);
  });

  describe("ridge with captured data, at higher order and nested", () => {
    const X = tensor([[1, 0.5], [0.2, -1], [0.3, 0.8], [-0.6, 0.1], [0.4, 0.4]]);
    const y0 = tensor([1, -2, 0.5, 0.3, 0.7]);
    const Xv = tensor([[0.3, 1], [1, -0.4]]);
    const yv = tensor([0.2, 0.1]);
    const lambda = 0.8;
    const A = add(matmul(transpose(X), X), mul(lambda, eye(2)));
    /** Validation loss of ridge trained on targets θ·y0 (θ captured through the targets). */
    const loss = (theta: Tensor, solver: "direct" | "gmres") => {
      const yt = mul(theta, y0);
      const f = new ImplicitFunction({
        forward: () => solve(A, matmul(transpose(X), yt)), // forward may read traced values: it sees them as constants
        conditions: (w: Tensor) => sub(add(matmul(transpose(X), matmul(X, w)), mul(lambda, w)), matmul(transpose(X), yt)),
        linearSolver: solver,
      });
      return mul(0.5, sum(pow(sub(matmul(Xv, f.call()), yv), 2)));
    };
    // w(θ) = θ·A⁻¹Xᵀy0 is linear in θ, so L(θ) = ½‖θ·Xv w₁ − yv‖² with w₁ = A⁻¹Xᵀy0: L'' = ‖Xv w₁‖².
    const w1 = solve(A, matmul(transpose(X), y0));
    const r1 = matmul(Xv, w1).toFloat64Array();
    const second = r1.reduce((s, v) => s + v * v, 0);

    for (const solver of ["direct", "gmres"] as const) {
      it(`second derivative w.r.t. a captured value (${solver})`, () => {
        const theta = tensor(1.3);
        expectClose(hessian((t: Tensor) => loss(t, solver))(theta), [second], 1e-8);
        expectClose(grad((t: Tensor) => grad((s: Tensor) => loss(s, solver))(t))(theta), [second], 1e-8);
        expectClose(jvp((t: Tensor) => grad((s: Tensor) => loss(s, solver))(t), [theta], [tensor(1)])[1], [second], 1e-8);
      });
    }

    it("jacobian w.r.t. captured targets inside another transformation", () => {
      // d/dy0 of w = A⁻¹Xᵀy0 is A⁻¹Xᵀ, whatever transformation surrounds it.
      const wOf = (targetsT: Tensor) => {
        const f = new ImplicitFunction({
          forward: () => solve(A, matmul(transpose(X), targetsT)),
          conditions: (w: Tensor) => sub(add(matmul(transpose(X), matmul(X, w)), mul(lambda, w)), matmul(transpose(X), targetsT)),
        });
        return f.call();
      };
      const expected = solve(A, transpose(X));
      expectClose(jacobian(wOf, { mode: "rev" })(y0), expected, 1e-10, 1e-12);
      expectClose(jacobian(wOf, { mode: "fwd" })(y0), expected, 1e-10, 1e-12);
      // Nested: the jacobian of a function of s that calls jacobian inside.
      const nested = jacobian((s: Tensor) => sum(jacobian(wOf, { mode: "rev" })(mul(s, y0))))(tensor(2));
      expect(Math.abs(nested.item())).to.be.below(1e-10); // A⁻¹Xᵀ does not depend on the targets
    });
  });
});
