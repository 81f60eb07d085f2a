/**
 * What section 1 of the page shows, computed with the library and no DOM:
 * the tape of f(x, y) from traceTape, each primitive's local derivatives,
 * the reverse sweep replayed step by step with cotangents accumulating, the
 * forward tangents along x and along y, and central finite differences.
 */
import {
  add, sub, mul, div, neg, pow, sin, cos, exp, log, sqrt, tanh, sigmoid, softplus, abs, relu,
  grad, jvp, traceTape, Tensor, type TapeTrace, type TapeEntry, type NestedArray,
} from "../../lib/index.js";
import { evaluate, evaluateNumber, type Expr } from "./expr.js";

type Op = (...operands: (Tensor | number)[]) => Tensor;

/** The primitives an expression can record, by their tape names. */
const PRIMITIVES: Record<string, Op> = {
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

/** The scalar inside a rank-0 (or size-1) value. */
export function scalarOf(v: NestedArray | number): number {
  let x: unknown = v;
  while (Array.isArray(x)) x = x[0];
  return typeof x === "number" ? x : NaN;
}

export interface FiniteDifference {
  h: number;
  dx: number;
  dy: number;
}

export interface Analysis {
  x: number;
  y: number;
  trace: TapeTrace;
  value: number;
  /** Per tape entry, per operand: ∂(entry)/∂(operand) at the recorded values; null for constants and inputs. */
  local: (number | null)[][];
  /** Per tape entry: its tangent when (x, y) moves along (1, 0) and along (0, 1), pushed through `local` in tape order. */
  tangentAlongX: number[];
  tangentAlongY: number[];
  /** Reverse mode: the gradient traceTape returned. */
  gradient: [number, number];
  /** Forward mode: the library's jvp along e_x and e_y. */
  jvpX: number;
  jvpY: number;
  fd: FiniteDifference;
  /** Finite-difference error against reverse mode for a ladder of steps h. */
  fdLadder: { h: number; errorX: number; errorY: number }[];
}

/** The operands of a tape entry as numbers: recorded values for tape operands, the constants otherwise. */
function operandValues(entry: TapeEntry, values: number[]): number[] {
  return entry.inputs.map((src, j) => (src === null ? scalarOf(entry.constants[j]!) : values[src]));
}

/** ∂out/∂operand for the operands on the tape, by the library's grad applied to the primitive alone. */
function localDerivatives(entry: TapeEntry, values: number[]): (number | null)[] {
  const op = PRIMITIVES[entry.op];
  const traced = entry.inputs.flatMap((src, j) => (src === null ? [] : [j]));
  if (op === undefined || traced.length === 0) return entry.inputs.map(() => null);
  const partials = grad((...args: (Tensor | number)[]) => op(...args), { argnums: traced })(...operandValues(entry, values)) as Tensor[];
  const out: (number | null)[] = entry.inputs.map(() => null);
  traced.forEach((j, k) => (out[j] = partials[k].item()));
  return out;
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

/** Everything section 1 shows for f at (x, y). */
export function analyse(expr: Expr, x: number, y: number): Analysis {
  const f = (xs: Tensor | number, ys: Tensor | number): Tensor | number => evaluate(expr, xs, ys);
  const trace = traceTape((xs: Tensor, ys: Tensor) => f(xs, ys), x, y);
  const values = trace.entries.map((e) => scalarOf(e.value));
  const local = trace.entries.map((e) => localDerivatives(e, values));

  const tangentAlongX: number[] = [];
  const tangentAlongY: number[] = [];
  for (const e of trace.entries) {
    if (e.op === "input") {
      tangentAlongX.push(e.argIndex === 0 ? 1 : 0);
      tangentAlongY.push(e.argIndex === 1 ? 1 : 0);
      continue;
    }
    let tx = 0;
    let ty = 0;
    e.inputs.forEach((src, j) => {
      if (src === null) return;
      tx += local[e.index][j]! * tangentAlongX[src];
      ty += local[e.index][j]! * tangentAlongY[src];
    });
    tangentAlongX.push(tx);
    tangentAlongY.push(ty);
  }

  const jvpX = scalarOf(jvp((xs: Tensor, ys: Tensor) => f(xs, ys), [x, y], [1, 0])[1].toArray());
  const jvpY = scalarOf(jvp((xs: Tensor, ys: Tensor) => f(xs, ys), [x, y], [0, 1])[1].toArray());
  const gradient: [number, number] = [scalarOf(trace.gradients[0]), scalarOf(trace.gradients[1])];

  const plain = (a: number, b: number): number => evaluateNumber(expr, a, b);
  const hx = defaultStep(x);
  const hy = defaultStep(y);
  const fd = { h: Math.max(hx, hy), dx: central(plain, x, y, "x", hx), dy: central(plain, x, y, "y", hy) };
  const fdLadder = [];
  for (let k = 1; k <= 13; k++) {
    const h = 10 ** -k;
    fdLadder.push({
      h,
      errorX: Math.abs(central(plain, x, y, "x", h) - gradient[0]),
      errorY: Math.abs(central(plain, x, y, "y", h) - gradient[1]),
    });
  }
  return { x, y, trace, value: scalarOf(trace.value), local, tangentAlongX, tangentAlongY, gradient, jvpX, jvpY, fd, fdLadder };
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
  /** The output's seed ȳ = 1, before it is visited. */
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
  /** The node visited at the latest step, with what it sent to its operands. */
  visit: { index: number; op: string; cotangent: number; library: number; sent: { to: number; amount: number; local: number }[] } | null;
}

/**
 * The reverse sweep after `step` visits (0 ≤ step ≤ sweep length): each node's
 * cotangent as the sum of what its visited consumers sent back, v̄_p += v̄_n·∂n/∂p.
 * The library's own cotangent at each visit (from traceTape) is reported beside
 * the replayed sum, so the page can show that the two agree.
 */
export function sweepState(a: Analysis, step: number): SweepState {
  const { trace, local } = a;
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
    const sent: { to: number; amount: number; local: number }[] = [];
    entry.inputs.forEach((src, j) => {
      const d = local[s.index][j];
      if (src === null || d === null) return;
      const amount = upstream * d;
      const target = nodes[src];
      target.contributions.push({ from: s.index, upstream, local: d, amount });
      target.cotangent = (target.cotangent ?? 0) + amount;
      sent.push({ to: src, amount, local: d });
    });
    if (i === k - 1) {
      node.current = true;
      visit = { index: s.index, op: s.op, cotangent: upstream, library: scalarOf(s.cotangent), sent };
    }
  }
  return { step: k, total, nodes, visit };
}
