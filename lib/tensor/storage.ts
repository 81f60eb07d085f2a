/**
 * Where kernel outputs get their memory.
 *
 * By default every output is fresh storage: tensors are immutable, so no op may
 * write into storage a user could still hold. Two refinements:
 *
 *  - Small outputs are cut from a shared 8 KiB slab. V8 gives every typed array
 *    of more than 64 bytes its own off-heap buffer at a cost of a few hundred ns,
 *    more than the arithmetic of a small op (the price: a long-lived small tensor
 *    keeps its slab alive, as with Node's Buffer pool).
 *  - While the engine evaluates a program it owns (a linear program from
 *    `linearize` applied many times), outputs come from that program's
 *    `BufferPool`: buffers planned on the first application and reused by every
 *    later one. On this machine writing into fresh large storage costs ~11× writing
 *    into reused storage (page faults on first touch), so this, not kernel tuning,
 *    decides the speed of a Krylov iteration at a million unknowns. Pool buffers
 *    never reach the user: the program copies its results out.
 */
import { allocate, type DType, type FloatArray } from "./tensor.js";

const SMALL_OUTPUT_BYTES = 512;
const SLAB_BYTES = 8192;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** A source of reusable output storage (lib/ad/linear-program.ts). */
export interface OutputSource {
  /** Storage of `n` entries; zero-filled when `zeroed` (kernels that accumulate need it). */
  take(dtype: DType, n: number, zeroed: boolean): FloatArray;
}

let source: OutputSource | null = null;

/**
 * Storage for a kernel's output of `n` entries. Pass `zeroed: false` only when
 * the kernel writes every entry (fresh storage is zero-filled either way).
 */
export function allocateOutput(dtype: DType, n: number, zeroed = true): FloatArray {
  if (source !== null) return source.take(dtype, n, zeroed);
  const bytes = 8 * Math.ceil((n * (dtype === "float32" ? 4 : 8)) / 8);
  if (bytes <= 64 || bytes > SMALL_OUTPUT_BYTES) return allocate(dtype, n);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = dtype === "float32" ? new Float32Array(slab, slabUsed, n) : new Float64Array(slab, slabUsed, n);
  slabUsed += bytes;
  return out;
}

/** True while kernel outputs come from a program's pool rather than fresh storage. */
export function outputsPooled(): boolean {
  return source !== null;
}

/** Runs `body` with kernel outputs taken from `from` (null: fresh storage), restoring the previous source after. */
export function withOutputSource<T>(from: OutputSource | null, body: () => T): T {
  const saved = source;
  source = from;
  try {
    return body();
  } finally {
    source = saved;
  }
}

/**
 * Reusable storage, matched by dtype and length. `take` hands out a free buffer
 * (or allocates one, which the pool then owns); `release` makes a buffer free
 * again. A program that takes and releases in the same order on every run
 * allocates nothing after its first.
 */
export class BufferPool implements OutputSource {
  private readonly free = new Map<string, FloatArray[]>();
  private readonly isFree = new Set<FloatArray>();
  /** Every buffer the pool owns, with the number of live values using it. */
  private readonly refs = new Map<FloatArray, number>();
  /** Buffers handed out since `mark()`, in order. */
  private taken: FloatArray[] = [];
  /** Bytes of every buffer the pool owns. */
  bytes = 0;

  take(dtype: DType, n: number, zeroed: boolean): FloatArray {
    const list = this.free.get(key(dtype, n));
    let buffer = list !== undefined && list.length > 0 ? list.pop()! : null;
    if (buffer === null) {
      buffer = allocate(dtype, n);
      this.bytes += buffer.byteLength;
    } else {
      this.isFree.delete(buffer);
      if (zeroed) buffer.fill(0);
    }
    this.refs.set(buffer, 0);
    this.taken.push(buffer);
    return buffer;
  }

  /** True when `buffer` belongs to this pool. */
  owns(buffer: FloatArray): boolean {
    return this.refs.has(buffer);
  }

  /** Starts a step: `takenSinceMark()` reports the buffers taken from now on. */
  mark(): void {
    this.taken = [];
  }

  takenSinceMark(): readonly FloatArray[] {
    return this.taken;
  }

  /** One more live value uses `buffer` (no effect on storage the pool does not own). */
  retain(buffer: FloatArray): void {
    const r = this.refs.get(buffer);
    if (r !== undefined) this.refs.set(buffer, r + 1);
  }

  /** A live value using `buffer` is gone; the buffer is free when none is left. */
  release(buffer: FloatArray): void {
    const r = this.refs.get(buffer);
    if (r === undefined) return;
    if (r <= 1) this.freeBuffer(buffer);
    else this.refs.set(buffer, r - 1);
  }

  /** Frees `buffer` if no live value uses it (the temporaries of a step). */
  freeIfUnused(buffer: FloatArray): void {
    if (this.refs.get(buffer) === 0) this.freeBuffer(buffer);
  }

  /**
   * Gives `buffer` away: the pool forgets it (a later run allocates anew), so
   * that a result living in it can be handed out without a copy.
   */
  disown(buffer: FloatArray): void {
    if (!this.refs.has(buffer)) return;
    this.refs.delete(buffer);
    this.bytes -= buffer.byteLength;
    if (this.isFree.delete(buffer)) {
      const list = this.free.get(key(buffer instanceof Float32Array ? "float32" : "float64", buffer.length));
      if (list !== undefined) list.splice(list.indexOf(buffer), 1);
    }
  }

  /** Frees every buffer: the end of a run, when none of its values is live any more. */
  releaseAll(): void {
    for (const buffer of this.refs.keys()) this.freeBuffer(buffer);
  }

  private freeBuffer(buffer: FloatArray): void {
    this.refs.set(buffer, 0);
    if (this.isFree.has(buffer)) return;
    this.isFree.add(buffer);
    const k = key(buffer instanceof Float32Array ? "float32" : "float64", buffer.length);
    const list = this.free.get(k);
    if (list === undefined) this.free.set(k, [buffer]);
    else list.push(buffer);
  }
}

function key(dtype: DType, n: number): string {
  return dtype === "float32" ? `f${n}` : `d${n}`;
}
