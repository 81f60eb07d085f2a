/**
 * The linear solves of the implicit layer (lib/implicit/linear-solve.ts): the
 * methods of the solver table as `linearSolver`, the "auto" rule, flags that
 * are checked, singular systems, failures that name the solver and
 * diagnostics in `lastSolve`.
 */
import { expect } from "chai";
import {
  ImplicitFunction, Tensor, add, concat, eye, grad, jacobian, jvp, matmul, mul, pow, reshape, slice, solve, stationarityConditions, sub, sum,
  tensor, vjp, type SolverName,
} from "../../lib/index.js";
import { SOLVERS } from "../../lib/krylov/solvers.js";
import { SOLVER_NAMES } from "../../lib/implicit/linear-solve.js";
import { expectClose, expectError } from "../helpers.js";
import { gaussSolve, transposeOf } from "../krylov/helpers.js";
import { matrix, randomVector } from "./fixtures.js";

/** F = M y − b, with forward solving it densely: ∂F/∂y = M. */
function linearSystem(M: number[][], extra: Record<string, unknown> = {}): ImplicitFunction {
  const Mt = tensor(M);
  return new ImplicitFunction({
    forward: (v: Tensor) => tensor(gaussSolve(M, Array.from(v.toFloat64Array()))),
    conditions: (v: Tensor, y: Tensor) => sub(matmul(Mt, y), v),
    ...extra,
  });
}

describe("linear solves: the solver table", () => {
  it("linearSolver takes \"auto\", every Krylov solver of the table and \"direct\", and names them all when given anything else", () => {
    expect(SOLVER_NAMES).to.deep.equal(["auto", ...Object.keys(SOLVERS), "direct"]);
    const e = expectError(() => linearSystem([[2]], { linearSolver: "qr" }), "ImplicitFunction:", "linearSolver");
    expect(e.message).to.contain(SOLVER_NAMES.map((s) => `"${s}"`).join(", "));
    // Each method gives M⁻¹1 for a symmetric positive definite M (which every method admits; "auto" without flags finds it symmetric and takes minres).
    const n = 20;
    const M = matrix(n, 2, n, true);
    const b = tensor(Array.from({ length: n }, (_, i) => Math.sin(i)));
    for (const linearSolver of SOLVER_NAMES) {
      const f = linearSystem(M, { linearSolver, directMaxSize: 4 });
      expectClose(grad((v: Tensor) => sum(f.call(v)))(b), gaussSolve(M, new Array<number>(n).fill(1)), 1e-8, 1e-10, linearSolver);
      expect(f.lastSolve!.solver, linearSolver).to.equal(linearSolver === "auto" ? "minres" : linearSolver);
    }
  });

  it("\"auto\" above directMaxSize takes the most specialised Krylov method the flags (or its symmetry probe) allow: cg, minres, else gmres", () => {
    const n = 24;
    const M = matrix(n, 3, n, true);
    const nonsymmetric = matrix(n, 3, n);
    const b = tensor(Array.from({ length: n }, (_, i) => Math.cos(i)));
    for (const [flags, solver, A] of [[{ positiveDefinite: true }, "cg", M], [{ symmetric: true }, "minres", M], [{}, "minres", M], [{}, "gmres", nonsymmetric]] as const) {
      const f = linearSystem(A, flags);
      expectClose(grad((v: Tensor) => sum(f.call(v)))(b), gaussSolve(transposeOf(A), new Array<number>(n).fill(1)), 1e-8, 1e-10, solver);
      expect(f.lastSolve!.solver).to.equal(solver);
      expect(SOLVERS[solver].square && !SOLVERS[solver].transpose).to.equal(true);
    }
  });

  it("the preconditioner reaches only the methods of the table that take one", () => {
    const n = 20;
    const M = matrix(n, 4, n, true);
    const b = tensor(Array.from({ length: n }, (_, i) => 1 + i));
    for (const [name, row] of Object.entries(SOLVERS)) {
      let calls = 0;
      const f = linearSystem(M, { linearSolver: name, preconditioner: (v: Tensor) => { calls++; return v; } });
      expectClose(grad((v: Tensor) => sum(f.call(v)))(b), gaussSolve(M, new Array<number>(n).fill(1)), 1e-8, 1e-10, name);
      expect(calls > 0, name).to.equal(row.preconditioner);
    }
  });
});

