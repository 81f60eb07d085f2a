/**
 * The fallback where code generation is forbidden: the same fused kernels run
 * by a small vector machine (numexpr's design). The loop space is cut into
 * rows along its last axis, and rows into blocks of at most `BLOCK` entries;
 * each node of the kernel's tree is evaluated over a block into a buffer of its
 * own (allocated once per kernel), so a kernel still makes one pass over
 * memory, with its intermediates in cache. An op runs its primitive's vector
 * loop (`elementwise.vector`) where it has one, its scalar form otherwise.
 */
import type { FloatArray, Tensor } from "../tensor/tensor.js";
import type { Kernel, Node } from "./fuse.js";
import { coefficients, initialValue, outputCoefficients, readsOf } from "./layout.js";

const BLOCK = 1024;

type Program = { run(out: FloatArray, data: readonly FloatArray[], bases: Float64Array): void };

/** An interpreted kernel for leaves of these strides (the coefficients are read from them, as generated code bakes them in). */
export function interpreter(kernel: Kernel, leaves: readonly Tensor[]): Program {
  const reads = readsOf(kernel);
  const rank = kernel.shape.length;
  const coefs = reads.map((r) => coefficients(r, leaves[r.slot], rank));
  const readIndex = new Map<Node, number>();
  reads.forEach((r, i) => readIndex.set(r.node, i));
  const buffers = new Map<Node, Float64Array>();
  const bufferOf = (n: Node): Float64Array => {
    let b = buffers.get(n);
    if (b === undefined) buffers.set(n, (b = new Float64Array(BLOCK)));
    return b;
  };
  const last = rank - 1;
  const rowLength = rank === 0 ? 1 : kernel.shape[last];
  const outCoef = outputCoefficients(kernel);
  const position = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const rowBase = new Float64Array(reads.length);

  /** Evaluates node n over entries j0 … j0 + len − 1 of the current row. */
  const evaluate = (n: Node, j0: number, len: number, data: readonly FloatArray[]): Float64Array => {
    const buf = bufferOf(n);
    if (n.kind === "zero") {
      buf.fill(0, 0, len);
    } else if (n.kind === "read") {
      const r = readIndex.get(n)!;
      const step = rank === 0 ? 0 : coefs[r][last];
      const src = data[n.slot];
      let idx = rowBase[r] + step * j0;
      if (step === 0) buf.fill(src[idx], 0, len);
      else for (let k = 0; k < len; k++, idx += step) buf[k] = src[idx];
    } else if (n.kind === "guard") {
      let inside = true;
      let lo = 0;
      let hi = len;
      for (const b of n.bounds) {
        if (b.axis === last) {
          lo = Math.max(lo, b.lo - j0);
          hi = Math.min(hi, b.hi - j0);
        } else if (position[b.axis] < b.lo || position[b.axis] >= b.hi) inside = false;
      }
      if (!inside || lo >= hi) buf.fill(0, 0, len);
      else {
        const inner = evaluate(n.inner, j0, len, data);
        for (let k = 0; k < lo; k++) buf[k] = 0;
        for (let k = lo; k < hi; k++) buf[k] = inner[k];
        for (let k = hi; k < len; k++) buf[k] = 0;
      }
    } else {
      const args = n.args.map((a) => evaluate(a, j0, len, data));
      const e = n.prim.elementwise!;
      if (e.vector !== undefined) e.vector(buf, args, len);
      else if (args.length === 1) {
        const f = e.scalar, a = args[0];
        for (let k = 0; k < len; k++) buf[k] = f(a[k]);
      } else if (args.length === 2) {
        const f = e.scalar, a = args[0], b = args[1];
        for (let k = 0; k < len; k++) buf[k] = f(a[k], b[k]);
      } else {
        const f = e.scalar;
        for (let k = 0; k < len; k++) buf[k] = f(...args.map((a) => a[k]));
      }
    }
    return buf;
  };

  return {
    run(out, data, bases) {
      const init = initialValue(kernel);
      const fullReduce = kernel.kind === "reduce" && kernel.axes.length === rank;
      let acc = init;
      if (kernel.kind === "reduce" && !fullReduce) out.fill(init);
      const rows = rank <= 1 ? 1 : kernel.shape.slice(0, last).reduce((a, b) => a * b, 1);
      if (rows === 0 || rowLength === 0) {
        if (fullReduce) out[0] = acc;
        return;
      }
      position.fill(0);
      let o = 0;
      for (let row = 0; row < rows; row++) {
        let outRow = 0;
        for (let r = 0; r < reads.length; r++) {
          let b = bases[r];
          for (let d = 0; d < last; d++) b += coefs[r][d] * position[d];
          rowBase[r] = b;
        }
        for (let d = 0; d < last; d++) outRow += outCoef[d] * position[d];
        const outStep = rank === 0 ? 0 : outCoef[last];
        for (let j0 = 0; j0 < rowLength; j0 += BLOCK) {
          const len = Math.min(BLOCK, rowLength - j0);
          const v = evaluate(kernel.root, j0, len, data);
          if (kernel.kind === "map") {
            for (let k = 0; k < len; k++) out[o++] = v[k];
          } else if (kernel.reduction === "sum") {
            if (fullReduce) for (let k = 0; k < len; k++) acc += v[k];
            else for (let k = 0, p = outRow + outStep * j0; k < len; k++, p += outStep) out[p] += v[k];
          } else {
            const isMax = kernel.reduction === "max";
            for (let k = 0, p = outRow + outStep * j0; k < len; k++, p += outStep) {
              const x = v[k];
              const cur = fullReduce ? acc : out[p];
              const next = x !== x ? NaN : (isMax ? x > cur : x < cur) ? x : cur;
              if (fullReduce) acc = next;
              else out[p] = next;
            }
          }
        }
        // Next row: the odometer over the leading axes.
        for (let d = last - 1; d >= 0; d--) {
          if (++position[d] < kernel.shape[d]) break;
          position[d] = 0;
        }
      }
      if (fullReduce) out[0] = acc;
    },
  };
}
