/**
 * The fallback where code generation is forbidden: the same fused kernels run
 * by a small vector machine (numexpr's design). A kernel's tree is flattened
 * once into instructions over distinct values (a repeated subexpression is one
 * instruction), each with a buffer of `BLOCK` entries allocated once. The loop
 * space is cut into rows along its last axis, and rows into blocks; each
 * instruction runs over a block, so a kernel still makes one pass over memory
 * with its intermediates in cache.
 *
 * What keeps the cost per entry near one load and one store per instruction:
 * - Rows span several axes where memory allows: trailing loop axes along which
 *   every read and the output are contiguous (coefficient of an axis = its inner
 *   neighbour's × that neighbour's extent) are merged into one, so a block of a
 *   contiguous kernel covers many short rows (a pad's box on the outer axis of
 *   a merged pair becomes a range of the merged one; a box on the inner axis
 *   stops the merge).
 * - A read that walks its array with unit stride is not copied: instructions
 *   read it where it lies, through a view of the block's range (the vector
 *   loops run fastest when every operand starts at 0, as buffers do).
 * - Values that do not move along the loop (constants and what is computed
 *   from them alone) are computed once per run.
 * - A guard (pad's zeros) whose inner value has no other reader clears what
 *   lies outside its box in that value's buffer, without a copy.
 * - A map kernel writing float64 has its last instruction write into the
 *   output itself (a view of the block's range), without a copy.
 * - Buffers are reused once their value is dead, so a block's working set is
 *   the values live at once.
 * - A read under a guard that reaches past its array where the guard is off
 *   is copied with zeros there: a typed array read out of bounds gives
 *   undefined, and one such read deoptimises every op loop it reaches.
 * An op runs its primitive's vector loop (`elementwise.vector`) where it has
 * one, its scalar form otherwise.
 */
import type { FloatArray, Tensor } from "../tensor/tensor.js";
import type { Bound, Kernel, Node } from "./fuse.js";
import type { Elementwise } from "../primitives/core.js";
import { coefficients, initialValue, outputCoefficients, readsOf } from "./layout.js";

const BLOCK = 1024;

/**
 * One step of a block program: "read" copies read `read` (strided or broadcast; unit-stride reads are not
 * instructions), "op" runs `op` on `args`, "guard" keeps `inner` inside `bounds` and writes 0 outside
 * (`inPlace`: in `inner`'s own buffer, which has no other reader), "zero" writes zeros. Every instruction
 * has every field, in one order, so the loop that runs them reads objects of one shape.
 */
interface Fields {
  out: number;
  read: number;
  args: number[];
  argArrays: FloatArray[];
  argOffsets: number[];
  inner: number;
  bounds: readonly Bound[];
  inPlace: boolean;
  invariant: boolean;
}
type Instruction = Fields & ({ kind: "read" | "guard" | "zero"; op: null } | { kind: "op"; op: Elementwise });

function instruction(kind: Instruction["kind"], out: number, invariant: boolean, f: Partial<Fields> & { op?: Elementwise }): Instruction {
  return {
    kind, out, op: f.op ?? null, read: f.read ?? -1, args: f.args ?? [], argArrays: f.argArrays ?? [], argOffsets: f.argOffsets ?? [],
    inner: f.inner ?? -1, bounds: f.bounds ?? [], inPlace: f.inPlace ?? false, invariant,
  } as Instruction;
}

type Program = { run(out: FloatArray, data: readonly FloatArray[], bases: Float64Array): void };

/** buf[k] = src[idx + k·step] for k < len (0 where that lies outside src: a read under a guard that is off). */
function readRow(buf: Float64Array, src: FloatArray, idx: number, step: number, len: number): void {
  const end = idx + (len - 1) * step;
  if (idx < 0 || idx >= src.length || end < 0 || end >= src.length) {
    for (let k = 0, q = idx; k < len; k++, q += step) buf[k] = q >= 0 && q < src.length ? src[q] : 0;
  } else if (step === 0) buf.fill(src[idx], 0, len);
  else for (let k = 0, q = idx; k < len; k++, q += step) buf[k] = src[q];
}