describe("linear solves: failures and diagnostics", () => {
  const sqrt32 = (extra: Record<string, unknown> = {}) => new ImplicitFunction({
    forward: (x: Tensor) => tensor(Math.sqrt(x.item()), { dtype: "float32" }),
    conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x),
    ...extra,
  });

  it("throws naming the solver, iterations and residual when the linear solve does not converge", () => {
    const big = 150;
    const M = tensor(matrix(big, 31, 3));
    const f = new ImplicitFunction({
      forward: (b: Tensor) => solve(M, b),
      conditions: (b: Tensor, y: Tensor) => sub(matmul(M, y), b),
      linearSolver: "gmres",
      maxIter: 3,
    });
    const err = expectError(() => grad((b: Tensor) => sum(f.call(b)))(tensor(randomVector(big, 32))), "ImplicitFunction:", "gmres", "3 iterations", "residual");
    expect(err.message).to.match(/tol 1e-10/);
    expect(f.lastSolve).to.include({ solver: "gmres", iterations: 3, converged: false, status: "maxIter" });
  });

  it("a tolerance float32 cannot reach is named as such, not as a singular system", () => {
    // A well-conditioned 40×40 float32 system with tol 1e-12: the residual stalls at float32 rounding.
    const n = 40;
    const M = matrix(n, 3, 6);
    const Mt = tensor(M, { dtype: "float32" });
    const f = new ImplicitFunction({
      forward: (b: Tensor) => tensor(gaussSolve(M, Array.from(b.toFloat64Array())), { dtype: "float32" }),
      conditions: (b: Tensor, y: Tensor) => sub(matmul(Mt, y), b),
      linearSolver: "gmres",
      tol: 1e-12,
    });
    const b = tensor(Array.from({ length: n }, (_, i) => Math.cos(i)), { dtype: "float32" });
    const e = expectError(() => grad((v: Tensor) => sum(f.call(v)))(b), "ImplicitFunction:", "tol 1e-12", "float32", "rounding");
    expect(e.message).not.to.match(/singular/);
    // "direct" accepts a residual at the level of float32 rounding (LU is backward stable), as it does in float64.
    const direct = sqrt32({ linearSolver: "direct", tol: 1e-12 });
    expectClose(grad((v: Tensor) => direct.call(v))(tensor(2, { dtype: "float32" })), [1 / (2 * Math.SQRT2)], 1e-6, 0);
  });

  it("accepts a rounding-level right-hand side on a singular system when atol says so", () => {
    const Lap = tensor([[1, -1, 0], [-1, 2, -1], [0, -1, 1]]);
    const noise = sub(tensor([0.1 + 0.2, 0, 0]), tensor([0.3, 0, 0])); // 5.6e-17 in one entry
    const make = (atol?: number) => new ImplicitFunction({
      forward: () => tensor([0, 0, 0]),
      conditions: (x: Tensor, y: Tensor) => sub(matmul(Lap, y), mul(x, noise)),
      ...(atol === undefined ? {} : { atol }),
    });
    expectError(() => jvp((x: Tensor) => make().call(x), [tensor(1)], [tensor(1)]), "ImplicitFunction:", "singular");
    const [, t] = jvp((x: Tensor) => make(1e-12).call(x), [tensor(1)], [tensor(1)]);
    expect(Math.max(...t.toFloat64Array().map(Math.abs))).to.be.below(1e-12);
  });
});

