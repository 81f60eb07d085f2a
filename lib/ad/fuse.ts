/**
 * Fusion of a linear program (lib/ad/linearize.ts) into few passes over memory.
 *
 * A linear program recorded from JVP rules is mostly elementwise: scalings by
 * constants (the coefficients of the rules), sums, negations, and views (slices,
 * transposes, broadcasts) with their transposes (pads). Run op by op, each is a
 * pass over the data; at a million unknowns memory traffic, not arithmetic,
 * decides the time. Here the program is evaluated *symbolically* once: every
 * elementwise value is kept as a linear combination
 *
 *   value = Σ_groups coef_g ⊙ (Σ_{t ∈ g} scale_t · view_t(source_t))
 *
 * of materialised sources (the program's inputs and the results of operations
 * that are not elementwise: matmul, sum, custom rules, …), with the constant
 * coefficients multiplied and added once, now. A combination is materialised by
 * one fused kernel (lib/tensor/combine.ts) only where something else needs it as
 * an array: an operation that is not elementwise, or an output. Everything else
 * runs as before, through the node's own JVP rule.
 *
 * The result is an `Executable`: a list of instructions over numbered slots,
 * with the last use of every slot, so that the program's buffer pool can reuse
 * storage as soon as a value is dead.
 */
import { copyInto, shapeOnly, Tensor, type DType } from "../tensor/tensor.js";
import { add, mul } from "../primitives/elementwise.js";
import { broadcastTo, padInto, reshape, slice, transpose } from "../primitives/shape.js";
import { zerosLike } from "../primitives/util.js";
import { broadcastView, permutedView, reshapeView, sliceView } from "../tensor/kernels.js";
import { combineInto, type CombineGroup, type Placement } from "../tensor/combine.js";
import { allocateOutput, BufferPool } from "../tensor/storage.js";
import { contiguousStrides, sameShape, sizeOf } from "../tensor/shape.js";
import { dropDead, type MaybeTensor } from "../primitives/core.js";
import type { SweepNode } from "./reverse.js";

/** What fusion needs of a linear program's node (lib/ad/linearize.ts records them): a sweep's view of it, and its name. */
export interface FusibleNode extends SweepNode {
  readonly name: string;
}

/** A view applied to a value at run time (no data is moved, except a reshape of a strided view). */
interface ViewOp {
  kind: "slice" | "reshape" | "transpose" | "broadcastTo";
  params: { begin?: number[]; size?: number[]; shape?: number[]; perm?: number[] };
}

interface Term {
  source: number;
  views: ViewOp[];
  scale: number;
}

/**
 * factor · coef ⊙ Σ_t scale_t · view_t(source_t), over the box (or the whole).
 * Terms are kept canonical (the first scale is 1, the rest divided by it) so that
 * proportional groups are recognised as the same term set and merged.
 */
interface Group {
  factor: number;
  /** Coefficient with the group's shape, or null for 1. */
  coef: Coef | null;
  box: number[] | null;
  shape: number[];
  terms: Term[];
}

/** What the fusion knows of a value: zero, a slot holding an array, or a combination of slots. */
type Sym =
  | { kind: "zero"; shape: number[]; dtype: DType }
  | { kind: "slot"; slot: number; shape: number[]; dtype: DType }
  | { kind: "combination"; shape: number[]; dtype: DType; groups: Group[] };

export type Instruction =
  /** A node evaluated by its own JVP rule on slot values (null: a zero tangent). */
  | { kind: "rule"; node: FusibleNode; inputs: (number | null)[]; out: number }
  /** A view of a slot's value. */
  | { kind: "view"; source: number; views: ViewOp[]; out: number }
  /** A linear combination materialised by the fused kernel. */
  | { kind: "combine"; shape: number[]; dtype: DType; groups: FusedGroup[]; out: number };

/** A group as the kernel runs it: its coefficient (evaluated at the end of fusion), and every place its values are added. */
interface FusedGroup {
  coef: Tensor | null;
  /** The coefficient's expression until it is evaluated. */
  expr?: Coef | null;
  shape: number[];
  terms: Term[];
  placements: Placement[];
}

