/**
 * Fusion: a program's equations grouped into kernels, each one pass over memory.
 *
 * What an op is comes from its primitive (`elementwise`, `view`, `reduction`,
 * `dense`; lib/primitives/core.ts), never from its name. An elementwise op is
 * inlined into its consumer as a scalar expression; a movement op (broadcast,
 * slice, pad, transpose, a reshape that adds or drops axes of size 1) becomes an
 * index map on the reads below it, pad's zeros a guard; a reduction accumulates
 * the expression of its input in the same loop (tinygrad's rangeify, jax-js's
 * fused epilogues). A value is materialised, written once to memory, when it is
 * an output, when an op that is not fusible (a dense product, a solve, a host
 * step) reads it, or when it has several consumers and is not cheap enough to
 * recompute in each (`RECOMPUTE_COST` ops).
 */
import { sizeOf } from "../tensor/shape.js";
import type { IndexMap, Primitive } from "../primitives/core.js";
import { broadcastMap } from "../primitives/shape.js";
import type { Atom, Equation, Program, Var } from "./program.js";

/** An inlined value used by several consumers is recomputed in each when its expression has at most this many ops. */
const RECOMPUTE_COST = 6;

export type Bound = { readonly axis: number; readonly lo: number; readonly hi: number };

/** A kernel's expression tree over its loop positions. */
export type Node =
  /** The value of `leaves[slot]` at the position `map` gives (axis −1: a fixed position). */
  | { readonly kind: "read"; readonly slot: number; readonly map: IndexMap }
  | { readonly kind: "op"; readonly prim: Primitive<unknown>; readonly args: readonly Node[] }
  /** `inner` inside the box, 0 outside (the zeros of a pad). */
  | { readonly kind: "guard"; readonly bounds: readonly Bound[]; readonly inner: Node }
  | { readonly kind: "zero" };

export interface Kernel {
  /** "map": one output entry per loop position; "reduce": accumulated over the reduced axes. */
  readonly kind: "map" | "reduce";
  readonly out: Var;
  /** The loop: the output's shape (map) or the reduction input's (reduce). */
  readonly shape: readonly number[];
  readonly reduction: "sum" | "max" | "min" | null;
  readonly axes: readonly number[];
  readonly root: Node;
  /** What the reads read: materialised variables, inputs, constants. */
  readonly leaves: readonly Atom[];
  /** The equations folded into this kernel, in program order (for printing). */
  readonly equations: readonly Equation[];
}

export type Step = { readonly kind: "kernel"; readonly kernel: Kernel } | { readonly kind: "equation"; readonly eq: Equation };

/** All operands of the output's dtype: a kernel computes in double and rounds to float32 after each op, as the eager kernels store. */
function oneDtype(eq: Equation): boolean {
  return eq.inputs.every((a) => (a.kind === "var" ? a.dtype : a.value.dtype) === eq.out.dtype);
}

const shapeOf = (a: Atom): readonly number[] => (a.kind === "var" ? a.shape : a.value.shape);

/** How an equation can join a kernel. */
function fusionKind(eq: Equation): "elementwise" | "view" | "reduce" | null {
  const p = eq.prim;
  if (p === null || p.dense === true || !oneDtype(eq)) return null;
  if (p.elementwise !== undefined) return "elementwise";
  if (p.reduction !== undefined) {
    // A float32 sum over some axes accumulates in place in a Float32Array, which would round each partial sum; the eager kernel rounds once.
    const all = (eq.params as { axes: number[] }).axes.length === shapeOf(eq.inputs[0]).length;
    return eq.out.dtype === "float32" && p.reduction === "sum" && !all ? null : "reduce";
  }
  if (p.view !== undefined && p.view(shapeOf(eq.inputs[0]), eq.params) !== null) return "view";
  return null;
}

/** The equations the outputs need, in program order (dead code removed). */
export function liveEquations(program: Program): Equation[] {
  const producer = new Map<number, Equation>();
  for (const eq of program.equations) producer.set(eq.out.id, eq);
  const live = new Set<Equation>();
  const stack: Atom[] = program.outputs.slice();
  while (stack.length > 0) {
    const a = stack.pop()!;
    if (a.kind !== "var") continue;
    const eq = producer.get(a.id);
    if (eq === undefined || live.has(eq)) continue;
    live.add(eq);
    stack.push(...eq.inputs);
  }
  return program.equations.filter((eq) => live.has(eq));
}

/** m1 (kernel → A) followed by m2 (A → B): kernel → B. */
export function compose(m1: IndexMap, m2: IndexMap): IndexMap {
  return {
    dims: m2.dims.map((d) => (d.axis < 0 ? d : { axis: m1.dims[d.axis].axis, offset: m1.dims[d.axis].offset + d.offset })),
    bounds: [],
  };
}

function identity(rank: number): IndexMap {
  return { dims: Array.from({ length: rank }, (_, axis) => ({ axis, offset: 0 })), bounds: [] };
}

