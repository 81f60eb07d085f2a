/**
 * customRoot and customLinearSolve: values defined as solutions, differentiated
 * by the implicit function theorem, against closed forms and finite differences,
 * in both modes, through captured values, at second order: one construction
 * (lib/program/root.ts), whose rules run at a plain point on the fused
 * linearisation and at a traced one on the recorded program.
 */
import { expect } from "chai";
import {
  Tensor, add, customLinearSolve, customRoot, grad, hessian, jvp, linearize, linearTranspose, matmul, mul, solve, stopGradient, sub, sum, tensor, vjp,
  type LinearSystem, type RootSolver,
} from "../../lib/index.js";
import { expectClose, expectError, fdGrad } from "../helpers.js";

/** A dense solve of the system handed over, through its in-place products (what a Krylov solver would use). */
const denseSolver: RootSolver = (K: LinearSystem, b: Tensor) => {
  const n = K.shape[0];
  const rows: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const e = new Float64Array(n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    K.matvec.into(e, col);
    for (let i = 0; i < n; i++) rows[i][j] = col[i];
  }
  return solve(tensor(rows), b);
};

/** √a by Newton on plain numbers: the solution customRoot is handed. */
function newtonSqrt(a: number): number {
  let y = Math.max(1, a);
  for (let i = 0; i < 60; i++) y = 0.5 * (y + a / y);
  return y;
}

const sqrtRoot = (a: Tensor): Tensor => customRoot((x: Tensor, y: Tensor) => sub(mul(y, y), x), [a], tensor(newtonSqrt(stopGradient(a).item())), denseSolver);

