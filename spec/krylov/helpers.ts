/**
 * Test-side linear algebra for the Krylov specs, written on plain number
 * arrays and independent of the library: random matrices with known spectra
 * (built as Q·diag·Qᵀ or U·Σ·Vᵀ, so pseudo-inverse solutions are known in
 * closed form), Gaussian elimination, products and norms.
 */
import fc from "fast-check";
import { expect } from "chai";
import { Tensor, tensor, type KrylovResult } from "../../lib/index.js";
import { prng } from "../primitives/reference.js";

export type Matrix = number[][];

/** A deterministic uniform generator in [-1, 1) from a seed (mulberry32). */
export function rng(seed: number): () => number {
  const unit = prng(seed);
  return () => unit() * 2 - 1;
}

export function randomMatrix(m: number, n: number, next: () => number): Matrix {
  return Array.from({ length: m }, () => Array.from({ length: n }, () => next()));
}

export function randomVector(n: number, next: () => number): number[] {
  return Array.from({ length: n }, () => next());
}

export function matvec(A: Matrix, x: number[]): number[] {
  return A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));
}

export function transposeOf(A: Matrix): Matrix {
  const m = A.length;
  const n = m === 0 ? 0 : A[0].length;
  return Array.from({ length: n }, (_, j) => Array.from({ length: m }, (_, i) => A[i][j]));
}

export function matmulOf(A: Matrix, B: Matrix): Matrix {
  const Bt = transposeOf(B);
  return A.map((row) => Bt.map((col) => row.reduce((s, a, k) => s + a * col[k], 0)));
}

export function norm(x: number[]): number {
  return Math.sqrt(x.reduce((s, v) => s + v * v, 0));
}

export function sub(x: number[], y: number[]): number[] {
  return x.map((v, i) => v - y[i]);
}

/** ‖b − A x‖, computed here from the nested arrays. */
export function residualNorm(A: Matrix, x: number[], b: number[]): number {
  return norm(sub(b, matvec(A, x)));
}

/** ‖A‖_F, an upper bound on the 2-norm used to scale rounding slack. */
export function frobenius(A: Matrix): number {
  return Math.sqrt(A.reduce((s, row) => s + row.reduce((t, v) => t + v * v, 0), 0));
}

/** Solves A x = b by Gaussian elimination with partial pivoting (square, nonsingular). */
export function gaussSolve(A: Matrix, b: number[]): number[] {
  const n = A.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= f * M[c][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let j = r + 1; j < n; j++) s -= M[r][j] * x[j];
    x[r] = s / M[r][r];
  }
  return x;
}

/** An n×n orthogonal matrix: modified Gram–Schmidt on a random matrix (columns). */
export function orthogonal(n: number, next: () => number): Matrix {
  const cols: number[][] = [];
  while (cols.length < n) {
    const v = randomVector(n, next);
    for (const q of cols) {
      const d = v.reduce((s, x, i) => s + x * q[i], 0);
      for (let i = 0; i < n; i++) v[i] -= d * q[i];
    }
    const len = norm(v);
    if (len < 1e-3) continue;
    cols.push(v.map((x) => x / len));
  }
  return transposeOf(cols);
}

/** Q diag(d) Qᵀ. */
export function withSpectrum(Q: Matrix, d: number[]): Matrix {
  const n = d.length;
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += Q[i][k] * d[k] * Q[j][k];
    return s;
  }));
}

/** U diag(σ) Vᵀ for U m×m, V n×n orthogonal and σ of length min(m, n). */
export function withSingularValues(U: Matrix, sigma: number[], V: Matrix): Matrix {
  const m = U.length;
  const n = V.length;
  return Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let k = 0; k < sigma.length; k++) s += U[i][k] * sigma[k] * V[j][k];
    return s;
  }));
}

/** The minimum-norm least-squares solution V Σ⁺ Uᵀ b of U Σ Vᵀ x ≈ b (zero σ are dropped). */
export function pseudoInverseSolve(U: Matrix, sigma: number[], V: Matrix, b: number[]): number[] {
  const n = V.length;
  const coef = sigma.map((s, k) => (s === 0 ? 0 : U.reduce((acc, row, i) => acc + row[k] * b[i], 0) / s));
  return Array.from({ length: n }, (_, j) => coef.reduce((acc, c, k) => acc + V[j][k] * c, 0));
}

