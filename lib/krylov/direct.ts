/**
 * Dense direct solvers for small systems: LU with partial pivoting and
 * Cholesky. A factorisation is an object that solves for any number of
 * right-hand sides (and, for LU, the transposed system), so a matrix such as
 * ∂F/∂y can be factorised once and reused by every later solve.
 */
import { allocate, contiguousData, fromData, Tensor, toTensor, type NestedArray } from "../tensor/tensor.js";
import { luFactor, luSolveInPlace, type LUFactors } from "../tensor/kernels.js";
import { shapeToString } from "../tensor/shape.js";
import { is, readOptions } from "../primitives/options.js";
import { checkUntraced, guarded } from "./operator.js";

type MatrixLike = Tensor | NestedArray[];
type RhsLike = Tensor | NestedArray[] | number[];

/** A square matrix argument as a Tensor, with errors prefixed by `op`. */
function squareMatrix(op: string, A: unknown): Tensor {
  if (A === undefined) throw new Error(`${op}: the matrix A is missing`);
  const T = A instanceof Tensor ? A : toTensor(`${op}: A`, A);
  if (T.ndim !== 2 || T.shape[0] !== T.shape[1]) throw new Error(`${op}: A must be a square matrix [n,n], got shape ${shapeToString(T.shape)}`);
  checkUntraced(op, "A", T);
  return T;
}

function finiteEntries(op: string, a: Float64Array, shape: number[]): void {
  for (let i = 0; i < a.length; i++) {
    if (a[i] - a[i] !== 0) throw new Error(`${op}: matrix of shape ${shapeToString(shape)} has a non-finite entry (${a[i]} at flat index ${i})`);
  }
}

/**
 * The right-hand side as a row-major n×k Float64Array copy (which the
 * triangular solves overwrite), with k = 1 for a vector.
 */
function rhsCopy(op: string, n: number, b: unknown): { data: Float64Array; k: number; template: Tensor } {
  if (b === undefined) throw new Error(`${op}: the right-hand side b is missing`);
  const B = b instanceof Tensor ? b : toTensor(`${op}: b`, b);
  if ((B.ndim !== 1 && B.ndim !== 2) || B.shape[0] !== n) {
    throw new Error(`${op}: b must have shape [${n}] or [${n},k] to match A [${n},${n}], got ${shapeToString(B.shape)}`);
  }
  checkUntraced(op, "b", B);
  return { data: Float64Array.from(contiguousData(B, "float64")), k: B.ndim === 1 ? 1 : B.shape[1], template: B };
}

function solution(data: Float64Array, template: Tensor): Tensor {
  if (template.dtype === "float64") return fromData(data, template.shape.slice());
  const out = allocate(template.dtype, data.length);
  out.set(data);
  return fromData(out, template.shape.slice());
}

/** An LU factorisation P A = L U (partial pivoting) of an n×n matrix. Made by `lu`. */
export class LUFactorization {
  readonly n: number;
  readonly #factors: LUFactors;

  /** @internal Use `lu(A)`. */
  constructor(factors: LUFactors) {
    this.#factors = factors;
    this.n = factors.n;
  }

  /** Solves A X = B, or Aᵀ X = B with `transpose: true`; B of shape [n] or [n,k]. Cost 2n²k. */
  solve(b: RhsLike, opts: { transpose?: boolean } = {}): Tensor {
    return guarded("LUFactorization.solve", () => solveWithLU("LUFactorization.solve", this, b, opts));
  }

  /** @internal The packed factors. */
  get factors(): LUFactors {
    return this.#factors;
  }
}

/**
 * Factorises a square matrix by Gaussian elimination with partial pivoting
 * (Golub & Van Loan, Matrix Computations, Alg. 3.4.1); cost ⅔n³. A pivot
 * that is zero, or below n·ε times the largest entry of its column of A (the
 * matrix is singular to working precision), is an Error, as is a NaN or ∞.
 */
export function lu(A: MatrixLike): LUFactorization {
  return guarded("lu", () => factorLU("lu", A));
}

function factorLU(op: string, A: unknown): LUFactorization {
  const T = squareMatrix(op, A);
  const n = T.shape[0];
  const a = contiguousData(T, "float64") as Float64Array;
  finiteEntries(op, a, T.shape);
  const factors = luFactor(T);
  if (factors === null) throw new Error(`${op}: matrix of shape ${shapeToString(T.shape)} is singular (a zero pivot in LU with partial pivoting)`);
  for (let j = 0; j < n; j++) {
    let columnMax = 0;
    for (let i = 0; i < n; i++) columnMax = Math.max(columnMax, Math.abs(a[i * n + j]));
    const pivot = Math.abs(factors.lu[j * n + j]);
    if (pivot <= n * Number.EPSILON * columnMax) {
      throw new Error(`${op}: matrix of shape ${shapeToString(T.shape)} is singular to working precision (pivot ${j} is ${factors.lu[j * n + j].toExponential(2)} against column entries up to ${columnMax.toExponential(2)}); use lsqr or minres for singular systems`);
    }
  }
  return new LUFactorization(factors);
}

