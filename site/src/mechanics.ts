/**
 * What part 1 of the page shows, computed with the library and no DOM: the tape
 * of f(x, y) from traceTape, each primitive's local derivatives, the reverse
 * sweep replayed step by step with cotangents accumulating, the forward pass
 * replayed node by node with tangents (symbolic zeros included, as the library's
 * jvp keeps them), and central finite differences.
 */
import {
  add, sub, mul, div, neg, pow, sin, cos, exp, log, sqrt, tanh, sigmoid, softplus, abs, relu,
  grad, jvp, traceTape, Tensor, type TapeTrace, type TapeEntry, type NestedArray,
} from "../../lib/index.js";
import { evaluate, evaluateNumber, type Expr } from "./expr.js";

type Op = (...operands: (Tensor | number)[]) => Tensor;

/** The scalar primitives the page knows by their tape names, with the library function that records each. */
export const PRIMITIVES: Record<string, Op> = {
  add, sub, mul, div, pow, neg, sin, cos, exp, log, sqrt, tanh, sigmoid, softplus, abs, relu,
} as Record<string, Op>;

/** Each primitive's derivative rule, per operand (a, b for binary ops; u for unary), as the reader would write it. */
export const RULES: Record<string, string[]> = {
  add: ["1", "1"],
  sub: ["1", "−1"],
  mul: ["b", "a"],
  div: ["1/b", "−a/b²"],
  pow: ["b·a^(b−1)", "a^b·ln a"],
  neg: ["−1"],
  sin: ["cos u"],
  cos: ["−sin u"],
  exp: ["exp u"],
  log: ["1/u"],
  sqrt: ["1/(2√u)"],
  tanh: ["1 − tanh²u"],
  sigmoid: ["σ(u)(1 − σ(u))"],
  softplus: ["σ(u)"],
  abs: ["sign u"],
  relu: ["1 if u > 0 else 0"],
};

/**
 * The rule for ∂/∂(operand `slot`) as the page prints it beside its value: the
 * formula, plus the library's convention where the formula itself has no value
 * (pow: b·a^(b−1) is taken as 0 where b = 0, a^b·ln a as 0 where a = 0).
 */
export function ruleText(op: string, slot: number, args: number[]): string {
  const rule = RULES[op]?.[slot] ?? "?";
  if (op === "pow" && slot === 0 && args[1] === 0) return `${rule}, taken as 0 where b = 0`;
  if (op === "pow" && slot === 1 && args[0] === 0) return `${rule}, taken as 0 where a = 0`;
  return rule;
}

/** Operand names in the rules: u for one operand, a and b for two. */
export function operandNames(count: number): string[] {
  return count === 1 ? ["u"] : count === 2 ? ["a", "b"] : Array.from({ length: count }, (_, j) => `arg${j}`);
}

/** The scalar inside a rank-0 (or size-1) value. */
export function scalarOf(v: NestedArray | number): number {
  let x: unknown = v;
  while (Array.isArray(x)) x = x[0];
  return typeof x === "number" ? x : NaN;
}

/** A tape of scalars with what the page needs beside traceTape's record. */
export interface ScalarTape {
  trace: TapeTrace;
  /** Each entry's value. */
  values: number[];
  /** Per entry, per operand: ∂(entry)/∂(operand) at the recorded values; null for constant operands. */
  local: (number | null)[][];
  /**
   * Per entry: true for a custom rule's node (traceTape's `custom`), such as an
   * implicit function's solve. Its local derivative, like that of any primitive
   * the page has no formula for, is read off the library's own sweep: what the
   * node sent divided by its cotangent.
   */
  custom: boolean[];
}

/** The operands of a tape entry as numbers: recorded values for tape operands, the constants otherwise. */
export function operandValues(entry: TapeEntry, values: number[]): number[] {
  return entry.inputs.map((src, j) => (src === null ? scalarOf(entry.constants[j]!) : values[src]));
}

