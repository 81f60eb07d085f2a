/**
 * Shared test helpers: fast-check arbitraries for tensors (including
 * non-contiguous views), central finite differences, and closeness checks.
 * Truth in tests comes from these independent references, never from the
 * library's own derivative code.
 */
import fc from "fast-check";
import ndarray from "ndarray";
import { expect } from "chai";
import { Tensor, denseKernels, tensor } from "../lib/index.js";
import type { KernelBackend } from "../lib/tensor/wasm/dense.js";

export type NdArrayLike = number | NdArrayLike[];

/** Flat row-major values of a tensor as a plain array. */
export function flat(t: Tensor | number): number[] {
  if (typeof t === "number") return [t];
  return Array.from(t.toFloat64Array());
}

/** Asserts that two arrays (or tensors) agree to rtol/atol, elementwise, with a readable message. */
export function expectClose(actual: Tensor | number | number[], expected: Tensor | number | number[], rtol = 1e-6, atol = 1e-8, what = ""): void {
  const a = Array.isArray(actual) ? actual : flat(actual);
  const e = Array.isArray(expected) ? expected : flat(expected);
  expect(a.length, `${what} length`).to.equal(e.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(e[i])) {
      expect(Number.isNaN(a[i]), `${what}[${i}]: expected NaN, got ${a[i]}`).to.equal(true);
      continue;
    }
    if (!Number.isFinite(e[i])) {
      expect(a[i], `${what}[${i}]`).to.equal(e[i]);
      continue;
    }
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(Math.abs(a[i] - e[i]) <= tol)) {
      throw new Error(`${what}[${i}]: got ${a[i]}, expected ${e[i]} (|diff| ${Math.abs(a[i] - e[i]).toExponential(2)} > tol ${tol.toExponential(2)})`);
    }
  }
}

/** Small shapes of rank 0..maxRank with dimensions in [minDim, maxDim]. */
export function shapeArb(maxRank = 3, minDim = 1, maxDim = 4): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: 0, maxLength: maxRank });
}

/** Finite doubles in [lo, hi] without NaN, suitable for finite differences. */
export function valueArb(lo = -2, hi = 2): fc.Arbitrary<number> {
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** A contiguous tensor of the given shape with values in [lo, hi]. */
export function tensorOf(shape: number[], lo = -2, hi = 2): fc.Arbitrary<Tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.array(valueArb(lo, hi), { minLength: n, maxLength: n }).map((vals) => tensor(Float64Array.from(vals), { shape }));
}

/**
 * The same values as `t` but stored non-contiguously: inside a larger buffer
 * with padding, reversed or strided, via an ndarray view. `kind` picks the layout.
 */
export function nonContiguous(t: Tensor, kind: "padded" | "transposed" | "reversed"): Tensor {
  const shape = t.shape;
  const vals = t.toFloat64Array();
  const nd = shape.length;
  if (nd === 0) return t;
  if (kind === "transposed") {
    // Store the data with axes reversed, then view it transposed back.
    const rev = shape.slice().reverse();
    const store = ndarray(new Float64Array(vals.length), rev);
    const src = ndarray(vals, shape.slice());
    const idx = new Array<number>(nd).fill(0);
    for (let k = 0; k < vals.length; k++) {
      store.set(...(idx.slice().reverse() as [number]), src.get(...(idx as [number])));
      for (let d = nd - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
    }
    const view = store.transpose(...Array.from({ length: nd }, (_, i) => nd - 1 - i));
    return tensor(view);
  }
  if (kind === "reversed") {
    // Stored reversed along every axis, viewed with negative strides.
    const store = ndarray(new Float64Array(vals.length), shape.slice());
    const src = ndarray(vals, shape.slice());
    const idx = new Array<number>(nd).fill(0);
    for (let k = 0; k < vals.length; k++) {
      const ridx = idx.map((v, d) => shape[d] - 1 - v);
      store.set(...(ridx as [number]), src.get(...(idx as [number])));
      for (let d = nd - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
    }
    const view = store.step(...shape.map(() => -1));
    return tensor(view);
  }
  // padded: every dimension doubled plus one, the values at odd positions
  const big = shape.map((d) => 2 * d + 1);
  const store = ndarray(new Float64Array(big.reduce((a, b) => a * b, 1)).fill(NaN), big);
  const view = store.hi(...shape.map((d) => 2 * d + 1)).lo(...shape.map(() => 1)).step(...shape.map(() => 2));
  const src = ndarray(vals, shape.slice());
  const idx = new Array<number>(nd).fill(0);
  for (let k = 0; k < vals.length; k++) {
    view.set(...(idx as [number]), src.get(...(idx as [number])));
    for (let d = nd - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
  return tensor(view);
}

/** An arbitrary layout for a tensor's values: contiguous or one of the strided kinds. */
export const layoutArb = fc.constantFrom("contiguous", "padded", "transposed", "reversed") as fc.Arbitrary<"contiguous" | "padded" | "transposed" | "reversed">;

export function withLayout(t: Tensor, layout: "contiguous" | "padded" | "transposed" | "reversed"): Tensor {
  return layout === "contiguous" ? t : nonContiguous(t, layout);
}

/**
 * Central finite-difference gradient of a scalar function of one tensor,
 * computed on plain Float64Arrays (independent of the AD engine).
 */
export function fdGrad(f: (x: Tensor) => number, x: Tensor, h = 1e-6): number[] {
  const base = x.toFloat64Array();
  const out: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] += h;
    minus[i] -= h;
    out.push((f(tensor(plus, { shape: x.shape })) - f(tensor(minus, { shape: x.shape }))) / (2 * h));
  }
  return out;
}

/** Central finite-difference directional derivative of a tensor function: (f(x + h v) − f(x − h v)) / 2h, flat. */
export function fdDirectional(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor, h = 1e-6): number[] {
  const xs = x.toFloat64Array();
  const vs = v.toFloat64Array();
  const plus = tensor(xs.map((a, i) => a + h * vs[i]), { shape: x.shape });
  const minus = tensor(xs.map((a, i) => a - h * vs[i]), { shape: x.shape });
  const fp = flat(f(plus));
  const fm = flat(f(minus));
  return fp.map((a, i) => (a - fm[i]) / (2 * h));
}

/** Inner product of two equally sized tensors, on plain numbers. */
export function inner(a: Tensor, b: Tensor): number {
  const x = flat(a);
  const y = flat(b);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** Asserts that calling fn throws an Error whose message starts with `prefix` and contains each of `parts`. */
export function expectError(fn: () => unknown, prefix: string, ...parts: string[]): Error {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an Error starting with "${prefix}"`).to.be.instanceOf(Error);
  const msg = (err as Error).message;
  expect(msg.startsWith(prefix), `message "${msg}" should start with "${prefix}"`).to.equal(true);
  for (const p of parts) expect(msg, `message should mention ${p}`).to.contain(p);
  return err as Error;
}

/** Runs `body` with the dense kernels forced to `backend` ("wasm" or "js"), restoring the choice after. */
export function using<T>(backend: KernelBackend, body: () => T): T {
  const previous = denseKernels().choice;
  denseKernels(backend);
  try {
    return body();
  } finally {
    denseKernels(previous);
  }
}