export interface Executable {
  instructions: Instruction[];
  slots: number;
  /** The slot of each program input. */
  inputSlots: number[];
  /** The slot of each output, or null for a zero output. */
  outputSlots: (number | null)[];
  /** For each slot, the index of the last instruction reading it (outputs: never freed). */
  lastUse: Int32Array;
}

/** A combination above this many term reads is materialised in parts (keeps kernels and constants bounded). */
const MAX_TERMS = 16;

/** A value of size 1 or read through stride-0 axes only: one number, as a scale. */
function uniformValue(t: Tensor): number | null {
  const c = dropDead(t);
  if (c._trace !== null) return null;
  if (c.size === 1 || c.strides.every((s) => s === 0)) return c.size === 0 ? null : c.data[c.offset];
  return null;
}

function applyView(t: Tensor, v: ViewOp): Tensor {
  switch (v.kind) {
    case "slice": return sliceView(t, v.params.begin!, v.params.size!);
    case "reshape": return reshapeView(t, v.params.shape!);
    case "transpose": return permutedView(t, v.params.perm!);
    case "broadcastTo": return broadcastView(t, v.params.shape!);
  }
}

function sameViews(a: ViewOp[], b: ViewOp[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].kind !== b[i].kind || JSON.stringify(a[i].params) !== JSON.stringify(b[i].params)) return false;
  return true;
}

function sameTerms(a: Term[], b: Term[]): boolean {
  return a.length === b.length && a.every((t, i) => t.source === b[i].source && t.scale === b[i].scale && sameViews(t.views, b[i].views));
}

function sameRegion(a: Group, b: Group): boolean {
  return sameShape(a.shape, b.shape) && (a.box === b.box || (a.box !== null && b.box !== null && sameShape(a.box, b.box)));
}

/** Moves the first term's scale into the factor. */
function canonical(g: Group): Group {
  const k = g.terms.length > 0 ? g.terms[0].scale : 1;
  if (k === 1 || k === 0 || !Number.isFinite(k)) return g;
  return { ...g, factor: g.factor * k, terms: g.terms.map((t) => ({ ...t, scale: t.scale / k })) };
}

function termCount(s: Sym): number {
  return s.kind === "combination" ? s.groups.reduce((n, g) => n + g.terms.length, 0) : 1;
}

// ---------------------------------------------------------------------------
// Coefficients: expressions built symbolically, evaluated once per executable

/**
 * A coefficient as an expression of the program's constants. Building it costs
 * nothing; `evaluate` computes it once, into one array, at the end (a chain of k
 * products of constants is k passes over one buffer, not k new arrays).
 */
type Coef =
  | { kind: "const"; shape: number[]; t: Tensor; value?: Tensor }
  | { kind: "mul"; shape: number[]; a: Coef | null; b: Coef; value?: Tensor }
  | { kind: "sum"; shape: number[]; a: Coef | null; alpha: number; b: Coef | null; beta: number; value?: Tensor }
  | { kind: "inverse"; shape: number[]; a: Coef; value?: Tensor }
  | { kind: "view"; shape: number[]; a: Coef; op: ViewOp; value?: Tensor };

const constant = (t: Tensor, shape: number[]): Coef => ({ kind: "const", shape: shape.slice(), t: toShape(t, shape) });
const product = (a: Coef | null, b: Coef): Coef => ({ kind: "mul", shape: b.shape, a, b });
const linearSum = (a: Coef | null, alpha: number, b: Coef | null, beta: number, shape: number[]): Coef => ({ kind: "sum", shape: shape.slice(), a, alpha, b, beta });

/** The sub-expressions of a coefficient. */
function childrenOf(c: Coef): Coef[] {
  switch (c.kind) {
    case "const": return [];
    case "mul": return c.a === null ? [c.b] : [c.a, c.b];
    case "sum": return [c.a, c.b].filter((x): x is Coef => x !== null);
    case "inverse":
    case "view": return [c.a];
  }
}

/**
 * Evaluates the coefficients an executable keeps (`roots`), each into one fresh
 * array. A sub-expression used once is written straight into its parent's
 * buffer; one used several times is computed once into a pooled buffer that is
 * freed after its last use. So a chain of k products costs k passes over one
 * buffer and no allocation of its own.
 */