/** ∂out/∂operand for the operands on the tape, by the library's grad applied to the primitive alone. */
function localDerivatives(op: Op, entry: TapeEntry, values: number[]): (number | null)[] {
  const argnums = entry.inputs.flatMap((src, j) => (src === null ? [] : [j]));
  const operands = operandValues(entry, values);
  const out: (number | null)[] = entry.inputs.map(() => null);
  if (argnums.length === 0) return out;
  // #region snippet part1-local
  const partials = grad(op, { argnums })(...operands); // each primitive alone: its local derivatives
  // #endregion
  argnums.forEach((j, k) => (out[j] = partials[k].item()));
  return out;
}

/** A custom node's local derivatives from the library's sweep: sent = cotangent × local (scalars only). */
function localFromSweep(trace: TapeTrace, entry: TapeEntry): (number | null)[] {
  const visit = trace.sweep.find((s) => s.index === entry.index);
  const out: (number | null)[] = entry.inputs.map(() => null);
  if (visit === undefined) return out;
  const cotangent = scalarOf(visit.cotangent);
  if (!Number.isFinite(cotangent) || cotangent === 0) return out;
  entry.inputs.forEach((src, j) => {
    if (src === null) return;
    const sent = visit.sent.filter((m) => m.to === src).reduce((s, m) => s + scalarOf(m.cotangent), 0);
    // Two operands from one node share their sends; only an unshared one can be read off.
    if (entry.inputs.filter((other) => other === src).length === 1) out[j] = sent / cotangent;
  });
  return out;
}

/** Values and local derivatives of every entry of a scalar tape. */
export function scalarTape(trace: TapeTrace): ScalarTape {
  const values = trace.entries.map((e) => scalarOf(e.value));
  const custom = trace.entries.map((e) => e.custom);
  const local = trace.entries.map((e) => {
    if (e.op === "input") return [];
    const op = PRIMITIVES[e.op];
    return e.custom || op === undefined ? localFromSweep(trace, e) : localDerivatives(op, e, values);
  });
  return { trace, values, local, custom };
}

/**
 * Forward mode replayed on the tape along argument `arg`: each entry's tangent
 * Σ_j ∂(entry)/∂(operand j)·(operand j's tangent). An entry none of whose
 * operands depends on the argument has no tangent at all (null), a symbolic
 * zero, as in the library's jvp: no rule multiplies it, so an infinite or NaN
 * local derivative on that path cannot leak into the result.
 */
export function forwardTangents(tape: ScalarTape, arg: number): (number | null)[] {
  const tangents: (number | null)[] = [];
  for (const e of tape.trace.entries) {
    if (e.op === "input") {
      tangents.push(e.argIndex === arg ? 1 : null);
      continue;
    }
    let t: number | null = null;
    e.inputs.forEach((src, j) => {
      if (src === null || tangents[src] === null) return;
      t = (t ?? 0) + tape.local[e.index][j]! * tangents[src]!;
    });
    tangents.push(t);
  }
  return tangents;
}

export interface FiniteDifference {
  /** The steps used along x and along y, and the larger of the two (the one shown). */
  hx: number;
  hy: number;
  h: number;
  dx: number;
  dy: number;
  /** f one step h before and after the point, along x and along y: [[f(x − h, y), f(x + h, y)], [f(x, y − h), f(x, y + h)]]. */
  around: [[number, number], [number, number]];
  /** One-sided differences (f(p) − f(p − h))/h and (f(p + h) − f(p))/h along each coordinate: the slopes from the left and the right. */
  left: [number, number];
  right: [number, number];
  /** The same one-sided slopes with the step h/16: a kink's jump between them stays, a smooth function's shrinks with h. */
  fineLeft: [number, number];
  fineRight: [number, number];
}