describe("linear solves: singular ∂F/∂y", () => {
  // Energy invariant under translation: E(y; x) = ½ Σ (y_{i+1} − y_i − x_i)² has minimisers y + c·1.
  const energy = (x: Tensor, y: Tensor) => mul(0.5, sum(pow(sub(sub(slice(y, [1], [4]), slice(y, [0], [4])), x), 2)));
  const forward = (x: Tensor) => {
    const xs = x.toFloat64Array();
    const y = [0];
    for (const v of xs) y.push(y[y.length - 1] + v);
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    return tensor(y.map((v) => v - mean));
  };
  const differences = (y: Tensor) => sub(slice(y, [1], [4]), slice(y, [0], [4]));

  for (const solver of ["auto", "direct", "minres", "lsqr", "gmres"] as SolverName[]) {
    it(`the derivative of translation-invariant quantities is right with "${solver}"`, () => {
      const f = new ImplicitFunction({ forward, ...stationarityConditions(energy), linearSolver: solver });
      const x = tensor([0.5, -1, 2, 0.25]);
      // y_{i+1} − y_i = x_i, so d(differences)/dx = I.
      expectClose(jacobian((xx: Tensor) => differences(f.call(xx)), { mode: "rev" })(x), eye(4), 1e-8, 1e-9);
      expectClose(jacobian((xx: Tensor) => differences(f.call(xx)), { mode: "fwd" })(x), eye(4), 1e-8, 1e-9);
    });
  }

  it("an inconsistent singular system throws rather than returning a wrong derivative", () => {
    // F = y·0 + (y_0 + y_1 − x) on both entries: ∂F/∂y = [[1,1],[1,1]] is singular, and the
    // tangent system A ẏ = −∂F/∂x ẋ is consistent; but with F₁ depending on x twice as much it is not.
    const f = new ImplicitFunction({
      forward: (x: Tensor) => tensor([x.item() / 2, x.item() / 2]),
      conditions: (x: Tensor, y: Tensor) => concat([sub(add(slice(y, [0], [1]), slice(y, [1], [1])), reshape(x, [1])), sub(add(slice(y, [0], [1]), slice(y, [1], [1])), mul(2, reshape(x, [1])))]),
    });
    expectError(() => jvp((x: Tensor) => f.call(x), [tensor(0)], [tensor(1)]), "ImplicitFunction:", "singular");
  });
});

describe("linear solves: flags that do not describe ∂F/∂y", () => {
  // F = M y − b with a nonsymmetric M: ∂F/∂y = M.
  const n = 30;
  const M = matrix(n, 11, 4);
  const b = tensor(Array.from({ length: n }, (_, i) => Math.sin(i + 1)));
  const linear = (extra: Record<string, unknown>) => linearSystem(M, extra);
  const truth = gaussSolve(transposeOf(M), new Array<number>(n).fill(1)); // ∂(Σy)/∂b = M⁻ᵀ1

  it("symmetric: true on a nonsymmetric ∂F/∂y is an Error naming the flag, for every solver (it was silently wrong or 'did not converge')", () => {
    for (const linearSolver of SOLVER_NAMES) {
      const f = linear({ symmetric: true, linearSolver, directMaxSize: 10 });
      expectError(() => grad((v: Tensor) => sum(f.call(v)))(b), "ImplicitFunction:", "symmetric: true", "not symmetric");
    }
    // Without the flag: the right derivative.
    expectClose(grad((v: Tensor) => sum(linear({}).call(v)))(b), truth, 1e-8, 1e-10);
  });

  it("the 2×2 case that used to return M⁻¹1 instead of M⁻ᵀ1 with minres", () => {
    const W = tensor([[2, 1], [0, 3]]);
    const f = new ImplicitFunction({ forward: () => tensor([0, 0]), conditions: (x: Tensor, y: Tensor) => sub(matmul(W, y), x), symmetric: true, directMaxSize: 1 });
    expectError(() => grad((x: Tensor) => sum(f.call(x)))(tensor([0, 0])), "ImplicitFunction:", "symmetric: true");
  });

  it("positiveDefinite: true at a maximum (negative definite ∂F/∂y): CG's breakdown names the flag", () => {
    const S = matrix(n, 5, 0, true).map((row, i) => row.map((v, j) => -v - (i === j ? n : 0))); // symmetric, negative definite
    const make = (flags: Record<string, boolean>) => linearSystem(S, { directMaxSize: 10, ...flags });
    expectError(() => grad((v: Tensor) => sum(make({ positiveDefinite: true }).call(v)))(b), "ImplicitFunction:", "cg", "positiveDefinite: true", "not positive definite");
    // symmetric alone (MINRES) is right.
    expectClose(grad((v: Tensor) => sum(make({ symmetric: true }).call(v)))(b), gaussSolve(S, new Array<number>(n).fill(1)), 1e-7, 1e-9);
  });

  it("linearSolver \"cg\" or \"minres\" chosen for a nonsymmetric ∂F/∂y: the failure says they need symmetry", () => {
    const f = linear({ linearSolver: "cg", maxIter: 50 });
    expectError(() => grad((v: Tensor) => sum(f.call(v)))(b), "ImplicitFunction:", "cg", "not symmetric", "gmres");
  });

  it("declared flags that hold cost no false alarm (a stationarity Hessian computed by AD)", () => {
    const H = matrix(n, 7, 0, true).map((row, i) => row.map((v, j) => v + (i === j ? n : 0)));
    const Ht = tensor(H);
    for (const linearSolver of ["auto", "cg", "minres", "direct"]) {
      const g = new ImplicitFunction({
        forward: (v: Tensor) => tensor(gaussSolve(H, Array.from(v.toFloat64Array()))),
        ...stationarityConditions((v: Tensor, y: Tensor) => sub(mul(0.5, sum(mul(y, matmul(Ht, y)))), sum(mul(v, y))), { positiveDefinite: true }),
        linearSolver: linearSolver as never,
        directMaxSize: 10,
      });
      expectClose(vjp((v: Tensor) => g.call(v), b)[1](tensor(new Array<number>(n).fill(1)))[0], gaussSolve(H, new Array<number>(n).fill(1)), 1e-8, 1e-10, linearSolver);
    }
  });
});

