/**
 * The WebAssembly SIMD dense kernels (lib/tensor/wasm): the committed module is
 * the assembly of its source; matmul through them matches the NumPy reference
 * (spec/primitives/reference.ts) on every layout, batch broadcast, 1-D operand,
 * float32, zero-size dimension and IEEE special value, as the JavaScript path
 * does; blocking, row blocks under a short memory and the fallback to
 * JavaScript; the size threshold; dense Krylov matrices kept in the memory for
 * one solve only. Each property runs with the kernel backend forced, and the
 * products counter proves which path ran.
 */
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ImplicitFunction, Tensor, add, cg, customVjp, eye, grad, matmul, mul, pow, slice, solve, sub, sum, tensor, transpose, vjp, zeros } from "../../lib/index.js";
import { denseOperator } from "../../lib/krylov/index.js";
import { using } from "../helpers.js";
import { limitWasmMemory, wasmKernelInfo, type KernelBackend } from "../../lib/tensor/wasm/dense.js";
import { ModuleBuilder, ValType, f64, i32 } from "../../lib/tensor/wasm/encoder.js";
import { buildModule, generatedSource, LAYOUT } from "../../lib/tensor/wasm/module.js";
import {
  broadcastShapesArb, dimArb, expectRef, makeOperand, operandOf, refMatmul, refOf, runs, sizeOfShape, layoutArb, LAYOUTS,
  type Operand, type Ref,
} from "../primitives/reference.js";


/** How many products the WebAssembly kernels ran during `body`. */
function wasmProductsDuring(body: () => void): number {
  const before = wasmKernelInfo().products;
  body();
  return wasmKernelInfo().products - before;
}

/** Shapes of a matmul: 1-D or ≥2-D operands, batch dimensions that broadcast, m, k, n up to 6 (0 allowed). */
const shapesArb: fc.Arbitrary<[number[], number[]]> = fc.tuple(
  fc.constantFrom("vv", "vm", "mv", "mm", "mm", "mm"), dimArb(6), dimArb(6), dimArb(6), broadcastShapesArb(2, 2, 3),
).map(([kind, m, k, n, [ba, bb]]) => [kind[0] === "v" ? [k] : [...ba, m, k], kind[1] === "v" ? [k] : [...bb, k, n]]);

const values = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(1 + 0.7 * i + seed));

/** A 2-D operand cut out of a wider, NaN-filled matrix: rows with gaps that the kernels must never read. */
function slicedOperand(shape: [number, number], vals: number[]): Operand {
  const [m, k] = shape;
  const wide = new Float64Array((m + 1) * (k + 3)).fill(NaN);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) wide[(i + 1) * (k + 3) + j + 2] = vals[i * k + j];
  return { ref: refOf([m, k], vals), t: slice(tensor(wide, { shape: [m + 1, k + 3] }), [1, 2], [m, k]), layout: "padded" };
}

describe("tensor/wasm: the module", () => {
  it("the committed bytes are the assembly of lib/tensor/wasm/module.ts (run npm run build after editing it)", () => {
    const committed = readFileSync(fileURLToPath(new URL("../../lib/tensor/wasm/module.generated.ts", import.meta.url)), "utf8");
    expect(committed).to.equal(generatedSource(buildModule(), LAYOUT));
  });

  it("validates, stays under 4 KiB (browsers refuse to compile larger modules synchronously on the main thread) and loads with a fixed memory", () => {
    const bytes = buildModule();
    expect(WebAssembly.validate(bytes)).to.equal(true);
    expect(bytes.length).to.be.below(4096);
    const info = wasmKernelInfo();
    expect(info.available, "Node 20 has WebAssembly SIMD: the kernels must load").to.equal(true);
    expect(info.memoryBytes).to.equal(LAYOUT.pages * 65536);
    expect(info.moduleBytes).to.equal(bytes.length);
  });

  it("the encoder writes LEB128 and float constants exactly (boundaries of each byte count)", () => {
    const ints = [0, 1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8192, -8193, 2 ** 31 - 1, -(2 ** 31)];
    const floats = [0, -0, 1.5, -1e-300, 1e308, Infinity, -Infinity];
    const mod = new ModuleBuilder(1);
    const f = mod.func("write", []);
    f.body = [
      ...ints.flatMap((v, i) => i32.store(i32.const(4 * i), i32.const(v))),
      ...floats.flatMap((v, i) => f64.store(i32.const(64 + 8 * i), f64.const(v))),
    ];
    const instance = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes()), {});
    (instance.exports.write as () => void)();
    const buffer = (instance.exports.memory as WebAssembly.Memory).buffer;
    expect(Array.from(new Int32Array(buffer, 0, ints.length))).to.deep.equal(ints);
    const got = Array.from(new Float64Array(buffer, 64, floats.length));
    got.forEach((v, i) => expect(Object.is(v, floats[i]), `float ${floats[i]}`).to.equal(true));
    expect(ValType.v128).to.equal(0x7b);
  });
});