describe("customRoot", () => {
  it("is the solution it was given, and without a transformation nothing else happens", () => {
    const y = customRoot(() => { throw new Error("not called"); }, [tensor(4)], tensor(2), denseSolver);
    expect(y.item()).to.equal(2);
  });

  it("differentiates √a in both modes and at second order (closed forms)", () => {
    const a = 3;
    expectClose(grad(sqrtRoot)(tensor(a)) as Tensor, 1 / (2 * Math.sqrt(a)), 1e-14);
    expectClose(jvp(sqrtRoot, [tensor(a)], [tensor(2)])[1] as Tensor, 2 / (2 * Math.sqrt(a)), 1e-14);
    // Second order takes the general path (two transformations): −¼ a^{-3/2}.
    expectClose(hessian(sqrtRoot)(tensor(a)), -0.25 * a ** -1.5, 1e-12);
    expectClose(grad((x: Tensor) => grad(sqrtRoot)(x) as Tensor)(tensor(a)) as Tensor, -0.25 * a ** -1.5, 1e-12);
  });

  it("differentiates a vector root w.r.t. explicit inputs and captured values alike (matches FD)", () => {
    // F(b, y) = M(θ) y − b with M = [[2 + θ, 1], [1, 3]] captured: y = M⁻¹ b.
    const b0 = tensor([1, -2]);
    const theta0 = tensor(0.5);
    const f = (b: Tensor, theta: Tensor): Tensor => {
      const M = add(tensor([[2, 1], [1, 3]]), mul(theta, tensor([[1, 0], [0, 0]])));
      const yStar = solve(M, b);
      return sum(mul(customRoot((bb: Tensor, y: Tensor) => sub(matmul(M, y), bb), [b], yStar, denseSolver), tensor([1.5, -0.5])));
    };
    const [gb, gt] = grad(f, { argnums: [0, 1] })(b0, theta0) as Tensor[];
    expectClose(gb, fdGrad((b) => f(b, theta0).item(), b0), 1e-7, 1e-9);
    expectClose(gt, fdGrad((t) => f(b0, t).item(), theta0), 1e-7, 1e-9);
  });

  it("records F once per call, at any order and in both modes, a captured value becoming an input (closed forms)", () => {
    // y = a/θ, the root of θ·y − a, with θ captured by F: ∂y/∂θ = −a/θ², ∂²y/∂θ² = 2a/θ³, ∂²y/∂a∂θ = −1/θ².
    let calls = 0;
    const a0 = 3;
    const root = (a: Tensor, theta: Tensor): Tensor => customRoot((x: Tensor, y: Tensor) => {
      calls++;
      return sub(mul(theta, y), x);
    }, [a], tensor(stopGradient(a).item() / stopGradient(theta).item()), denseSolver);
    const counted = <T>(run: () => T): T => {
      calls = 0;
      const out = run();
      expect(calls).to.equal(1);
      return out;
    };
    const th = 2;
    expectClose(counted(() => grad((t: Tensor) => root(tensor(a0), t))(tensor(th))) as Tensor, -a0 / th ** 2, 1e-13);
    expectClose(counted(() => jvp((t: Tensor) => root(tensor(a0), t), [tensor(th)], [tensor(1)])[1]) as Tensor, -a0 / th ** 2, 1e-13);
    expectClose(counted(() => grad((t: Tensor) => grad((u: Tensor) => root(tensor(a0), u))(t) as Tensor)(tensor(th))) as Tensor, 2 * a0 / th ** 3, 1e-12);
    expectClose(counted(() => hessian((t: Tensor) => root(tensor(a0), t))(tensor(th))), 2 * a0 / th ** 3, 1e-12);
    expectClose(counted(() => grad((t: Tensor) => grad((a: Tensor) => root(a, t))(tensor(a0)) as Tensor)(tensor(th))) as Tensor, -1 / th ** 2, 1e-12);
  });

  it("mixed partials: each input followed by a different transformation (closed form)", () => {
    // y = x·θ/2, the root of 2y − xθ: ∂²y/∂x∂θ = 1/2 and ∂²y/∂θ² = 0, x outer and θ inner.
    const root = (x: Tensor, t: Tensor): Tensor => customRoot((a: Tensor, b: Tensor, y: Tensor) => sub(mul(y, 2), mul(a, b)), [x, t], tensor(stopGradient(x).item() * stopGradient(t).item() / 2), denseSolver);
    const inner = (x: Tensor): Tensor => grad((t: Tensor) => root(x, t))(tensor(3)) as Tensor;
    expectClose(jvp(inner, [tensor(2)], [tensor(1)])[1] as Tensor, 0.5, 1e-14);
    expectClose(grad(inner)(tensor(2)) as Tensor, 0.5, 1e-14);
    expectClose(grad((t: Tensor) => grad((u: Tensor) => root(tensor(2), u))(t) as Tensor)(tensor(3)) as Tensor, 0, 1e-14);
  });

  it("one node met in both modes at a plain point (linearize, then linearTranspose): both directions of ∂F/∂x (closed form)", () => {
    // y = M⁻¹ (x ⊙ c) for a nonsymmetric M: ∂y/∂x = M⁻¹ diag(c), its transpose diag(c) M⁻ᵀ.
    const M = [[3, 1], [0.5, 2]];
    const c = tensor([2, -1]);
    const root = (x: Tensor): Tensor => customRoot((xx: Tensor, y: Tensor) => sub(matmul(tensor(M), y), mul(xx, c)), [x], solve(tensor(M), mul(stopGradient(x), c)), denseSolver);
    const [, lin] = linearize(root, tensor([1, 1]));
    const v = tensor([0.5, -2]);
    expectClose(lin(v) as Tensor, solve(tensor(M), mul(v, c)), 1e-14);
    const u = tensor([1, 3]);
    const Mt = tensor([[M[0][0], M[1][0]], [M[0][1], M[1][1]]]);
    expectClose((linearTranspose(lin)(u) as Tensor[])[0], mul(solve(Mt, u), c), 1e-14);
  });

  it("hands the solver the tangent system (A) and the adjoint one (Aᵀ) for a nonsymmetric A", () => {
    const A = [[3, 1], [0.5, 2]];
    const seen: string[] = [];
    const recording: RootSolver = (K, b, system) => {
      seen.push(system);
      const m = [0, 1].map((j) => { const e = new Float64Array(2); e[j] = 1; const c = new Float64Array(2); K.matvec.into(e, c); return Array.from(c); });
      const expected = system === "tangent" ? A : [[A[0][0], A[1][0]], [A[0][1], A[1][1]]];
      expect([[m[0][0], m[1][0]], [m[0][1], m[1][1]]]).to.deep.equal(expected);
      return denseSolver(K, b, system);
    };
    const root = (x: Tensor): Tensor => customRoot((xx: Tensor, y: Tensor) => sub(matmul(tensor(A), y), xx), [x], solve(tensor(A), x), recording);
    const x0 = tensor([1, 1]);
    const [, pullback] = vjp(root, x0);
    const ct = tensor([1, 2]);
    // x̄ = A⁻ᵀ ȳ
    expectClose(pullback(ct)[0], solve(tensor([[3, 0.5], [1, 2]]), ct), 1e-14);
    expectClose(jvp(root, [x0], [ct])[1] as Tensor, solve(tensor(A), ct), 1e-14);
    expect(seen).to.deep.equal(["adjoint", "tangent"]);
  });

  it("reports F to onResidual and checks that F matches y's size", () => {
    let residual = NaN;
    grad((a: Tensor) => customRoot((x: Tensor, y: Tensor) => sub(mul(y, y), x), [a], tensor(2.001), denseSolver, { onResidual: (F) => (residual = F.item()) }))(tensor(4));
    expect(residual).to.be.closeTo(2.001 ** 2 - 4, 1e-15);
    expectError(() => grad((a: Tensor) => customRoot((x: Tensor, y: Tensor) => mul(tensor([1, 1]), sub(y, x)), [a], tensor(1), denseSolver, { name: "myRoot" }))(tensor(1)), "myRoot:", "square");
  });

  it("a solver returning the wrong size is an Error naming the root", () => {
    const bad: RootSolver = () => tensor([1, 2, 3]);
    expectError(() => grad((a: Tensor) => customRoot((x: Tensor, y: Tensor) => sub(y, x), [a], tensor(1), bad))(tensor(1)), "customRoot:", "3");
  });
});

