/**
 * One program for the no-eval specs (issue 25, item 6), run against the built
 * package in Node (ESM and CommonJS, with and without
 * --disallow-code-generation-from-strings) and against dist/browser.js in
 * Chromium under content security policies. It is a string of plain
 * JavaScript, not a function: the test runner's transform would add helpers
 * that a page or a scratch module does not have. `compute(lib)` returns JSON.
 *
 * What it touches: strided copies (transpose, slice, broadcast made
 * contiguous), dense products above the WebAssembly threshold, grad, hessian,
 * jvp, an ImplicitFunction differentiated in both modes, verifyImplicit (fast-check
 * inside), and toNdarray's views with their methods.
 */
export const PROGRAM = String.raw`
function compute(lib) {
  const { tensor, matmul, transpose, slice, broadcastTo, add, mul, sub, sum, exp, sin, sqrt, grad, jvp, hessian,
    ImplicitFunction, verifyImplicit, tensorArbitrary, denseKernels } = lib;
  const A = tensor(Array.from({ length: 6 }, (_, i) => Array.from({ length: 5 }, (_, j) => Math.sin(1 + i + 2 * j))));
  const n = 90;
  const B = tensor(Float64Array.from({ length: n * n }, (_, k) => Math.cos(0.37 * k)), { shape: [n, n] });
  const ops = {
    AtA: matmul(transpose(A), A).toArray(),
    sliced: slice(transpose(A), [1, 2], [3, -1]).toArray(),
    broadcast: add(broadcastTo(tensor([[1], [2], [3], [4], [5], [6]]), [6, 5]), transpose(transpose(A))).toArray(),
    sumExpT: sum(exp(transpose(A))).item(),
    bigProduct: sum(matmul(transpose(B), B)).item(),
    bigDiagonal: Array.from({ length: 5 }, (_, i) => matmul(B, transpose(B)).toArray()[i * 17][i * 17]),
  };
  const x = tensor([0.5, 1, 2]);
  const g = grad((v) => sum(mul(sin(v), v)))(x).toArray();
  const h = hessian((v) => sum(mul(mul(v, v), v)))(x).toArray();
  const [, tangent] = jvp((v) => sum(exp(v)), [x], [tensor([1, 0, -1])]);
  const root = new ImplicitFunction({ forward: (a) => sqrt(a), conditions: (a, y) => sub(mul(y, y), a) });
  const a = tensor([4, 9, 2]);
  const implicit = {
    y: root.call(a).toArray(),
    grad: grad((v) => sum(root.call(v)))(a).toArray(),
    jvp: jvp((v) => root.call(v), [a], [tensor([1, 1, 1])])[1].toArray(),
  };
  const double = new ImplicitFunction({ forward: (v) => mul(v, 2), conditions: (v, y) => sub(y, mul(v, 2)) });
  const verified = verifyImplicit(double, [tensorArbitrary([3])], { numRuns: 5, seed: 42 });
  const view = transpose(A).toNdarray();
  const back = tensor(view);
  const ndarray = {
    shape: view.shape, stride: view.stride, offset: view.offset, dtype: view.dtype, size: view.size, order: view.order,
    dimension: view.dimension,
    get: view.get(3, 4), index: view.index(3, 4),
    pick: Array.from({ length: 6 }, (_, i) => view.pick(2).get(i)),
    lo: view.lo(1, 2).get(0, 0), hi: view.hi(2, 3).size, step: view.step(-1, 2).get(0, 1),
    transposed: view.transpose(1, 0).get(4, 3),
    wrapped: back.toArray(),
    scalar: tensor(7).toNdarray().get(),
    float32: tensor([1, 2, 3], { dtype: "float32" }).toNdarray().dtype,
  };
  return { kernels: denseKernels(), A: A.toArray(), ops, g, h, tangent: tangent.item(), implicit, verified: { ok: verified.ok, runs: verified.runs }, ndarray };
}
`;