describe("linear solves: the \"auto\" rule, set from bench/auto-solver.ts", () => {
  const make = (n: number, seed: number) => {
    const M = matrix(n, seed, 3);
    let krylovSteps = 0; // an identity preconditioner, called by Krylov methods only
    const f = linearSystem(M, {
      preconditioner: (v: Tensor) => {
        krylovSteps++;
        return v;
      },
    });
    return { f, M, b: tensor(Array.from({ length: n }, (_, i) => Math.cos(i))), krylovSteps: () => krylovSteps };
  };

  it("one right-hand side: \"direct\" up to 16 unknowns, the Krylov method above", () => {
    for (const [n, solver] of [[16, "direct"], [17, "gmres"], [40, "gmres"]] as const) {
      const { f, M, b } = make(n, n);
      expectClose(grad((v: Tensor) => sum(f.call(v)))(b), gaussSolve(transposeOf(M), new Array<number>(n).fill(1)), 1e-8, 1e-10);
      expect(f.lastSolve!.solver, `n = ${n}`).to.equal(solver);
    }
  });

  it("many right-hand sides in one call (a jacobian): Krylov first, then the LU once the call has spent n products", () => {
    const n = 40;
    const { f, M, b, krylovSteps } = make(n, 9);
    const J = jacobian((v: Tensor) => f.call(v), { mode: "rev" })(b);
    expect(krylovSteps()).to.be.greaterThan(0);
    expect(krylovSteps()).to.be.below(4 * n); // n products, then the LU: far fewer than n GMRES solves
    expect(f.lastSolve!.solver).to.equal("direct");
    // J = M⁻¹: M J = I.
    const Jv = J.toFloat64Array();
    for (let i = 0; i < n; i += 7) for (let j = 0; j < n; j += 5) {
      let s = 0;
      for (let k = 0; k < n; k++) s += M[i][k] * Jv[k * n + j];
      expect(Math.abs(s - (i === j ? 1 : 0)), `(MJ)[${i}][${j}]`).to.be.below(1e-9);
    }
    // A diagonal ∂F/∂y with unit right-hand sides takes one iteration each (of minres: the probe finds it symmetric): no switch.
    const diagonal = new ImplicitFunction({ forward: (v: Tensor) => tensor(Array.from(v.toFloat64Array(), (x) => x / 2)), conditions: (v: Tensor, y: Tensor) => sub(mul(2, y), v) });
    jacobian((v: Tensor) => diagonal.call(v), { mode: "rev" })(b);
    expect(diagonal.lastSolve!.solver).to.equal("minres");
  });
});

describe("ImplicitFunction.lastSolve.residualHistory", () => {
  it("holds the Krylov residual per iteration, ending below the tolerance", () => {
    const f = new ImplicitFunction({
      forward: (b: Tensor) => tensor(b.toFloat64Array().map((v) => v / 3)),
      conditions: (b: Tensor, v: Tensor) => sub(mul(3, v), b),
      linearSolver: "gmres",
    });
    grad((b: Tensor) => sum(f.call(b)))(tensor([1, 2, 3]));
    const d = f.lastSolve!;
    expect(d.residualHistory).to.be.an("array").with.length(d.iterations + 1);
    expect(d.residualHistory![d.iterations]).to.be.at.most(d.tol * Math.sqrt(3));
  });
});
