/**
 * Deterministic data for the implicit-layer specs: pseudo-random matrices and
 * vectors on plain numbers (a linear congruential generator, the same numbers
 * on every run). Reference solutions come from spec/krylov/helpers.ts.
 */

/** Pseudo-random numbers in [−½, ½) from a seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** An m×n matrix of pseudo-random entries. */
export function randomMatrix(m: number, n: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: m }, () => Array.from({ length: n }, () => r()));
}

/** A vector of n pseudo-random entries. */
export function randomVector(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => r());
}

/** An n×n pseudo-random matrix plus `shift` on the diagonal, its upper triangle mirrored when `symmetric`. */
export function matrix(n: number, seed: number, shift = 0, symmetric = false): number[][] {
  const M = randomMatrix(n, n, seed).map((row, i) => row.map((v, j) => v + (i === j ? shift : 0)));
  if (symmetric) for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) M[i][j] = M[j][i];
  return M;
}
