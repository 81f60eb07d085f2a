/**
 * Shared references for the AD specs: plain-JavaScript closed forms (no library
 * ops), finite-difference Jacobians and small matrix helpers. Truth in spec/ad
 * comes from these and from spec/helpers.ts, never from the engine under test.
 */
import fc from "fast-check";
import { tensor, type Tensor } from "../../lib/index.js";
import { fdDirectional, flat, tensorOf } from "../helpers.js";

/** fast-check settings: few runs, fixed seed so that a failure reproduces. */
export const runs = (numRuns = 25): { numRuns: number; seed: number } => ({ numRuns, seed: 20240611 });

/** A random vector of length n with entries in [lo, hi]. */
export const vectorArb = (n: number, lo = -2, hi = 2): fc.Arbitrary<Tensor> => tensorOf([n], lo, hi);

/**
 * A random vector in "generic position" for functions with kinks (abs, max,
 * where): every entry has magnitude ≥ 0.13 and entries differ by ≥ 0.013, so a
 * finite-difference step never crosses a kink or a tie.
 */
export const genericVectorArb = (n: number): fc.Arbitrary<Tensor> =>
  fc.array(fc.tuple(fc.boolean(), fc.double({ min: 0.2, max: 2, noNaN: true })), { minLength: n, maxLength: n })
    .map((entries) => tensor(entries.map(([negative, magnitude], i) => (negative ? -magnitude : magnitude) + 0.013 * i)));

/** A random scalar in [lo, hi]. */
export const scalarArb = (lo = -2, hi = 2): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });

/** A vector tensor from plain numbers. */
export const vec = (values: number[]): Tensor => tensor(values);

/** A matrix tensor from rows. */
export const mat = (rows: number[][]): Tensor => tensor(rows);

// ---------------------------------------------------------------------------
// Closed forms on plain numbers

export const sigmoidJs = (v: number): number => 1 / (1 + Math.exp(-v));
export const softplusJs = (v: number): number => Math.log1p(Math.exp(v));

/** softmax(x) on plain numbers. */
export function softmaxJs(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Row-major matrix product of plain arrays: (m×k)(k×n). */
export function matmulJs(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, p) => s + v * b[p][j], 0)));
}

export function transposeJs(a: number[][]): number[][] {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

/** A matrix with `diagonal` on its diagonal. */
export function diagJs(diagonal: number[]): number[][] {
  return diagonal.map((d, i) => diagonal.map((_, j) => (i === j ? d : 0)));
}

/** M·v on plain arrays. */
export function matvecJs(m: number[][], v: number[]): number[] {
  return m.map((row) => row.reduce((s, a, j) => s + a * v[j], 0));
}

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), for fixed test data. */
export function randomValues(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.push((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  return out;
}

/** A random rows×cols matrix (entries in [-1, 1)) as plain rows. */
export function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const v = randomValues(rows * cols, seed);
  return Array.from({ length: rows }, (_, i) => v.slice(i * cols, (i + 1) * cols));
}

// ---------------------------------------------------------------------------
// Finite differences

/**
 * Central finite-difference Jacobian of a tensor function, flattened to
 * [out.size][x.size] (one directional difference per input entry).
 */
export function fdJacobian(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6): number[][] {
  const n = x.size;
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    columns.push(fdDirectional(f, x, tensor(e, { shape: x.shape }), h));
  }
  const m = columns.length > 0 ? columns[0].length : flat(f(x)).length;
  return Array.from({ length: m }, (_, i) => columns.map((c) => c[i]));
}

/** The flat row-major entries of a plain matrix. */
export const flatRows = (m: number[][]): number[] => m.flat();
