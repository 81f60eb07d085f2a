/**
 * The fallback where code generation is forbidden: the same fused kernels run
 * by a small vector machine (numexpr's design). A kernel's tree is flattened
 * once into instructions over distinct values (a repeated subexpression is one
 * instruction), each with a buffer of `BLOCK` entries allocated once. The loop
 * space is cut into rows along its last axis, and rows into blocks; each
 * instruction runs over a block, so a kernel still makes one pass over memory
 * with its intermediates in cache. A read that walks its array with unit
 * stride costs nothing: instructions read it where it lies (an array and an
 * offset), as they read a buffer at offset 0. Values that do not move along the
 * loop (constants and what is computed from them alone) are computed once per
 * run. An op runs its primitive's vector loop (`elementwise.vector`) where it
 * has one, its scalar form otherwise; a guard (pad's zeros) clears what lies
 * outside its box.
 */
import type { FloatArray, Tensor } from "../tensor/tensor.js";
import type { Bound, Kernel, Node } from "./fuse.js";
import type { Elementwise } from "../primitives/core.js";
import { coefficients, initialValue, outputCoefficients, readsOf } from "./layout.js";

const BLOCK = 1024;

/** Where a value lies for the current block: `arrays[v]` from `offsets[v]` on. */
interface Frame {
  arrays: FloatArray[];
  offsets: number[];
}

type Instruction =
  /** Read r copied into value `out`'s buffer (strided or broadcast reads); unit-stride reads are not instructions. */
  | { kind: "read"; out: number; read: number; invariant: boolean }
  | { kind: "op"; out: number; op: Elementwise; args: number[]; argArrays: FloatArray[]; argOffsets: number[]; invariant: boolean }
  | { kind: "guard"; out: number; inner: number; bounds: readonly Bound[]; invariant: false }
  | { kind: "zero"; out: number; invariant: true };

type Program = { run(out: FloatArray, data: readonly FloatArray[], bases: Float64Array): void };

/** buf[k] = src[idx + k·step] for k < len. */
function readRow(buf: Float64Array, src: FloatArray, idx: number, step: number, len: number): void {
  if (step === 0) buf.fill(src[idx], 0, len);
  else for (let k = 0, q = idx; k < len; k++, q += step) buf[k] = src[q];
}

/** buf = inner on [lo, hi), 0 elsewhere. */
function maskRow(buf: Float64Array, inner: FloatArray, offset: number, lo: number, hi: number, len: number): void {
  if (lo >= hi) {
    buf.fill(0, 0, len);
    return;
  }
  if (lo > 0) buf.fill(0, 0, lo);
  for (let k = lo; k < hi; k++) buf[k] = inner[offset + k];
  if (hi < len) buf.fill(0, hi, len);
}

/** One op over a block: its vector loop, or its scalar form per entry. */
function applyOp(e: Elementwise, buf: Float64Array, args: readonly FloatArray[], offsets: readonly number[], len: number): void {
  if (e.vector !== undefined) e.vector(buf, args, offsets, len);
  else if (args.length === 1) {
    const f = e.scalar, a = args[0], ia = offsets[0];
    for (let k = 0; k < len; k++) buf[k] = f(a[ia + k]);
  } else if (args.length === 2) {
    const f = e.scalar, a = args[0], b = args[1], ia = offsets[0], ib = offsets[1];
    for (let k = 0; k < len; k++) buf[k] = f(a[ia + k], b[ib + k]);
  } else {
    const f = e.scalar, a = args[0], b = args[1], c = args[2], ia = offsets[0], ib = offsets[1], ic = offsets[2];
    for (let k = 0; k < len; k++) buf[k] = f(a[ia + k], b[ib + k], c[ic + k]);
  }
}