export interface Analysis {
  x: number;
  y: number;
  /** The library calls the page ran, as code: `(x, y) => add(…)`. */
  tape: ScalarTape;
  value: number;
  /** Per tape entry: its tangent when (x, y) moves along (1, 0) and along (0, 1); null for a symbolic zero. */
  tangentAlongX: (number | null)[];
  tangentAlongY: (number | null)[];
  /** Reverse mode: the gradient traceTape returned. */
  gradient: [number, number];
  /** Forward mode: the library's jvp along e_x and e_y. */
  jvpX: number;
  jvpY: number;
  fd: FiniteDifference;
  /** Central differences for a ladder of steps h, and their error against reverse mode. */
  fdLadder: { h: number; dx: number; dy: number; errorX: number; errorY: number }[];
}

/** Central difference of f along one coordinate. */
function central(f: (x: number, y: number) => number, x: number, y: number, along: "x" | "y", h: number): number {
  if (along === "x") return (f(x + h, y) - f(x - h, y)) / (2 * h);
  return (f(x, y + h) - f(x, y - h)) / (2 * h);
}

/** The default finite-difference step: ε^{1/3}·max(1, |coordinate|) balances truncation O(h²) and rounding O(ε/h). */
export function defaultStep(coordinate: number): number {
  return Math.cbrt(Number.EPSILON) * Math.max(1, Math.abs(coordinate));
}

/** Everything part 1 shows for f at (x, y). */
export function analyse(expr: Expr, x: number, y: number): Analysis {
  const f = (x: Tensor, y: Tensor): Tensor | number => evaluate(expr, x, y);
  // #region snippet part1-modes
  const trace = traceTape(f, x, y); // reverse mode: the tape, the backward sweep, ∂f/∂x and ∂f/∂y
  const [, alongX] = jvp(f, [x, y], [1, 0]); // forward mode: ∂f/∂x
  const [, alongY] = jvp(f, [x, y], [0, 1]); // forward mode: ∂f/∂y
  // #endregion
  const tape = scalarTape(trace);

  const plain = (a: number, b: number): number => evaluateNumber(expr, a, b);
  const hx = defaultStep(x);
  const hy = defaultStep(y);
  const f0 = plain(x, y);
  const around: FiniteDifference["around"] = [[plain(x - hx, y), plain(x + hx, y)], [plain(x, y - hy), plain(x, y + hy)]];
  const fd: FiniteDifference = {
    hx, hy, h: Math.max(hx, hy),
    dx: (around[0][1] - around[0][0]) / (2 * hx),
    dy: (around[1][1] - around[1][0]) / (2 * hy),
    around,
    left: [(f0 - around[0][0]) / hx, (f0 - around[1][0]) / hy],
    right: [(around[0][1] - f0) / hx, (around[1][1] - f0) / hy],
    fineLeft: [(f0 - plain(x - hx / 16, y)) * 16 / hx, (f0 - plain(x, y - hy / 16)) * 16 / hy],
    fineRight: [(plain(x + hx / 16, y) - f0) * 16 / hx, (plain(x, y + hy / 16) - f0) * 16 / hy],
  };
  const gradient: [number, number] = [scalarOf(trace.gradients[0]), scalarOf(trace.gradients[1])];
  const fdLadder = [];
  for (let k = 1; k <= 13; k++) {
    const h = 10 ** -k;
    const dx = central(plain, x, y, "x", h);
    const dy = central(plain, x, y, "y", h);
    fdLadder.push({ h, dx, dy, errorX: Math.abs(dx - gradient[0]), errorY: Math.abs(dy - gradient[1]) });
  }
  return {
    x, y, tape, value: scalarOf(trace.value),
    tangentAlongX: forwardTangents(tape, 0),
    tangentAlongY: forwardTangents(tape, 1),
    gradient, jvpX: alongX.item(), jvpY: alongY.item(), fd, fdLadder,
  };
}

/** One contribution to a node's cotangent: (the visited node's cotangent) × (its local derivative). */
export interface Contribution {
  from: number;
  upstream: number;
  local: number;
  amount: number;
}

