/**
 * tensor(data, { copy: true }): a tensor over storage the library owns. It is a
 * copy (writes into the original do not reach it), its storage is never handed
 * out (toNdarray and toFloat64Array give copies), and a large constant matrix
 * on it stays in the WebAssembly memory across calls: products by it, by its
 * transposed and sliced views, on both kernel paths, equal plain-loop
 * references; copies are evicted least recently used first when the fixed
 * memory is short, which never grows; wrapped arrays are still read afresh.
 */
import { expect } from "chai";
import { Tensor, grad, matmul, mul, pow, slice, sub, sum, tensor, transpose, vjp, zeros, add } from "../../lib/index.js";
import { limitWasmMemory, wasmKernelInfo, wasmMemoryByteLength } from "../../lib/tensor/wasm/dense.js";
import { using } from "../helpers.js";


const values = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin(1 + 0.7 * i + seed));

const copiesDuring = (body: () => void): number => {
  const before = wasmKernelInfo().keptCopies;
  body();
  return wasmKernelInfo().keptCopies - before;
};

/** y = A x in plain loops on row-major A (rows×cols). */
function refMatvec(a: Float64Array, rows: number, cols: number, x: Float64Array): number[] {
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[i * cols + j] * x[j];
    y.push(s);
  }
  return y;
}

/** C = A B in plain loops (row-major, A m×k, B k×n). */
function refMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): number[] {
  const c: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    c.push(s);
  }
  return c;
}

function expectClose(actual: Tensor, expected: number[]): void {
  const got = actual.toFloat64Array();
  expect(got.length).to.equal(expected.length);
  for (let i = 0; i < got.length; i++) expect(got[i]).to.be.closeTo(expected[i], 1e-12 * (1 + Math.abs(expected[i])));
}

/** A rows×cols matrix with values `a` (row-major) on owned storage, laid out as `layout`. */
function ownedMatrix(a: Float64Array, rows: number, cols: number, layout: "contiguous" | "transposed" | "padded"): Tensor {
  if (layout === "contiguous") return tensor(a, { shape: [rows, cols], copy: true });
  if (layout === "transposed") {
    const at = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) at[j * rows + i] = a[i * cols + j];
    return transpose(tensor(at, { shape: [cols, rows], copy: true }));
  }
  // Cut out of a wider NaN-filled matrix: rows with gaps no product may read.
  const wide = new Float64Array((rows + 1) * (cols + 3)).fill(NaN);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) wide[(i + 1) * (cols + 3) + j + 2] = a[i * cols + j];
  return slice(tensor(wide, { shape: [rows + 1, cols + 3], copy: true }), [1, 2], [rows, cols]);
}

describe("tensor: tensor(data, { copy: true })", () => {
  it("is a copy: writes into the original array reach neither the tensor nor its products", () => {
    const xs = values(12, 1);
    const t = tensor(xs, { shape: [3, 4], copy: true });
    const before = Array.from(xs);
    xs.fill(7);
    expect(Array.from(t.toFloat64Array())).to.deep.equal(before);
    const wrapped = tensor(xs, { shape: [3, 4] });
    expect(wrapped.toFloat64Array()[0]).to.equal(7);
    // From nested arrays, ndarrays and tensors too, and with a dtype.
    expect(tensor([[1, 2], [3, 4]], { copy: true }).toArray(2)).to.deep.equal([[1, 2], [3, 4]]);
    const f32 = tensor(xs, { dtype: "float32", copy: true });
    expect(f32.dtype).to.equal("float32");
    const tt = tensor(transpose(wrapped), { copy: true });
    expect(tt.shape).to.deep.equal([4, 3]);
    expect(tt.toArray(2)).to.deep.equal(transpose(wrapped).toArray(2));
    // copy: false is the default behaviour (wrapping).
    expect(tensor(xs, { copy: false }).toFloat64Array()[1]).to.equal(7);
  });

  it("never hands out its storage: toNdarray and toFloat64Array give copies, so writing into them changes nothing", () => {
    const t = tensor(values(6, 2), { shape: [2, 3], copy: true });
    const snapshot = t.toArray(2);
    const nd = t.toNdarray();
    nd.set(0, 0, 100);
    t.toFloat64Array()[1] = 200;
    const view = transpose(t).toNdarray();
    view.set(1, 1, 300);
    expect(t.toArray(2)).to.deep.equal(snapshot);
    expect(nd.get(0, 0)).to.equal(100);
    expect(transpose(t).toNdarray().get(2, 1)).to.equal(snapshot[1][2]);
    // A wrapped tensor's toNdarray still shares storage (as documented).
    const xs = values(6, 3);
    tensor(xs, { shape: [2, 3] }).toNdarray().set(0, 0, 9);
    expect(xs[0]).to.equal(9);
  });

  it("rejects a copy option that is not a boolean, naming it", () => {
    expect(() => tensor([1, 2], { copy: 1 as unknown as boolean })).to.throw(/^tensor: option copy must be a boolean, got/);
  });
});

