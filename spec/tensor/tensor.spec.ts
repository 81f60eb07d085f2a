/**
 * The Tensor layer: creation from numbers, nested arrays, typed arrays and
 * ndarray views (wrapped without copy), reading back (toArray, item,
 * toNdarray), the constructors, and dtypes. Truth: the values the test put in,
 * and NumPy's definitions written out in plain JS.
 */
import { expect } from "chai";
import fc from "fast-check";
import ndarray from "ndarray";
import { Tensor, tensor, zeros, ones, eye, full, arange, add, mul, exp, sum, matmul } from "../../lib/index.js";
import { expectError } from "../helpers.js";
import { flatten, layoutArb, makeOperand, mapValues, nest, refOf, shapeOf, sizeOfShape, unitValues, unravel, runs } from "../primitives/reference.js";

const RUNS = runs(60);

/** Every element of an ndarray view read with its own `get`, row-major. */
function ndValues(nd: ndarray.NdArray): number[] {
  const n = sizeOfShape(nd.shape);
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(nd.get(...unravel(k, nd.shape)) as number);
  return out;
}

describe("tensor/tensor: creation and reading back", () => {
  it("nested arrays round-trip through tensor() and toArray() for any shape (rank 0, size-1 and zero-size dims)", () => {
    fc.assert(fc.property(shapeOf(4, 3), fc.context(), (shape, ctx) => {
      const values = Array.from({ length: sizeOfShape(shape) }, (_, i) => i * 1.5 - 3);
      const nested = nest(refOf(shape, values));
      ctx.log(JSON.stringify(nested));
      const t = tensor(nested);
      if (shape.length > 0 && sizeOfShape(shape) === 0) {
        // Nested arrays cannot express dimensions after a zero one; NumPy infers the prefix.
        const prefix = shape.slice(0, shape.indexOf(0) + 1);
        expect(t.shape).to.deep.equal(prefix);
      } else expect(t.shape).to.deep.equal(shape);
      expect(t.ndim).to.equal(t.shape.length);
      expect(t.size).to.equal(sizeOfShape(t.shape));
      expect(t.dtype).to.equal("float64");
      expect(t.toArray()).to.deep.equal(nested);
    }), RUNS);
  });

  it("reads every layout (padded, transposed, reversed ndarray views) back in row-major order", () => {
    fc.assert(fc.property(shapeOf(3, 3).chain((s) => fc.tuple(fc.constant(s), unitValues(sizeOfShape(s)), layoutArb)), ([shape, u, layout]) => {
      const values = mapValues(u, "any");
      const op = makeOperand(shape, values, layout);
      expect(op.t.shape).to.deep.equal(shape);
      expect(op.t.toArray()).to.deep.equal(nest(op.ref));
      // The ndarray handed back is a view of the same storage with the same values.
      const nd = op.t.toNdarray();
      expect(nd.shape).to.deep.equal(shape);
      expect(nd.data).to.equal(op.t.toNdarray().data);
      expect(ndValues(nd)).to.deep.equal(values);
      // And wrapping it again gives the same tensor values.
      expect(tensor(nd).toArray()).to.deep.equal(nest(op.ref));
    }), RUNS);
  });

  it("wraps ndarray views and typed arrays without copying", () => {
    const storage = new Float64Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const view = ndarray(storage, [3, 4]).transpose(1, 0).hi(3, 2).step(-1, 1);
    const t = tensor(view);
    expect(t.shape).to.deep.equal([3, 2]);
    expect(t.toArray()).to.deep.equal([[2, 6], [1, 5], [0, 4]]);
    const back = t.toNdarray();
    expect(back.data).to.equal(storage);
    expect(back.get(0, 1)).to.equal(6);
    // A later write by the owner of the storage is visible: the tensor is a view, not a copy.
    storage[6] = 60;
    expect(t.toArray()).to.deep.equal([[2, 60], [1, 5], [0, 4]]);

    const flatData = new Float64Array([1, 2, 3, 4, 5, 6]);
    const m = tensor(flatData, { shape: [2, 3] });
    expect(m.toArray()).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
    expect(m.toNdarray().data).to.equal(flatData);
    expect(tensor(flatData).shape).to.deep.equal([6]);

    const f32 = new Float32Array([0.5, 1.5, 2.5]);
    for (const t32 of [tensor(f32, { dtype: "float32" }), tensor(f32)]) {
      expect(t32.dtype).to.equal("float32");
      expect(t32.toNdarray().data).to.equal(f32);
    }
    const nd32 = tensor(ndarray(f32, [3]));
    expect(nd32.dtype).to.equal("float32");
    expect(nd32.toNdarray().data).to.equal(f32);
  });

  it("copies ndarrays over plain arrays and converts on an explicit dtype", () => {
    const plain = ndarray([1, 2, 3, 4], [2, 2]);
    expect(tensor(plain).toArray()).to.deep.equal([[1, 2], [3, 4]]);
    const asF32 = tensor(ndarray(new Float64Array([0.1, 0.2]), [2]), { dtype: "float32" });
    expect(asF32.dtype).to.equal("float32");
    expect(asF32.toArray()).to.deep.equal([Math.fround(0.1), Math.fround(0.2)]);
    const asF64 = tensor(new Float32Array([0.1]), { dtype: "float64" });
    expect(asF64.dtype).to.equal("float64");
    expect(asF64.item()).to.equal(Math.fround(0.1));
  });

  it("item() returns the value of rank-0 and size-1 tensors in any layout", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), fc.double({ noNaN: true }), layoutArb, (rank, v, layout) => {
      const shape = new Array<number>(rank).fill(1);
      const t = makeOperand(shape, [v], layout).t;
      expect(t.item()).to.equal(v);
    }), RUNS);
    expect(tensor(7).item()).to.equal(7);
    expect(tensor(7).toArray()).to.equal(7);
    expect(Number.isNaN(tensor(NaN).item())).to.equal(true);
    expectError(() => tensor([1, 2]).item(), "item", "[2]");
    expectError(() => zeros([0]).item(), "item", "[0]");
  });

  it("float32 tensors store float32-rounded values and ops keep float32", () => {
    const x = tensor([[0.1, 0.2], [0.3, 1e-46]], { dtype: "float32" });
    expect(x.dtype).to.equal("float32");
    expect(flatten(x.toArray())).to.deep.equal([0.1, 0.2, 0.3, 1e-46].map(Math.fround));
    const y = add(x, 1);
    expect(y.dtype).to.equal("float32");
    expect(flatten(y.toArray())).to.deep.equal([0.1, 0.2, 0.3, 1e-46].map((v) => Math.fround(Math.fround(v) + 1)));
    expect(exp(x).dtype).to.equal("float32");
    expect(sum(x).dtype).to.equal("float32");
    expect(matmul(x, x).dtype).to.equal("float32");
    expect(mul(2, x).dtype).to.equal("float32");
    for (const make of [zeros, ones] as const) expect(make([2], { dtype: "float32" }).dtype).to.equal("float32");
    expect(full([2], 0.1, { dtype: "float32" }).toArray()).to.deep.equal([Math.fround(0.1), Math.fround(0.1)]);
    expect(eye(2, { dtype: "float32" }).dtype).to.equal("float32");
  });
});

