/**
 * Loads the WebAssembly kernels of ./module.ts and runs dense products on them:
 * moving operands into the module's memory, choosing a kernel, and copying
 * results into the output's own array. The JavaScript kernels remain the
 * reference and the fallback: callers try these first and fall back when they
 * return false (kernels unavailable, product below the size threshold, or too
 * large for the memory).
 *
 * The memory is one fixed block of 64 MiB (MODULE_LAYOUT.pages), created with
 * the module on the first product large enough to use it and never grown:
 * growing it (or detaching any ArrayBuffer) makes V8 slow down every
 * typed-array loop in the process for good. A goes through in blocks of rows
 * when it does not fit at once; a B (or a Krylov matrix) that does not fit
 * leaves the product to JavaScript. Operands are copied in as the span of storage their view
 * covers (one `TypedArray.set`, a memcpy, converting float32 to float64 on the
 * way), keeping their strides, so transposed, reversed and broadcast views need
 * no rearranging; views with large gaps are gathered row by row instead.
 */
import type { FloatArray } from "../tensor.js";
import { isOwned } from "../owned.js";
import { describe, sizeOf } from "../shape.js";
import { MODULE_BASE64, MODULE_LAYOUT } from "./module.generated.js";

const { MR, NR, KC, MC, NC, GEMV_ROWS, GEMV_COLS } = MODULE_LAYOUT;
/** Operands start on a cache line. */
const ALIGN = 64;

/**
 * Size thresholds, measured with bench/dense.ts (matmul-small, matvec-small):
 * WebAssembly draws level with JavaScript at 6×6×6 and 8×8 and pulls ahead from
 * 8×8×8 and 16×16; below, the copies and the call cost more than the
 * arithmetic saves. A product with one row or one column is a matrix-vector product.
 */
const GEMM_MIN_MULTIPLY_ADDS = 512;
const GEMV_MIN_ENTRIES = 256;

export type KernelBackend = "auto" | "js" | "wasm";

interface Exports {
  memory: WebAssembly.Memory;
  gemm(a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, m: number, k: number, n: number, ap: number, bp: number, tile: number): void;
  gemvRows(a: number, ars: number, m: number, k: number, x: number, y: number): void;
  gemvCols(a: number, acs: number, m: number, k: number, x: number, y: number, accumulate: number): void;
}

interface Loaded {
  exports: Exports;
  /** The whole memory as float64 (never detached: the memory never grows). */
  heap: Float64Array;
  bytes: number;
}

/** IMPLICIT_DIFF_KERNELS from the environment, where there is one (Node; not browsers). */
function initialBackend(): KernelBackend {
  const host = globalThis as { process?: { env?: Record<string, string | undefined> } };
  const env = host.process?.env?.IMPLICIT_DIFF_KERNELS;
  return env === "js" || env === "wasm" ? env : "auto";
}

let backend: KernelBackend = initialBackend();
/** undefined: not tried yet; null: unavailable here (no WebAssembly SIMD, or the memory could not be had). */
let loaded: Loaded | null | undefined;
let loadMs = 0;
/** Products run by the WebAssembly kernels so far (for specs and benchmarks to see which path ran). */
let wasmProducts = 0;
/** Copies of kept storage made so far (for a scope, see keepingResident, or owned across calls, see ownedCopy). */
let keptCopies = 0;
/** When set, the bytes of memory the products may use (specs use it to exercise blocking and fallback with small problems). */
let memoryLimit: number | null = null;

/** The kernels in force, and whether the WebAssembly ones run here. */
export interface DenseKernels {
  choice: KernelBackend;
  wasm: boolean;
}

/**
 * The kernels of dense products: `matmul` (and so `dot`, `outer` and every
 * product in a gradient) and dense matrices in the Krylov solvers. With an
 * argument, chooses them first: "auto" (the default) runs WebAssembly SIMD
 * above a size threshold and JavaScript below it and wherever WebAssembly SIMD
 * is unavailable; "js" runs JavaScript only; "wasm" runs WebAssembly at every
 * size where it is available. The environment variable IMPLICIT_DIFF_KERNELS
 * (read once, in Node) sets the starting choice. Results agree either way up to
 * the order of additions. Returns the choice in force and whether the
 * WebAssembly kernels run here (asking loads them, once).
 */