/** A linear system drawn by fast-check: the matrix, a right-hand side and a seed. */
export interface System {
  A: Matrix;
  b: number[];
  seed: number;
}

const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });

/** Symmetric positive definite with eigenvalues in [0.5, 5]. */
export function spdSystem(maxN = 12): fc.Arbitrary<System> {
  return fc.tuple(fc.integer({ min: 1, max: maxN }), seedArb).map(([n, seed]) => {
    const next = rng(seed);
    const d = Array.from({ length: n }, () => 0.5 + 2.25 * (next() + 1));
    return { A: withSpectrum(orthogonal(n, next), d), b: randomVector(n, next), seed };
  });
}

/** Symmetric indefinite (n ≥ 2): eigenvalues ±[0.5, 3], both signs present. */
export function indefiniteSystem(maxN = 12): fc.Arbitrary<System> {
  return fc.tuple(fc.integer({ min: 2, max: maxN }), seedArb).map(([n, seed]) => {
    const next = rng(seed);
    const d = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1) * (0.5 + 1.25 * (next() + 1)));
    return { A: withSpectrum(orthogonal(n, next), d), b: randomVector(n, next), seed };
  });
}

/** Nonsymmetric and well conditioned: 2I + B/√n with B uniform in [-1, 1]. */
export function nonsymmetricSystem(maxN = 12): fc.Arbitrary<System> {
  return fc.tuple(fc.integer({ min: 1, max: maxN }), seedArb).map(([n, seed]) => {
    const next = rng(seed);
    const A = randomMatrix(n, n, next).map((row, i) => row.map((v, j) => v / Math.sqrt(n) + (i === j ? 2 : 0)));
    return { A, b: randomVector(n, next), seed };
  });
}

/**
 * Singular symmetric and consistent: Q diag(d) Qᵀ with `rank` eigenvalues
 * ±[0.5, 2.5] and the rest zero, b = A z in its range; `minNorm` = A⁺ b.
 */
export function singularSymmetricSystem(maxN = 10, definite = false): fc.Arbitrary<System & { minNorm: number[] }> {
  return fc.tuple(fc.integer({ min: 2, max: maxN }), seedArb).chain(([n, seed]) => fc.integer({ min: 1, max: n - 1 }).map((rank) => {
    const next = rng(seed);
    const Q = orthogonal(n, next);
    const d = Array.from({ length: n }, (_, i) => (i < rank ? (definite || i % 2 === 0 ? 1 : -1) * (0.5 + (next() + 1)) : 0));
    const A = withSpectrum(Q, d);
    const b = matvec(A, randomVector(n, next));
    return { A, b, seed, minNorm: pseudoInverseSolve(Q, d.map(Math.abs), Q.map((row) => row.map((v, k) => (d[k] < 0 ? -v : v))), b) };
  }));
}

/** Rectangular U Σ Vᵀ with chosen singular values (some possibly zero) and known A⁺ b. */
export function rectangularSystem(maxDim = 10, rankDeficient = false): fc.Arbitrary<System & { minNorm: number[] }> {
  return fc.tuple(fc.integer({ min: 1, max: maxDim }), fc.integer({ min: 1, max: maxDim }), seedArb).map(([m, n, seed]) => {
    const next = rng(seed);
    const U = orthogonal(m, next);
    const V = orthogonal(n, next);
    const k = Math.min(m, n);
    const zeroFrom = rankDeficient ? Math.max(1, Math.ceil(k / 2)) : k;
    const sigma = Array.from({ length: k }, (_, i) => (i < zeroFrom ? 0.5 + (next() + 1) : 0));
    const A = withSingularValues(U, sigma, V);
    const b = randomVector(m, next);
    return { A, b, seed, minNorm: pseudoInverseSolve(U, sigma, V, b) };
  });
}

/**
 * The stopping rule, checked from scratch: ‖b − A x‖ ≤ max(tol·‖b‖, atol), with
 * slack only for the rounding of this recomputation (O(ε·‖A‖·‖x‖)).
 */
