/**
 * Storage arrays the library owns: made by `tensor(value, { copy: true })`,
 * never handed to the user (accessors return copies of them), and never
 * written after construction. A copy of such storage may therefore stay in the
 * WebAssembly memory across calls (lib/tensor/wasm/dense.ts); storage a tensor
 * wraps without copying may change between calls and never does.
 */
import type { FloatArray } from "./tensor.js";

const owned = new WeakSet<FloatArray>();

/** @internal Marks `data` as library-owned (call only on a fresh array nobody else holds). */
export function markOwned(data: FloatArray): void {
  owned.add(data);
}

/** @internal True when `data` is library-owned storage (see markOwned). */
export function isOwned(data: FloatArray): boolean {
  return owned.has(data);
}