describe("tensor/wasm: library-owned constant matrices kept across calls", () => {
  afterEach(() => limitWasmMemory(null)); // also evicts what a test left resident
  const [m, k] = [120, 80]; // 9 600 entries: above the size kept resident

  for (const backend of ["wasm", "js"] as const) {
    it(`${backend}: A x, xᵀ A, A B on owned storage (contiguous, transposed, sliced with gaps) equal plain loops`, () => {
      const a = values(m * k, 4);
      const x = values(k, 5);
      const z = values(m, 6);
      const b = values(k * 3, 7);
      // xᵀ A = (Aᵀ z) laid out as a row: reference through the transposed values.
      const at = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) at[j * m + i] = a[i * k + j];
      using(backend, () => {
        for (const layout of ["contiguous", "transposed", "padded"] as const) {
          const A = ownedMatrix(a, m, k, layout);
          for (let call = 0; call < 2; call++) {
            const copies = copiesDuring(() => {
              expectClose(matmul(A, tensor(x)), refMatvec(a, m, k, x));
              expectClose(matmul(tensor(z), A), refMatvec(at, k, m, z));
              expectClose(matmul(transpose(A), tensor(z)), refMatvec(at, k, m, z));
              expectClose(matmul(A, tensor(b, { shape: [k, 3] })), refMatmul(a, b, m, k, 3));
            });
            // Copied in by the first call's first product only (none by the JavaScript kernels).
            expect(copies).to.equal(backend === "wasm" && call === 0 ? 1 : 0);
          }
        }
        // A batch of two matrices on one owned array, times one vector.
        const a2 = values(2 * m * k, 14);
        const A2 = tensor(a2, { shape: [2, m, k], copy: true });
        for (let call = 0; call < 2; call++) {
          expectClose(matmul(A2, tensor(x)), [...refMatvec(a2.subarray(0, m * k), m, k, x), ...refMatvec(a2.subarray(m * k), m, k, x)]);
        }
      });
    });
  }

  it("a matrix-vector product copies an owned matrix in once, and later calls read it where it lies; a wrapped one is copied every time", () => {
    const a = values(m * k, 8);
    const x = values(k, 9);
    const A = tensor(a, { shape: [m, k], copy: true });
    using("wasm", () => {
      expect(copiesDuring(() => expectClose(matmul(A, tensor(x)), refMatvec(a, m, k, x)))).to.equal(1);
      for (let call = 0; call < 3; call++) expect(copiesDuring(() => expectClose(matmul(A, tensor(x)), refMatvec(a, m, k, x)))).to.equal(0);
      expect(copiesDuring(() => matmul(transpose(A), tensor(values(m, 10))))).to.equal(0);
      expect(wasmKernelInfo().ownedResident).to.equal(1);
      // The user's array written after the copy: the products still use the copy's values.
      const original = Float64Array.from(a);
      a.fill(-3);
      expectClose(matmul(A, tensor(x)), refMatvec(original, m, k, x));
      // A wrapped array: nothing kept across calls, writes between calls seen.
      const ws = values(m * k, 11);
      const W = tensor(ws, { shape: [m, k] });
      expect(copiesDuring(() => expectClose(matmul(W, tensor(x)), refMatvec(ws, m, k, x)))).to.equal(0);
      ws.fill(0.5);
      expectClose(matmul(W, tensor(x)), refMatvec(ws, m, k, x));
      expect(wasmKernelInfo().ownedResident).to.equal(1);
    });
  });

  it("a tape whose constant X is owned: the sweeps read the copy already there, and the gradients equal the JavaScript kernels' and central differences", () => {
    const xs = values(m * k, 12);
    const y = tensor(values(m, 13));
    const loss = (X: Tensor) => (l: Tensor): Tensor => {
      const Xt = transpose(X);
      let w: Tensor = zeros([k]);
      const Xty = matmul(Xt, y);
      for (let t = 0; t < 4; t++) w = sub(w, mul(0.004, sub(add(matmul(Xt, matmul(X, w)), mul(l, w)), Xty)));
      return sum(pow(w, 2));
    };
    const X = tensor(xs, { shape: [m, k], copy: true });
    const js = using("js", () => grad(loss(tensor(xs, { shape: [m, k] })))(tensor(0.5)).item());
    using("wasm", () => {
      const [, pullback] = vjp(loss(X), tensor(0.5));
      const copies: number[] = [];
      const gs: number[] = [];
      for (let call = 0; call < 3; call++) copies.push(copiesDuring(() => { gs.push(pullback(tensor(1))[0].item()); }));
      expect(copies[1]).to.equal(0);
      expect(copies[2]).to.equal(0);
      for (const g of gs) expect(g).to.be.closeTo(js, 1e-10 * Math.abs(js));
    });
    const h = 1e-5;
    const f = loss(tensor(xs, { shape: [m, k] }));
    const fd = (f(tensor(0.5 + h)).item() - f(tensor(0.5 - h)).item()) / (2 * h);
    expect(js).to.be.closeTo(fd, 1e-6 * Math.abs(fd));
  });

  it("under pressure: many owned matrices in a short memory are evicted least recently used first, results stay right, and the memory never grows", () => {
    using("wasm", () => {
      matmul(tensor(values(m * k, 0), { shape: [m, k] }), tensor(values(k, 1))); // the memory exists
      const bytes = wasmMemoryByteLength();
      expect(bytes).to.be.above(0);
      // 256 KiB: room for two 75 KiB copies beside a product's work, not three.
      limitWasmMemory(256 * 1024);
      const as = [0, 1, 2, 3, 4].map((s) => values(m * k, 20 + s));
      const As = as.map((a) => tensor(a, { shape: [m, k], copy: true }));
      const x = values(k, 30);
      const run = (i: number): number => copiesDuring(() => expectClose(matmul(As[i], tensor(x)), refMatvec(as[i], m, k, x)));
      expect([run(0), run(1), run(0), run(2), run(0), run(1)]).to.deep.equal([1, 1, 0, 1, 0, 1]); // 2 then 1 was least recently used
      // Round robin over five: each is evicted before its turn comes back.
      for (let round = 0; round < 3; round++) for (let i = 0; i < 5; i++) expect(run((i + 2) % 5)).to.equal(1);
      expect(wasmKernelInfo().ownedResident).to.be.at.most(2);
      // A large product taking the memory for scratch evicts them; the next use copies in again.
      const big = 150;
      const c = values(big * big, 40);
      const d = values(big * big, 41);
      expectClose(matmul(tensor(c, { shape: [big, big] }), tensor(d, { shape: [big, big] })), refMatmul(c, d, big, big, big));
      expect(run(3)).to.be.at.most(1);
      // Interleaved with wrapped matrices and transposed views of the owned ones.
      for (let i = 0; i < 5; i++) {
        const z = values(m, 50 + i);
        const at = new Float64Array(m * k);
        for (let p = 0; p < m; p++) for (let q = 0; q < k; q++) at[q * m + p] = as[i][p * k + q];
        expectClose(matmul(transpose(As[i]), tensor(z)), refMatvec(at, k, m, z));
        expectClose(matmul(tensor(as[(i + 1) % 5], { shape: [m, k] }), tensor(x)), refMatvec(as[(i + 1) % 5], m, k, x));
      }
      limitWasmMemory(null);
      for (let i = 0; i < 40; i++) run(i % 5);
      expect(wasmMemoryByteLength()).to.equal(bytes);
    });
  });
});
