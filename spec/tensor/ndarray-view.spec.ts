/**
 * lib/tensor/ndarray-view.ts: the views `toNdarray()` makes where ndarray's
 * generated constructors are refused behave as ndarray's own. Here code
 * generation is allowed, so each StridedView is held against the ndarray view
 * of the same storage: fields, every entry, index, set, and lo/hi/step/
 * transpose/pick with random arguments, recursively; ndarray-ops reads and
 * writes them. (spec/package/no-eval.spec.ts runs toNdarray where code generation is refused.)
 */
import { expect } from "chai";
import fc from "fast-check";
import ndarray from "ndarray";
import ops from "ndarray-ops";
import { tensor, transpose } from "../../lib/index.js";
import { StridedView, ndarrayCodeGeneration } from "../../lib/tensor/ndarray-view.js";
import { runs } from "../primitives/reference.js";

type View = ndarray.NdArray<Float64Array | Float32Array>;

/** Every index of `shape`, row-major. */
function indices(shape: number[]): number[][] {
  const out: number[][] = [[]];
  for (const n of shape) out.splice(0, out.length, ...out.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i])));
  return out;
}

function expectSame(mine: View, theirs: View, where: string): void {
  for (const field of ["shape", "stride", "offset", "dtype", "size", "dimension", "order"] as const) {
    expect(mine[field], `${where}: ${field}`).to.deep.equal(theirs[field]);
  }
  for (const idx of indices(theirs.shape)) {
    expect(mine.index(...idx), `${where}: index(${idx})`).to.equal(theirs.index(...idx));
    expect(mine.get(...idx), `${where}: get(${idx})`).to.equal(theirs.get(...idx));
  }
}

/** Arguments as ndarray's methods take them: numbers (in range or not), negatives, null and undefined. */
const argument = fc.oneof(fc.integer({ min: -3, max: 4 }), fc.constant(null), fc.constant(undefined));

describe("tensor/ndarray-view: StridedView against ndarray's views", () => {
  it("agrees on fields, entries and every view method (random views, random arguments)", () => {
    const view = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: shape.length, maxLength: shape.length }),
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom("lo", "hi", "step", "transpose", "pick"), fc.array(argument, { maxLength: shape.length })), { maxLength: 3 }),
      ));
    fc.assert(fc.property(view, ([shape, stride, float32, calls]) => {
      let offset = 0;
      shape.forEach((n, d) => (offset += Math.max(0, -(n - 1) * stride[d])));
      const length = offset + shape.reduce((s, n, d) => s + Math.max(0, (n - 1) * stride[d]), 0) + 1;
      const data = float32 ? new Float32Array(length) : new Float64Array(length);
      data.forEach((_, i) => (data[i] = i * 1.5 - 3));
      let mine: View = new StridedView(data, shape.slice(), stride.slice(), offset);
      let theirs: View = ndarray(data, shape.slice(), stride.slice(), offset);
      expectSame(mine, theirs, "view");
      let where = "view";
      for (const [method, args] of calls) {
        // A 0-d ndarray's methods return its "trivial" arrays (dimension −1); StridedView keeps a 0-d view.
        if (theirs.dimension === 0) break;
        where += `.${method}(${args.map(String)})`;
        if (method === "transpose") {
          // ndarray's transpose takes a permutation of the axes.
          const perm = theirs.shape.map((_, d) => d).sort((a, b) => ((args[a] ?? 0) as number) - ((args[b] ?? 0) as number));
          mine = mine.transpose(...perm);
          theirs = theirs.transpose(...perm);
        } else if (method === "step") {
          const steps = args.map((a) => (a === 0 ? 1 : a)) as number[];
          mine = mine.step(...steps);
          theirs = theirs.step(...steps);
        } else if (method === "pick") {
          mine = mine.pick(...args.map((a, d) => (typeof a === "number" && a >= 0 ? Math.min(a, theirs.shape[d] - 1) : a ?? null)));
          theirs = theirs.pick(...args.map((a, d) => (typeof a === "number" && a >= 0 ? Math.min(a, theirs.shape[d] - 1) : a ?? null)));
        } else {
          const clipped = args.map((a, d) => (typeof a === "number" ? Math.min(a, theirs.shape[d]) : a)) as number[];
          mine = mine[method](...clipped);
          theirs = theirs[method](...clipped);
        }
        if (theirs.dimension > 0 && theirs.shape.every((n) => n > 0)) expectSame(mine, theirs, where);
      }
    }), runs(300));
  });

  it("set writes where ndarray's set writes, and returns the value", () => {
    const a = new Float64Array(12);
    const b = new Float64Array(12);
    const mine = new StridedView(a, [3, 2], [1, 3], 0);
    const theirs = ndarray(b, [3, 2], [1, 3], 0);
    expect(mine.set(2, 1, 7)).to.equal(theirs.set(2, 1, 7));
    expect(Array.from(a)).to.deep.equal(Array.from(b));
  });

  it("is read and written by ndarray-ops and wrapped by tensor() without a copy", () => {
    const t = transpose(tensor([[1, 2, 3], [4, 5, 6]]));
    const view = new StridedView(t.toNdarray().data, [3, 2], [1, 3], 0);
    const out = ndarray(new Float64Array(6), [3, 2]);
    ops.assign(out, view);
    expect(Array.from(out.data)).to.deep.equal([1, 4, 2, 5, 3, 6]);
    const wrapped = tensor(view);
    expect(wrapped.toArray()).to.deep.equal([[1, 4], [2, 5], [3, 6]]);
    expect(wrapped.toNdarray().data).to.equal(view.data);
  });

  it("toNdarray makes ndarray's own views where code generation is allowed (as here)", () => {
    const view = tensor([[1, 2], [3, 4]]).toNdarray();
    expect(ndarrayCodeGeneration()).to.equal(true);
    expect(view).not.to.be.instanceOf(StridedView);
    expect(view.constructor.name).to.match(/^View2dfloat64$/);
  });
});