export function denseKernels(choice?: KernelBackend): DenseKernels {
  if (choice !== undefined) {
    if (choice !== "auto" && choice !== "js" && choice !== "wasm") throw new Error(`denseKernels: choice must be "auto", "js" or "wasm", got ${describe(choice)}`);
    backend = choice;
  }
  return { choice: backend, wasm: load() !== null };
}

let moduleBytes: Uint8Array<ArrayBuffer> | undefined;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function load(): Loaded | null {
  if (loaded !== undefined) return loaded;
  const t0 = typeof performance !== "undefined" ? performance.now() : 0;
  loaded = null;
  try {
    moduleBytes = decodeBase64(MODULE_BASE64);
    // validate() is false where the SIMD proposal is not supported.
    if (typeof WebAssembly === "object" && WebAssembly.validate(moduleBytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes), {});
      const exports = instance.exports as unknown as Exports;
      const buffer = exports.memory.buffer;
      loaded = { exports, heap: new Float64Array(buffer), bytes: buffer.byteLength };
    }
  } catch {
    // No WebAssembly (a content security policy, a 32-bit device out of address space): JavaScript it is.
    loaded = null;
  }
  if (typeof performance !== "undefined") loadMs = performance.now() - t0;
  return loaded;
}

/** The kernels, when the backend and the size allow them. */
function kernelsFor(worthIt: boolean): Loaded | null {
  if (backend === "js" || (backend === "auto" && !worthIt)) return null;
  return load();
}

const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

// ---------------------------------------------------------------------------
// The memory: resident matrices stacked from address ALIGN up, scratch above them.

interface Resident {
  owner: ResidentMatrix | KeptStorage | OwnedStorage;
  start: number;
  end: number;
}

const residents: Resident[] = [];

/** The bytes of memory products may use. */
function capacity(k: Loaded): number {
  return memoryLimit === null ? k.bytes : Math.min(k.bytes, memoryLimit);
}

function residentsTop(): number {
  return residents.length > 0 ? residents[residents.length - 1].end : ALIGN;
}

/** Start of a scratch region of at least `bytes`, above the resident matrices, evicting some (see makeRoom) if needed. */
function scratch(k: Loaded, bytes: number): number | null {
  return makeRoom(k, bytes) ? alignUp(residentsTop()) : null;
}

/**
 * Makes `bytes` free above the resident matrices, within the fixed memory
 * (never grown): first by evicting copies of library-owned storage, least
 * recently used first, moving the residents above each one down over its room;
 * then, if that is not enough, by evicting every resident. False when `bytes`
 * do not fit even in the empty memory.
 */
function makeRoom(k: Loaded, bytes: number): boolean {
  const room = capacity(k);
  if (alignUp(residentsTop()) + bytes <= room) return true;
  if (ALIGN + bytes > room) return false;
  const owned = residents.filter((r) => r.owner instanceof OwnedStorage).sort((x, y) => (x.owner as OwnedStorage).lastUse - (y.owner as OwnedStorage).lastUse);
  for (const victim of owned) {
    residents.splice(residents.indexOf(victim), 1);
    let top = ALIGN;
    for (const r of residents) {
      const to = alignUp(top);
      if (r.start !== to) {
        k.heap.copyWithin(to / 8, r.start / 8, r.end / 8);
        r.end = to + (r.end - r.start);
        r.start = to;
      }
      top = r.end;
    }
    if (alignUp(residentsTop()) + bytes <= room) return true;
  }
  residents.length = 0;
  return true;
}

// ---------------------------------------------------------------------------
// Operands

/** A strided matrix: entry (i, j) of batch member t is data[offset + offsets[t] + i·rowStride + j·colStride]. */
export interface StridedMatrix {
  data: FloatArray;
  offset: number;
  rowStride: number;
  colStride: number;
}

/** A matrix in the memory: byte address of entry (0, 0) and byte strides. */
interface Placed {
  address: number;
  rowStride: number;
  colStride: number;
  bytes: number;
}

/** The lowest and highest storage index a rows×cols view starting at `start` touches. */
function extent(start: number, rows: number, cols: number, rowStride: number, colStride: number): [number, number] {
  const r = (rows - 1) * rowStride;
  const c = (cols - 1) * colStride;
  return [start + Math.min(0, r) + Math.min(0, c), start + Math.max(0, r) + Math.max(0, c)];
}