function evaluateRoots(roots: readonly Coef[]): Map<Coef, Tensor> {
  const uses = new Map<Coef, number>();
  const count = (c: Coef): void => {
    const n = (uses.get(c) ?? 0) + 1;
    uses.set(c, n);
    if (n === 1) for (const child of childrenOf(c)) count(child);
  };
  const rootSet = new Set(roots);
  for (const r of rootSet) count(r);
  /** Sub-expressions with more than one user: computed once into a shared value. */
  const shared = new Set([...uses].filter(([, n]) => n > 1).map(([c]) => c));
  const temps = new BufferPool();
  const memo = new Map<Coef, Tensor>();

  /** c's values as a tensor: a constant as it is; anything else computed once (roots into fresh arrays). */
  const valueOf = (c: Coef): Tensor => {
    if (c.kind === "const") return c.t;
    let v = memo.get(c);
    if (v === undefined) {
      const data = rootSet.has(c) ? new Float64Array(sizeOf(c.shape)) : (temps.take("float64", sizeOf(c.shape), false) as Float64Array);
      writeInto(c, data);
      v = new Tensor(data, c.shape.slice(), contiguousStrides(c.shape), 0);
      memo.set(c, v);
    }
    return v;
  };
  /** One use of c is over: a pooled value nobody else needs is freed. */
  const done = (c: Coef): void => {
    const n = (uses.get(c) ?? 1) - 1;
    uses.set(c, n);
    const v = memo.get(c);
    if (n <= 0 && v !== undefined && !rootSet.has(c)) temps.release(v.data);
  };
  /** Writes c into `out`: in place when c is used only here, else from its shared value. */
  const writeOperand = (c: Coef, out: Float64Array): void => {
    if (c.kind !== "const" && !shared.has(c) && !rootSet.has(c)) writeInto(c, out);
    else {
      copyInto(valueOf(c), out);
      done(c);
    }
  };
  const combineWith = (out: Float64Array, shape: number[], c: Coef, beta: number, multiply: boolean): void => {
    combineStrided(out, shape, valueOf(c), beta, multiply);
    done(c);
  };
  const writeInto = (c: Coef, out: Float64Array): void => {
    switch (c.kind) {
      case "const":
        copyInto(c.t, out);
        return;
      case "view":
        copyInto(applyView(valueOf(c.a), c.op), out);
        done(c.a);
        return;
      case "mul":
        if (c.a === null) writeOperand(c.b, out);
        else {
          writeOperand(c.a, out);
          combineWith(out, c.shape, c.b, 1, true);
        }
        return;
      case "sum":
        if (c.a === null) out.fill(c.alpha);
        else {
          writeOperand(c.a, out);
          if (c.alpha !== 1) for (let i = 0; i < out.length; i++) out[i] *= c.alpha;
        }
        if (c.b === null) for (let i = 0; i < out.length; i++) out[i] += c.beta;
        else combineWith(out, c.shape, c.b, c.beta, false);
        return;
      case "inverse":
        writeOperand(c.a, out);
        for (let i = 0; i < out.length; i++) out[i] = 1 / out[i];
    }
  };
  const values = new Map<Coef, Tensor>();
  for (const r of rootSet) values.set(r, valueOf(r));
  return values;
}

