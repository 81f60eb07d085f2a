/**
 * Measurements of ∂F/∂y by products with pseudo-random vectors, for one call:
 * its typical gain (the residual check, the rounding level), its symmetry (the
 * "auto" policy, a declared flag's confirmation), its diagonal (Jacobi), and the
 * true residual of a solution. Each costs products, never a dense matrix.
 */
import type { DType, Tensor } from "../tensor/tensor.js";
import type { LinearSystem } from "../program/root.js";
import { probeDiagonal, type ProbedDiagonal } from "../krylov/jacobi.js";
import { norm2 } from "../krylov/operator.js";
import { epsilonOf, symmetryTolerance } from "./rounding.js";

/**
 * The probe vectors: pseudo-random entries in [−1, 1) from a fixed seed (the
 * same probe on every run), regenerated rather than stored.
 */
function fillProbe(x: Float64Array, seed: number): void {
  let state = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x[i] = state / 2 ** 31 - 1;
  }
}

/** Σᵢ vᵢ yᵢ with v the probe vector of `seed`, without storing v. */
function probeDot(seed: number, y: Float64Array): number {
  let state = seed >>> 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    s += (state / 2 ** 31 - 1) * y[i];
  }
  return s;
}

/**
 * Work vectors for the probes, kept by an ImplicitFunction from one call to
 * the next: a fresh large Float64Array costs page faults on first touch, a
 * reused one does not. A call takes them for its probes and gives them back.
 */
export class ProbeScratch {
  private kept: [Float64Array, Float64Array] | null = null;

  take(n: number): [Float64Array, Float64Array] {
    const kept = this.kept;
    this.kept = null;
    if (kept !== null && kept[0].length === n) return kept;
    return [new Float64Array(n), new Float64Array(n)];
  }

  give(vectors: [Float64Array, Float64Array]): void {
    this.kept = vectors;
  }
}

/** ‖b − K x‖ computed independently of the solver (one product). */
export function residualOf(K: LinearSystem, x: Tensor, b: Tensor): number {
  const Kx = new Float64Array(K.shape[0]);
  K.matvec.into(x.toFloat64Array(), Kx);
  const bv = b.toFloat64Array();
  let s = 0;
  for (let i = 0; i < Kx.length; i++) s += (bv[i] - Kx[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * The probes of one call's ∂F/∂y, each computed at most once and always with
 * the products of A = ∂F/∂y itself (the tangent system), whichever system a
 * solve is on: A v for the probe v (seed 1) gives the gain and stays in a work
 * vector for the free symmetry check after a solve; A u (seed 2) completes the
 * symmetry probe. A is symmetric exactly when Aᵀ is, and has its diagonal.
 */
export class OperatorProbes {
  /** Two work vectors while a probe needs them; K v (v of seed 1) stays in the second until released. */
  private work: [Float64Array, Float64Array] | null = null;
  /** ‖v‖, ‖K v‖ and ⟨u, K v⟩ for the probe vectors v (seed 1) and u (seed 2). */
  private first: { vNorm: number; KvNorm: number; uKv: number } | null = null;
  private symmetry: { uKv: number; Kuv: number; relative: number } | null = null;
  /** diag(∂F/∂y), probed for the Jacobi preconditioner on the first solve that needs it. */
  private probedDiagonal: ProbedDiagonal | null = null;

  /** `A`: the tangent system, K = ∂F/∂y. */
  constructor(private readonly A: LinearSystem, private readonly scratch: ProbeScratch = new ProbeScratch()) {}

  /** Writes the probe vector of `seed` into the first work vector and A times it into the second. */
  private product(seed: number): [Float64Array, Float64Array] {
    this.work ??= this.scratch.take(this.A.shape[0]);
    const [x, Ax] = this.work;
    fillProbe(x, seed);
    this.A.matvec.into(x, Ax);
    return this.work;
  }

  /** Hands the work vectors back (K v is no longer needed). */
  release(): void {
    if (this.work === null) return;
    this.scratch.give(this.work);
    this.work = null;
  }

  private probeV(): { vNorm: number; KvNorm: number; uKv: number } {
    if (this.first === null) {
      const [v, Kv] = this.product(1);
      this.first = { vNorm: norm2(v), KvNorm: norm2(Kv), uKv: probeDot(2, Kv) };
    }
    return this.first;
  }

  /**
   * ‖K v‖/‖v‖ for the probe v: an estimate of ∂F/∂y's typical gain (its RMS
   * singular value ‖A‖_F/√n, the same for A and Aᵀ). One product per call.
   */
  gain(): number {
    const { vNorm, KvNorm } = this.probeV();
    return KvNorm / vNorm;
  }

  /**
   * diag(∂F/∂y) at this call's point, for `preconditioner: "jacobi"`: probed
   * once (lib/krylov/jacobi.ts: about 4w products for a band of half-width w,
   * at most about 3n) and shared by both systems, as A and Aᵀ have one diagonal.
   */
  diagonal(precision: DType): ProbedDiagonal {
    this.probedDiagonal ??= probeDiagonal((x, out) => this.A.matvec.into(x, out), this.A.shape[0], epsilonOf(precision));
    return this.probedDiagonal;
  }

  /**
   * Symmetry checked for free after a solve A x ≈ b with true residual `res`
   * (a declared symmetry has both systems solved with A's products): when
   * A = Aᵀ, ⟨A v, x⟩ = ⟨v, A x⟩ = ⟨v, b⟩ + O(‖v‖·res), with A v the gain
   * probe's product, still in a work vector. For a nonsymmetric A the two
   * differ by ⟨v, (Aᵀ − A) x⟩. Null when x = 0 (nothing to compare).
   */
  symmetryAfterSolve(x: Float64Array, b: Float64Array, res: number, precision: DType): { KvX: number; vB: number; symmetric: boolean } | null {
    const { vNorm, KvNorm } = this.probeV();
    const xNorm = norm2(x);
    if (xNorm === 0 || this.work === null) return null;
    const Kv = this.work[1];
    let KvX = 0;
    for (let i = 0; i < x.length; i++) KvX += Kv[i] * x[i];
    const vB = probeDot(1, b);
    const allowed = vNorm * res + symmetryTolerance(precision) * (KvNorm * xNorm + vNorm * norm2(b));
    return { KvX, vB, symmetric: Math.abs(KvX - vB) <= allowed };
  }

  /**
   * The symmetry probe: ⟨u, A v⟩ against ⟨A u, v⟩ for pseudo-random u, v (one
   * product besides the gain's). For symmetric A they agree to rounding; for a
   * nonsymmetric one they differ by uᵀ(A − Aᵀ)v, which random vectors see.
   */
  symmetryProbe(precision: DType): { uKv: number; Kuv: number; relative: number; symmetric: boolean } {
    if (this.symmetry === null) {
      const { vNorm, KvNorm, uKv } = this.probeV();
      const [u, Ku] = this.product(2);
      const Kuv = probeDot(1, Ku);
      const scale = norm2(u) * KvNorm + norm2(Ku) * vNorm;
      this.symmetry = { uKv, Kuv, relative: scale > 0 ? Math.abs(uKv - Kuv) / scale : 0 };
    }
    return { ...this.symmetry, symmetric: this.symmetry.relative <= symmetryTolerance(precision) };
  }
}