/**
 * Whether `place` copies a view's span of storage as it is (true) or packs its
 * entries: it packs when the span has large gaps, and for the matrix-vector
 * kernels (`unit`) when neither stride is +1.
 */
function keepsLayout(rows: number, cols: number, rowStride: number, colStride: number, unit: boolean): boolean {
  const [lo, hi] = extent(0, rows, cols, rowStride, colStride);
  if (hi - lo + 1 > 2 * rows * cols + 8) return false;
  return !unit || colStride === 1 || rowStride === 1;
}

/** Bytes `place` needs for a rows×cols view. */
function placeBytes(rows: number, cols: number, rowStride: number, colStride: number, unit: boolean): number {
  const [lo, hi] = extent(0, rows, cols, rowStride, colStride);
  return 8 * (keepsLayout(rows, cols, rowStride, colStride, unit) ? hi - lo + 1 : rows * cols);
}

/**
 * Copies the rows×cols view of `x` that starts at storage index `start` into
 * the memory at byte `at`: the whole span of storage it covers (strides kept)
 * when keepsLayout says so, otherwise its entries packed row-major.
 */
function place(k: Loaded, x: StridedMatrix, start: number, rows: number, cols: number, at: number, unit: boolean): Placed {
  const { data, rowStride, colStride } = x;
  const [lo, hi] = extent(start, rows, cols, rowStride, colStride);
  const span = hi - lo + 1;
  const heap = k.heap;
  if (keepsLayout(rows, cols, rowStride, colStride, unit)) {
    heap.set(data.subarray(lo, hi + 1), at / 8);
    return { address: at + 8 * (start - lo), rowStride: 8 * rowStride, colStride: 8 * colStride, bytes: 8 * span };
  }
  let to = at / 8;
  for (let i = 0, row = start; i < rows; i++, row += rowStride) {
    for (let j = 0, from = row; j < cols; j++, from += colStride) heap[to++] = data[from];
  }
  return { address: at, rowStride: 8 * cols, colStride: 8, bytes: 8 * rows * cols };
}

/** Bytes of the buffers gemm packs A and B into for an m×k by k×n product, and of its edge tile. */
function gemmWorkBytes(m: number, k: number, n: number): [number, number, number] {
  const kc = Math.min(k, KC);
  return [alignUp(8 * Math.min(Math.ceil(m / MR) * MR, MC) * kc), alignUp(8 * kc * Math.min(Math.ceil(n / NR) * NR, NC)), alignUp(8 * MR * NR)];
}

// ---------------------------------------------------------------------------
// Products on tensors' storage

/**
 * out[t·m·n …] = A_t (m×k) · B_t (k×n) for every batch member t (offsets
 * aOffsets[t], bOffsets[t]), out row-major and contiguous. Returns false, having
 * written nothing, when the WebAssembly kernels are not to be used for it.
 */
export function matmulWasm(a: StridedMatrix, aOffsets: ArrayLike<number>, b: StridedMatrix, bOffsets: ArrayLike<number>, m: number, k: number, n: number, out: FloatArray): boolean {
  if (m === 0 || n === 0 || k === 0) return false;
  if (n === 1 || m === 1) {
    if (m === 1 && n === 1) return false; // a dot product: the copies would cost as much as the arithmetic
    const kernels = kernelsFor(m * k * n >= GEMV_MIN_ENTRIES);
    if (kernels === null) return false;
    // A row times B is Bᵀ times that row: (1×k)(k×n) = ((n×k)(k×1))ᵀ.
    return n === 1
      ? gemv(kernels, a, aOffsets, m, b.data, b.offset, b.rowStride, bOffsets, k, out)
      : gemv(kernels, { data: b.data, offset: b.offset, rowStride: b.colStride, colStride: b.rowStride }, bOffsets, n, a.data, a.offset, a.colStride, aOffsets, k, out);
  }
  const kernels = kernelsFor(m * k * n >= GEMM_MIN_MULTIPLY_ADDS);
  if (kernels === null) return false;
  return gemm(kernels, a, aOffsets, b, bOffsets, m, k, n, out);
}

/** How many rows of A (and of C) fit in `room` bytes at a time, or 0 if not enough for a useful block. */
function rowsPerBlock(room: number, m: number, k: number, n: number, rowStride: number, colStride: number, unit: boolean): number {
  if (placeBytes(m, k, rowStride, colStride, unit) + 8 * m * n + 2 * ALIGN <= room) return m;
  // Worst case per row: twice the row's entries (place's span criterion) plus its row of C.
  const rows = Math.floor((room - 4 * ALIGN) / (16 * k + 8 * n + 64));
  return rows >= 4 * MR ? Math.min(rows, m) : 0;
}

