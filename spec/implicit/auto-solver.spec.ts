/**
 * "auto" with no options on PDE-like conditions (lib/implicit/auto-policy.ts):
 * the symmetry probe choosing MINRES, the switch to the LU within a Krylov
 * solve that stalls, and the Jacobi preconditioner. Truth comes from a
 * tridiagonal (Thomas) solve written here, from central finite differences of
 * `forward`, and from linearSolver "direct".
 */
import { expect } from "chai";
import { ImplicitFunction, Tensor, add, concat, exp, grad, jacobian, jvp, matmul, mul, slice, solve, sub, sum, tensor } from "../../lib/index.js";
import { expectClose, expectError } from "../helpers.js";
import { gaussSolve } from "../krylov/helpers.js";

/** x with T x = r for the tridiagonal T (below, diagonal, above), by Thomas' algorithm. */
function thomas(below: number[], diagonal: number[], above: number[], r: number[]): number[] {
  const n = diagonal.length;
  const c = new Array<number>(n).fill(0);
  const g = new Array<number>(n).fill(0);
  c[0] = above[0] / diagonal[0];
  g[0] = r[0] / diagonal[0];
  for (let i = 1; i < n; i++) {
    const m = diagonal[i] - below[i] * c[i - 1];
    c[i] = i < n - 1 ? above[i] / m : 0;
    g[i] = (r[i] - below[i] * g[i - 1]) / m;
  }
  const x = new Array<number>(n).fill(0);
  x[n - 1] = g[n - 1];
  for (let i = n - 2; i >= 0; i--) x[i] = g[i] - c[i] * x[i + 1];
  return x;
}

const n = 200;
const h = 1 / (n + 1);

/** u'' on the interior points of [0, 1] with u = 0 at both ends: (u_{i−1} − 2u_i + u_{i+1})/h². */
function secondDifference(u: Tensor): Tensor {
  const padded = concat([tensor([0]), u, tensor([0])]);
  return mul(1 / (h * h), add(sub(slice(padded, [0], [n]), mul(2, u)), slice(padded, [2], [n])));
}

/** The Bratu-type problem u'' = a·eᵘ, u(0) = u(1) = 0, solved by Newton's method with Thomas' algorithm. */
function bratu(a: number): number[] {
  const u = new Array<number>(n).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const F = u.map((ui, i) => ((i > 0 ? u[i - 1] : 0) - 2 * ui + (i < n - 1 ? u[i + 1] : 0)) / (h * h) - a * Math.exp(ui));
    const off = new Array<number>(n).fill(1 / (h * h));
    const step = thomas(off, u.map((ui) => -2 / (h * h) - a * Math.exp(ui)), off, F.map((v) => -v));
    let size = 0;
    step.forEach((s, i) => {
      u[i] += s;
      size = Math.max(size, Math.abs(s));
    });
    if (size < 1e-15) break;
  }
  return u;
}

const bratuFunction = (extra: Record<string, unknown> = {}) => new ImplicitFunction({
  forward: (a: Tensor) => tensor(bratu(a.item())),
  conditions: (a: Tensor, u: Tensor) => sub(secondDifference(u), mul(a, exp(u))),
  ...extra,
});

/** w·u for fixed weights w: a scalar of the solution. */
const weights = tensor(Array.from({ length: n }, (_, i) => 1 + Math.sin(0.1 * i)));
const weighted = (u: Tensor | number[]) => (Array.isArray(u) ? u.reduce((s, v, i) => s + v * (1 + Math.sin(0.1 * i)), 0) : sum(mul(weights, u)));

