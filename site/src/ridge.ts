/**
 * Ridge regression as an implicit function of its regularisation λ:
 *   w(λ) = argmin_w ½‖X w − t‖² + ½ λ ‖w‖²,
 * characterised by the stationarity conditions F(λ, w) = Xᵀ(X w − t) + λ w = 0.
 * `forward` is plain gradient descent on plain numbers (with XᵀX and Xᵀt
 * formed once, so that it runs in microseconds); derivatives come from the
 * implicit function theorem with A = ∂F/∂w = XᵀX + λI and B = ∂F/∂λ = w. The
 * page also replays the linear solves with the library's cg to show their
 * residuals, and compares with differentiating T unrolled gradient-descent
 * steps on the tape, which `analyseUnrolled` does separately because a long
 * unrolled tape takes longer than a frame.
 */
import {
  ImplicitFunction, Tensor, tensor, add, sub, mul, matmul, transpose, sum, pow, norm, solve, eye,
  grad, jvp, jacobian, cg, traceTape, zeros, type SolveDiagnostics, type TapeTrace,
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
  /** The tape of λ ↦ L(w(λ)) through the ImplicitFunction: the conditions and the loss, not the iterations. */
  implicitTape: TapeTrace;
  implicitTapeLength: number;
  dLossFd: number;
}

export interface UnrolledAnalysis {
  lambda: number;
  T: number;
  dLoss: number;
  loss: number;
  tapeLength: number;
  ms: number;
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
  /** XᵀX and Xᵀt as plain arrays, for forward's loop. */
  private readonly gram: number[][];
  private readonly Xtt: number[];
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
    this.gram = gram.toArray() as number[][];
    this.Xtt = toNumbers(matmul(this.Xt, this.t));
    let v: Tensor = tensor(new Array(this.features).fill(1));
    let estimate = 0;
    for (let k = 0; k < 200; k++) {
      const next = matmul(gram, v);
      estimate = norm(next).item() / norm(v).item();
      v = mul(next, 1 / norm(next).item());
    }
    this.curvature = estimate;
    // #region snippet ridge-define
    this.implicitW = new ImplicitFunction({
      name: "ridge",
      forward: (lam: Tensor | number) => this.gradientDescent(typeof lam === "number" ? lam : lam.item()).w, // plain numbers
      conditions: (lam: Tensor | number, w: Tensor) => this.conditions(lam, w), // Xᵀ(Xw − t) + λw
      linearSolver: "cg", // A = XᵀX + λI is symmetric positive definite
      positiveDefinite: true,
      tol: 1e-12,
    });
    // #endregion
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

  /**
   * Gradient descent from w = 0 until ‖F‖ ≤ forwardTol·‖Xᵀt‖ (or maxIter), on
   * plain numbers: F(λ, w) = (XᵀX)w − Xᵀt + λw with XᵀX and Xᵀt formed once.
   */
  gradientDescent(lam: number): GradientDescentRun {
    const eta = this.stepSize(lam);
    const n = this.features;
    const G = this.gram;
    const c = this.Xtt;
    const threshold = this.forwardTol * Math.hypot(...c);
    const w = new Float64Array(n);
    const F = new Float64Array(n);
    const residuals: number[] = [];
    let k = 0;
    for (;; k++) {
      let squared = 0;
      for (let i = 0; i < n; i++) {
        let s = lam * w[i] - c[i];
        for (let j = 0; j < n; j++) s += G[i][j] * w[j];
        F[i] = s;
        squared += s * s;
      }
      const r = Math.sqrt(squared);
      residuals.push(r);
      if (r <= threshold || k >= this.maxIter) break;
      for (let i = 0; i < n; i++) w[i] -= eta * F[i];
    }
    return { w: tensor(Array.from(w)), residuals, iterations: k, converged: residuals[residuals.length - 1] <= threshold };
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

  /** Everything but the unrolled derivative, at λ: a few milliseconds. */
  analyse(lam: number): RidgeAnalysis {
    const t0 = performance.now();
    const run = this.gradientDescent(lam);
    const forwardMs = performance.now() - t0;
    const w = run.w;
    const conditionsNorm = norm(this.conditions(lam, w)).item();
    const A = (jacobian((ww: Tensor) => this.conditions(lam, ww))(w) as Tensor).toArray() as number[][];
    const B = toNumbers(jacobian((l: Tensor) => this.conditions(l, w))(lam) as Tensor);

    // #region snippet ridge-calls
    const [, dwdl] = jvp((l: Tensor) => this.implicitW.call(l), [lam], [1]); // forward mode: A ẇ = −B
    // #endregion
    const tangentSolve = this.implicitW.lastSolve === null ? null : { ...this.implicitW.lastSolve };
    // The same tangent system, solved again in the open: A ẇ = −B with A applied as a JVP of the conditions.
    const applyA = (v: Tensor): Tensor => jvp((ww: Tensor) => this.conditions(lam, ww), [w], [v])[1];
    const tangentCg = cgRun(cg(applyA, tensor(B.map((b) => -b)), { tol: 1e-12, history: true }));

    const h = Math.cbrt(Number.EPSILON) * Math.max(1, lam);
    const wPlus = this.gradientDescent(lam + h).w;
    const wMinus = this.gradientDescent(lam - h).w;
    const plus = toNumbers(wPlus);
    const minus = toNumbers(wMinus);
    const dwFd = { h, value: plus.map((p, i) => (p - minus[i]) / (2 * h)) };

    const t1 = performance.now();
    // #region snippet ridge-calls-tape
    const implicitTape = traceTape((l: Tensor) => this.validationLoss(this.implicitW.call(l)), lam); // reverse: Aᵀu = ∂L/∂w
    // #endregion
    const implicitMs = performance.now() - t1;
    const dLoss = scalarOf(implicitTape.gradients[0]);
    const adjointSolve = this.implicitW.lastSolve === null ? null : { ...this.implicitW.lastSolve };
    const loss = this.validationLoss(w).item();
    // The adjoint system Aᵀu = ∂L/∂w (A is symmetric), then dL/dλ = −Bᵀu.
    const lossGradient = grad((ww: Tensor) => this.validationLoss(ww))(w) as Tensor;
    const adjoint = cgRun(cg(applyA, lossGradient, { tol: 1e-12, history: true }));
    const minusBTu = -adjoint.x.reduce((s, u, i) => s + u * B[i], 0);
    const dLossFd = (this.validationLoss(wPlus).item() - this.validationLoss(wMinus).item()) / (2 * h);

    return {
      lambda: lam,
      w: toNumbers(w),
      forward: { ...run, ms: forwardMs, stepSize: this.stepSize(lam) },
      conditionsNorm,
      A,
      B,
      dw: toNumbers(dwdl),
      tangentSolve,
      tangentCg,
      dwFd,
      loss,
      dLoss,
      adjointSolve,
      adjointCg: { ...adjoint, minusBTu },
      implicitMs,
      implicitTape,
      implicitTapeLength: implicitTape.entries.length,
      dLossFd,
    };
  }

  /** dL/dλ by differentiating T unrolled gradient-descent steps on the tape (its tape grows with T, and so does the time). */
  analyseUnrolled(lam: number, T: number): UnrolledAnalysis {
    const eta = this.stepSize(lam);
    const t0 = performance.now();
    const tape = traceTape((l: Tensor) => this.validationLoss(this.unrolled(l, T, eta)), lam);
    const ms = performance.now() - t0;
    return { lambda: lam, T, dLoss: scalarOf(tape.gradients[0]), loss: scalarOf(tape.value), tapeLength: tape.entries.length, ms };
  }
}
