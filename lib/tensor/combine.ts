/**
 * The fused kernel of linear programs (lib/ad/fuse.ts): one pass per group computing
 *
 *   q = coef ⊙ (Σ_t scale_t · value_t),   out[box_p] += factor_p · q  for each placement p,
 *
 * where each placement covers the whole output or a box of it (the transpose of
 * a slice places its values in a box), `coef` is an array (or 1) and every value
 * is a strided view of the group's shape (slices, transposes and broadcasts read
 * in place). A chain such as −(c₁ ⊙ (c₂ ⊙ (x[1:] − x[:−1]))) is one group with
 * coef −c₁c₂ and two terms; its two placements in the transpose of a difference
 * (q added at one offset, subtracted at the next) share that one pass.
 */
import { contiguousStrides, sizeOf } from "./shape.js";
import type { FloatArray, Tensor } from "./tensor.js";

export interface CombineTerm {
  /** A view with the group's shape. */
  value: Tensor;
  scale: number;
}

export interface Placement {
  /** Where the group's box starts inside the output (null: the group covers it all). */
  box: number[] | null;
  factor: number;
}

export interface CombineGroup {
  /** Elementwise coefficient with the group's shape (any strides), or null for 1. */
  coef: Tensor | null;
  /** The group's shape: the output's, or that of its boxes. */
  shape: number[];
  terms: CombineTerm[];
  placements: Placement[];
}

/** Writes Σ_groups into `out` (contiguous, of `shape`). */
export function combineInto(out: FloatArray, shape: number[], groups: CombineGroup[]): void {
  const outStrides = contiguousStrides(shape);
  // The first group may write instead of add when it covers the output once.
  const first = groups[0];
  let written = false;
  if (first === undefined || first.placements.length !== 1 || first.placements[0].box !== null) {
    out.fill(0);
    written = true;
  }
  for (const g of groups) {
    if (sizeOf(g.shape) === 0) continue;
    if (g.terms.length === 0) {
      if (!written) out.fill(0);
      written = true;
      continue;
    }
    // Terms two at a time: each pass reads the coefficient once for two values.
    for (let t = 0; t < g.terms.length; t += 2) {
      groupPass(out, outStrides, g, g.terms.slice(t, t + 2), !written);
      written = true;
    }
  }
}

interface Operand { data: FloatArray; offset: number; strides: readonly number[] }