/** out ⊙= t (multiply) or out += β·t, for t a strided view of out's shape, row by row. */
function combineStrided(out: Float64Array, shape: number[], t: Tensor, beta: number, multiply: boolean): void {
  const n = out.length;
  if (n === 0) return;
  const nd = shape.length;
  const L = nd === 0 ? 1 : shape[nd - 1];
  const st = nd === 0 ? 0 : t.strides[nd - 1];
  const data = t.data;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let p = t.offset;
  for (let k = 0; k < n; k += L) {
    if (multiply) for (let j = 0, q = p; j < L; j++, q += st) out[k + j] *= data[q];
    else for (let j = 0, q = p; j < L; j++, q += st) out[k + j] += beta * data[q];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      p += t.strides[d];
      if (idx[d] < shape[d]) break;
      p -= t.strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** A kept coefficient for the kernel: its values, or a factor when they are all equal. */
function asFactor(t: Tensor): [number, Tensor | null] {
  const u = uniformValue(t) ?? uniformContiguous(t);
  return u !== null && Number.isFinite(u) ? [u, null] : [1, t];
}

function uniformContiguous(t: Tensor): number | null {
  if (!t.contiguous || t.size === 0) return null;
  const d = t.data;
  const v = d[t.offset];
  for (let i = t.offset + 1; i < t.offset + t.size; i++) if (d[i] !== v) return null;
  return v;
}

function toShape(t: Tensor, shape: number[]): Tensor {
  const c = dropDead(t);
  return sameShape(c.shape, shape) ? c : broadcastView(c, shape);
}

// ---------------------------------------------------------------------------
// The symbolic pass

/**
 * Fuses a linear program. `nodes` are the nodes to evaluate in order (leaves
 * excluded), `leaves` the inputs that are not zero, `outputs` the output nodes
 * (null: zero or not wanted).
 */
export function fuse(nodes: readonly FusibleNode[], leaves: readonly FusibleNode[], outputs: readonly (FusibleNode | null)[], inputCount: number): Executable {
  const instructions: Instruction[] = [];
  let slots = 0;
  const syms = new Map<SweepNode, Sym>();
  const inputSlots: number[] = new Array(inputCount).fill(-1);
  for (const leaf of leaves) {
    const slot = slots++;
    inputSlots[leaf.argIndex] = slot;
    syms.set(leaf, { kind: "slot", slot, shape: leaf.out.shape.slice(), dtype: leaf.out.dtype });
  }
  for (let i = 0; i < inputCount; i++) if (inputSlots[i] < 0) inputSlots[i] = slots++;

  const asCombination = (s: Sym): Group[] => {
    if (s.kind === "combination") return s.groups;
    if (s.kind === "zero") return [];
    return [{ factor: 1, coef: null, box: null, shape: s.shape.slice(), terms: [{ source: s.slot, views: [], scale: 1 }] }];
  };

  /** Materialises a value into a slot (null for zero). */
  const materialize = (s: Sym): number | null => {
    if (s.kind === "zero") return null;
    if (s.kind === "slot") return s.slot;
    const g = s.groups;
    if (g.length === 1 && g[0].factor === 1 && g[0].coef === null && g[0].box === null && g[0].terms.length === 1 && g[0].terms[0].scale === 1) {
      const t = g[0].terms[0];
      if (t.views.length === 0) return t.source;
      const out = slots++;
      instructions.push({ kind: "view", source: t.source, views: t.views, out });
      return out;
    }
    const out = slots++;
    // Groups with one coefficient and one term set but several boxes (the
    // transpose of a difference) compute their values once for all the boxes.
    const groups: FusedGroup[] = [];
    for (const group of g) {
      const placement = { box: group.box, factor: group.factor };
      const twin = groups.find((h) => h.expr === group.coef && sameShape(h.shape, group.shape) && sameTerms(h.terms, group.terms) && h.placements[0].box !== null && placement.box !== null);
      if (twin !== undefined) twin.placements.push(placement);
      else groups.push({ coef: null, expr: group.coef, shape: group.shape, terms: group.terms, placements: [placement] });
    }
    instructions.push({ kind: "combine", shape: s.shape.slice(), dtype: s.dtype, groups, out });
    return out;
  };

  const slotSym = (s: Sym): Sym => {
    const slot = materialize(s);
    return slot === null ? s : { kind: "slot", slot, shape: s.shape.slice(), dtype: s.dtype };
  };

  const scaled = (s: Sym, factor: number): Sym => {
    if (s.kind === "zero") return s;
    return { kind: "combination", shape: s.shape, dtype: s.dtype, groups: asCombination(s).map((g) => ({ ...g, factor: g.factor * factor })) };
  };

  /** s ⊙ c for a constant c broadcastable to s's shape. */
  const times = (s: Sym, c: Tensor): Sym => {
    if (s.kind === "zero") return s;
    const u = uniformValue(c);
    if (u !== null) return scaled(s, u);
    const full = toShape(c, s.shape);
    return {
      kind: "combination", shape: s.shape, dtype: s.dtype,
      groups: asCombination(s).map((g) => ({ ...g, coef: product(g.coef, constant(g.box === null ? full : sliceView(full, g.box, g.shape), g.shape)) })),
    };
  };

  const plus = (a: Sym, b: Sym): Sym => {
    if (a.kind === "zero") return b;
    if (b.kind === "zero") return a;
    if (termCount(a) + termCount(b) > MAX_TERMS) {
      if (termCount(a) >= termCount(b)) a = slotSym(a);
      else b = slotSym(b);
    }
    // Fresh group and term objects: combinations are shared between the nodes that use them.
    const groups: Group[] = asCombination(a).map((g) => ({ ...g, terms: g.terms.map((t) => ({ ...t })) }));
    for (const g of asCombination(b)) {
      // Same region and proportional terms: one group, coefficients added.
      const sameTermSet = groups.find((h) => sameRegion(h, g) && sameTerms(h.terms, g.terms));
      if (sameTermSet !== undefined) {
        sameTermSet.coef = linearSum(sameTermSet.coef, sameTermSet.factor, g.coef, g.factor, g.shape);
        sameTermSet.factor = 1;
        continue;
      }
      // Same region and the same coefficient: one group, terms merged.
      const k = groups.findIndex((h) => sameRegion(h, g) && h.coef === g.coef);
      if (k >= 0) {
        const h = groups[k];
        const terms = h.terms.map((t) => ({ ...t, scale: t.scale * h.factor }));
        for (const t of g.terms) {
          const twin = terms.find((u) => u.source === t.source && sameViews(u.views, t.views));
          if (twin !== undefined) twin.scale += t.scale * g.factor;
          else terms.push({ ...t, scale: t.scale * g.factor });
        }
        groups[k] = canonical({ ...h, factor: 1, terms });
        continue;
      }
      groups.push({ ...g, terms: g.terms.map((t) => ({ ...t })) });
    }
    return { kind: "combination", shape: a.shape, dtype: a.dtype, groups };
  };

  /** A view op applied to a value: to every term and coefficient (boxed groups are materialised first). */
  const viewed = (s: Sym, op: ViewOp, outShape: number[]): Sym => {
    if (s.kind === "zero") return { kind: "zero", shape: outShape.slice(), dtype: s.dtype };
    let groups = asCombination(s);
    if (groups.some((g) => g.box !== null)) groups = asCombination(slotSym(s));
    return {
      kind: "combination", shape: outShape.slice(), dtype: s.dtype,
      groups: groups.map((g) => ({
        factor: g.factor,
        coef: g.coef === null ? null : ({ kind: "view", shape: outShape.slice(), a: g.coef, op } as Coef),
        box: null,
        shape: outShape.slice(),
        terms: g.terms.map((t) => ({ ...t, views: [...t.views, op] })),
      })),
    };
  };

  const broadcastSym = (s: Sym, shape: number[]): Sym => (sameShape(s.shape, shape) ? s : viewed(s, { kind: "broadcastTo", params: { shape: shape.slice() } }, shape));

  for (const node of nodes) {
    // A parent without a value here depends only on inputs that are zero in this executable.
    const ins = node.parents.map((p): Sym | null => (p === null ? null : syms.get(p) ?? { kind: "zero", shape: p.out.shape.slice(), dtype: p.out.dtype }));
    const outShape = node.out.shape.slice();
    const dtype = node.out.dtype;
    let result: Sym | null = null;
    if (ins.every((s) => s === null || s.kind === "zero")) result = { kind: "zero", shape: outShape, dtype };
    else if (node.prim !== null) result = fuseNode(node, ins, outShape);
    if (result === null) {
      const inputs = ins.map((s) => (s === null ? null : materialize(s)));
      const out = slots++;
      instructions.push({ kind: "rule", node, inputs, out });
      result = { kind: "slot", slot: out, shape: outShape, dtype };
    }
    syms.set(node, result);
  }

  /** The symbolic JVP of an elementwise-linear or view node, or null when it is not one. */
  function fuseNode(node: FusibleNode, ins: (Sym | null)[], outShape: number[]): Sym | null {
    const name = node.prim!.name;
    const params = node.params as Record<string, unknown>;
    const [a, b] = ins;
    const zeroOr = (s: Sym | null): Sym => s ?? { kind: "zero", shape: outShape, dtype: node.out.dtype };
    switch (name) {
      case "neg":
        return scaled(a!, -1);
      case "add":
      case "sub": {
        const x = broadcastSym(zeroOr(a), outShape);
        const y = broadcastSym(zeroOr(b), outShape);
        return plus(x, name === "sub" ? scaled(y, -1) : y);
      }
      case "mul": {
        if (a !== null && b !== null) return null;
        const s = a ?? b!;
        const c = a === null ? node.primals[0] : node.primals[1];
        if (dropDead(c)._trace !== null) return null;
        return times(broadcastSym(s, outShape), c);
      }
      case "div": {
        if (b !== null || a === null) return null;
        const c = dropDead(node.primals[1]);
        if (c._trace !== null) return null;
        const u = uniformValue(c);
        if (u !== null) return scaled(broadcastSym(a, outShape), 1 / u);
        const x = broadcastSym(a, outShape);
        if (x.kind === "zero") return x;
        const inverse: Coef = { kind: "inverse", shape: outShape.slice(), a: constant(c, outShape) };
        return { kind: "combination", shape: outShape, dtype: x.dtype, groups: asCombination(x).map((g) => ({ ...g, coef: product(g.coef, g.box === null ? inverse : { kind: "view", shape: g.shape.slice(), a: inverse, op: { kind: "slice", params: { begin: g.box, size: g.shape } } }) })) };
      }
      case "slice": {
        const p = params as unknown as { begin: number[]; size: number[] };
        return viewed(a!, { kind: "slice", params: { begin: p.begin, size: p.size } }, outShape);
      }
      case "reshape":
        return viewed(a!, { kind: "reshape", params: { shape: outShape } }, outShape);
      case "transpose":
        return viewed(a!, { kind: "transpose", params: { perm: node.params as number[] } }, outShape);
      case "broadcastTo":
        return broadcastSym(a!, outShape);
      case "pad": {
        const p = params as unknown as { begin: number[]; shape: number[] };
        let groups = asCombination(a!);
        if (groups.some((g) => g.box !== null)) groups = asCombination(slotSym(a!));
        return { kind: "combination", shape: outShape, dtype: node.out.dtype, groups: groups.map((g) => ({ ...g, box: p.begin.slice() })) };
      }
      default:
        return null;
    }
  }

  const outputSlots = outputs.map((o) => {
    const sym = o === null ? undefined : syms.get(o);
    return sym === undefined ? null : materialize(sym);
  });
  // Every coefficient the executable keeps, evaluated once, together (shared parts computed once).
  const roots: Coef[] = [];
  for (const ins of instructions) if (ins.kind === "combine") for (const g of ins.groups) if (g.expr) roots.push(g.expr);
  const evaluated = evaluateRoots(roots);
  for (const ins of instructions) {
    if (ins.kind !== "combine") continue;
    for (const g of ins.groups) {
      if (g.expr) {
        const [factor, coef] = asFactor(evaluated.get(g.expr)!);
        g.coef = coef;
        for (const p of g.placements) p.factor *= factor;
      }
      delete g.expr;
    }
  }

  const lastUse = new Int32Array(slots).fill(-1);
  instructions.forEach((ins, k) => {
    for (const s of readSlots(ins)) lastUse[s] = k;
  });
  for (const s of outputSlots) if (s !== null) lastUse[s] = instructions.length;
  return { instructions, slots, inputSlots, outputSlots, lastUse };
}

/** The slots an instruction reads (a slot may appear more than once). */
export function readSlots(ins: Instruction): number[] {
  switch (ins.kind) {
    case "rule": return ins.inputs.filter((s): s is number => s !== null);
    case "view": return [ins.source];
    case "combine": return ins.groups.flatMap((g) => g.terms.map((t) => t.source));
  }
}

/** Evaluates one instruction on slot values. `rule` runs a node's JVP rule. */
export function runInstruction(ins: Instruction, values: MaybeTensor[], rule: (node: FusibleNode, tangents: MaybeTensor[]) => MaybeTensor, traced = false): MaybeTensor {
  switch (ins.kind) {
    case "rule":
      return rule(ins.node, ins.inputs.map((s) => (s === null ? null : values[s])));
    case "view": {
      let t = values[ins.source]!;
      for (const v of ins.views) t = traced ? viewOp(t, v) : applyView(t, v);
      return t;
    }
    case "combine": {
      if (traced) return combineWithOps(ins, values);
      const out = allocateOutput(ins.dtype, sizeOf(ins.shape), false);
      const groups: CombineGroup[] = ins.groups.map((g) => ({
        coef: g.coef,
        shape: g.shape,
        placements: g.placements,
        terms: g.terms.map((t) => {
          let v = values[t.source]!;
          for (const op of t.views) v = applyView(v, op);
          return { value: v, scale: t.scale };
        }),
      }));
      combineInto(out, ins.shape, groups);
      return new Tensor(out, ins.shape.slice(), contiguousStrides(ins.shape), 0);
    }
  }
}

/** A view as a differentiable op (for values an enclosing transformation traces). */
function viewOp(t: Tensor, v: ViewOp): Tensor {
  switch (v.kind) {
    case "slice": return slice(t, v.params.begin!, v.params.size!);
    case "reshape": return reshape(t, v.params.shape!);
    case "transpose": return transpose(t, v.params.perm!);
    case "broadcastTo": return broadcastTo(t, v.params.shape!);
  }
}

/**
 * A combination evaluated with library ops instead of the fused kernel, when
 * an enclosing transformation traces its values: the same sum, recorded op by op.
 */
function combineWithOps(ins: Extract<Instruction, { kind: "combine" }>, values: MaybeTensor[]): Tensor {
  let total: Tensor | null = null;
  for (const g of ins.groups) {
    let q: Tensor | null = null;
    for (const t of g.terms) {
      let v = values[t.source]!;
      for (const op of t.views) v = viewOp(v, op);
      const term = t.scale === 1 ? v : mul(v, t.scale);
      q = q === null ? term : add(q, term);
    }
    if (q === null) continue;
    if (g.coef !== null) q = mul(q, g.coef);
    for (const p of g.placements) {
      let part = p.factor === 1 ? q : mul(q, p.factor);
      if (p.box !== null) part = padInto(part, p.box, ins.shape);
      total = total === null ? part : add(total, part);
    }
  }
  return total ?? zerosLike(shapeOnly(ins.shape, ins.dtype));
}

/** The executable as text (what the fusion made of the program). */
export function executableToString(e: Executable): string {
  const lines: string[] = [];
  const termText = (t: Term): string => `${t.scale === 1 ? "" : t.scale === -1 ? "−" : `${Number(t.scale.toPrecision(4))}·`}$${t.source}${t.views.map((v) => `.${v.kind}`).join("")}`;
  for (const ins of e.instructions) {
    if (ins.kind === "rule") lines.push(`  $${ins.out} = ${ins.node.name} rule(${ins.inputs.map((s) => (s === null ? "0" : `$${s}`)).join(", ")})`);
    else if (ins.kind === "view") lines.push(`  $${ins.out} = $${ins.source}${ins.views.map((v) => `.${v.kind}`).join("")}`);
    else {
      const groups = ins.groups.map((g) => {
        const where = g.placements.map((p) => `${p.factor === 1 ? "" : `${Number(p.factor.toPrecision(4))}·`}${p.box === null ? "all" : `@[${p.box.join(",")}]`}`).join(", ");
        return `${g.coef === null ? "" : "c⊙"}(${g.terms.map(termText).join(" + ")}) → ${where}`;
      });
      lines.push(`  $${ins.out} = fused ${groups.join("; ")}`);
    }
  }
  lines.push(`  inputs ${e.inputSlots.map((s) => `$${s}`).join(", ")}; outputs ${e.outputSlots.map((s) => (s === null ? "0" : `$${s}`)).join(", ")}`);
  return lines.join("\n");
}