describe("tensor/wasm: matmul against the NumPy reference", () => {
  for (const backend of ["js", "wasm"] as const) {
    it(`${backend}: every layout, batched and broadcast batches, 1-D operands, zero-size dimensions`, () => {
      let ran = 0;
      fc.assert(fc.property(shapesArb.chain(([sa, sb]) => fc.tuple(operandOf(sa), operandOf(sb))), ([a, b]) => {
        ran += wasmProductsDuring(() => using(backend, () => {
          expectRef(matmul(a.t, b.t), refMatmul(a.ref, b.ref), 1e-13, 1e-13, `matmul ${JSON.stringify(a.ref.shape)} @ ${JSON.stringify(b.ref.shape)} (${a.layout}, ${b.layout})`);
        }));
      }), runs(150));
      if (backend === "wasm") expect(ran, "products run in WebAssembly").to.be.above(50);
      else expect(ran).to.equal(0);
    });
  }

  it("blocking: depth beyond one packed block, rows beyond one, columns beyond one, partial tiles; rows with gaps; matrix-vector in both orientations, A copied in blocks of rows or of columns (partial last blocks, odd lengths)", () => {
    const cases: [number[], number[]][] = [
      [[70, 300], [300, 9]], [[5, 3], [3, 2100]], [[130, 17], [17, 13]], [[9, 600], [600]], [[600], [600, 7]],
      [[3, 33, 21], [21, 6]], [[37, 41], [41, 1]], [[1, 41], [41, 37]],
    ];
    const small = [makeOperand([2, 3, 4], values(24, 1), "contiguous"), makeOperand([4, 5], values(20, 2), "contiguous"), makeOperand([4], values(4, 3), "contiguous")];
    for (const [a, b] of [[small[0], small[1]], [small[0], small[2]], [small[2], small[1]]]) expect(plainMatmul(a.ref, b.ref)).to.deep.equal(refMatmul(a.ref, b.ref));
    for (const [sa, sb] of cases) {
      for (const la of LAYOUTS) {
        for (const lb of ["contiguous", "transposed"] as const) {
          const a = makeOperand(sa, values(sizeOfShape(sa), sa.length), la);
          const b = makeOperand(sb, values(sizeOfShape(sb), 2 * sb.length + 1), lb);
          const ran = wasmProductsDuring(() => using("wasm", () => expectRef(matmul(a.t, b.t), plainMatmul(a.ref, b.ref), 1e-12, 1e-12, `${JSON.stringify(sa)} (${la}) @ ${JSON.stringify(sb)} (${lb})`)));
          expect(ran).to.equal(1);
        }
      }
    }
    // Matrix-vector products whose A is copied in blocks (of rows, or of columns adding up in y).
    for (const [sa, sb] of [[[301, 130], [130]], [[2001, 19], [19]], [[2001], [2001, 21]]] as [number[], number[]][]) {
      for (const layout of ["contiguous", "transposed", "reversed"] as const) {
        const matrixFirst = sa.length === 2;
        const a = makeOperand(sa, values(sizeOfShape(sa), 5), matrixFirst ? layout : "contiguous");
        const b = makeOperand(sb, values(sizeOfShape(sb), 6), matrixFirst ? "contiguous" : layout);
        const ran = wasmProductsDuring(() => using("wasm", () => expectRef(matmul(a.t, b.t), plainMatmul(a.ref, b.ref), 1e-12, 1e-12, `${JSON.stringify(sa)} @ ${JSON.stringify(sb)} (${layout})`)));
        expect(ran).to.equal(1);
      }
    }
    for (const [m, k, n] of [[9, 14, 6], [40, 3, 1], [1, 30, 5]]) {
      const a = slicedOperand([m, k], values(m * k, 3));
      const b = slicedOperand([k, n], values(k * n, 4));
      using("wasm", () => {
        expectRef(matmul(a.t, b.t), refMatmul(a.ref, b.ref), 1e-12, 1e-12, `sliced ${m}×${k} @ ${k}×${n}`);
        expectRef(matmul(transpose(b.t), transpose(a.t)), refMatmul(refOf([n, k], transposed(b.ref)), refOf([k, m], transposed(a.ref))), 1e-12, 1e-12, "sliced, transposed");
      });
    }
  });

  it("float32 operands are computed in double and stored in float32, by either path", () => {
    fc.assert(fc.property(shapesArb.chain(([sa, sb]) => fc.tuple(operandOf(sa), operandOf(sb))), ([a, b]) => {
      const a32 = tensor(Float32Array.from(a.ref.data), { shape: a.ref.shape });
      const b32 = tensor(Float32Array.from(b.ref.data), { shape: b.ref.shape });
      const expected = refMatmul(refOf(a.ref.shape, a.ref.data.map(Math.fround)), refOf(b.ref.shape, b.ref.data.map(Math.fround)));
      for (const backend of ["js", "wasm"] as const) {
        const c = using(backend, () => matmul(a32, b32));
        expect(c.dtype).to.equal("float32");
        expectRef(c, expected, 1e-6, 1e-6, `float32 ${backend}`);
      }
    }), runs(60));
  });

  it("NaN and ±∞ propagate as IEEE arithmetic says (∞·0 = NaN, ∞ − ∞ = NaN), in full and partial tiles", () => {
    // Small integers keep every sum exact in any order, so the comparison can be exact.
    const entry = fc.oneof({ arbitrary: fc.integer({ min: -3, max: 3 }), weight: 8 }, { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0), weight: 1 });
    const arb = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), layoutArb, layoutArb).chain(([m, k, n, la, lb]) =>
      fc.tuple(fc.array(entry, { minLength: m * k, maxLength: m * k }), fc.array(entry, { minLength: k * n, maxLength: k * n })).map(([va, vb]) => [makeOperand([m, k], va, la), makeOperand([k, n], vb, lb)] as const));
    fc.assert(fc.property(arb, ([a, b]) => {
      for (const backend of ["js", "wasm"] as const) expectRef(using(backend, () => matmul(a.t, b.t)), refMatmul(a.ref, b.ref), 0, 0, `IEEE ${backend}`);
    }), runs(100));
  });
});