/** One pass of a group over its region with one or two terms, into every placement. */
function groupPass(out: FloatArray, outStrides: number[], g: CombineGroup, terms: CombineTerm[], write: boolean): void {
  const shape = g.shape;
  const nd = shape.length;
  const places = g.placements.map((p) => {
    let base = 0;
    if (p.box !== null) for (let i = 0; i < nd; i++) base += p.box[i] * outStrides[i];
    return base;
  });
  const operands: Operand[] = [
    { data: out, offset: 0, strides: outStrides },
    ...terms.map((t) => ({ data: t.value.data, offset: t.value.offset, strides: t.value.strides })),
  ];
  const coef = g.coef;
  if (coef !== null) operands.push({ data: coef.data, offset: coef.offset, strides: coef.strides });
  const L = nd === 0 ? 1 : shape[nd - 1];
  const last = (s: readonly number[]): number => (nd === 0 ? 0 : s[nd - 1]);
  const pos = operands.map((o) => o.offset);
  const rows = nd === 0 ? 1 : sizeOf(shape) / L;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  const two = terms.length === 2;
  const row: Row = {
    s1: terms[0].scale, d1: terms[0].value.data, st1: last(terms[0].value.strides),
    s2: two ? terms[1].scale : 0, d2: two ? terms[1].value.data : terms[0].value.data, st2: two ? last(terms[1].value.strides) : 0,
    cd: coef === null ? null : coef.data, sc: coef === null ? 0 : last(coef.strides), so: last(outStrides), L,
  };
  const ci = operands.length - 1;
  const factors = g.placements.map((p) => p.factor);
  for (let r = 0; r < rows; r++) {
    const p1 = pos[1];
    const p2 = two ? pos[2] : 0;
    const pc = row.cd === null ? 0 : pos[ci];
    if (places.length === 1) rowInto(out, pos[0] + places[0], factors[0], row, p1, p2, pc, two, write);
    else if (places.length === 2) rowIntoTwo(out, pos[0] + places[0], factors[0], pos[0] + places[1], factors[1], row, p1, p2, pc, two);
    else for (let k = 0; k < places.length; k++) rowInto(out, pos[0] + places[k], factors[k], row, p1, p2, pc, two, false);
    // Next row: increment the multi-index over all but the last dimension.
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < operands.length; k++) pos[k] += operands[k].strides[d];
      if (idx[d] < shape[d]) break;
      for (let k = 0; k < operands.length; k++) pos[k] -= operands[k].strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** The loop-invariant part of a row: term data and strides, coefficient, output stride, length. */
interface Row {
  s1: number; d1: FloatArray; st1: number;
  s2: number; d2: FloatArray; st2: number;
  cd: FloatArray | null; sc: number;
  so: number; L: number;
}

/** out[o + j·so] (+)= f · coef ⊙ (s1·d1 + s2·d2) along one row. */
function rowInto(out: FloatArray, o: number, f: number, w: Row, p1: number, p2: number, pc: number, two: boolean, write: boolean): void {
  const { d1, st1, d2, st2, cd, sc, so, L } = w;
  const s1 = f * w.s1;
  const s2 = f * w.s2;
  if (cd === null) {
    if (two) {
      if (write) for (let j = 0; j < L; j++, o += so, p1 += st1, p2 += st2) out[o] = s1 * d1[p1] + s2 * d2[p2];
      else for (let j = 0; j < L; j++, o += so, p1 += st1, p2 += st2) out[o] += s1 * d1[p1] + s2 * d2[p2];
    } else if (write) for (let j = 0; j < L; j++, o += so, p1 += st1) out[o] = s1 * d1[p1];
    else for (let j = 0; j < L; j++, o += so, p1 += st1) out[o] += s1 * d1[p1];
  } else if (two) {
    if (write) for (let j = 0; j < L; j++, o += so, p1 += st1, p2 += st2, pc += sc) out[o] = cd[pc] * (s1 * d1[p1] + s2 * d2[p2]);
    else for (let j = 0; j < L; j++, o += so, p1 += st1, p2 += st2, pc += sc) out[o] += cd[pc] * (s1 * d1[p1] + s2 * d2[p2]);
  } else if (write) for (let j = 0; j < L; j++, o += so, p1 += st1, pc += sc) out[o] = cd[pc] * (s1 * d1[p1]);
  else for (let j = 0; j < L; j++, o += so, p1 += st1, pc += sc) out[o] += cd[pc] * (s1 * d1[p1]);
}

/** Two placements of one row's values: q computed once, added at both. */
function rowIntoTwo(out: FloatArray, oa: number, fa: number, ob: number, fb: number, w: Row, p1: number, p2: number, pc: number, two: boolean): void {
  const { d1, st1, s1, d2, st2, s2, cd, sc, so, L } = w;
  if (cd === null) {
    if (two) for (let j = 0; j < L; j++, oa += so, ob += so, p1 += st1, p2 += st2) { const q = s1 * d1[p1] + s2 * d2[p2]; out[oa] += fa * q; out[ob] += fb * q; }
    else for (let j = 0; j < L; j++, oa += so, ob += so, p1 += st1) { const q = s1 * d1[p1]; out[oa] += fa * q; out[ob] += fb * q; }
  } else if (two) for (let j = 0; j < L; j++, oa += so, ob += so, p1 += st1, p2 += st2, pc += sc) { const q = cd[pc] * (s1 * d1[p1] + s2 * d2[p2]); out[oa] += fa * q; out[ob] += fb * q; }
  else for (let j = 0; j < L; j++, oa += so, ob += so, p1 += st1, pc += sc) { const q = cd[pc] * (s1 * d1[p1]); out[oa] += fa * q; out[ob] += fb * q; }
}