function gemm(kernels: Loaded, a: StridedMatrix, aOffsets: ArrayLike<number>, b: StridedMatrix, bOffsets: ArrayLike<number>, m: number, k: number, n: number, out: FloatArray): boolean {
  const bBytes = alignUp(placeBytes(k, n, b.rowStride, b.colStride, false));
  const [packedABytes, packedBBytes, tileBytes] = gemmWorkBytes(m, k, n);
  const workBytes = packedABytes + packedBBytes + tileBytes;
  const start = scratch(kernels, bBytes + workBytes + alignUp(placeBytes(Math.min(m, 4 * MR), k, a.rowStride, a.colStride, false)) + 8 * n * 4 * MR + 4 * ALIGN);
  if (start === null) return false;
  const packedA = start + bBytes;
  const packedB = packedA + packedABytes;
  const tile = packedB + packedBBytes;
  const blockStart = tile + tileBytes;
  const rows = rowsPerBlock(capacity(kernels) - blockStart, m, k, n, a.rowStride, a.colStride, false);
  if (rows === 0) return false;
  const { exports, heap } = kernels;
  let placedB: Placed | null = null;
  let placedBOffset = NaN;
  for (let t = 0; t < aOffsets.length; t++) {
    // Batch members sharing B (a broadcast) copy it once.
    if (placedB === null || bOffsets[t] !== placedBOffset) {
      placedB = place(kernels, b, b.offset + bOffsets[t], k, n, start, false);
      placedBOffset = bOffsets[t];
    }
    for (let i0 = 0; i0 < m; i0 += rows) {
      const count = Math.min(rows, m - i0);
      const A = place(kernels, a, a.offset + aOffsets[t] + i0 * a.rowStride, count, k, blockStart, false);
      const c = alignUp(blockStart + A.bytes);
      exports.gemm(A.address, A.rowStride, A.colStride, placedB.address, placedB.rowStride, placedB.colStride, c, count, k, n, packedA, packedB, tile);
      out.set(heap.subarray(c / 8, c / 8 + count * n), (t * m + i0) * n);
    }
  }
  wasmProducts++;
  return true;
}

/**
 * Bytes of A a matrix-vector product copies in at a time: the kernel then reads
 * each block from the L2 cache right after copying it, instead of reading all
 * of A back from L3 (a 1000×200 A is 1.6 MB; L2 is 1 MiB per core here). The
 * copies' fixed cost per block grows below ~64 KiB; measured with ab scripts
 * on 1000×200, 2000×100, 100×2000, 1000² and 300² (best 128–256 KiB).
 */
const GEMV_BLOCK_BYTES = 128 * 1024;

/** At least one, a multiple of `multiple` when that many fit, at most `all`. */
function blockCount(fit: number, multiple: number, all: number): number {
  const rounded = fit >= multiple ? fit - (fit % multiple) : Math.max(1, fit);
  return Math.min(all, rounded);
}

/**
 * out[t·m …] = A_t (m×k) · x_t for every batch member t, with x_t the k entries
 * xData[xOffset + xOffsets[t] + p·xStride]. A kept resident for the scope
 * running (see keepingResident) is read where it lies; otherwise A is copied in
 * block by block, each block multiplied while it is in the L1 cache: blocks of
 * rows, or, for A with contiguous columns (a transposed view), blocks of
 * columns whose products add up in y.
 */