/** buf = inner on [lo, hi), 0 elsewhere (buf may be inner's own storage at offset 0: then only the zeros are written). */
function maskRow(buf: Float64Array, inner: FloatArray, offset: number, lo: number, hi: number, len: number): void {
  if (lo >= hi) {
    buf.fill(0, 0, len);
    return;
  }
  if (lo > 0) buf.fill(0, 0, lo);
  if (buf !== inner) for (let k = lo; k < hi; k++) buf[k] = inner[offset + k];
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

/** The loop a kernel runs, after merging trailing axes that are contiguous for every read and the output. */
export interface MergedLoop {
  shape: number[];
  /** Per read, the coefficient of each merged axis. */
  coefs: number[][];
  outCoef: number[];
  /** Original axis → merged axis, and the factor its positions scale by there. */
  axisOf: number[];
  scaleOf: number[];
}

/**
 * Merges loop axis d into its inner neighbour group while every coefficient
 * vector c has c[d] = c_g·S (c_g the group's coefficient, S its extent) or S = 1,
 * and the group's outermost axis carries no guard bound. Position (i_d, j) of
 * the pair is flat position i_d·S + j of the merged axis.
 */
export function mergeAxes(shape: readonly number[], coefs: readonly (readonly number[])[], outCoef: readonly number[], boundAxes: ReadonlySet<number>): MergedLoop {
  const rank = shape.length;
  const axisOf = new Array<number>(rank).fill(0);
  const scaleOf = new Array<number>(rank).fill(1);
  if (rank === 0) return { shape: [], coefs: coefs.map(() => []), outCoef: [], axisOf, scaleOf };
  const vectors = [...coefs, outCoef];
  // Groups from the innermost out: each a list of original axes (outermost first), its extent and coefficients.
  const groups: { axes: number[]; extent: number; coef: number[] }[] = [{ axes: [rank - 1], extent: shape[rank - 1], coef: vectors.map((c) => c[rank - 1]) }];
  for (let d = rank - 2; d >= 0; d--) {
    const g = groups[groups.length - 1];
    const S = g.extent;
    const ok = !boundAxes.has(g.axes[0]) && vectors.every((c, i) => S === 1 || c[d] === g.coef[i] * S);
    if (ok) {
      g.axes.unshift(d);
      scaleOf[d] = S;
      if (S === 1) g.coef = vectors.map((c) => c[d]);
      g.extent = S * shape[d];
    } else groups.push({ axes: [d], extent: shape[d], coef: vectors.map((c) => c[d]) });
  }
  groups.reverse();
  groups.forEach((g, e) => {
    for (const a of g.axes) axisOf[a] = e;
  });
  return {
    shape: groups.map((g) => g.extent),
    coefs: coefs.map((_, r) => groups.map((g) => g.coef[r])),
    outCoef: groups.map((g) => g.coef[coefs.length]),
    axisOf,
    scaleOf,
  };
}

/** The axes some guard of the tree bounds. */
function boundedAxes(root: Node): Set<number> {
  const axes = new Set<number>();
  const visit = (n: Node): void => {
    if (n.kind === "guard") {
      for (const b of n.bounds) axes.add(b.axis);
      visit(n.inner);
    } else if (n.kind === "op") n.args.forEach(visit);
  };
  visit(root);
  return axes;
}

/** An interpreted kernel for leaves of these strides (the coefficients are read from them, as generated code bakes them in). */
export function interpreter(kernel: Kernel, leaves: readonly Tensor[]): Program {
  const reads = readsOf(kernel);
  const loop = mergeAxes(
    kernel.shape,
    reads.map((r) => coefficients(r, leaves[r.slot], kernel.shape.length)),
    outputCoefficients(kernel),
    boundedAxes(kernel.root),
  );
  const shape = loop.shape;
  const rank = shape.length;
  const last = rank - 1;
  const coefs = loop.coefs;
  const steps = reads.map((_, r) => (rank === 0 ? 0 : coefs[r][last]));
  const readIndex = new Map<Node, number>();
  reads.forEach((r, i) => readIndex.set(r.node, i));
  const mapBounds = (bounds: readonly Bound[]): Bound[] =>
    bounds.map((b) => ({ axis: loop.axisOf[b.axis], lo: b.lo * loop.scaleOf[b.axis], hi: b.hi * loop.scaleOf[b.axis] }));

  // Values: each stored in a buffer (`store`, shared by an in-place guard and its inner value), or a unit-stride read taken where it lies.
  const stores: Float64Array[] = [];
  const store: number[] = []; // value → its buffer, −1 for unit-stride reads
  const direct: number[] = []; // value → read index for unit-stride reads, −1 otherwise
  const invariantValue: boolean[] = [];
  const uses: number[] = [];
  const program: Instruction[] = [];
  const byKey = new Map<string, number>();
  const readKey = (i: number): string => `${reads[i].slot}:${reads[i].node.map.dims.map((d) => `${d.axis},${d.offset}`).join(";")}`;
  const value = (key: string, isDirect: number, invariant: boolean, shareStore = -1): number => {
    const v = store.length;
    if (isDirect >= 0) store.push(-1);
    else if (shareStore >= 0) store.push(shareStore);
    else store.push(stores.push(new Float64Array(BLOCK)) - 1);
    direct.push(isDirect);
    invariantValue.push(invariant);
    uses.push(0);
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
      program.push(instruction("read", v, invariant, { read: r }));
      return v;
    }
    if (n.kind === "zero") {
      const known = byKey.get("0");
      if (known !== undefined) return known;
      const v = value("0", -1, true);
      program.push(instruction("zero", v, true, {}));
      return v;
    }
    if (n.kind === "guard") {
      const inner = compileNode(n.inner);
      const key = `g(${n.bounds.map((b) => `${b.axis},${b.lo},${b.hi}`).join(";")}|${inner})`;
      const known = byKey.get(key);
      if (known !== undefined) return known;
      uses[inner]++;
      const ins = instruction("guard", -1, false, { inner, bounds: mapBounds(n.bounds) });
      ins.out = value(key, -1, false, store[inner] >= 0 && !invariantValue[inner] ? store[inner] : -1);
      ins.inPlace = store[ins.out] === store[inner];
      program.push(ins);
      return ins.out;
    }
    const args = n.args.map(compileNode);
    const key = `${n.prim.name}(${args.join(",")})`;
    const known = byKey.get(key);
    if (known !== undefined) return known;
    for (const a of args) uses[a]++;
    const invariant = args.every((a) => invariantValue[a]);
    const v = value(key, -1, invariant);
    program.push(instruction("op", v, invariant, { op: n.prim.elementwise!, args, argArrays: args.map(() => stores[store[v]]), argOffsets: args.map(() => 0) }));
    return v;
  };
  const result = compileNode(kernel.root);
  // An in-place guard is only sound when its inner value has no other reader: otherwise give it a buffer of its own.
  for (const ins of program) {
    if (ins.kind === "guard" && ins.inPlace && uses[ins.inner] > 1) {
      store[ins.out] = stores.push(new Float64Array(BLOCK)) - 1;
      ins.inPlace = false;
    }
  }
  shareBuffers();

  /**
   * Buffers reused once their value is dead (linear scan over the instructions that run per block), so
   * a block's working set is the values live at once, not every value: a value's buffer is freed after
   * its last reader, and an instruction's output never takes the buffer of one of its own arguments.
   * Values computed once per run (and the result) keep theirs.
   */
  function shareBuffers(): void {
    const variantList = program.filter((ins) => !ins.invariant);
    const lastUse = store.map(() => -1);
    // An in-place guard and its inner value are one buffer: it lives until the guard's last reader.
    const owner = store.map((_, v) => v);
    for (const ins of variantList) if (ins.kind === "guard" && ins.inPlace) owner[ins.out] = owner[ins.inner];
    variantList.forEach((ins, i) => {
      const read = ins.kind === "op" ? ins.args : ins.kind === "guard" ? [ins.inner] : [];
      for (const a of read) lastUse[owner[a]] = Math.max(lastUse[owner[a]], i);
    });
    lastUse[owner[result]] = Infinity;
    const fresh: Float64Array[] = [];
    const newStore = store.slice();
    const free: number[] = [];
    const freed = store.map(() => false);
    for (let v = 0; v < store.length; v++) if (store[v] >= 0 && invariantValue[v]) newStore[v] = fresh.push(stores[store[v]]) - 1;
    variantList.forEach((ins, i) => {
      if (ins.kind === "guard" && ins.inPlace) newStore[ins.out] = newStore[ins.inner];
      else newStore[ins.out] = free.length > 0 ? free.pop()! : fresh.push(new Float64Array(BLOCK)) - 1;
      const read = ins.kind === "op" ? ins.args : ins.kind === "guard" ? [ins.inner] : [];
      for (const a of [...read, ins.out]) {
        const o = owner[a];
        if (store[o] >= 0 && !invariantValue[o] && lastUse[o] <= i && !freed[o]) {
          freed[o] = true;
          free.push(newStore[o]);
        }
      }
    });
    stores.splice(0, stores.length, ...fresh);
    for (let v = 0; v < store.length; v++) store[v] = newStore[v];
  }

  const rowLength = rank === 0 ? 1 : shape[last];
  /** float32: each op's result rounded, as the eager kernel stores it in a Float32Array. */
  const single = kernel.out.dtype === "float32";
  const outCoef = loop.outCoef;
  const outStep = rank === 0 ? 0 : outCoef[last];
  const position = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const rowBase = new Int32Array(reads.length);
  const EMPTY = new Float64Array(0);
  const frameArrays: FloatArray[] = store.map((s) => (s >= 0 ? stores[s] : EMPTY));
  const frameOffsets: number[] = store.map(() => 0);
  const directValues = direct.map((r, v) => (r >= 0 ? v : -1)).filter((v) => v >= 0);
  const padded = directValues.map(() => new Float64Array(BLOCK));
  const invariants = program.filter((ins) => ins.invariant);
  const variants = program.filter((ins) => !ins.invariant);
  // A map kernel writing float64 lets the instructions that produce its result write into the output (a view per block).
  const resultStore = store[result];
  const writesOut = kernel.kind === "map" && !single && resultStore >= 0 && !invariantValue[result];
  const resultValues = store.map((s, v) => (s === resultStore ? v : -1)).filter((v) => v >= 0);
  const ownResult = resultStore >= 0 ? stores[resultStore] : EMPTY;

  /**
   * Points the unit-stride reads at this block of the current row. A read inside a guard may reach past
   * its array where the guard is off (a pad's border): the block is then copied with zeros there (read
   * out of bounds, a typed array gives undefined, which would also deoptimise every loop it reaches).
   */
  const placeDirect = (data: readonly FloatArray[], j0: number, len: number): void => {
    for (let i = 0; i < directValues.length; i++) {
      const v = directValues[i];
      const r = direct[v];
      const src = data[reads[r].slot];
      const start = rowBase[r] + j0;
      if (start >= 0 && start + len <= src.length) {
        // A view (offset 0): vector loops take their fastest path when every operand starts at 0.
        frameArrays[v] = src.subarray(start, start + len);
        frameOffsets[v] = 0;
      } else {
        const buf = padded[i];
        for (let k = 0, q = start; k < len; k++, q++) buf[k] = q >= 0 && q < src.length ? src[q] : 0;
        frameArrays[v] = buf;
        frameOffsets[v] = 0;
      }
    }
  };
  /** Where the result's instructions write: `target` (the output's view, or the result's own buffer). */
  const placeResult = (target: Float64Array): void => {
    stores[resultStore] = target;
    for (let i = 0; i < resultValues.length; i++) frameArrays[resultValues[i]] = target;
  };

  const runInstructions = (list: readonly Instruction[], j0: number, len: number, data: readonly FloatArray[]): void => {
    for (let p = 0; p < list.length; p++) {
      const ins = list[p];
      const buf = stores[store[ins.out]];
      if (ins.kind === "op") {
        const args = ins.args, arrays = ins.argArrays, offsets = ins.argOffsets;
        for (let i = 0; i < args.length; i++) {
          arrays[i] = frameArrays[args[i]];
          offsets[i] = frameOffsets[args[i]];
        }
        applyOp(ins.op, buf, arrays, offsets, len);
        if (single) for (let k = 0; k < len; k++) buf[k] = Math.fround(buf[k]);
      } else if (ins.kind === "read") {
        const r = ins.read;
        readRow(buf, data[reads[r].slot], (rowBase[r] + steps[r] * j0) | 0, steps[r], len);
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
        maskRow(buf, frameArrays[ins.inner], frameOffsets[ins.inner], inside ? lo : 0, inside ? hi : 0, len);
      } else buf.fill(0, 0, len);
    }
  };

  return {
    run(out, data, bases) {
      const init = initialValue(kernel);
      const fullReduce = kernel.kind === "reduce" && kernel.axes.length === kernel.shape.length;
      const isMax = kernel.reduction === "max";
      let acc = init;
      if (kernel.kind === "reduce" && !fullReduce) out.fill(init);
      let rows = 1;
      for (let d = 0; d < last; d++) rows *= shape[d];
      if (rows === 0 || rowLength === 0) {
        if (fullReduce) out[0] = acc;
        return;
      }
      const direct = writesOut && rowLength >= 64 && out instanceof Float64Array ? out : null;
      position.fill(0);
      for (let r = 0; r < reads.length; r++) rowBase[r] = bases[r];
      runInstructions(invariants, 0, Math.min(BLOCK, rowLength), data);
      let o = 0;
      try {
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
            placeDirect(data, j0, len);
            if (direct !== null) {
              placeResult(direct.subarray(o, o + len));
              runInstructions(variants, j0, len, data);
              o += len;
              continue;
            }
            runInstructions(variants, j0, len, data);
            const v = frameArrays[result];
            const vo = frameOffsets[result];
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
            if (++position[d] < shape[d]) break;
            position[d] = 0;
          }
        }
      } finally {
        if (direct !== null) placeResult(ownResult);
        for (let i = 0; i < directValues.length; i++) frameArrays[directValues[i]] = EMPTY; // holds no caller's array
      }
      if (fullReduce) out[0] = acc;
    },
  };
}
