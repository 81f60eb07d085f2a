/**
 * The page's synthetic regression data, made from a fixed seed so that the page
 * and its test see the same numbers: 20 training rows and 10 validation rows of
 * 3 features (the third correlated with the first, which slows gradient descent
 * enough to watch), targets t = X w_true + noise.
 */

export interface RidgeData {
  X: number[][];
  t: number[];
  Xval: number[][];
  tval: number[];
  wTrue: number[];
}

/** mulberry32: a small deterministic generator of uniforms in [0, 1). */
function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by the Box–Muller transform. */
function normals(seed: number): () => number {
  const u = uniforms(seed);
  return () => {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    return r * Math.cos(2 * Math.PI * u());
  };
}

export function makeRidgeData(seed = 2024, rows = 20, validationRows = 10): RidgeData {
  const normal = normals(seed);
  const wTrue = [1.5, -2, 0.5];
  const row = (): number[] => {
    const a = normal();
    const b = normal();
    const c = 0.9 * a + 0.45 * normal();
    return [a, b, c];
  };
  const target = (r: number[]): number => r.reduce((s, v, j) => s + v * wTrue[j], 0) + 0.5 * normal();
  const X = Array.from({ length: rows }, row);
  const t = X.map(target);
  const Xval = Array.from({ length: validationRows }, row);
  const tval = Xval.map(target);
  return { X, t, Xval, tval, wTrue };
}