function gemv(kernels: Loaded, a: StridedMatrix, aOffsets: ArrayLike<number>, m: number, xData: FloatArray, xOffset: number, xStride: number, xOffsets: ArrayLike<number>, k: number, out: FloatArray): boolean {
  const { rowStride, colStride } = a;
  // Rows (or columns) per block: at least one, and the whole of A when it is small.
  const columnsPerBlock = blockCount(Math.floor(GEMV_BLOCK_BYTES / (8 * m)), GEMV_COLS, k);
  const byColumns = colStride !== 1 && rowStride === 1 && keepsLayout(m, columnsPerBlock, rowStride, colStride, true);
  const perBlock = byColumns ? columnsPerBlock : blockCount(Math.floor(GEMV_BLOCK_BYTES / (8 * k)), GEMV_ROWS, m);
  const xBytes = alignUp(8 * k);
  const yBytes = alignUp(8 * m);
  const blockBytes = alignUp(byColumns ? placeBytes(m, perBlock, rowStride, colStride, true) : placeBytes(perBlock, k, rowStride, colStride, true));
  const work = xBytes + yBytes + blockBytes + ALIGN;
  let kept = keptCopy(kernels, a.data, work) ?? ownedCopy(kernels, a.data, m * k * aOffsets.length, work);
  const start = scratch(kernels, work);
  if (start === null) return false;
  if (kept !== null && !residents.includes(kept)) kept = null;
  const yAt = start + xBytes;
  const blockAt = yAt + yBytes;
  const { heap, exports } = kernels;
  let placedX = NaN;
  for (let t = 0; t < aOffsets.length; t++) {
    if (xOffsets[t] !== placedX) {
      placedX = xOffsets[t];
      const x0 = xOffset + placedX;
      if (xStride === 1) heap.set(xData.subarray(x0, x0 + k), start / 8);
      else for (let p = 0, q = start / 8; p < k; p++) heap[q + p] = xData[x0 + p * xStride];
    }
    const origin = a.offset + aOffsets[t];
    const resident = kept === null ? null : keptView(kept, a, origin, m, k);
    if (resident !== null) runGemv(exports, resident, m, k, start, yAt, false);
    else if (byColumns) {
      for (let p0 = 0; p0 < k; p0 += perBlock) {
        const count = Math.min(perBlock, k - p0);
        const A = place(kernels, a, origin + p0 * colStride, m, count, blockAt, true);
        runGemv(exports, A, m, count, start + 8 * p0, yAt, p0 > 0);
      }
    } else {
      for (let i0 = 0; i0 < m; i0 += perBlock) {
        const count = Math.min(perBlock, m - i0);
        const A = place(kernels, a, origin + i0 * rowStride, count, k, blockAt, true);
        runGemv(exports, A, count, k, start, yAt + 8 * i0, false);
      }
    }
    out.set(heap.subarray(yAt / 8, yAt / 8 + m), t * m);
  }
  wasmProducts++;
  return true;
}

/**
 * y = A x (y += A x when `accumulate`) with the kernel that reads A in storage
 * order (place() made one of its strides 8 bytes). Only gemvCols accumulates.
 */
function runGemv(exports: Exports, A: Placed, m: number, k: number, x: number, y: number, accumulate: boolean): void {
  if (A.colStride === 8 && !accumulate) exports.gemvRows(A.address, A.rowStride, m, k, x, y);
  else exports.gemvCols(A.address, A.colStride, m, k, x, y, accumulate ? 1 : 0);
}

// ---------------------------------------------------------------------------
// Storage kept in the memory for a scope

/**
 * The span [lo, hi] of a storage array whose copy may stay in the memory while
 * the scope that registered it runs, so that products by a large constant
 * matrix (and by its transposed views) read it where it lies instead of copying
 * it in every time. `owner` is the scope's token.
 */
interface KeptStorage {
  data: FloatArray;
  lo: number;
  hi: number;
}

/** The spans registered by the scopes running (see keepingResident), by storage array. */
const keptSpans = new Map<FloatArray, KeptStorage>();

/**
 * Views smaller than this many entries are not kept: their copy stays in the L1
 * cache and costs little next to the product.
 */
const KEEP_MIN_ENTRIES = 8192;

/** A view's shape, strides and offset into its storage (a Tensor is one). */
export interface StorageView {
  data: FloatArray;
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
}

/**
 * Runs `body` with the storage of `views` allowed to stay in the memory between
 * the products it runs: each view's span of storage is copied in on its first
 * product and read there by the later ones (until another product needs the
 * room), and let go when `body` returns. Only for code that runs the library
 * alone on values that cannot change meanwhile (one Krylov solve over a
 * linearisation's constants, one backward sweep): a copy must never outlive a
 * call that returns to the user, who may write into an array a tensor wraps
 * without copying before the next call. Views already kept by an enclosing
 * scope stay under that scope; views of library-owned storage are left to
 * ownedCopy, which keeps them across calls.
 */