export interface NodeSweepState {
  /** Cotangent held so far (null: nothing has reached this node yet). */
  cotangent: number | null;
  /** The output's seed v̄ = 1, before it is visited. */
  seeded: boolean;
  contributions: Contribution[];
  visited: boolean;
  /** Visited at the latest step. */
  current: boolean;
  /** Never visited by the full sweep: no path from this node to the output. */
  unreachable: boolean;
}

export interface SweepState {
  step: number;
  total: number;
  nodes: NodeSweepState[];
  /** The node visited at the latest step, with what it sent to its operands (`slot` is the operand position). */
  visit: { index: number; op: string; cotangent: number; library: number; sent: { to: number; slot: number; amount: number; local: number }[] } | null;
  /** The node the next step visits (null at the end). */
  next: number | null;
}

/**
 * The reverse sweep after `step` visits (0 ≤ step ≤ sweep length): each node's
 * cotangent as the sum of what its visited consumers sent back, v̄_p += v̄_n·∂n/∂p.
 * The library's own cotangent at each visit (from traceTape) is reported beside
 * the replayed sum, so the page can show that the two agree.
 */
export function sweepState(tape: ScalarTape, step: number): SweepState {
  const { trace, local } = tape;
  const total = trace.sweep.length;
  const k = Math.max(0, Math.min(step, total));
  const inSweep = new Set(trace.sweep.map((s) => s.index));
  const nodes: NodeSweepState[] = trace.entries.map((e) => ({
    cotangent: null, seeded: false, contributions: [], visited: false, current: false, unreachable: !inSweep.has(e.index),
  }));
  if (trace.output !== null) {
    nodes[trace.output].cotangent = 1;
    nodes[trace.output].seeded = true;
  }
  let visit: SweepState["visit"] = null;
  for (let i = 0; i < k; i++) {
    const s = trace.sweep[i];
    const node = nodes[s.index];
    node.visited = true;
    const upstream = node.cotangent ?? 0;
    const entry = trace.entries[s.index];
    const sent: { to: number; slot: number; amount: number; local: number }[] = [];
    entry.inputs.forEach((src, j) => {
      const d = local[s.index][j];
      if (src === null || d === null) return;
      const amount = upstream * d;
      const target = nodes[src];
      target.contributions.push({ from: s.index, upstream, local: d, amount });
      target.cotangent = (target.cotangent ?? 0) + amount;
      sent.push({ to: src, slot: j, amount, local: d });
    });
    if (i === k - 1) {
      node.current = true;
      visit = { index: s.index, op: s.op, cotangent: upstream, library: scalarOf(s.cotangent), sent };
    }
  }
  return { step: k, total, nodes, visit, next: k < total ? trace.sweep[k].index : null };
}

/** One term of a forward tangent: ∂(node)/∂(operand) × (operand's tangent). */
export interface TangentTerm {
  from: number;
  slot: number;
  local: number;
  tangent: number;
  amount: number;
}

export interface ForwardState {
  arg: number;
  step: number;
  total: number;
  /** The entries the pass computes a tangent for (those downstream of the argument), in tape order. */
  order: number[];
  /** Per entry: its tangent once computed; undefined while still to come; null for a symbolic zero (not downstream of the argument). */
  tangents: (number | null | undefined)[];
  /** The entry computed at the latest step, with the terms of its tangent. */
  current: { index: number; tangent: number; terms: TangentTerm[] } | null;
  /** Products ∂(node)/∂(operand)·tangent the whole pass performs. */
  products: number;
}

/**
 * The forward pass along argument `arg` after `step` nodes: the argument's
 * input starts with tangent 1, and each node downstream of it, in tape order,
 * sums (local derivative) × (operand tangent) over its operands that carry one.
 */
