/**
 * The tape made visible, for teaching: what reverse mode records while f runs,
 * and the order in which the backward sweep visits it with which cotangents.
 */
import { Tensor, type NestedArray } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete } from "../primitives/core.js";
import { operand, type Operand } from "../primitives/operands.js";
import { onesLike } from "../primitives/util.js";
import { pullBack, record, type TapeNode } from "./reverse.js";

/** One recorded operation. */
export interface TapeEntry {
  /** Position on the tape (#index in the printout). */
  index: number;
  /** Primitive name, "input" for an argument of f, or a custom rule's name. */
  op: string;
  /** For each operand: the tape index it came from, or null for a constant. */
  inputs: (number | null)[];
  /** The operands' shapes. */
  inputShapes: number[][];
  /** Constant operands' values (null where the operand is on the tape). */
  constants: (NestedArray | null)[];
  /** Which argument of f, for inputs. */
  argIndex: number | null;
  /**
   * True for a node recorded by a custom rule (customVjp, customJvp, an
   * ImplicitFunction's solve), whose derivative is that rule's own pullback
   * rather than a primitive's; `op` is then the rule's name.
   */
  custom: boolean;
  shape: number[];
  value: NestedArray;
}

/** One step of the backward sweep: the node visited and the cotangent it holds then. */
export interface SweepStep {
  index: number;
  op: string;
  /** The node's cotangent: the sum of what its consumers sent it. */
  cotangent: NestedArray;
  /** What the node's VJP rule sends back to each operand on the tape. */
  sent: { to: number; cotangent: NestedArray }[];
}

export interface TapeTrace {
  entries: TapeEntry[];
  /** Tape index of f's output (null if the output does not depend on the inputs). */
  output: number | null;
  value: NestedArray;
  /** The backward sweep from the output with cotangent 1 (for scalar outputs), in visiting order. */
  sweep: SweepStep[];
  /** The gradient of each argument. */
  gradients: NestedArray[];
}

function entryOf(node: TapeNode): TapeEntry {
  return {
    index: node.index,
    op: node.name,
    inputs: node.parents.map((p) => (p === null ? null : p.index)),
    inputShapes: node.primals.map((p) => p.shape.slice()),
    constants: node.primals.map((p, i) => (node.parents[i] === null ? concrete(p).toArray() : null)),
    argIndex: node.argIndex >= 0 ? node.argIndex : null,
    custom: node.argIndex < 0 && node.prim === null,
    shape: node.out.shape.slice(),
    value: concrete(node.out).toArray(),
  };
}

/**
 * Runs a scalar function f once in reverse mode and returns its tape (each
 * primitive with its operands, shapes and values), the backward sweep (each
 * node visited with its cotangent) and the gradients of every argument.
 */
export function traceTape(f: (...args: Tensor[]) => unknown, ...args: Operand[]): TapeTrace {
  return traceTapeAs("traceTape", f, args);
}

/** traceTape with the public name of the caller (traceTape or traceToString) in its errors. */
function traceTapeAs(op: string, f: (...args: Tensor[]) => unknown, args: unknown[]): TapeTrace {
  if (typeof f !== "function") throw new Error(`${op}: f must be a function, got ${describe(f)}`);
  const rec = record(op, f, args.map((a, i) => operand(op, a, undefined, `argument ${i}`)), true);
  if (rec.out.ndim !== 0) throw new Error(`${op}: f must return a scalar to show the backward sweep, got shape ${shapeToString(rec.out.shape)}`);
  const sweep: SweepStep[] = [];
  const gradients = pullBack(op, rec, onesLike(rec.out), {
    visit: (node, ct) => sweep.push({ index: node.index, op: node.name, cotangent: concrete(ct).toArray(), sent: [] }),
    send: (_, to, ct) => sweep[sweep.length - 1].sent.push({ to: to.index, cotangent: concrete(ct).toArray() }),
  });
  return {
    entries: rec.trace.tape.map(entryOf),
    output: rec.outNode === null ? null : rec.outNode.index,
    value: concrete(rec.out).toArray(),
    sweep,
    gradients: gradients.map((g) => concrete(g).toArray()),
  };
}

function show(v: NestedArray): string {
  const s = JSON.stringify(v, (_, x) => (typeof x === "number" ? Number(x.toPrecision(6)) : x));
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** The tape and the backward sweep of f at args as readable text (see traceTape). */
export function traceToString(f: (...args: Tensor[]) => unknown, ...args: Operand[]): string {
  const t = traceTapeAs("traceToString", f, args);
  const lines = ["tape (forward order):"];
  for (const e of t.entries) {
    const operands = e.op === "input"
      ? `argument ${e.argIndex}`
      : e.inputs.map((src, i) => (src === null ? `const ${show(e.constants[i]!)}` : `#${src}`)).join(", ");
    lines.push(`  #${e.index} ${e.op}(${operands}) -> ${shapeToString(e.shape)} ${show(e.value)}`);
  }
  lines.push(`output: ${t.output === null ? "a constant" : `#${t.output}`} = ${show(t.value)}`);
  lines.push("backward sweep (reverse order, cotangent held by each node):");
  for (const s of t.sweep) {
    const sends = s.sent.map((m) => `#${m.to} += ${show(m.cotangent)}`).join(", ");
    lines.push(`  #${s.index} ${s.op}: cotangent ${show(s.cotangent)}${sends ? `  →  ${sends}` : ""}`);
  }
  t.gradients.forEach((g, i) => lines.push(`gradient of argument ${i}: ${show(g)}`));
  return lines.join("\n");
}