export function keepingResident<T>(views: readonly StorageView[], body: () => T): T {
  const mine: KeptStorage[] = [];
  if (backend !== "js") {
    for (const v of views) {
      const size = sizeOf(v.shape);
      // Library-owned storage stays across calls already (see ownedCopy).
      if (size < KEEP_MIN_ENTRIES || isOwned(v.data)) continue;
      let lo = v.offset;
      let hi = v.offset;
      for (let d = 0; d < v.shape.length; d++) {
        const reach = (v.shape[d] - 1) * v.strides[d];
        if (reach < 0) lo += reach;
        else hi += reach;
      }
      // A view with large gaps in its storage would copy much that no product reads;
      // a broadcast one is small in storage, however large its shape.
      if (hi - lo + 1 > 2 * size + 8 || hi - lo + 1 < KEEP_MIN_ENTRIES) continue;
      const known = keptSpans.get(v.data);
      if (known === undefined) {
        const entry = { data: v.data, lo, hi };
        keptSpans.set(v.data, entry);
        mine.push(entry);
      } else if (mine.includes(known) && !residents.some((r) => r.owner === known)) {
        known.lo = Math.min(known.lo, lo);
        known.hi = Math.max(known.hi, hi);
      }
    }
  }
  try {
    return body();
  } finally {
    for (const entry of mine) {
      keptSpans.delete(entry.data);
      const at = residents.findIndex((r) => r.owner === entry);
      if (at >= 0) residents.splice(at, 1);
    }
  }
}

/**
 * The resident copy of `data` if a running scope keeps it, copied in now if it
 * is not there yet (leaving `workBytes` free above it); null otherwise.
 */
function keptCopy(k: Loaded, data: FloatArray, workBytes: number): Resident | null {
  if (keptSpans.size === 0) return null;
  const entry = keptSpans.get(data);
  if (entry === undefined) return null;
  const present = residents.find((r) => r.owner === entry);
  if (present !== undefined) return present;
  const bytes = alignUp(8 * (entry.hi - entry.lo + 1));
  const room = capacity(k);
  if (ALIGN + bytes + workBytes > room) return null;
  makeRoom(k, bytes + workBytes);
  const start = alignUp(residentsTop());
  k.heap.set(data.subarray(entry.lo, entry.hi + 1), start / 8);
  keptCopies++;
  const resident: Resident = { owner: entry, start, end: start + bytes };
  residents.push(resident);
  return resident;
}

/**
 * The rows×cols view of kept storage starting at storage index `start`, placed
 * where its copy lies, when the copy covers it and the matrix-vector kernels
 * can read it (one stride +1); null otherwise.
 */
function keptView(resident: Resident, x: StridedMatrix, start: number, rows: number, cols: number): Placed | null {
  const entry = resident.owner as KeptStorage | OwnedStorage;
  const { rowStride, colStride } = x;
  if (colStride !== 1 && rowStride !== 1) return null;
  const [lo, hi] = extent(start, rows, cols, rowStride, colStride);
  if (lo < entry.lo || hi > entry.hi) return null;
  return { address: resident.start + 8 * (start - entry.lo), rowStride: 8 * rowStride, colStride: 8 * colStride, bytes: 0 };
}

// ---------------------------------------------------------------------------
// Library-owned storage kept in the memory across calls

/**
 * The copy in the memory of a library-owned storage array (see ../owned.ts):
 * all of it, kept across calls, since nothing ever writes into it. Evicted,
 * least recently used first, when products need the room (makeRoom).
 */
class OwnedStorage {
  readonly lo = 0;
  readonly hi: number;
  lastUse = 0;
  constructor(readonly data: FloatArray) {
    this.hi = data.length - 1;
  }
}

/** The copies of owned storage, by storage array (an entry is resident or not). */
const ownedEntries = new WeakMap<FloatArray, OwnedStorage>();
/** The clock of lastUse. */
let ownedClock = 0;

/**
 * The resident copy of library-owned storage `data` for a product reading
 * `entries` of it, copied in now if it is not there yet (leaving `workBytes`
 * free above it); null for storage the user may write into, for small views,
 * and for views reading much less than the array (a slice of a larger one).
 */