describe("tensor/tensor: constructors", () => {
  it("zeros, ones and full have the requested shape (number or array) and value", () => {
    fc.assert(fc.property(shapeOf(3, 3), fc.double({ noNaN: true }), (shape, v) => {
      const n = sizeOfShape(shape);
      for (const [t, val] of [[zeros(shape), 0], [ones(shape), 1], [full(shape, v), v]] as const) {
        expect(t.shape).to.deep.equal(shape);
        expect(t.dtype).to.equal("float64");
        expect(flatten(t.toArray())).to.deep.equal(new Array<number>(n).fill(val));
      }
    }), RUNS);
    expect(zeros(3).shape).to.deep.equal([3]);
    expect(ones(0).shape).to.deep.equal([0]);
    expect(full([], 2.5).toArray()).to.equal(2.5);
    expect(Number.isNaN(full([1], NaN).item())).to.equal(true);
    expect(Object.is((full([2], -0).toArray() as number[])[1], -0)).to.equal(true);
  });

  it("eye(n) is the identity", () => {
    for (let n = 0; n < 5; n++) {
      const expected = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
      expect(eye(n).shape).to.deep.equal([n, n]);
      expect(eye(n).toArray()).to.deep.equal(expected);
    }
  });

  it("arange follows NumPy: arange(stop), arange(start, stop, step)", () => {
    expect(arange(5).toArray()).to.deep.equal([0, 1, 2, 3, 4]);
    expect(arange(2, 7).toArray()).to.deep.equal([2, 3, 4, 5, 6]);
    expect(arange(0, 10, 3).toArray()).to.deep.equal([0, 3, 6, 9]);
    expect(arange(5, 1, -1).toArray()).to.deep.equal([5, 4, 3, 2]);
    expect(arange(0.5, 3).toArray()).to.deep.equal([0.5, 1.5, 2.5]);
    expect(arange(0, 1, 0.25).toArray()).to.deep.equal([0, 0.25, 0.5, 0.75]);
    expect(arange(0, 1, 0.1).size).to.equal(10);
    expect(arange(1, 0).shape).to.deep.equal([0]);
    expect(arange(-3).shape).to.deep.equal([0]);
    expect(arange(0).shape).to.deep.equal([0]);
    fc.assert(fc.property(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -20, max: 20 }), fc.integer({ min: -5, max: 5 }).filter((s) => s !== 0), (start, stop, step) => {
      const expected: number[] = [];
      for (let v = start; step > 0 ? v < stop : v > stop; v += step) expected.push(v);
      expect(arange(start, stop, step).toArray()).to.deep.equal(expected);
    }), RUNS);
    expectError(() => arange(0, 1, 0), "arange", "step");
    expectError(() => arange(Infinity), "arange", "stop");
    expectError(() => arange(NaN), "arange");
  });
});

