/**
 * The fallback where code generation is forbidden: the same fused kernels run
 * by a small vector machine (numexpr's design). A kernel's tree is flattened
 * once into instructions over distinct values (a repeated subexpression is one
 * instruction), each with a buffer of `BLOCK` entries allocated once. The loop
 * space is cut into rows along its last axis, and rows into blocks; each
 * instruction runs over a block, so a kernel still makes one pass over memory
 * with its intermediates in cache. An op runs its primitive's vector loop
 * (`elementwise.vector`) where it has one, its scalar form otherwise; a guard
 * (pad's zeros) clears what lies outside its box.
 */
import type { FloatArray, Tensor } from "../tensor/tensor.js";
import type { Bound, Kernel, Node } from "./fuse.js";
import type { Elementwise } from "../primitives/core.js";
import { coefficients, initialValue, outputCoefficients, readsOf } from "./layout.js";

const BLOCK = 256;

type Instruction = { invariant: boolean } & (
  | { kind: "read"; out: Float64Array; read: number }
  | { kind: "op"; out: Float64Array; op: Elementwise; args: Float64Array[] }
  | { kind: "guard"; out: Float64Array; inner: Float64Array; bounds: readonly Bound[] }
  | { kind: "zero"; out: Float64Array });

/** buf[k] = src[idx + k·step] for k < len. */
function readRow(buf: Float64Array, src: FloatArray, idx: number, step: number, len: number): void {
  if (step === 0) buf.fill(src[idx], 0, len);
  else if (step === 1) for (let k = 0; k < len; k++) buf[k] = src[idx + k];
  else for (let k = 0, q = idx; k < len; k++, q += step) buf[k] = src[q];
}

/** buf = inner on [lo, hi), 0 elsewhere. */
function maskRow(buf: Float64Array, inner: Float64Array, lo: number, hi: number, len: number): void {
  if (lo >= hi) {
    buf.fill(0, 0, len);
    return;
  }
  if (lo > 0) buf.fill(0, 0, lo);
  for (let k = lo; k < hi; k++) buf[k] = inner[k];
  if (hi < len) buf.fill(0, hi, len);
}

/** One op over a block: its vector loop, or its scalar form per entry. */
function applyOp(e: Elementwise, buf: Float64Array, args: readonly Float64Array[], len: number): void {
  if (e.vector !== undefined) e.vector(buf, args, len);
  else if (args.length === 1) {
    const f = e.scalar, a = args[0];
    for (let k = 0; k < len; k++) buf[k] = f(a[k]);
  } else if (args.length === 2) {
    const f = e.scalar, a = args[0], b = args[1];
    for (let k = 0; k < len; k++) buf[k] = f(a[k], b[k]);
  } else {
    const f = e.scalar, a = args[0], b = args[1], c = args[2];
    for (let k = 0; k < len; k++) buf[k] = f(a[k], b[k], c[k]);
  }
}

type Program = { run(out: FloatArray, data: readonly FloatArray[], bases: Float64Array): void };

/** An interpreted kernel for leaves of these strides (the coefficients are read from them, as generated code bakes them in). */
export function interpreter(kernel: Kernel, leaves: readonly Tensor[]): Program {
  const reads = readsOf(kernel);
  const rank = kernel.shape.length;
  const last = rank - 1;
  const coefs = reads.map((r) => coefficients(r, leaves[r.slot], rank));
  const readIndex = new Map<Node, number>();
  reads.forEach((r, i) => readIndex.set(r.node, i));

  // Flatten the tree into instructions over distinct values (keyed by their canonical text).
  const program: Instruction[] = [];
  const byKey = new Map<string, { key: string; buffer: Float64Array; invariant: boolean }>();
  const readKey = (i: number): string => `${reads[i].slot}:${reads[i].node.map.dims.map((d) => `${d.axis},${d.offset}`).join(";")}`;
  const compileNode = (n: Node): { key: string; buffer: Float64Array; invariant: boolean } => {
    const key = n.kind === "read" ? `r${readKey(readIndex.get(n)!)}` : n.kind === "zero" ? "0" : "";
    if (key !== "" && byKey.has(key)) return byKey.get(key)!;
    let entry: { key: string; buffer: Float64Array; invariant: boolean };
    if (n.kind === "read") {
      const r = readIndex.get(n)!;
      entry = { key, buffer: new Float64Array(BLOCK), invariant: coefs[r].every((c) => c === 0) };
      program.push({ kind: "read", out: entry.buffer, read: r, invariant: entry.invariant });
    } else if (n.kind === "zero") {
      entry = { key, buffer: new Float64Array(BLOCK), invariant: true };
      program.push({ kind: "zero", out: entry.buffer, invariant: true });
    } else if (n.kind === "guard") {
      const inner = compileNode(n.inner);
      const k = `g(${n.bounds.map((b) => `${b.axis},${b.lo},${b.hi}`).join(";")}|${inner.key})`;
      const known = byKey.get(k);
      if (known !== undefined) return known;
      entry = { key: k, buffer: new Float64Array(BLOCK), invariant: false };
      program.push({ kind: "guard", out: entry.buffer, inner: inner.buffer, bounds: n.bounds, invariant: false });
    } else {
      const args = n.args.map(compileNode);
      const k = `${n.prim.name}(${args.map((a) => a.key).join(",")})`;
      const known = byKey.get(k);
      if (known !== undefined) return known;
      const invariant = args.every((a) => a.invariant);
      entry = { key: k, buffer: new Float64Array(BLOCK), invariant };
      program.push({ kind: "op", out: entry.buffer, op: n.prim.elementwise!, args: args.map((a) => a.buffer), invariant });
    }
    byKey.set(entry.key, entry);
    return entry;
  };
  const result = compileNode(kernel.root).buffer;

  const rowLength = rank === 0 ? 1 : kernel.shape[last];
  const outCoef = outputCoefficients(kernel);
  const outStep = rank === 0 ? 0 : outCoef[last];
  const steps = reads.map((_, r) => (rank === 0 ? 0 : coefs[r][last]));
  const position = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const rowBase = new Int32Array(reads.length);

  // Values that do not move (constants, scalars and what is computed from them alone) are computed once per run.
  const invariants = program.filter((ins) => ins.invariant);
  const variants = program.filter((ins) => !ins.invariant);
  const runInstructions = (list: readonly Instruction[], j0: number, len: number, data: readonly FloatArray[]): void => {
    for (let p = 0; p < list.length; p++) {
      const ins = list[p];
      const buf = ins.out;
      if (ins.kind === "read") {
        const r = ins.read;
        readRow(buf, data[reads[r].slot], (rowBase[r] + steps[r] * j0) | 0, steps[r], len);
      } else if (ins.kind === "op") {
        applyOp(ins.op, buf, ins.args, len);
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
        maskRow(buf, ins.inner, inside ? lo : 0, inside ? hi : 0, len);
      } else buf.fill(0, 0, len);
    }
  };

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
      runInstructions(invariants, 0, BLOCK, data);
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
          runInstructions(variants, j0, len, data);
          const v = result;
          if (kernel.kind === "map") {
            for (let k = 0; k < len; k++) out[o++] = v[k];
          } else if (kernel.reduction === "sum") {
            if (fullReduce) for (let k = 0; k < len; k++) acc += v[k];
            else for (let k = 0, p = outRow + outStep * j0; k < len; k++, p += outStep) out[p] += v[k];
          } else {
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