/** The result of `compute`. */
export interface Computed {
  kernels: { choice: string; wasm: boolean };
  A: number[][];
  ops: { AtA: number[][]; sliced: number[][]; broadcast: number[][]; sumExpT: number; bigProduct: number; bigDiagonal: number[] };
  g: number[];
  h: number[][];
  tangent: number;
  implicit: { y: number[]; grad: number[]; jvp: number[] };
  verified: { ok: boolean; runs: number };
  ndarray: {
    shape: number[]; stride: number[]; offset: number; dtype: string; size: number; order: number[]; dimension: number;
    get: number; index: number; pick: number[]; lo: number; hi: number; step: number; transposed: number;
    wrapped: number[][]; scalar: number; float32: string;
  };
}

/** Every number in `actual` within `rtol` (relative, at least absolute 1e-300) of `expected`, and everything else equal. */
export function closeEverywhere(actual: unknown, expected: unknown, rtol: number, path = "result"): string[] {
  if (typeof expected === "number") {
    if (typeof actual !== "number") return [`${path}: ${String(actual)} instead of ${expected}`];
    return Math.abs(actual - expected) <= rtol * Math.max(1, Math.abs(expected)) ? [] : [`${path}: ${actual} instead of ${expected}`];
  }
  if (Array.isArray(expected) || (expected !== null && typeof expected === "object")) {
    if (actual === null || typeof actual !== "object") return [`${path}: ${JSON.stringify(actual)} instead of an object`];
    const keys = new Set([...Object.keys(expected as object), ...Object.keys(actual as object)]);
    return [...keys].flatMap((k) => closeEverywhere((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], rtol, `${path}.${k}`));
  }
  return actual === expected ? [] : [`${path}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`];
}

/** Independent truth for the parts that have a closed form (A and B as the program builds them). */
export function closedFormProblems(r: Computed): string[] {
  const A = Array.from({ length: 6 }, (_, i) => Array.from({ length: 5 }, (_, j) => Math.sin(1 + i + 2 * j)));
  const n = 90;
  const Bv = (i: number, j: number): number => Math.cos(0.37 * (i * n + j));
  let bigProduct = 0;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Bv(i, j) * Bv(i, k);
      bigProduct += s;
    }
  }
  const bigDiagonal = Array.from({ length: 5 }, (_, i) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += Bv(i * 17, k) ** 2;
    return s;
  });
  const At = A[0].map((_, j) => A.map((row) => row[j]));
  const x = [0.5, 1, 2];
  const a = [4, 9, 2];
  const expected = {
    A,
    ops: {
      AtA: At.map((ri) => At.map((rj) => ri.reduce((s, v, k) => s + v * rj[k], 0))),
      sliced: At.slice(1, 4).map((row) => row.slice(2)),
      broadcast: A.map((row, i) => row.map((v) => v + i + 1)),
      sumExpT: A.flat().reduce((s, v) => s + Math.exp(v), 0),
      bigProduct,
      bigDiagonal,
    },
    g: x.map((v) => Math.sin(v) + v * Math.cos(v)),
    h: x.map((vi, i) => x.map((_, j) => (i === j ? 6 * vi : 0))),
    tangent: Math.exp(0.5) - Math.exp(2),
    implicit: { y: a.map(Math.sqrt), grad: a.map((v) => 0.5 / Math.sqrt(v)), jvp: a.map((v) => 0.5 / Math.sqrt(v)) },
    verified: { ok: true, runs: 5 },
    ndarray: {
      shape: [5, 6], stride: [1, 5], offset: 0, dtype: "float64", size: 30, order: [0, 1], dimension: 2,
      get: A[4][3], index: 4 * 5 + 3,
      pick: A.map((row) => row[2]),
      lo: A[2][1], hi: 6, step: A[2][4], transposed: A[4][3],
      wrapped: At, scalar: 7, float32: "float32",
    },
  };
  const { kernels: _kernels, ...rest } = r;
  return closeEverywhere(rest, expected, 1e-9);
}