/** Groups the live equations into steps: fused kernels and equations run on their own. */
export function fuse(program: Program): Step[] {
  const eqs = liveEquations(program);
  const producer = new Map<number, Equation>();
  const consumers = new Map<number, Equation[]>();
  for (const eq of eqs) {
    producer.set(eq.out.id, eq);
    for (const a of eq.inputs) if (a.kind === "var") {
      const list = consumers.get(a.id);
      if (list === undefined) consumers.set(a.id, [eq]);
      else if (!list.includes(eq)) list.push(eq);
    }
  }
  const outputs = new Set<number>();
  for (const a of program.outputs) if (a.kind === "var") outputs.add(a.id);
  const kinds = new Map<Equation, ReturnType<typeof fusionKind>>();
  for (const eq of eqs) kinds.set(eq, fusionKind(eq));

  // Views read by an op that is not fusible (a matrix product reading a transpose) run as views,
  // not as copies: found backwards, since a view of a view so read is so read too.
  const viewSteps = new Set<Equation>();
  for (let i = eqs.length - 1; i >= 0; i--) {
    const eq = eqs[i];
    if (kinds.get(eq) !== "view") continue;
    const users = consumers.get(eq.out.id) ?? [];
    if (users.some((u) => kinds.get(u) === null || viewSteps.has(u))) viewSteps.add(eq);
  }
  for (const eq of viewSteps) kinds.set(eq, null);

  // Which values are inlined into their consumers, and what recomputing each costs.
  const inlined = new Set<number>();
  const cost = new Map<number, number>();
  for (const eq of eqs) {
    const kind = kinds.get(eq)!;
    if (kind !== "elementwise" && kind !== "view") continue;
    const own = (kind === "elementwise" ? eq.prim!.elementwise!.cost ?? 1 : 0) + eq.inputs.reduce((c, a) => c + (a.kind === "var" && inlined.has(a.id) ? cost.get(a.id)! : 0), 0);
    cost.set(eq.out.id, own);
    const users = consumers.get(eq.out.id) ?? [];
    const size = sizeOf(eq.out.shape);
    const fusibleUsers = users.every((u) => kinds.get(u) !== null);
    const cheap = own <= RECOMPUTE_COST;
    const enlarged = users.some((u) => sizeOf(u.out.shape) > size && !(kinds.get(u) === "view" && u.prim!.view!(eq.out.shape, u.params)!.bounds.length > 0));
    const countUses = users.reduce((n, u) => n + u.inputs.filter((a) => a.kind === "var" && a.id === eq.out.id).length, 0);
    if (!outputs.has(eq.out.id) && fusibleUsers && (cheap || (countUses === 1 && !enlarged))) inlined.add(eq.out.id);
  }

  const steps: Step[] = [];
  for (const eq of eqs) {
    const kind = kinds.get(eq)!;
    if (kind === null) steps.push({ kind: "equation", eq });
    else if (!inlined.has(eq.out.id)) steps.push({ kind: "kernel", kernel: buildKernel(eq, kind, producer, inlined) });
  }
  return steps;
}

function buildKernel(root: Equation, kind: "elementwise" | "view" | "reduce", producer: Map<number, Equation>, inlined: Set<number>): Kernel {
  const leaves: Atom[] = [];
  const folded = new Set<Equation>([root]);
  const slotOf = (a: Atom): number => {
    let i = leaves.findIndex((l) => (l.kind === "var" && a.kind === "var" ? l.id === a.id : l.kind === "const" && a.kind === "const" && l.value === a.value));
    if (i < 0) {
      leaves.push(a);
      i = leaves.length - 1;
    }
    return i;
  };
  const gen = (a: Atom, map: IndexMap): Node => {
    if (a.kind === "const" || !inlined.has(a.id)) return { kind: "read", slot: slotOf(a), map };
    return expand(producer.get(a.id)!, map);
  };
  const expand = (eq: Equation, map: IndexMap): Node => {
    folded.add(eq);
    const prim = eq.prim!;
    if (prim.elementwise !== undefined) {
      return { kind: "op", prim, args: eq.inputs.map((u) => gen(u, compose(map, broadcastMap(shapeOf(u), eq.out.shape)))) };
    }
    const vm = prim.view!(shapeOf(eq.inputs[0]), eq.params)!;
    const bounds: Bound[] = [];
    for (const b of vm.bounds) {
      const d = map.dims[b.axis];
      if (d.axis < 0) {
        if (d.offset < b.lo || d.offset >= b.hi) return { kind: "zero" };
      } else bounds.push({ axis: d.axis, lo: b.lo - d.offset, hi: b.hi - d.offset });
    }
    const inner = gen(eq.inputs[0], compose(map, vm));
    return bounds.length === 0 ? inner : { kind: "guard", bounds, inner };
  };
  if (kind === "reduce") {
    const input = root.inputs[0];
    const params = root.params as { axes: number[] };
    const rootNode = gen(input, identity(shapeOf(input).length));
    return { kind: "reduce", out: root.out, shape: shapeOf(input).slice(), reduction: root.prim!.reduction!, axes: params.axes.slice(), root: rootNode, leaves, equations: [...folded] };
  }
  const rootNode = expand(root, identity(root.out.shape.length));
  return { kind: "map", out: root.out, shape: root.out.shape.slice(), reduction: null, axes: [], root: rootNode, leaves, equations: [...folded] };
}