export function forwardState(tape: ScalarTape, arg: number, step: number): ForwardState {
  const full = forwardTangents(tape, arg);
  const entries = tape.trace.entries;
  const order = entries.filter((e) => e.op !== "input" && full[e.index] !== null).map((e) => e.index);
  const termsOf = (index: number): TangentTerm[] => entries[index].inputs.flatMap((src, j) => {
    if (src === null || full[src] === null) return [];
    const local = tape.local[index][j]!;
    return [{ from: src, slot: j, local, tangent: full[src]!, amount: local * full[src]! }];
  });
  const k = Math.max(0, Math.min(step, order.length));
  const done = new Set(order.slice(0, k));
  const tangents = entries.map((e) => (full[e.index] === null ? null : e.op === "input" || done.has(e.index) ? full[e.index] : undefined));
  const current = k === 0 ? null : { index: order[k - 1], tangent: full[order[k - 1]]!, terms: termsOf(order[k - 1]) };
  const products = order.reduce((s, i) => s + termsOf(i).length, 0);
  return { arg, step: k, total: order.length, order, tangents, current, products };
}

/** One path from an input to the output through the tape: the edges it takes and the product of their local derivatives. */
export interface TapePath {
  /** Entries along the path, from the input to the output. */
  nodes: number[];
  /** The local derivative on each edge (nodes[k] → nodes[k + 1]). */
  locals: number[];
  product: number;
}

/**
 * The chain rule as a sum over paths: ∂f/∂(input) = Σ over the paths from the
 * input to the output of the product of the local derivatives along the path
 * (two operands fed by one node are two edges, hence two paths). Listed up to
 * `limit` paths; `count` is their number (which can grow exponentially with
 * depth: that is why the modes factor the sum instead of listing it).
 */
export function pathsFrom(tape: ScalarTape, arg: number, limit = 24): { paths: TapePath[]; count: number; sum: number } {
  const entries = tape.trace.entries;
  const output = tape.trace.output;
  const input = entries.find((e) => e.op === "input" && e.argIndex === arg);
  if (output === null || input === undefined) return { paths: [], count: 0, sum: 0 };
  const consumers: { to: number; slot: number }[][] = entries.map(() => []);
  for (const e of entries) e.inputs.forEach((src, slot) => { if (src !== null) consumers[src].push({ to: e.index, slot }); });
  // Paths from each node to the output, counted from the end (a DAG in tape order).
  const count = new Array<number>(entries.length).fill(0);
  count[output] = 1;
  for (let i = output - 1; i >= 0; i--) count[i] = consumers[i].reduce((s, c) => s + count[c.to], 0);
  const paths: TapePath[] = [];
  let sum = 0;
  const walk = (node: number, nodes: number[], locals: number[]): void => {
    if (paths.length >= limit) return;
    if (node === output) {
      const product = locals.reduce((p, d) => p * d, 1);
      paths.push({ nodes, locals, product });
      return;
    }
    for (const c of consumers[node]) {
      if (count[c.to] === 0) continue;
      walk(c.to, [...nodes, c.to], [...locals, tape.local[c.to][c.slot] ?? NaN]);
    }
  };
  walk(input.index, [input.index], []);
  if (count[input.index] <= limit) sum = paths.reduce((s, p) => s + p.product, 0);
  else sum = NaN;
  return { paths, count: count[input.index], sum };
}

/**
 * Mean time per call of f, over as many calls as fit in `budgetMs` (at least
 * one, at most `maxCalls`), after one uncounted call: browsers round
 * performance.now() to 0.1 ms or coarser, finer than a single small gradient
 * takes, and the first call of any code also pays for the JavaScript engine
 * compiling it, which would charge whichever method runs first.
 */
export function timePerCall(budgetMs: number, f: () => void, maxCalls = 1000): number {
  f();
  const t0 = performance.now();
  let calls = 0;
  let elapsed = 0;
  do {
    f();
    calls++;
    elapsed = performance.now() - t0;
  } while (elapsed < budgetMs && calls < maxCalls);
  return elapsed / calls;
}
