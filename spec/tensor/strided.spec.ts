/**
 * lib/tensor/strided.ts: copying any strided view (any strides, including zero,
 * negative and overlapping ones, any offset) into row-major storage, against a
 * plain odometer over the indices; the tiled walk (a dimension other than the
 * last with the source's shortest stride, sides above one tile) included, and
 * float32 storage read into float64.
 */
import { expect } from "chai";
import fc from "fast-check";
import { copyStrided } from "../../lib/tensor/strided.js";
import { runs } from "../primitives/reference.js";

/** data[offset + Σ idx·strides] for every idx of `shape` in row-major order. */
function reference(data: ArrayLike<number>, shape: number[], strides: number[], offset: number): number[] {
  const size = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  const idx = shape.map(() => 0);
  for (let k = 0; k < size; k++) {
    out.push(data[offset + idx.reduce((s, i, d) => s + i * strides[d], 0)]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** A view of fresh storage: the smallest offset and length that hold it, plus `slack` on each side. */
function storageFor(shape: number[], strides: number[], slack: number, float32 = false): { data: Float64Array | Float32Array; offset: number } {
  let low = 0;
  let high = 0;
  shape.forEach((n, d) => {
    const span = (Math.max(n, 1) - 1) * strides[d];
    if (span < 0) low += span;
    else high += span;
  });
  const length = high - low + 1 + 2 * slack;
  const data = float32 ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) data[i] = Math.sin(i + 0.25) * 100;
  return { data, offset: slack - low };
}

function check(shape: number[], strides: number[], slack = 0, float32 = false): void {
  const { data, offset } = storageFor(shape, strides, slack, float32);
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size + 3).fill(NaN);
  copyStrided(data, shape, strides, offset, out);
  const expected = reference(data, shape, strides, offset);
  expect(Array.from(out.subarray(0, size)), `shape [${shape}] strides [${strides}]`).to.deep.equal(expected);
  expect(Array.from(out.subarray(size)).every(Number.isNaN), "writes past the view's size").to.equal(true);
}

describe("tensor/strided: copyStrided", () => {
  it("matches an odometer over the indices for random views (any strides, offsets, dtypes)", () => {
    const view = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.array(fc.integer({ min: -30, max: 30 }), { minLength: shape.length, maxLength: shape.length }), fc.integer({ min: 0, max: 3 }), fc.boolean()));
    fc.assert(fc.property(view, ([shape, strides, slack, float32]) => check(shape, strides, slack, float32)), runs(300));
  });

  it("walks transposes and permutations larger than a tile in tiles, with the same result", () => {
    check([70, 45], [1, 70]);
    check([45, 70], [-1, 45]);
    check([33, 5, 40], [1, 33 * 40, 33]);
    check([40, 3, 37], [3, 1, 120]);
    check([2, 50, 3, 34], [1, 2 * 3, 2, 2 * 3 * 50]);
    check([64, 64], [2, 64 * 2]);
    check([17, 33], [1, 17]);
  });

  it("merges contiguous dimensions and drops size-1 ones: slices, broadcasts, reversals", () => {
    check([4, 1, 5, 6], [60, 7, 6, 1], 2);
    check([100, 3], [0, 1]);
    check([3, 100], [1, 0]);
    check([1000], [-1]);
    check([10, 10], [20, 2]);
    check([], []);
    check([3, 0, 4], [4, 12, 1]);
  });

  it("fills broadcast runs and copies long contiguous runs natively, from float32 storage too", () => {
    for (const float32 of [false, true]) {
      check([3, 100], [200, 1], 1, float32);
      check([2, 3, 70], [0, 140, 1], 0, float32);
      check([3, 100], [1, 0], 0, float32);
      check([5, 2, 80], [1, 0, 0], 2, float32);
    }
  });
});
