/**
 * Ridge regression as an implicit function of its regularisation λ:
 *   w(λ) = argmin_w ½‖X w − t‖² + ½ λ ‖w‖²,
 * characterised by the stationarity conditions F(λ, w) = Xᵀ(X w − t) + λ w = 0.
 * `forward` is plain gradient descent; derivatives come from the implicit
 * function theorem with A = ∂F/∂w = XᵀX + λI and B = ∂F/∂λ = w. The page also
 * replays the linear solves with the library's cg to show their residuals, and
 * compares with differentiating T unrolled gradient-descent steps on the tape.
 */
import {
  ImplicitFunction, Tensor, tensor, add, sub, mul, matmul, transpose, sum, pow, norm, solve, eye,
  grad, jvp, jacobian, cg, traceTape, zeros, type SolveDiagnostics,
} from "../../lib/index.js";
import type { RidgeData } from "./ridge-data.js";
import { scalarOf } from "./mechanics.js";

export interface GradientDescentRun {
  w: Tensor;
  /** ‖F(λ, w_k)‖ for k = 0, 1, …: the forward solver's residual history. */
  residuals: number[];
  iterations: number;
  converged: boolean;
}

export interface CgRun {
  x: number[];
  iterations: number;
  residualHistory: number[];
  converged: boolean;
}

export interface RidgeAnalysis {
  lambda: number;
  w: number[];
  forward: GradientDescentRun & { ms: number; stepSize: number };
  conditionsNorm: number;
  A: number[][];
  B: number[];
  /** dw/dλ through the ImplicitFunction in forward mode (tangent system A ẇ = −B). */
  dw: number[];
  tangentSolve: SolveDiagnostics | null;
  tangentCg: CgRun;
  dwFd: { h: number; value: number[] };
  /** Validation loss L(λ) = ½‖X_val w(λ) − t_val‖² and dL/dλ through the ImplicitFunction in reverse mode (adjoint system Aᵀu = ∂L/∂w). */
  loss: number;
  dLoss: number;
  adjointSolve: SolveDiagnostics | null;
  adjointCg: CgRun & { minusBTu: number };
  implicitMs: number;
  /** Entries on the tape of λ ↦ L(w(λ)) through the ImplicitFunction: the conditions and the loss, not the iterations. */
  implicitTapeLength: number;
  dLossFd: number;
  unrolled: { T: number; dLoss: number; loss: number; tapeLength: number; ms: number };
}

function toNumbers(t: Tensor): number[] {
  return Array.from(t.toFloat64Array());
}

function cgRun(result: ReturnType<typeof cg>): CgRun {
  return { x: toNumbers(result.x), iterations: result.iterations, residualHistory: result.residualHistory ?? [], converged: result.converged };
}

export class RidgeProblem {
  readonly X: Tensor;
  readonly Xt: Tensor;
  readonly t: Tensor;
  readonly Xval: Tensor;
  readonly tval: Tensor;
  /** Largest eigenvalue of XᵀX (power iteration), for the step size 1/(σ² + λ). */
  readonly curvature: number;
  readonly features: number;
  readonly implicitW: ImplicitFunction;
  /** The forward solver's relative tolerance on ‖F‖ / ‖Xᵀt‖. */
  readonly forwardTol = 1e-14;
  readonly maxIter = 20000;

  constructor(data: RidgeData) {
    this.X = tensor(data.X);
    this.Xt = transpose(this.X);
    this.t = tensor(data.t);
    this.Xval = tensor(data.Xval);
    this.tval = tensor(data.tval);
    this.features = data.X[0].length;
    const gram = matmul(this.Xt, this.X);
    let v: Tensor = tensor(new Array(this.features).fill(1));
    let estimate = 0;
    for (let k = 0; k < 200; k++) {
      const next = matmul(gram, v);
      estimate = norm(next).item() / norm(v).item();
      v = mul(next, 1 / norm(next).item());
    }
    this.curvature = estimate;
    this.implicitW = new ImplicitFunction({
      name: "ridge",
      forward: (lam: Tensor | number) => this.gradientDescent(typeof lam === "number" ? lam : lam.item()).w,
      conditions: (lam: Tensor | number, w: Tensor) => this.conditions(lam, w),
      linearSolver: "cg",
      positiveDefinite: true,
      tol: 1e-12,
    });
  }

  /** F(λ, w) = Xᵀ(X w − t) + λ w, the gradient of the ridge objective. */
  conditions(lam: Tensor | number, w: Tensor): Tensor {
    return add(matmul(this.Xt, sub(matmul(this.X, w), this.t)), mul(lam, w));
  }

  stepSize(lam: number): number {
    return 1 / (this.curvature + lam);
  }

  /** One gradient-descent step w ← w − η F(λ, w). */
  step(lam: Tensor | number, w: Tensor, eta: number): Tensor {
    return sub(w, mul(eta, this.conditions(lam, w)));
  }

