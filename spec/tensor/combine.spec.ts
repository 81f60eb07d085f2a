/**
 * The fused kernel of linear programs (lib/tensor/combine.ts) against a plain
 * loop, entry by entry: out = Σ_groups Σ_placements factor · coef ⊙ Σ_terms
 * scale · value over the group's box, with terms and coefficients read through
 * strided views (padded, transposed, reversed, broadcast), one, two or three
 * terms (the kernel takes them two at a time), none, one, two or three
 * placements, and an output that starts full of NaN (nothing stale is read).
 */
import { expect } from "chai";
import fc from "fast-check";
import type { Tensor } from "../../lib/index.js";
import { combineInto, type CombineGroup } from "../../lib/tensor/combine.js";
import { broadcastView } from "../../lib/tensor/kernels.js";
import { LAYOUTS, makeOperand, prng, runs, sizeOfShape, unravel } from "../primitives/reference.js";

/** A group as the reference sees it: row-major values of the group's shape. */
interface PlainGroup {
  shape: number[];
  coef: number[] | null;
  terms: { values: number[]; scale: number }[];
  placements: { box: number[] | null; factor: number }[];
}

function reference(shape: number[], groups: PlainGroup[]): number[] {
  const out = new Array<number>(sizeOfShape(shape)).fill(0);
  for (const g of groups) {
    for (let k = 0; k < sizeOfShape(g.shape); k++) {
      let q = 0;
      for (const t of g.terms) q += t.scale * t.values[k];
      if (g.coef !== null) q *= g.coef[k];
      const idx = unravel(k, g.shape);
      for (const p of g.placements) {
        const at = idx.map((v, d) => v + (p.box === null ? 0 : p.box[d]));
        out[at.reduce((flat, v, d) => flat * shape[d] + v, 0)] += p.factor * q;
      }
    }
  }
  return out;
}

/**
 * A view of `shape` holding `values` (row-major), in a random layout: one of
 * the stored layouts, or a broadcast along a random axis of a smaller array.
 */
function viewOf(shape: number[], values: number[], r: () => number): Tensor {
  const broadcastAxis = shape.findIndex((d) => d > 1 && r() < 0.3);
  if (broadcastAxis >= 0) {
    // The same value along that axis, stored once.
    const stored = shape.map((d, i) => (i === broadcastAxis ? 1 : d));
    for (let k = 0; k < values.length; k++) {
      const idx = unravel(k, shape);
      idx[broadcastAxis] = 0;
      values[k] = values[idx.reduce((flat, v, d) => flat * shape[d] + v, 0)];
    }
    const small = values.filter((_, k) => unravel(k, shape)[broadcastAxis] === 0);
    return broadcastView(makeOperand(stored, small, LAYOUTS[Math.floor(r() * LAYOUTS.length)]).t, shape);
  }
  return makeOperand(shape, values, LAYOUTS[Math.floor(r() * LAYOUTS.length)]).t;
}

/** A random problem from a seed: the output's shape and groups (kernel and reference forms of the same numbers). */
function problem(seed: number): { shape: number[]; groups: CombineGroup[]; plain: PlainGroup[] } {
  const r = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const shape = Array.from({ length: int(0, 3) }, () => int(1, 4));
  const groups: CombineGroup[] = [];
  const plain: PlainGroup[] = [];
  for (let gi = int(1, 3); gi > 0; gi--) {
    const boxed = shape.length > 0 && r() < 0.5;
    const gShape = boxed ? shape.map((d) => int(1, d)) : shape.slice();
    const n = sizeOfShape(gShape);
    const randomValues = (): number[] => Array.from({ length: n }, () => 2 * r() - 1);
    const coefValues = r() < 0.5 ? null : randomValues();
    const terms = Array.from({ length: int(0, 3) }, () => ({ values: randomValues(), scale: int(-3, 3) / 2 || 1 }));
    const placements = Array.from({ length: int(1, 3) }, () => ({
      box: boxed ? gShape.map((d, i) => int(0, shape[i] - d)) : null,
      factor: r() < 0.5 ? 1 : 2 * r() - 1,
    }));
    const group: CombineGroup = {
      shape: gShape,
      coef: coefValues === null ? null : viewOf(gShape, coefValues, r),
      terms: terms.map((t) => ({ value: viewOf(gShape, t.values, r), scale: t.scale })),
      placements,
    };
    groups.push(group);
    plain.push({ shape: gShape, coef: coefValues, terms, placements });
  }
  return { shape, groups, plain };
}

describe("tensor/combine: the fused kernel", () => {
  it("property: matches a plain loop on strided views and boxes, whatever the output held before", () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      const { shape, groups, plain } = problem(seed);
      const out = new Float64Array(sizeOfShape(shape)).fill(NaN);
      combineInto(out, shape, groups);
      const expected = reference(shape, plain);
      for (let k = 0; k < out.length; k++) expect(out[k], `entry ${k}`).to.be.closeTo(expected[k], 1e-12);
    }), runs(300));
  });

  it("writes the output in one pass when one group covers it once, and adds the placements of a difference's transpose", () => {
    // out = 2·(a − b) over [2,3], then q = c ⊙ a placed at column offsets 0 and 1 with factors 1 and −1 in a [2,4] output.
    const a = [1, 2, 3, 4, 5, 6];
    const b = [6, 5, 4, 3, 2, 1];
    const c = [1, 10, 100, 1000, 10000, 100000];
    const out = new Float64Array(6).fill(NaN);
    combineInto(out, [2, 3], [{ shape: [2, 3], coef: null, terms: [{ value: makeOperand([2, 3], a, "transposed").t, scale: 2 }, { value: makeOperand([2, 3], b, "reversed").t, scale: -2 }], placements: [{ box: null, factor: 1 }] }]);
    expect(Array.from(out)).to.deep.equal(a.map((v, i) => 2 * (v - b[i])));
    const padded = new Float64Array(8).fill(NaN);
    combineInto(padded, [2, 4], [{ shape: [2, 3], coef: makeOperand([2, 3], c, "padded").t, terms: [{ value: makeOperand([2, 3], a, "contiguous").t, scale: 1 }], placements: [{ box: [0, 0], factor: 1 }, { box: [0, 1], factor: -1 }] }]);
    const q = a.map((v, i) => v * c[i]);
    expect(Array.from(padded)).to.deep.equal([q[0], q[1] - q[0], q[2] - q[1], -q[2], q[3], q[4] - q[3], q[5] - q[4], -q[5]]);
  });

  it("an empty group list, or groups with no terms, give zeros", () => {
    const out = new Float64Array(4).fill(NaN);
    combineInto(out, [4], []);
    expect(Array.from(out)).to.deep.equal([0, 0, 0, 0]);
    out.fill(NaN);
    combineInto(out, [4], [{ shape: [4], coef: null, terms: [], placements: [{ box: null, factor: 1 }] }]);
    expect(Array.from(out)).to.deep.equal([0, 0, 0, 0]);
  });
});