describe("\"auto\" with no options on PDE-like conditions", () => {
  it("the nonlinear boundary-value problem u'' = a·eᵘ on 200 points: the right derivative in both modes (it threw after 1000 GMRES iterations)", () => {
    const a = 1.5;
    const fd = (weighted(bratu(a + 1e-5)) as number - (weighted(bratu(a - 1e-5)) as number)) / 2e-5;
    const f = bratuFunction();
    const reverse = grad((x: Tensor) => weighted(f.call(x)) as Tensor)(tensor(a)).item();
    expect(f.lastSolve!.converged).to.equal(true);
    expect(f.lastSolve!.solver).to.match(/^minres/); // ∂F/∂y = D² − a·diag(eᵘ) is symmetric (negative definite)
    const forward = jvp((x: Tensor) => weighted(f.call(x)) as Tensor, [tensor(a)], [tensor(1)])[1].item();
    const direct = bratuFunction({ linearSolver: "direct" });
    const truth = grad((x: Tensor) => weighted(direct.call(x)) as Tensor)(tensor(a)).item();
    expectClose(reverse, truth, 1e-8, 0, "grad vs direct");
    expectClose(forward, truth, 1e-8, 0, "jvp vs direct");
    expectClose(reverse, fd, 1e-6, 0, "grad vs finite differences");
  });

  it("the linear Poisson system −u'' = b on 200 points: the right derivative, as \"direct\" and a tridiagonal solve give it", () => {
    const poisson = (extra: Record<string, unknown> = {}) => new ImplicitFunction({
      forward: (b: Tensor) => tensor(thomas(new Array<number>(n).fill(-1 / (h * h)), new Array<number>(n).fill(2 / (h * h)), new Array<number>(n).fill(-1 / (h * h)), Array.from(b.toFloat64Array()))),
      conditions: (b: Tensor, u: Tensor) => add(secondDifference(u), b),
      ...extra,
    });
    const b = tensor(Array.from({ length: n }, (_, i) => Math.exp(-(((i - 80) * h) ** 2) * 50)));
    // d(w·u)/db = L⁻ᵀw with L = −D², symmetric.
    const truth = thomas(new Array<number>(n).fill(-1 / (h * h)), new Array<number>(n).fill(2 / (h * h)), new Array<number>(n).fill(-1 / (h * h)), Array.from(weights.toFloat64Array()));
    const f = poisson();
    const g = grad((v: Tensor) => weighted(f.call(v)) as Tensor)(b);
    expect(f.lastSolve!.solver).to.match(/^minres/);
    expectClose(g, truth, 1e-8, 1e-14, "grad vs Thomas");
    const direct = poisson({ linearSolver: "direct" });
    expectClose(g, grad((v: Tensor) => weighted(direct.call(v)) as Tensor)(b), 1e-8, 1e-14, "grad vs direct");
    // Forward mode along a bump: finite differences of forward are exact up to rounding for a linear map.
    const db = tensor(Array.from({ length: n }, (_, i) => (i > 50 && i < 60 ? 1 : 0)));
    const [, tangent] = jvp((v: Tensor) => f.call(v), [b], [db]);
    const step = 1e-3;
    const plus = f.forward(add(b, mul(step, db))) as Tensor;
    const minus = f.forward(sub(b, mul(step, db))) as Tensor;
    expectClose(tangent, mul(1 / (2 * step), sub(plus, minus)), 1e-7, 1e-12, "jvp vs finite differences");
  });
});

describe("\"auto\": the symmetry probe", () => {
  const linear = (M: number[][], extra: Record<string, unknown> = {}) => {
    const Mt = tensor(M);
    return new ImplicitFunction({ forward: (b: Tensor) => solve(Mt, b), conditions: (b: Tensor, y: Tensor) => sub(matmul(Mt, y), b), ...extra });
  };
  const m = 40;
  const r = (i: number, j: number) => Math.sin(3 * i + 7 * j + 1) / m;
  const symmetricM = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? 3 : 0) + r(Math.min(i, j), Math.max(i, j))));
  const nonsymmetricM = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? 3 : 0) + r(i, j)));
  const b = tensor(Array.from({ length: m }, (_, i) => Math.cos(i)));
  const ones = new Array<number>(m).fill(1);

  it("takes minres for a symmetric ∂F/∂y no flag declared, cg when positiveDefinite says so, gmres for a nonsymmetric one", () => {
    for (const [M, flags, solver] of [[symmetricM, {}, "minres"], [symmetricM, { positiveDefinite: true }, "cg"], [nonsymmetricM, {}, "gmres"], [nonsymmetricM, { linearSolver: "gmres" }, "gmres"]] as const) {
      const f = linear(M as number[][], flags);
      const Mt = (M as number[][]).map((row, i) => row.map((_, j) => (M as number[][])[j][i]));
      expectClose(grad((v: Tensor) => sum(f.call(v)))(b), gaussSolve(Mt, ones), 1e-8, 1e-12, solver);
      expect(f.lastSolve!.solver, solver).to.equal(solver);
      expectClose(jvp((v: Tensor) => f.call(v), [b], [tensor(ones)])[1], gaussSolve(M as number[][], ones), 1e-8, 1e-12, solver);
      expect(f.lastSolve!.solver, solver).to.equal(solver);
    }
  });

  it("a symmetry it found does not change what is solved: the adjoint system still uses Aᵀ's products", () => {
    // Nearly symmetric: the asymmetry (1e-3) is far above the probe's tolerance, so gmres; the derivative is M⁻ᵀ1 either way.
    const nearly = symmetricM.map((row, i) => row.map((v, j) => v + (j === i + 1 ? 1e-3 : 0)));
    const f = linear(nearly);
    const Mt = nearly.map((row, i) => row.map((_, j) => nearly[j][i]));
    expectClose(grad((v: Tensor) => sum(f.call(v)))(b), gaussSolve(Mt, ones), 1e-8, 1e-12);
    expect(f.lastSolve!.solver).to.equal("gmres");
  });
});