  /** Gradient descent from w = 0 until ‖F‖ ≤ forwardTol·‖Xᵀt‖ (or maxIter), on plain tensors. */
  gradientDescent(lam: number): GradientDescentRun {
    const eta = this.stepSize(lam);
    const threshold = this.forwardTol * norm(matmul(this.Xt, this.t)).item();
    let w = zeros([this.features]);
    const residuals: number[] = [];
    let k = 0;
    for (;; k++) {
      const F = this.conditions(lam, w);
      const r = norm(F).item();
      residuals.push(r);
      if (r <= threshold || k >= this.maxIter) break;
      w = sub(w, mul(eta, F));
    }
    return { w, residuals, iterations: k, converged: residuals[residuals.length - 1] <= threshold };
  }

  /** T steps from w = 0 with the step size of λ's value held fixed: the unrolled solver a tape can record. */
  unrolled(lam: Tensor | number, T: number, eta: number): Tensor {
    let w = zeros([this.features]);
    for (let k = 0; k < T; k++) w = this.step(lam, w, eta);
    return w;
  }

  /** ½‖X_val w − t_val‖². */
  validationLoss(w: Tensor): Tensor {
    return mul(0.5, sum(pow(sub(matmul(this.Xval, w), this.tval), 2)));
  }

  /** w(λ) = (XᵀX + λI)⁻¹ Xᵀt by a dense solve: the closed form, for the curves. */
  closedForm(lam: number): number[] {
    const A = add(matmul(this.Xt, this.X), mul(lam, eye(this.features)));
    return toNumbers(solve(A, matmul(this.Xt, this.t)));
  }

  analyse(lam: number, T: number): RidgeAnalysis {
    const t0 = performance.now();
    const run = this.gradientDescent(lam);
    const forwardMs = performance.now() - t0;
    const w = run.w;
    const conditionsNorm = norm(this.conditions(lam, w)).item();
    const A = (jacobian((ww: Tensor) => this.conditions(lam, ww))(w) as Tensor).toArray() as number[][];
    const B = toNumbers(jacobian((l: Tensor) => this.conditions(l, w))(lam) as Tensor);

    const [, dwT] = jvp((l: Tensor) => this.implicitW.call(l), [lam], [1]);
    const tangentSolve = this.implicitW.lastSolve === null ? null : { ...this.implicitW.lastSolve };
    // The same tangent system, solved again in the open: A ẇ = −B with A applied as a JVP of the conditions.
    const applyA = (v: Tensor): Tensor => jvp((ww: Tensor) => this.conditions(lam, ww), [w], [v])[1];
    const tangentCg = cgRun(cg(applyA, tensor(B.map((b) => -b)), { tol: 1e-12, history: true }));

    const h = Math.cbrt(Number.EPSILON) * Math.max(1, lam);
    const plus = toNumbers(this.gradientDescent(lam + h).w);
    const minus = toNumbers(this.gradientDescent(lam - h).w);
    const dwFd = { h, value: plus.map((p, i) => (p - minus[i]) / (2 * h)) };

    const t1 = performance.now();
    const implicitTape = traceTape((l: Tensor) => this.validationLoss(this.implicitW.call(l)), lam);
    const implicitMs = performance.now() - t1;
    const dLoss = scalarOf(implicitTape.gradients[0]);
    const adjointSolve = this.implicitW.lastSolve === null ? null : { ...this.implicitW.lastSolve };
    const loss = this.validationLoss(w).item();
    // The adjoint system Aᵀu = ∂L/∂w (A is symmetric), then dL/dλ = −Bᵀu.
    const lossGradient = grad((ww: Tensor) => this.validationLoss(ww))(w) as Tensor;
    const adjoint = cgRun(cg(applyA, lossGradient, { tol: 1e-12, history: true }));
    const minusBTu = -adjoint.x.reduce((s, u, i) => s + u * B[i], 0);
    const lossAt = (l: number): number => this.validationLoss(this.gradientDescent(l).w).item();
    const dLossFd = (lossAt(lam + h) - lossAt(lam - h)) / (2 * h);

    const eta = this.stepSize(lam);
    const t2 = performance.now();
    const tape = traceTape((l: Tensor) => this.validationLoss(this.unrolled(l, T, eta)), lam);
    const unrolledMs = performance.now() - t2;

    return {
      lambda: lam,
      w: toNumbers(w),
      forward: { ...run, ms: forwardMs, stepSize: eta },
      conditionsNorm,
      A,
      B,
      dw: toNumbers(dwT),
      tangentSolve,
      tangentCg,
      dwFd,
      loss,
      dLoss,
      adjointSolve,
      adjointCg: { ...adjoint, minusBTu },
      implicitMs,
      implicitTapeLength: implicitTape.entries.length,
      dLossFd,
      unrolled: { T, dLoss: scalarOf(tape.gradients[0]), loss: scalarOf(tape.value), tapeLength: tape.entries.length, ms: unrolledMs },
    };
  }
}