/** luSolve's and LUFactorization.solve's options. */
const LU_SOLVE_OPTIONS = { transpose: is.boolean };

function solveWithLU(op: string, f: LUFactorization, b: unknown, opts: unknown): Tensor {
  const { transpose } = readOptions(op, opts, LU_SOLVE_OPTIONS);
  const { data, k, template } = rhsCopy(op, f.n, b);
  luSolveInPlace(f.factors, data, k, transpose === true);
  return solution(data, template);
}

/**
 * Solves A x = b (or Aᵀ x = b with `transpose: true`) by LU with partial
 * pivoting. `A` is a square matrix (factorised here, ⅔n³) or a factorisation
 * from `lu(A)` (reused, 2n² per right-hand side). `b`: shape [n] or [n,k].
 * A singular A is an Error.
 */
export function luSolve(A: MatrixLike | LUFactorization, b: RhsLike, opts: { transpose?: boolean } = {}): Tensor {
  return guarded("luSolve", () => solveWithLU("luSolve", A instanceof LUFactorization ? A : factorLU("luSolve", A), b, opts));
}

/** A Cholesky factorisation A = L Lᵀ of a symmetric positive definite matrix. Made by `cholesky`. */
export class CholeskyFactorization {
  readonly n: number;
  readonly #lower: Float64Array;

  /** @internal Use `cholesky(A)`. */
  constructor(n: number, lower: Float64Array) {
    this.n = n;
    this.#lower = lower;
  }

  /** The lower-triangular factor L as an n×n Tensor (a copy). */
  get L(): Tensor {
    return fromData(this.#lower.slice(), [this.n, this.n]);
  }

  /** Solves A X = B for B of shape [n] or [n,k]; cost 2n²k. */
  solve(b: RhsLike): Tensor {
    return guarded("CholeskyFactorization.solve", () => this.solveAs("CholeskyFactorization.solve", b));
  }

  /** @internal `solve` with the public name of the caller in its errors. */
  solveAs(op: string, b: unknown): Tensor {
    return solveWithCholesky(op, this.n, this.#lower, b);
  }
}

/**
 * Factorises a symmetric positive definite matrix as L Lᵀ (Golub & Van Loan,
 * Alg. 4.2.1, the row-oriented Cholesky–Banachiewicz order); cost ⅓n³. A
 * matrix that is not symmetric (beyond 1e-10 of its largest entry), not
 * positive definite (a pivot ≤ n·ε·Aⱼⱼ), or has a NaN or ∞ is an Error.
 */
export function cholesky(A: MatrixLike): CholeskyFactorization {
  return guarded("cholesky", () => factorCholesky("cholesky", A));
}

function factorCholesky(op: string, A: unknown): CholeskyFactorization {
  const T = squareMatrix(op, A);
  const n = T.shape[0];
  const a = contiguousData(T, "float64") as Float64Array;
  finiteEntries(op, a, T.shape);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-10 * largest) {
        throw new Error(`${op}: matrix of shape ${shapeToString(T.shape)} is not symmetric (A[${i},${j}] = ${a[i * n + j]} but A[${j},${i}] = ${a[j * n + i]}); use lu for general matrices`);
      }
    }
  }
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      let s = a[rowI + j];
      for (let l = 0; l < j; l++) s -= L[rowI + l] * L[rowJ + l];
      if (j < i) L[rowI + j] = s / L[rowJ + j];
      else {
        if (!(s > n * Number.EPSILON * Math.abs(a[rowI + i]))) {
          throw new Error(`${op}: matrix of shape ${shapeToString(T.shape)} is not positive definite (pivot ${i} is ${s.toExponential(2)}); use lu or minres for indefinite matrices`);
        }
        L[rowI + i] = Math.sqrt(s);
      }
    }
  }
  return new CholeskyFactorization(n, L);
}

function solveWithCholesky(op: string, n: number, L: Float64Array, b: unknown): Tensor {
  const { data: B, k, template } = rhsCopy(op, n, b);
  // L y = b forward, then Lᵀ x = y backward, each on all k columns at once.
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < i; l++) {
      const lil = L[i * n + l];
      if (lil !== 0) for (let j = 0; j < k; j++) B[i * k + j] -= lil * B[l * k + j];
    }
    const d = L[i * n + i];
    for (let j = 0; j < k; j++) B[i * k + j] /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let l = i + 1; l < n; l++) {
      const lli = L[l * n + i];
      if (lli !== 0) for (let j = 0; j < k; j++) B[i * k + j] -= lli * B[l * k + j];
    }
    const d = L[i * n + i];
    for (let j = 0; j < k; j++) B[i * k + j] /= d;
  }
  return solution(B, template);
}

/**
 * Solves A x = b for symmetric positive definite A by Cholesky. `A` is a matrix
 * (factorised here, ⅓n³) or a factorisation from `cholesky(A)` (2n² per
 * right-hand side). `b`: shape [n] or [n,k].
 */
export function choleskySolve(A: MatrixLike | CholeskyFactorization, b: RhsLike): Tensor {
  return guarded("choleskySolve", () => (A instanceof CholeskyFactorization ? A : factorCholesky("choleskySolve", A)).solveAs("choleskySolve", b));
}