/**
 * The reference for the larger cases, for speed: NumPy's matmul as plain loops
 * for operands of rank 1 or 2, A possibly with one leading batch dimension
 * (checked against refMatmul on small operands in the first test below).
 */
function plainMatmul(a: Ref, b: Ref): Ref {
  const batch = a.shape.length === 3 ? a.shape[0] : 1;
  const [m, k] = a.shape.length === 1 ? [1, a.shape[0]] : a.shape.slice(-2);
  const n = b.shape.length === 1 ? 1 : b.shape[1];
  const data: number[] = [];
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a.data[(t * m + i) * k + p] * b.data[p * n + j];
        data.push(sum);
      }
    }
  }
  const shape = [...(a.shape.length === 3 ? [batch] : []), ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  return { shape, data };
}

function transposed(r: Ref): number[] {
  const [m, n] = r.shape;
  return Array.from({ length: m * n }, (_, q) => r.data[(q % m) * n + Math.floor(q / m)]);
}

describe("tensor/wasm: routing and memory", () => {
  afterEach(() => limitWasmMemory(null));

  it("auto: small products stay in JavaScript, large ones run in WebAssembly", () => {
    const small = tensor(values(9, 1), { shape: [3, 3] });
    const large = tensor(values(64 * 64, 2), { shape: [64, 64] });
    using("auto", () => {
      expect(wasmProductsDuring(() => matmul(small, small))).to.equal(0);
      expect(wasmProductsDuring(() => matmul(small, tensor([1, 2, 3])))).to.equal(0);
      expect(wasmProductsDuring(() => matmul(large, large))).to.equal(1);
      expect(wasmProductsDuring(() => matmul(large, slice(large, [0, 0], [64, 1]).reshape([64])))).to.equal(1);
    });
  });

  it("a short memory: the rows of A go through in blocks; a B that does not fit falls back to JavaScript", () => {
    limitWasmMemory(192 * 1024);
    using("wasm", () => {
      for (const [sa, sb] of [[[1000, 100], [100, 20]], [[1000, 50], [50]], [[2, 2000, 30], [30, 7]]] as [number[], number[]][]) {
        for (const la of ["contiguous", "transposed"] as const) {
          const a = makeOperand(sa, values(sizeOfShape(sa), 5), la);
          const b = makeOperand(sb, values(sizeOfShape(sb), 6), "contiguous");
          expect(wasmProductsDuring(() => expectRef(matmul(a.t, b.t), plainMatmul(a.ref, b.ref), 1e-12, 1e-12, `blocks ${JSON.stringify(sa)} ${la}`))).to.equal(1);
        }
      }
      const a = makeOperand([4, 100], values(400, 7), "contiguous");
      const b = makeOperand([100, 200], values(20000, 8), "contiguous");
      expect(wasmProductsDuring(() => expectRef(matmul(a.t, b.t), plainMatmul(a.ref, b.ref), 1e-12, 1e-12, "B too large"))).to.equal(0);
    });
  });
});