describe("\"auto\": a Krylov solve that stalls switches to the LU within the solve", () => {
  // Convection–diffusion, 200 unknowns: tridiag(−1.3, 2, −0.7). Restarted GMRES(20) creeps on it.
  const tri = (i: number, j: number) => (i === j ? 2 : j === i + 1 ? -0.7 : j === i - 1 ? -1.3 : 0);
  const M = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => tri(i, j)));
  const Mt = tensor(M);
  const make = (extra: Record<string, unknown> = {}) => new ImplicitFunction({ forward: (b: Tensor) => solve(Mt, b), conditions: (b: Tensor, y: Tensor) => sub(matmul(Mt, y), b), ...extra });
  const b = tensor(Array.from({ length: n }, (_, i) => Math.sin(i)));
  const w = Array.from(weights.toFloat64Array());
  const truthAdjoint = thomas(M.map((_, i) => (i > 0 ? tri(i - 1, i) : 0)), M.map((_, i) => tri(i, i)), M.map((_, i) => (i < n - 1 ? tri(i + 1, i) : 0)), w);

  it("GMRES stops after n products and the LU finishes: right in both modes (it threw ConvergenceError after 1000 iterations)", () => {
    const f = make();
    const g = grad((v: Tensor) => weighted(f.call(v)) as Tensor)(b);
    expect(f.lastSolve).to.include({ solver: "gmres→direct", iterations: n, converged: true, system: "adjoint" });
    expectClose(g, truthAdjoint, 1e-9, 1e-14, "grad");
    const direction = tensor(w);
    const [, t] = jvp((v: Tensor) => f.call(v), [b], [direction]);
    const truthTangent = thomas(M.map((_, i) => (i > 0 ? tri(i, i - 1) : 0)), M.map((_, i) => tri(i, i)), M.map((_, i) => (i < n - 1 ? tri(i, i + 1) : 0)), w);
    expectClose(t, truthTangent, 1e-9, 1e-14, "jvp");
    // Explicit gmres keeps its limit and its honest failure.
    expectError(() => grad((v: Tensor) => weighted(make({ linearSolver: "gmres", maxIter: 300 }).call(v)) as Tensor)(b), "ImplicitFunction:", "gmres", "did not converge", "300 iterations");
  });

  it("above 1000 unknowns nothing is factorised: a stalled solve throws, naming the solver and the preconditioner to try", () => {
    const big = 1001;
    // The same stencil, matrix-free: F = −1.3·y[i−1] + 2·y[i] − 0.7·y[i+1] − b.
    const stencil = (y: Tensor) => {
      const padded = concat([tensor([0]), y, tensor([0])]);
      return add(add(mul(-1.3, slice(padded, [0], [big])), mul(2, y)), mul(-0.7, slice(padded, [2], [big])));
    };
    const f = new ImplicitFunction({
      forward: (v: Tensor) => tensor(thomas(new Array<number>(big).fill(-1.3), new Array<number>(big).fill(2), new Array<number>(big).fill(-0.7), Array.from(v.toFloat64Array()))),
      conditions: (v: Tensor, y: Tensor) => sub(stencil(y), v),
    });
    const v = tensor(Array.from({ length: big }, (_, i) => Math.sin(i)));
    expectError(() => grad((x: Tensor) => sum(f.call(x)))(v), "ImplicitFunction:", "gmres", "did not converge", "1000 iterations", "jacobi");
    expect(f.lastSolve).to.include({ solver: "gmres", converged: false, status: "maxIter" });
  });

  it("the LU of the switch serves the rest of the call (a jacobian's other right-hand sides)", () => {
    const small = 60;
    const Ms = M.slice(0, small).map((row) => row.slice(0, small));
    const S = tensor(Ms);
    let krylovSteps = 0; // an identity preconditioner: called by the Krylov iterations only
    const f = new ImplicitFunction({
      forward: (v: Tensor) => solve(S, v),
      conditions: (v: Tensor, y: Tensor) => sub(matmul(S, y), v),
      preconditioner: (v: Tensor) => {
        krylovSteps++;
        return v;
      },
    });
    const v0 = tensor(Array.from({ length: small }, (_, i) => Math.cos(i)));
    const J = jacobian((v: Tensor) => f.call(v), { mode: "rev" })(v0);
    expect(krylovSteps).to.be.within(small, small + 5); // one stalled GMRES solve (and one application per restart cycle), then LU solves only
    expect(f.lastSolve!.solver).to.equal("direct");
    // J = S⁻¹: S J = I.
    const Jv = J.toFloat64Array();
    for (let i = 0; i < small; i += 7) for (let j = 0; j < small; j += 3) {
      let sum = 0;
      for (let k = 0; k < small; k++) sum += Ms[i][k] * Jv[k * small + j];
      expect(Math.abs(sum - (i === j ? 1 : 0)), `(SJ)[${i}][${j}]`).to.be.below(1e-10);
    }
  });
});