export function expectStoppingRule(A: Matrix, x: Tensor, b: number[], tol = 1e-8, atol = 0): void {
  const xs = Array.from(x.toFloat64Array());
  const res = residualNorm(A, xs, b);
  const limit = Math.max(tol * norm(b), atol) + 1e-13 * (frobenius(A) * norm(xs) + norm(b));
  expect(res, `‖b − Ax‖ = ${res} exceeds ${limit}`).to.be.at.most(limit);
}

/** ‖x − y‖ ≤ rtol·‖y‖ + atol. */
export function expectNear(x: Tensor | number[], y: number[], rtol: number, atol = 1e-12, what = "x"): void {
  const xs = x instanceof Tensor ? Array.from(x.toFloat64Array()) : x;
  expect(xs.length, `${what} length`).to.equal(y.length);
  const err = norm(sub(xs, y));
  const lim = rtol * norm(y) + atol;
  expect(err, `${what}: ‖x − expected‖ = ${err} > ${lim} (x = ${JSON.stringify(xs)}, expected ${JSON.stringify(y)})`).to.be.at.most(lim);
}

export const asTensor = (A: Matrix): Tensor => tensor(A);

/** A snapshot of a tensor's values, to check that a call left it untouched. */
export function snapshot(t: Tensor): number[] {
  return Array.from(t.toFloat64Array());
}

/** An ill-conditioned diagonally dominant matrix: diagonal spread over [1, 10⁴] plus weak coupling. */
export function stiffDiagonallyDominant(n: number, symmetric: boolean, seed = 7): Matrix {
  const next = rng(seed);
  const diag = Array.from({ length: n }, (_, i) => 10 ** (4 * i / (n - 1)));
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? diag[i] : 0)));
  for (let i = 0; i < n; i++) {
    for (let j = symmetric ? i + 1 : 0; j < n; j++) {
      if (i === j) continue;
      const c = 0.1 * next() * Math.min(diag[i], diag[j]) / n;
      A[i][j] = c;
      if (symmetric) A[j][i] = c;
    }
  }
  return A;
}

/** Jacobi preconditioner v => D⁻¹ v as a function on Tensors. */
export function jacobi(A: Matrix): (v: Tensor) => Tensor {
  const inv = A.map((row, i) => 1 / row[i]);
  return (v) => tensor(Array.from(v.toFloat64Array()).map((x, i) => x * inv[i]));
}

/**
 * The specs of a method that minimises the residual over the Krylov space on
 * singular symmetric systems (gmres, minres): from x0 = 0 a consistent system
 * gets the minimum-norm solution (the iterates stay in range(A)); an
 * inconsistent one is a breakdown with a finite least-squares x, never a
 * false convergence. Call inside the method's describe.
 */
export function minimumResidualOnSingularSystems(solve: (A: Tensor, b: Tensor, opts?: { tol?: number; maxIter?: number }) => KrylovResult): void {
  it("reaches the minimum-norm solution of singular consistent symmetric systems from x0 = 0", () => {
    fc.assert(fc.property(singularSymmetricSystem(10), ({ A, b, minNorm }) => {
      const r = solve(tensor(A), tensor(b), { tol: 1e-10 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b, 1e-10);
      expectNear(r.x, minNorm, 1e-7, 1e-9);
    }), { numRuns: 60 });
  });

  it("reports an inconsistent singular system as a breakdown, with a finite least-squares x", () => {
    const r = solve(tensor([[1, 0], [0, 0]]), tensor([1, 1]));
    expect(r.status).to.equal("breakdown");
    expect(r.converged).to.equal(false);
    // Any x with x₁ = 1 is a least-squares solution (residual [0, 1]).
    expect(r.residualNorm).to.be.closeTo(1, 1e-12);
    expect(r.x.toFloat64Array()[0]).to.be.closeTo(1, 1e-12);
    fc.assert(fc.property(fc.integer({ min: 1, max: 10000 }), (seed) => {
      const next = rng(seed);
      const n = 6;
      const A = withSpectrum(orthogonal(n, next), [2, -1, 1.5, 0, 0, -3]);
      const b = randomVector(n, next);
      const res = solve(tensor(A), tensor(b), { maxIter: 100 });
      expect(res.converged).to.equal(false);
      expect(Number.isFinite(res.residualNorm)).to.equal(true);
      expect(res.residualNorm).to.be.closeTo(residualNorm(A, Array.from(res.x.toFloat64Array()), b), 1e-9);
    }), { numRuns: 30 });
  });
}
