/**
 * The Jacobi (diagonal) preconditioner of a matrix-free operator: its diagonal
 * found from products, and M⁻¹v = v ⊘ d.
 *
 * The diagonal comes from probing (Curtis, Powell & Reid, "On the estimation of
 * sparse Jacobian matrices", J. Inst. Maths Applics 13, 1974; for diagonals,
 * Bekas, Kokiopoulou & Saad, "An estimator for the diagonal of a matrix", Appl.
 * Numer. Math. 57, 2007): for a period p and a colour k < p, the product with
 * w = Σ_{j ≡ k (mod p)} r_j e_j gives, in each row i ≡ k,
 *
 *   (A w)_i / r_i = A_ii + Σ_{j ≡ i (mod p), j ≠ i} A_ij r_j / r_i,
 *
 * which is A_ii exactly when row i has no nonzero at a distance that is a
 * multiple of p: a band of half-width below p (the stencils of 1-D problems, or
 * of 2-D ones with p above the grid's row length). Two rounds with independent
 * weights r ∈ [1, 2) agree to rounding only when the sums vanish (the weights
 * make an accidental agreement a measure-zero event), so p doubles until they
 * agree, and unit vectors (p = n) end the search: exact for any matrix.
 */
import { Tensor, contiguousData, fromData } from "../tensor/tensor.js";
import { allFinite } from "./operator.js";

/** The diagonal of an operator and what finding it cost. */
export interface ProbedDiagonal {
  diagonal: Float64Array;
  /** Products with the operator spent. */
  products: number;
  /** The period that gave it (n: unit vectors). */
  period: number;
}

/** Pseudo-random weights in [1, 2) from a fixed seed (the same on every run). */
function weights(n: number, seed: number): Float64Array {
  const r = new Float64Array(n);
  let state = seed >>> 0;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    r[i] = 1 + state / 2 ** 32;
  }
  return r;
}

/** One round of probing with period p and weights r: p products, d_i = (A w_{i mod p})_i / r_i. */
function probeRound(product: (x: Float64Array, out: Float64Array) => void, n: number, p: number, r: Float64Array | null, d: Float64Array, w: Float64Array, Aw: Float64Array): void {
  for (let k = 0; k < p; k++) {
    w.fill(0);
    for (let j = k; j < n; j += p) w[j] = r === null ? 1 : r[j];
    product(w, Aw);
    for (let i = k; i < n; i += p) d[i] = r === null ? Aw[i] : Aw[i] / r[i];
  }
}

/**
 * diag(A) of an n×n operator given by its in-place product, by probing with
 * doubling periods (see the module comment). Cost: about 4w products for a band
 * of half-width w (2p per period tried, the last p ≥ w + 1), at most about 3n
 * for a dense A (then the last round uses the n unit vectors). `epsilon` is the
 * machine epsilon of the precision the products are computed in (float32
 * products agree to fewer digits).
 */
export function probeDiagonal(product: (x: Float64Array, out: Float64Array) => void, n: number, epsilon = Number.EPSILON): ProbedDiagonal {
  const w = new Float64Array(n);
  const Aw = new Float64Array(n);
  const first = new Float64Array(n);
  const second = new Float64Array(n);
  const r1 = weights(n, 11);
  const r2 = weights(n, 23);
  let products = 0;
  // A period of at least n/4 saves little over the n unit vectors and risks needing them anyway.
  for (let p = 2; 4 * p < n; p *= 2) {
    probeRound(product, n, p, r1, first, w, Aw);
    probeRound(product, n, p, r2, second, w, Aw);
    products += 2 * p;
    if (!allFinite(first) || !allFinite(second)) break;
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(first[i]), Math.abs(second[i]));
    // Rounding in a product moves an entry by about ε·Σⱼ|A_ij w_j|; √ε of the largest entry
    // is far above that and far below any off-diagonal entry worth preconditioning for.
    const allowed = Math.sqrt(epsilon) * scale;
    let agree = true;
    for (let i = 0; i < n && agree; i++) agree = Math.abs(first[i] - second[i]) <= allowed;
    if (agree) return { diagonal: first, products, period: p };
  }
  probeRound(product, n, n, null, first, w, Aw);
  return { diagonal: first, products: products + n, period: n };
}

/**
 * The Jacobi preconditioner v ↦ v ⊘ d (M = diag(d)), with its in-place form.
 * `positive`: divide by |d| instead, so that M is positive definite, as CG and
 * MINRES require (for a symmetric A whose diagonal has either sign; GMRES and
 * BiCGStab take d itself). An entry of d that is zero, or not finite, is
 * replaced by the mean |dᵢ| of the others (that unknown is left unscaled
 * relative to the rest), so M⁻¹ is always defined. Cost per application: n divisions.
 */
export function jacobiPreconditioner(diagonal: Float64Array, positive: boolean): ((v: Tensor) => Tensor) & { into(x: Float64Array, out: Float64Array): void } {
  const n = diagonal.length;
  let total = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(diagonal[i]);
    if (a > 0 && Number.isFinite(a)) {
      total += a;
      count++;
    }
  }
  const fill = count > 0 ? total / count : 1;
  const inverse = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = diagonal[i];
    const usable = d !== 0 && Number.isFinite(d);
    inverse[i] = 1 / (usable ? (positive ? Math.abs(d) : d) : fill);
  }
  const into = (x: Float64Array, out: Float64Array): void => {
    for (let i = 0; i < n; i++) out[i] = x[i] * inverse[i];
  };
  const apply = (v: Tensor): Tensor => {
    const x = contiguousData(v, "float64") as Float64Array;
    const out = new Float64Array(n);
    into(x, out);
    return fromData(out, [n]);
  };
  return Object.assign(apply, { into });
}