function ownedCopy(k: Loaded, data: FloatArray, entries: number, workBytes: number): Resident | null {
  if (entries < KEEP_MIN_ENTRIES || data.length > 2 * entries + 8 || !isOwned(data)) return null;
  let entry = ownedEntries.get(data);
  if (entry === undefined) {
    entry = new OwnedStorage(data);
    ownedEntries.set(data, entry);
  }
  entry.lastUse = ++ownedClock;
  const present = residents.find((r) => r.owner === entry);
  if (present !== undefined) return present;
  const bytes = alignUp(8 * data.length);
  if (!makeRoom(k, bytes + workBytes)) return null;
  const start = alignUp(residentsTop());
  k.heap.set(data, start / 8);
  keptCopies++;
  const resident: Resident = { owner: entry, start, end: start + bytes };
  residents.push(resident);
  return resident;
}

// ---------------------------------------------------------------------------
// A matrix kept in the memory across products

/**
 * A row-major m×n float64 matrix that stays in the memory while one owner (a
 * Krylov solve) multiplies by it many times, so that each product copies only
 * the vectors. The matrix must not change while the owner uses it; a new solve
 * makes a new ResidentMatrix, so a matrix changed between solves is copied again.
 * Another product needing the room evicts it; the next multiply copies it back.
 */
export class ResidentMatrix {
  constructor(private readonly a: Float64Array, readonly rows: number, readonly cols: number) {}

  /** out = A x (or Aᵀ x). False, having written nothing, when the JavaScript kernels are to be used. */
  multiply(x: Float64Array, out: Float64Array, transpose: boolean): boolean {
    const { rows: m, cols: n } = this;
    const kernels = kernelsFor(m * n >= GEMV_MIN_ENTRIES);
    if (kernels === null || m === 0 || n === 0) return false;
    const matrixBytes = alignUp(8 * m * n);
    const vectorBytes = alignUp(8 * m) + alignUp(8 * n);
    let resident = residents.find((r) => r.owner === this);
    const room = capacity(kernels);
    if (resident !== undefined && !makeRoom(kernels, vectorBytes)) return false;
    if (resident !== undefined && !residents.includes(resident)) resident = undefined;
    if (resident === undefined) {
      if (ALIGN + matrixBytes + vectorBytes > room) return false;
      makeRoom(kernels, matrixBytes + vectorBytes);
      const start = alignUp(residentsTop());
      kernels.heap.set(this.a.subarray(0, m * n), start / 8);
      resident = { owner: this, start, end: start + matrixBytes };
      residents.push(resident);
    }
    const [inLen, outLen] = transpose ? [m, n] : [n, m];
    const xAt = alignUp(residentsTop());
    const yAt = xAt + alignUp(8 * inLen);
    const { heap, exports } = kernels;
    heap.set(x.subarray(0, inLen), xAt / 8);
    if (transpose) exports.gemvCols(resident.start, 8 * n, n, m, xAt, yAt, 0);
    else exports.gemvRows(resident.start, 8 * n, m, n, xAt, yAt);
    out.set(heap.subarray(yAt / 8, yAt / 8 + outLen));
    wasmProducts++;
    return true;
  }

  /** Frees its room for others (the solve is over): the next resident matrix reuses memory already touched. */
  release(): void {
    const at = residents.findIndex((r) => r.owner === this);
    if (at >= 0) residents.splice(at, 1);
  }
}

// ---------------------------------------------------------------------------
// For specs and benchmarks

/**
 * Whether the WebAssembly kernels run here, what loading them cost (on the
 * first use), how many products they have run, how many dense matrices are
 * resident in their memory (ownedResident of them copies of library-owned
 * storage, kept across calls) and how many copies of kept storage (see
 * keepingResident and ownedCopy) have been made.
 */
export function wasmKernelInfo(): { available: boolean; loadMs: number; moduleBytes: number; memoryBytes: number; products: number; residentMatrices: number; ownedResident: number; keptCopies: number } {
  const k = load();
  const ownedResident = residents.filter((r) => r.owner instanceof OwnedStorage).length;
  return { available: k !== null, loadMs, moduleBytes: moduleBytes?.length ?? 0, memoryBytes: k?.bytes ?? 0, products: wasmProducts, residentMatrices: residents.length, ownedResident, keptCopies };
}

/** @internal For specs: the byte length of the WebAssembly memory now (0 before it exists); it never changes once made. */
export function wasmMemoryByteLength(): number {
  return loaded ? loaded.exports.memory.buffer.byteLength : 0;
}

/** @internal For specs: let products use only the first `bytes` of the memory (null: all of it). Evicts resident matrices. */
export function limitWasmMemory(bytes: number | null): void {
  memoryLimit = bytes;
  residents.length = 0;
}

