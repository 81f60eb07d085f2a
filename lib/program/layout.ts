/**
 * Where a kernel's reads land in memory, once the tensors it reads are known:
 * read r at loop position (i₀, …, iₙ) is `data[base_r + Σ coef_r[d]·i_d]`.
 * Generated code bakes the coefficients in (kernels are keyed by the strides of
 * their leaves); both code paths take the bases per call.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { Kernel, Node } from "./fuse.js";

export interface Read {
  readonly slot: number;
  readonly node: Extract<Node, { kind: "read" }>;
}

/** The reads of a kernel's tree, in a fixed order (each read node once). */
export function readsOf(kernel: Kernel): Read[] {
  const reads: Read[] = [];
  const visit = (n: Node): void => {
    if (n.kind === "read") reads.push({ slot: n.slot, node: n });
    else if (n.kind === "op") n.args.forEach(visit);
    else if (n.kind === "guard") visit(n.inner);
  };
  visit(kernel.root);
  return reads;
}

/** The coefficient of each loop axis in read r's index, given its leaf's strides. */
export function coefficients(read: Read, leaf: Tensor, rank: number): number[] {
  const coef = new Array<number>(rank).fill(0);
  read.node.map.dims.forEach((d, j) => {
    if (d.axis >= 0) coef[d.axis] += leaf.strides[j];
  });
  return coef;
}

/** Read r's index at loop position 0. */
export function baseOf(read: Read, leaf: Tensor): number {
  const dims = read.node.map.dims;
  const strides = leaf.strides;
  let base = leaf.offset;
  for (let j = 0; j < dims.length; j++) base += strides[j] * dims[j].offset;
  return base;
}

/** A key for the strides of the leaves: generated code depends on nothing else of theirs. */
export function layoutKey(leaves: readonly Tensor[]): string {
  let key = "";
  for (const t of leaves) key += t.strides.join(",") + ";";
  return key;
}

/** Row-major strides of the kept axes of a reduction, 0 on the reduced ones. */
export function outputCoefficients(kernel: Kernel): number[] {
  const coef = new Array<number>(kernel.shape.length).fill(0);
  let stride = 1;
  for (let d = kernel.shape.length - 1; d >= 0; d--) {
    if (kernel.kind === "reduce" && kernel.axes.includes(d)) continue;
    coef[d] = stride;
    stride *= kernel.shape[d];
  }
  return coef;
}

/** The value a reduction starts from. */
export function initialValue(kernel: Kernel): number {
  return kernel.reduction === "max" ? -Infinity : kernel.reduction === "min" ? Infinity : 0;
}