describe("tensor/tensor: bad input", () => {
  it("rejects ragged and non-numeric nested arrays, never coercing", () => {
    expectError(() => tensor([[1, 2], [3]]), "tensor", "ragged");
    expectError(() => tensor([[1, 2], 3] as never), "tensor", "ragged");
    expectError(() => tensor([1, [2]] as never), "tensor");
    expectError(() => tensor([[[1]], [[2, 3]]]), "tensor", "ragged");
    for (const bad of ["1", true, false, null, undefined, {}, 1n, [1, "2"], [1, null], [true], [[1], ["a"]], [1, , 3], [undefined]]) {
      expectError(() => tensor(bad as never), "tensor");
    }
    expectError(() => tensor(new Int32Array(3) as never), "tensor", "Int32Array");
  });

  it("rejects negative, fractional and non-numeric shapes", () => {
    expectError(() => tensor(new Float64Array(2), { shape: 2 as never }), "tensor", "shape");
    for (const shape of [[-1], [1.5], [NaN], [Infinity], ["2"], [null], [true], "2", null, {}, [[2]], -1, 1.5]) {
      expectError(() => tensor(new Float64Array(2), { shape: shape as never }), "tensor", "shape");
      expectError(() => zeros(shape as never), "zeros", "shape");
      expectError(() => ones(shape as never), "ones", "shape");
      expectError(() => full(shape as never, 1), "full", "shape");
    }
    expectError(() => tensor(new Float64Array(5), { shape: [2, 3] }), "tensor", "[2,3]", "5");
    expectError(() => tensor([[1, 2], [3, 4]], { shape: [3] }), "tensor", "[3]");
    expectError(() => full([2], "1" as never), "full", "string");
    expectError(() => full([2], null as never), "full");
    for (const n of [-1, 1.5, "3", null, NaN, true]) expectError(() => eye(n as never), "eye", "n");
  });

  it("rejects bad dtypes and options", () => {
    for (const dtype of ["int32", "float", 32, null, true]) {
      expectError(() => tensor([1], { dtype: dtype as never }), "tensor", "dtype");
      expectError(() => zeros([1], { dtype: dtype as never }), "zeros", "dtype");
    }
    expectError(() => tensor([1], null as never), "tensor", "options");
    expectError(() => tensor([1], "float32" as never), "tensor", "options");
    expectError(() => zeros([1], "float32" as never), "zeros", "options");
    expectError(() => ones([1], null as never), "ones", "options");
    expectError(() => eye(2, true as never), "eye", "options");
    expectError(() => full([1], 0, "float32" as never), "full", "options");
    expectError(() => arange(3, undefined, 1, "float32" as never), "arange", "options");
    for (const bad of ["3", null, true, [3], {}]) expectError(() => arange(bad as never), "arange", "stop");
    expectError(() => arange(0, "3" as never), "arange", "stop");
    expectError(() => arange(0, 3, "1" as never), "arange", "step");
    expect(arange(3, undefined, 1, { dtype: "float32" }).dtype).to.equal("float32");
  });

  it("rejects ndarray views that reach outside their storage or are not ndarrays", () => {
    expectError(() => tensor(ndarray(new Float64Array(4), [3], [2], 0)), "tensor", "outside");
    expectError(() => tensor(ndarray(new Float64Array(4), [2], [-1], 0)), "tensor", "outside");
    expectError(() => tensor({ data: new Float64Array(4), shape: [2], stride: [1], offset: 0.5 } as never), "tensor", "offset");
    expectError(() => tensor({ data: new Float64Array(4), shape: [2], stride: [1], offset: NaN } as never), "tensor");
    expectError(() => tensor({ data: [1, 2], shape: [2], stride: [1], offset: 0 } as never), "tensor");
    expectError(() => tensor({ data: new Float64Array(4), shape: [2, 2], stride: [1], offset: 0 } as never), "tensor", "strides");
    expectError(() => tensor(ndarray(["a", "b"] as never, [2])), "tensor", "string");
    expect(() => tensor(ndarray(new Float64Array(4), [2], [2], 1))).not.to.throw();
  });

  it("opts.shape is honoured or rejected, never ignored", () => {
    expect(tensor(5, { shape: [1, 1] }).toArray()).to.deep.equal([[5]]);
    expect(tensor(5, { shape: [] }).shape).to.deep.equal([]);
    expectError(() => tensor(5, { shape: [2] }), "tensor", "[2]");
    expectError(() => tensor(5, { shape: "1" as never }), "tensor", "shape");
    const t = tensor([1, 2]);
    expect(tensor(t, { shape: [2] })).to.equal(t);
    expectError(() => tensor(t, { shape: [2, 1] }), "tensor", "[2,1]", "[2]");
    expectError(() => tensor(ndarray(new Float64Array(4), [2, 2]), { shape: [4] }), "tensor", "[4]", "[2,2]");
  });

  it("toString shows dtype, shape and the values (NaN and ±Infinity as themselves)", () => {
    expect(tensor([NaN, Infinity, -1]).toString()).to.equal("Tensor(float64, [3]) [NaN,Infinity,-1]");
    expect(tensor(2, { dtype: "float32" }).toString()).to.equal("Tensor(float32, []) 2");
  });

  it("is an instance check: Tensor is exported and tensors pass through tensor() unchanged", () => {
    const t = tensor([1, 2]);
    expect(t).to.be.instanceOf(Tensor);
    expect(tensor(t)).to.equal(t);
    expect(tensor(t, { dtype: "float32" }).dtype).to.equal("float32");
    expect(t.dtype).to.equal("float64");
  });
});