describe("tensor/wasm: dense Krylov matrices", () => {
  afterEach(() => limitWasmMemory(null));
  const n = 40;
  /** A = I·n + a symmetric perturbation: SPD, well conditioned. */
  const spd = (scale: number): Float64Array => Float64Array.from({ length: n * n }, (_, q) => {
    const [i, j] = [Math.floor(q / n), q % n];
    return scale * ((i === j ? n : 0) + Math.cos(i + j));
  });
  const b = tensor(values(n, 9));
  const residual = (a: Float64Array, x: Tensor): number => {
    const xs = x.toFloat64Array();
    const bs = b.toFloat64Array();
    let s = 0;
    for (let i = 0; i < n; i++) {
      let r = bs[i];
      for (let j = 0; j < n; j++) r -= a[i * n + j] * xs[j];
      s += r * r;
    }
    return Math.sqrt(s);
  };

  it("stay in the memory for one solve, are released after it, and are copied afresh by the next (a wrapped array may change in between)", () => {
    const a = spd(1);
    const A = tensor(a, { shape: [n, n] });
    let x1: Tensor | null = null;
    const products = wasmProductsDuring(() => using("wasm", () => { x1 = cg(A, b, { tol: 1e-12 }).x; }));
    expect(products).to.be.above(3);
    expect(residual(a, x1!)).to.be.below(1e-9);
    expect(wasmKernelInfo().residentMatrices).to.equal(0);
    const xJs = using("js", () => cg(A, b, { tol: 1e-12 }).x);
    expectRef(x1!, refOf([n], Array.from(xJs.toFloat64Array())), 1e-9, 1e-12, "wasm vs js solution");
    a.set(spd(2)); // the caller changes the wrapped matrix between solves
    const x2 = using("wasm", () => cg(A, b, { tol: 1e-12 }).x);
    expect(residual(a, x2)).to.be.below(1e-9);
  });

  it("a dense preconditioner beside the matrix, and products by user code between iterations that take the memory", () => {
    const a = spd(1);
    const A = tensor(a, { shape: [n, n] });
    const M = tensor(Float64Array.from({ length: n * n }, (_, q) => (Math.floor(q / n) === q % n ? 1 / n : 0)), { shape: [n, n] });
    const big = tensor(values(n * n, 3), { shape: [n, n] });
    limitWasmMemory(64 * 1024); // room for A and M, or for one product: never all three
    let calls = 0;
    const x = using("wasm", () => cg(A, b, { tol: 1e-12, M, callback: () => { calls++; matmul(big, big); } }).x);
    expect(calls).to.be.above(2);
    expect(residual(a, x)).to.be.below(1e-9);
  });

  it("denseOperator's products read the matrix afresh at each call and match the reference in both orientations", () => {
    const [m, k] = [30, 50];
    const a = Float64Array.from(values(m * k, 4));
    const op = denseOperator(tensor(a, { shape: [m, k] }));
    const v = tensor(values(k, 5));
    const w = tensor(values(m, 6));
    const ref = refOf([m, k], Array.from(a));
    using("wasm", () => {
      expect(wasmProductsDuring(() => {
        expectRef(op.matvec(v), refMatmul(ref, refOf([k], Array.from(v.toFloat64Array()))), 1e-13, 1e-13, "matvec");
        expectRef(op.rmatvec!(w), refMatmul(refOf([k, m], transposed(ref)), refOf([m], Array.from(w.toFloat64Array()))), 1e-13, 1e-13, "rmatvec");
      })).to.equal(2);
      a[0] += 1;
      expect(op.matvec(v).toFloat64Array()[0]).to.be.closeTo(refMatmul(refOf([m, k], Array.from(a)), refOf([k], Array.from(v.toFloat64Array()))).data[0], 1e-13);
    });
  });
});