describe("customLinearSolve", () => {
  const K = [[4, 1], [1, 3]];
  const plainSolve = (b: Tensor): Tensor => solve(tensor(K), b);

  it("is K⁻¹b, differentiable in b (K⁻ᵀ in reverse mode)", () => {
    const f = (b: Tensor): Tensor => sum(mul(customLinearSolve((x: Tensor) => matmul(tensor(K), x), b, plainSolve, { symmetric: true }), tensor([1, 2])));
    expectClose(grad(f)(tensor([0.5, 1])) as Tensor, solve(tensor(K), tensor([1, 2])), 1e-14);
  });

  it("is differentiable in what the matvec captures (matches FD), in both modes", () => {
    const f = (theta: Tensor): Tensor => {
      const M = add(tensor(K), mul(theta, tensor([[0, 1], [1, 0]])));
      const solveM = (b: Tensor): Tensor => solve(M, b);
      return sum(mul(customLinearSolve((x: Tensor) => matmul(M, x), tensor([1, -1]), solveM, { transposeSolve: solveM }), tensor([2, 1])));
    };
    const fd = fdGrad((t) => f(t).item(), tensor(0.3));
    expectClose(grad(f)(tensor(0.3)) as Tensor, fd, 1e-7, 1e-9);
    expectClose(jvp(f, [tensor(0.3)], [tensor(1)])[1] as Tensor, fd, 1e-7, 1e-9);
  });

  it("reverse mode without a transposeSolve (and not symmetric) is an Error saying what is missing", () => {
    const f = (b: Tensor): Tensor => sum(customLinearSolve((x: Tensor) => matmul(tensor(K), x), b, plainSolve));
    expectError(() => grad(f)(tensor([1, 1])), "customLinearSolve:", "transposeSolve");
  });
});