describe("tensor() and arange on degenerate input (issue 15, item 8)", () => {
  it("a nested array that contains itself is an Error, not an endless descent", () => {
    const selfFirst: unknown[] = [1];
    selfFirst[0] = selfFirst;
    expectError(() => tensor(selfFirst as never), "tensor:", "contains itself");
    const deeper: unknown[] = [[0, 1]];
    (deeper[0] as unknown[])[0] = deeper;
    expectError(() => tensor(deeper as never), "tensor:", "contains itself");
    const both: unknown[] = [];
    both.push(both, both);
    expectError(() => tensor(both as never, { shape: [2] }), "tensor:", "contains itself");
    expectError(() => add(selfFirst as never, 1), "add:", "contains itself");
    // a cycle off the first path is met as a ragged entry
    const later: unknown[] = [[1, 2], [3, 4]];
    (later[1] as unknown[])[0] = later;
    expectError(() => tensor(later as never), "tensor:", "entry [1][0]");
  });

  it("arange(undefined) is an Error naming the argument, not [NaN]", () => {
    expectError(() => arange(undefined as never), "arange:", "stop", "undefined");
    expectError(() => arange(undefined as never, 3), "arange:", "start", "undefined");
    expectError(() => arange(NaN), "arange:", "stop");
    expect(arange(5, undefined, 2).toArray()).to.deep.equal([0, 2, 4]);
    expect(arange(3).toArray()).to.deep.equal([0, 1, 2]);
  });
});