describe("tensor/wasm: constant matrices kept through one solve or one sweep", () => {
  afterEach(() => limitWasmMemory(null));
  const [n, d] = [120, 80]; // X has 9 600 entries: above the size kept resident
  /** X as a wrapped array (no copy: the caller may write into it), its transposed view, and y. */
  const problem = () => {
    const xs = Float64Array.from(values(n * d, 11));
    const X = tensor(xs, { shape: [n, d] });
    return { xs, X, Xt: transpose(X), y: tensor(values(n, 12)) };
  };
  const keptCopiesDuring = (body: () => void): number => {
    const before = wasmKernelInfo().keptCopies;
    body();
    return wasmKernelInfo().keptCopies - before;
  };
  /** Writes into the wrapped array of X, as a caller may between two calls. */
  const perturb = (xs: Float64Array): void => {
    for (let i = 0; i < xs.length; i += 3) xs[i] = -1.5 * xs[i] + 0.25;
  };

  it("ridge hypergradient through ImplicitFunction: X is copied in once for the adjoint solve, released after it, and a change to its array between calls is seen", () => {
    const { xs, X, Xt, y } = problem();
    const m = 30;
    const vs = values(m * d, 13);
    const Xv = tensor(vs, { shape: [m, d] });
    const yv = tensor(values(m, 14));
    const lambda = 2;
    /** The closed form, in plain loops on X's current values: g = rᵀ Xv dw/dλ, dw/dλ = −(XᵀX + λI)⁻¹ w. */
    const truth = (): number => {
      const G = new Float64Array(d * d);
      const b = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < d; p++) {
          b[p] += xs[i * d + p] * y.toFloat64Array()[i];
          for (let q = 0; q < d; q++) G[p * d + q] += xs[i * d + p] * xs[i * d + q];
        }
      }
      for (let p = 0; p < d; p++) G[p * d + p] += lambda;
      const K = tensor(G, { shape: [d, d] });
      const w = solve(K, tensor(b)).toFloat64Array();
      const dw = solve(K, tensor(w)).toFloat64Array();
      const yvs = yv.toFloat64Array();
      let g = 0;
      for (let i = 0; i < m; i++) {
        let r = -yvs[i];
        let s = 0;
        for (let p = 0; p < d; p++) {
          r += vs[i * d + p] * w[p];
          s -= vs[i * d + p] * dw[p];
        }
        g += r * s;
      }
      return g;
    };
    const ridge = new ImplicitFunction({
      forward: (l: Tensor) => solve(add(matmul(Xt, X), mul(l, eye(d))), matmul(Xt, y)),
      conditions: (l: Tensor, w: Tensor) => sub(add(matmul(Xt, matmul(X, w)), mul(l, w)), matmul(Xt, y)),
      linearSolver: "cg",
      symmetric: true,
      positiveDefinite: true,
      tol: 1e-13,
    });
    const hypergradient = (): number => grad((l: Tensor) => mul(0.5, sum(pow(sub(matmul(Xv, ridge.call(l)), yv), 2))))(tensor(lambda)).item();
    using("wasm", () => {
      let g1 = NaN;
      expect(keptCopiesDuring(() => { g1 = hypergradient(); })).to.equal(1);
      expect(ridge.lastSolve!.iterations).to.be.above(2);
      expect(wasmKernelInfo().residentMatrices).to.equal(0);
      const t1 = truth();
      expect(g1).to.be.closeTo(t1, 1e-8 * Math.abs(t1));
      perturb(xs);
      let g2 = NaN;
      expect(keptCopiesDuring(() => { g2 = hypergradient(); })).to.equal(1);
      const t2 = truth();
      expect(Math.abs(t2 - t1)).to.be.above(1e-2 * Math.abs(t1));
      expect(g2).to.be.closeTo(t2, 1e-8 * Math.abs(t2));
    });
  });

  /** Four gradient steps on ‖Xw − y‖²/2 + λ‖w‖²/2 from w = 0, on the tape; the loss is ‖w‖². */
  const unrolled = (X: Tensor, Xt: Tensor, y: Tensor) => (l: Tensor): Tensor => {
    let w: Tensor = zeros([d]);
    const Xty = matmul(Xt, y);
    for (let t = 0; t < 4; t++) w = sub(w, mul(0.004, sub(add(matmul(Xt, matmul(X, w)), mul(l, w)), Xty)));
    return sum(pow(w, 2));
  };

  it("an unrolled solver on the tape: each sweep copies X in once, and two pullback calls with X changed in between agree with the JavaScript kernels", () => {
    const sweeps = (backend: KernelBackend): { first: number; second: number; copies: number[] } => {
      const { xs, X, Xt, y } = problem();
      return using(backend, () => {
        const [, pullback] = vjp(unrolled(X, Xt, y), tensor(0.5));
        let first = NaN;
        let second = NaN;
        const copies = [keptCopiesDuring(() => { first = pullback(tensor(1))[0].item(); })];
        perturb(xs); // the tape's products read X's array afresh: so must a kept copy
        copies.push(keptCopiesDuring(() => { second = pullback(tensor(1))[0].item(); }));
        expect(wasmKernelInfo().residentMatrices).to.equal(0);
        return { first, second, copies };
      });
    };
    const wasm = sweeps("wasm");
    const js = sweeps("js");
    expect(wasm.copies).to.deep.equal([1, 1]);
    expect(js.copies).to.deep.equal([0, 0]);
    expect(Math.abs(js.second - js.first)).to.be.above(1e-2 * Math.abs(js.first));
    expect(wasm.first).to.be.closeTo(js.first, 1e-10 * Math.abs(js.first));
    expect(wasm.second).to.be.closeTo(js.second, 1e-10 * Math.abs(js.second));
    // And the first against central differences of the loss.
    const { X, Xt, y } = problem();
    const loss = unrolled(X, Xt, y);
    const h = 1e-5;
    const fd = (loss(tensor(0.5 + h)).item() - loss(tensor(0.5 - h)).item()) / (2 * h);
    expect(wasm.first).to.be.closeTo(fd, 1e-6 * Math.abs(fd));
  });

  it("a memory too short to keep X: the products copy it in as usual, with the same results", () => {
    const { X, Xt, y } = problem();
    const loss = unrolled(X, Xt, y);
    const g = using("js", () => grad(loss)(tensor(0.5)).item());
    limitWasmMemory(64 * 1024); // X takes 75 KiB
    using("wasm", () => {
      let short = NaN;
      expect(keptCopiesDuring(() => { short = grad(loss)(tensor(0.5)).item(); })).to.equal(0);
      expect(short).to.be.closeTo(g, 1e-10 * Math.abs(g));
    });
  });

  it("a tape holding a custom rule (user code in the sweep) keeps nothing", () => {
    const { X, Xt, y } = problem();
    const identity = customVjp((v: Tensor) => v, (v: Tensor) => [v, null], (_: unknown, ct: Tensor) => [ct]);
    const loss = (l: Tensor): Tensor => unrolled(X, Xt, y)(identity(l));
    using("wasm", () => {
      let g = NaN;
      expect(keptCopiesDuring(() => { g = grad(loss)(tensor(0.5)).item(); })).to.equal(0);
      expect(g).to.be.closeTo(using("js", () => grad(loss)(tensor(0.5)).item()), 1e-10 * Math.abs(g));
    });
  });
});