describe("preconditioner: \"jacobi\"", () => {
  // −u'' + c(x)u with c spanning five orders of magnitude: the diagonal varies widely, as in reaction–diffusion.
  const c = Array.from({ length: n }, (_, i) => 10 ** ((5 * i) / n));
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 + c[i] : Math.abs(i - j) === 1 ? -1 : 0)));
  const cT = tensor(c);
  const make = (extra: Record<string, unknown>) => new ImplicitFunction({
    forward: (b: Tensor) => tensor(thomas(new Array<number>(n).fill(-1), c.map((v) => 2 + v), new Array<number>(n).fill(-1), Array.from(b.toFloat64Array()))),
    conditions: (b: Tensor, u: Tensor) => sub(add(mul(-h * h, secondDifference(u)), mul(cT, u)), b),
    maxIter: 5000,
    ...extra,
  });
  const b = tensor(Array.from({ length: n }, (_, i) => Math.sin(0.3 * i)));
  const truth = gaussSolve(A, Array.from(weights.toFloat64Array())); // A is symmetric

  it("cuts the iterations of minres, cg and gmres on a widely varying diagonal, with the same derivative", () => {
    for (const linearSolver of ["minres", "cg", "gmres"]) {
      const plain = make({ linearSolver });
      const jacobi = make({ linearSolver, preconditioner: "jacobi" });
      const reference = (() => {
        try {
          return grad((v: Tensor) => weighted(plain.call(v)) as Tensor)(b);
        } catch {
          return null; // gmres(20) does not converge unpreconditioned within 5000 iterations
        }
      })();
      const g = grad((v: Tensor) => weighted(jacobi.call(v)) as Tensor)(b);
      expectClose(g, truth, 1e-8, 1e-14, `${linearSolver} + jacobi`);
      const plainIterations = plain.lastSolve!.iterations;
      expect(jacobi.lastSolve!.iterations, linearSolver).to.be.below(plainIterations / 10);
      if (reference !== null) expectClose(reference, truth, 1e-6, 1e-10, linearSolver);
      else expect(plain.lastSolve!.converged).to.equal(false);
    }
  });

  it("under \"auto\" it reaches the Krylov method and no LU is needed", () => {
    const f = make({ preconditioner: "jacobi", maxIter: 1000 });
    const g = grad((v: Tensor) => weighted(f.call(v)) as Tensor)(b);
    expect(f.lastSolve!.solver).to.equal("minres");
    expect(f.lastSolve!.iterations).to.be.below(50);
    expectClose(g, truth, 1e-8, 1e-14);
  });

  it("is the only string the option takes", () => {
    expectError(() => make({ preconditioner: "ilu" }), "ImplicitFunction:", "preconditioner", "\"jacobi\"");
  });
});