/** An interpreted kernel for leaves of these strides (the coefficients are read from them, as generated code bakes them in). */
export function interpreter(kernel: Kernel, leaves: readonly Tensor[]): Program {
  const reads = readsOf(kernel);
  const rank = kernel.shape.length;
  const last = rank - 1;
  const coefs = reads.map((r) => coefficients(r, leaves[r.slot], rank));
  const steps = reads.map((_, r) => (rank === 0 ? 0 : coefs[r][last]));
  const readIndex = new Map<Node, number>();
  reads.forEach((r, i) => readIndex.set(r.node, i));

  // Values: each a buffer of its own, or a unit-stride read taken where it lies.
  const buffers: (Float64Array | null)[] = [];
  const direct: number[] = []; // value → read index for unit-stride reads, −1 otherwise
  const invariantValue: boolean[] = [];
  const program: Instruction[] = [];
  const byKey = new Map<string, number>();
  const readKey = (i: number): string => `${reads[i].slot}:${reads[i].node.map.dims.map((d) => `${d.axis},${d.offset}`).join(";")}`;
  const value = (key: string, isDirect: number, invariant: boolean): number => {
    const v = buffers.length;
    buffers.push(isDirect >= 0 ? null : new Float64Array(BLOCK));
    direct.push(isDirect);
    invariantValue.push(invariant);
    byKey.set(key, v);
    return v;
  };
  const compileNode = (n: Node): number => {
    if (n.kind === "read") {
      const r = readIndex.get(n)!;
      const key = `r${readKey(r)}`;
      const known = byKey.get(key);
      if (known !== undefined) return known;
      const invariant = coefs[r].every((c) => c === 0);
      if (steps[r] === 1) return value(key, r, false);
      const v = value(key, -1, invariant);
      program.push({ kind: "read", out: v, read: r, invariant });
      return v;
    }
    if (n.kind === "zero") {
      const known = byKey.get("0");
      if (known !== undefined) return known;
      const v = value("0", -1, true);
      program.push({ kind: "zero", out: v, invariant: true });
      return v;
    }
    if (n.kind === "guard") {
      const inner = compileNode(n.inner);
      const key = `g(${n.bounds.map((b) => `${b.axis},${b.lo},${b.hi}`).join(";")}|${inner})`;
      const known = byKey.get(key);
      if (known !== undefined) return known;
      const v = value(key, -1, false);
      program.push({ kind: "guard", out: v, inner, bounds: n.bounds, invariant: false });
      return v;
    }
    const args = n.args.map(compileNode);
    const key = `${n.prim.name}(${args.join(",")})`;
    const known = byKey.get(key);
    if (known !== undefined) return known;
    const invariant = args.every((a) => invariantValue[a]);
    const v = value(key, -1, invariant);
    program.push({ kind: "op", out: v, op: n.prim.elementwise!, args, argArrays: args.map(() => buffers[v]!), argOffsets: args.map(() => 0), invariant });
    return v;
  };
  const result = compileNode(kernel.root);

  const rowLength = rank === 0 ? 1 : kernel.shape[last];
  /** float32: each op's result rounded, as the eager kernel stores it in a Float32Array. */
  const single = kernel.out.dtype === "float32";
  const outCoef = outputCoefficients(kernel);
  const outStep = rank === 0 ? 0 : outCoef[last];
  const position = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const rowBase = new Int32Array(reads.length);
  const frame: Frame = { arrays: buffers.map((b) => b ?? new Float64Array(0)), offsets: buffers.map(() => 0) };
  const directValues = direct.map((r, v) => (r >= 0 ? v : -1)).filter((v) => v >= 0);

  /** Points the unit-stride reads at this block of the current row. */
  const placeDirect = (data: readonly FloatArray[], j0: number): void => {
    for (const v of directValues) {
      const r = direct[v];
      frame.arrays[v] = data[reads[r].slot];
      frame.offsets[v] = rowBase[r] + j0;
    }
  };

  const runInstructions = (list: readonly Instruction[], j0: number, len: number, data: readonly FloatArray[]): void => {
    for (let p = 0; p < list.length; p++) {
      const ins = list[p];
      const buf = buffers[ins.out]!;
      if (ins.kind === "read") {
        const r = ins.read;
        readRow(buf, data[reads[r].slot], (rowBase[r] + steps[r] * j0) | 0, steps[r], len);
      } else if (ins.kind === "op") {
        for (let i = 0; i < ins.args.length; i++) {
          ins.argArrays[i] = frame.arrays[ins.args[i]];
          ins.argOffsets[i] = frame.offsets[ins.args[i]];
        }
        applyOp(ins.op, buf, ins.argArrays, ins.argOffsets, len);
        if (single) for (let k = 0; k < len; k++) buf[k] = Math.fround(buf[k]);
      } else if (ins.kind === "guard") {
        let inside = true;
        let lo = 0;
        let hi = len;
        for (const b of ins.bounds) {
          if (b.axis === last) {
            lo = Math.max(lo, b.lo - j0);
            hi = Math.min(hi, b.hi - j0);
          } else if (position[b.axis] < b.lo || position[b.axis] >= b.hi) inside = false;
        }
        maskRow(buf, frame.arrays[ins.inner], frame.offsets[ins.inner], inside ? lo : 0, inside ? hi : 0, len);
      } else buf.fill(0, 0, len);
    }
  };
  const invariants = program.filter((ins) => ins.invariant);
  const variants = program.filter((ins) => !ins.invariant);

  return {
    run(out, data, bases) {
      const init = initialValue(kernel);
      const fullReduce = kernel.kind === "reduce" && kernel.axes.length === rank;
      const isMax = kernel.reduction === "max";
      let acc = init;
      if (kernel.kind === "reduce" && !fullReduce) out.fill(init);
      let rows = 1;
      for (let d = 0; d < last; d++) rows *= kernel.shape[d];
      if (rows === 0 || rowLength === 0) {
        if (fullReduce) out[0] = acc;
        return;
      }
      position.fill(0);
      for (let r = 0; r < reads.length; r++) rowBase[r] = bases[r];
      runInstructions(invariants, 0, Math.min(BLOCK, rowLength), data);
      let o = 0;
      for (let row = 0; row < rows; row++) {
        let outRow = 0;
        for (let r = 0; r < reads.length; r++) {
          let b = bases[r];
          for (let d = 0; d < last; d++) b += coefs[r][d] * position[d];
          rowBase[r] = b;
        }
        for (let d = 0; d < last; d++) outRow += outCoef[d] * position[d];
        for (let j0 = 0; j0 < rowLength; j0 += BLOCK) {
          const len = Math.min(BLOCK, rowLength - j0);
          placeDirect(data, j0);
          runInstructions(variants, j0, len, data);
          const v = frame.arrays[result];
          const vo = frame.offsets[result];
          if (kernel.kind === "map") {
            for (let k = 0; k < len; k++) out[o++] = v[vo + k];
          } else if (kernel.reduction === "sum") {
            if (fullReduce) for (let k = 0; k < len; k++) acc += v[vo + k];
            else for (let k = 0, p = outRow + outStep * j0; k < len; k++, p += outStep) out[p] += v[vo + k];
          } else {
            for (let k = 0, p = outRow + outStep * j0; k < len; k++, p += outStep) {
              const x = v[vo + k];
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
