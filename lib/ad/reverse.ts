/**
 * Reverse mode on a tape. While f runs, each primitive applied to a traced value
 * appends a node (primitive, inputs, output) to the trace's tape. The backward
 * sweep walks the tape from the output to the inputs, calling each node's VJP
 * rule and summing cotangents that meet at a node. The tape belongs to one
 * `vjp` call and is garbage once its pullback is dropped.
 *
 * Because VJP rules are written with library ops, the sweep itself is traced by
 * any enclosing transformation: that is how grad(grad(f)) and jvp(grad(f)) work.
 */
import { shapeOnly, Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString } from "../tensor/shape.js";
import { bind, bindCustom, dropDead, runRule, nextLevel, splitOperands, Trace, Tracer, withTrace, type CustomRule, type MaybeTensor, type Primitive } from "../primitives/core.js";
import { isOperand, operand, type Operand } from "../primitives/operands.js";
import { add } from "../primitives/elementwise.js";
import { checkOutput, onesLike, zerosLike } from "../primitives/util.js";
import { is, readOptions, type OptionKind } from "../primitives/options.js";
import { DtypeMismatchError } from "../errors.js";
import { keepingResident } from "../tensor/wasm/dense.js";
import { checkArity } from "./arity.js";

/** One recorded operation. Inputs of the transformation are nodes too (leaves). */
export interface TapeNode {
  /** Position on the tape (the order of recording). */
  readonly index: number;
  /** The primitive's name, "input" for a leaf, or the custom rule's name. */
  readonly name: string;
  readonly prim: Primitive<unknown> | null;
  readonly params: unknown;
  readonly primals: Tensor[];
  readonly out: Tensor;
  /** The node each input came from on this tape (null: a constant here). */
  readonly parents: (TapeNode | null)[];
  /** For custom rules: the pullback the rule returned. */
  readonly pullback: ((cotangent: Tensor) => MaybeTensor[]) | null;
  /** For leaves: which argument of f. */
  readonly argIndex: number;
}

export class ReverseTracer extends Tracer {
  declare readonly _trace: ReverseTrace;
  constructor(trace: ReverseTrace, primal: Tensor, readonly node: TapeNode) {
    super(trace, primal);
  }
}

/** Values below this many entries stay on the tape whole (a placeholder would cost more than it frees). */
const PLACEHOLDER_SIZE = 1024;

export class ReverseTrace extends Trace {
  readonly tape: TapeNode[] = [];

  /** `keepAll`: the tape keeps every value (to be shown, as traceTape does), not only what the rules read. */
  constructor(level: number, private readonly keepAll = false) {
    super(level);
  }

  private record(name: string, prim: Primitive<unknown> | null, params: unknown, primals: Tensor[], out: Tensor,
    parents: (TapeNode | null)[], pullback: TapeNode["pullback"], argIndex = -1): ReverseTracer {
    let kept = primals;
    let keptOut = out;
    const saves = prim?.saves;
    if (saves !== undefined && !this.keepAll) {
      // Only what the VJP rule reads stays alive on the tape; the rest keeps its
      // shape. Small values cost less to keep than to replace.
      for (let i = 0; i < primals.length; i++) {
        const p = primals[i];
        if (p.size < PLACEHOLDER_SIZE || saves.includes(i)) continue;
        if (kept === primals) kept = primals.slice();
        kept[i] = shapeOnly(p.shape, p.dtype);
      }
      if (out.size >= PLACEHOLDER_SIZE && !saves.includes("out")) keptOut = shapeOnly(out.shape, out.dtype);
    }
    const node: TapeNode = { index: this.tape.length, name, prim, params, primals: kept, out: keptOut, parents, pullback, argIndex };
    this.tape.push(node);
    return new ReverseTracer(this, out, node);
  }

  leaf(value: Tensor, argIndex: number): ReverseTracer {
    return this.record("input", null, undefined, [], value, [], null, argIndex);
  }

  process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
    const [primals, parents] = splitOperands<TapeNode>(this, inputs);
    const out = bind(prim, primals, params);
    // Nothing flows back through it: the output stays a plain value, readable as such.
    if (prim.zeroDerivative === true) return out;
    return this.record(prim.name, prim as Primitive<unknown>, params, primals, out, parents, null);
  }

  processCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
    const [primals, parents] = splitOperands<TapeNode>(this, inputs);
    if (parents.every((p) => p === null)) return bindCustom(rule, primals);
    const [out, pullback] = runRule(this, rule, () => rule.vjp(primals));
    return this.record(rule.name, null, undefined, primals, out, parents, pullback);
  }
}

/** What a backward sweep needs of a recorded node (a tape node, or a linear program's node). */
export interface SweepNode {
  readonly index: number;
  readonly argIndex: number;
  readonly parents: readonly (SweepNode | null)[];
  readonly prim: Primitive<unknown> | null;
  readonly primals: Tensor[];
  readonly out: Tensor;
  readonly params: unknown;
}

/** Watches a backward sweep: each node visited with its cotangent, and what it sends to each operand. */
export interface SweepObserver {
  visit(node: TapeNode, cotangent: Tensor): void;
  send(from: TapeNode, to: TapeNode, cotangent: Tensor): void;
}

/**
 * The backward sweep: cotangents of the leaves given cotangents of some nodes
 * (`seeds`). Nodes are visited in reverse recording order, which is a reverse
 * topological order, so each node's cotangent is complete when it is visited;
 * a primitive's VJP rule sends it on, a custom node's pullback (`pullbackOf`)
 * likewise, and cotangents meeting at a node are added. Returns the leaves'
 * cotangents by argument index (absent: zero). With `consume`, the nodes are
 * dropped from `nodes` as they are visited (the recording cannot be swept again).
 */
export function sweep<N extends SweepNode>(
  nodes: readonly N[], seeds: readonly [N, Tensor][], pullbackOf: (node: N) => (ct: Tensor) => MaybeTensor[],
  observer?: { visit(node: N, ct: Tensor): void; send(from: N, to: N, ct: Tensor): void },
  consume = false,
): Map<number, Tensor> {
  let last = -1;
  for (const [node] of seeds) last = Math.max(last, node.index);
  const cts = new Array<MaybeTensor>(last + 1).fill(null);
  for (const [node, ct] of seeds) cts[node.index] = cts[node.index] === null ? ct : add(cts[node.index]!, ct);
  const leaves = new Map<number, Tensor>();
  for (let i = last; i >= 0; i--) {
    const ct = cts[i];
    if (ct === null) continue;
    cts[i] = null;
    const node = nodes[i];
    // A tape swept only once lets go of each node as it passes: its values can be
    // collected during the sweep rather than after it (peak memory of grad).
    if (consume) (nodes as (N | null)[])[i] = null;
    observer?.visit(node, ct);
    if (node.argIndex >= 0) {
      leaves.set(node.argIndex, ct);
      continue;
    }
    const needs = node.parents.map((p) => p !== null);
    const inCts = node.prim !== null
      ? node.prim.vjp(ct, node.primals, node.out, node.params, needs)
      : pullbackOf(node)(ct);
    for (let j = 0; j < node.parents.length; j++) {
      const parent = node.parents[j] as N | null;
      const g = inCts[j];
      if (parent === null || g === null || g === undefined) continue;
      observer?.send(node, parent, g);
      const prev = cts[parent.index];
      cts[parent.index] = prev === null ? g : add(prev, g);
    }
  }
  return leaves;
}

/** Result of tracing f once in reverse mode: what `vjp`, `grad` and the tape printer share. */
export interface Recording {
  trace: ReverseTrace;
  /** f's output, one level down (a plain Tensor unless an outer transformation traces it). */
  out: Tensor;
  /** The output's node, or null when the output does not depend on the inputs. */
  outNode: TapeNode | null;
  inputs: Tensor[];
}

/** Runs f on fresh leaves of a new tape. */
export function record(op: string, f: (...args: Tensor[]) => unknown, primals: Tensor[], keepAll = false): Recording {
  const trace = new ReverseTrace(nextLevel(), keepAll);
  return withTrace(trace, () => {
    const out = checkOutput(op, f(...primals.map((p, i) => trace.leaf(p, i))), false) as Tensor;
    const v = dropDead(out);
    if (v._trace === trace) return { trace, out: (v as ReverseTracer).primal, outNode: (v as ReverseTracer).node, inputs: primals };
    return { trace, out: v, outNode: null, inputs: primals };
  });
}

/** Pulls a cotangent back through a recording: one cotangent per input (zeros where none flows). */
export function pullBack(op: string, rec: Recording, cotangent: unknown, observer?: SweepObserver, consume = false): Tensor[] {
  if (!isOperand(cotangent)) throw new Error(`${op}: the cotangent must be a Tensor (or a value tensor() accepts) of the output's shape ${shapeToString(rec.out.shape)}, got ${describe(cotangent)}`);
  const ct = operand(op, cotangent, rec.out.dtype, `the cotangent (the output has shape ${shapeToString(rec.out.shape)})`);
  if (!sameShape(ct.shape, rec.out.shape)) throw new Error(`${op}: the cotangent has shape ${shapeToString(ct.shape)} but the output has shape ${shapeToString(rec.out.shape)}`);
  if (ct.dtype !== rec.out.dtype) throw new DtypeMismatchError(`${op}: the cotangent is ${ct.dtype} but the output is ${rec.out.dtype}`);
  const tape = rec.trace.tape;
  const leaves = rec.outNode === null ? new Map<number, Tensor>() : keepingResident(sharedMatrices(tape), () => sweep(tape, [[rec.outNode!, ct]], (node) => node.pullback!, observer, consume));
  return rec.inputs.map((x, i) => leaves.get(i) ?? zerosLike(x, op));
}

/**
 * The constant matrices several matrix products on the tape multiply by (X in
 * a loop of w ← w − η Xᵀ(X w − y)): the sweep's products by them may read a
 * copy kept in the WebAssembly memory for the sweep (see `keepingResident`).
 * None when the tape holds custom rules: their pullbacks are user code, which
 * could write into a constant's array while the sweep runs.
 */
function sharedMatrices(tape: readonly (TapeNode | null)[]): Tensor[] {
  const uses = new Map<unknown, Tensor[]>();
  for (const node of tape) {
    if (node === null) continue;
    if (node.prim === null) {
      if (node.argIndex < 0) return [];
      continue;
    }
    if (node.prim.dense !== true) continue;
    node.primals.forEach((p, i) => {
      if (node.parents[i] !== null || dropDead(p)._trace !== null) return;
      const views = uses.get(p.data);
      if (views === undefined) uses.set(p.data, [p]);
      else views.push(p);
    });
  }
  const shared: Tensor[] = [];
  for (const views of uses.values()) if (views.length > 1) shared.push(...views);
  return shared;
}

/**
 * Reverse-mode derivative: evaluates f(...primals) and returns [out, pullback],
 * where pullback(ȳ) = [J₁ᵀȳ, J₂ᵀȳ, …], one cotangent per primal. The pullback
 * may be called many times (each call sweeps the same tape).
 */
export function vjp<F extends ScalarFunction>(f: F, ...primals: ArgsOf<F>): [Tensor, (cotangent: Operand) => Tensor[]];
export function vjp(f: ScalarFunction, ...primals: unknown[]): [Tensor, (cotangent: Operand) => Tensor[]] {
  if (typeof f !== "function") throw new Error(`vjp: f must be a function, got ${describe(f)}`);
  checkArity("vjp", f, primals, null);
  const rec = record("vjp", f as (...args: Tensor[]) => unknown, primals.map((p, i) => operand("vjp", p, undefined, `primal ${i}`)));
  return [rec.out, (ct) => pullBack("vjp", rec, ct)];
}

export interface GradOptions {
  /** Which arguments to differentiate: one index (one gradient) or an array (an array of gradients). Default 0. */
  argnums?: number | number[];
}

function checkArgnums(op: string, argnums: unknown, nargs: number): number[] {
  const list = Array.isArray(argnums) ? argnums : [argnums];
  if (Array.isArray(argnums) && argnums.length === 0) throw new Error(`${op}: argnums must not be empty`);
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a) || a < 0) throw new Error(`${op}: argnums must be a non-negative integer or an array of them, got ${describe(a)}`);
    if (a >= nargs) throw new Error(`${op}: argnums ${a} is out of range for ${nargs} argument(s)`);
  }
  if (new Set(list).size !== list.length) throw new Error(`${op}: argnums [${list.join(",")}] repeat an index`);
  return list as number[];
}

/** grad's and valueAndGrad's options (argnums is checked against the arguments by selectArgs). */
const GRAD_OPTIONS = { argnums: is.given<number | number[]>("a non-negative integer or an array of them") } satisfies Record<keyof GradOptions, OptionKind<unknown>>;

/** @internal Shared by grad, valueAndGrad and jacobian: f as a function of the selected arguments only. */
export function selectArgs(op: string, f: (...args: never[]) => unknown, args: unknown[], argnums: unknown): { picked: number[]; primals: Tensor[]; g: (...xs: Tensor[]) => unknown } {
  const picked = checkArgnums(op, argnums, args.length);
  const primals = picked.map((a) => {
    const v = args[a];
    if (!isOperand(v)) throw new Error(`${op}: argument ${a} is ${describe(v)}; a differentiated argument must be a Tensor or a value tensor() accepts (a number, nested arrays of numbers, a Float64Array/Float32Array or an ndarray)`);
    return operand(op, v, undefined, `argument ${a}`);
  });
  const call = f as (...all: unknown[]) => unknown;
  const g = (...xs: Tensor[]): unknown => {
    const full = args.slice();
    picked.forEach((a, i) => (full[a] = xs[i]));
    return call(...full);
  };
  return { picked, primals, g };
}

function gradImpl(op: string, f: (...args: never[]) => unknown, opts: unknown): (...args: unknown[]) => [Tensor, Tensor | Tensor[]] {
  if (typeof f !== "function") throw new Error(`${op}: f must be a function, got ${describe(f)}`);
  const o = readOptions(op, opts, GRAD_OPTIONS);
  const argnums = o.argnums === undefined ? 0 : o.argnums;
  return (...args) => {
    const { primals, g } = selectArgs(op, f, args, argnums);
    const rec = record(op, g, primals);
    if (rec.out.ndim !== 0) throw new Error(`${op}: f must return a scalar (a rank-0 Tensor or a number), got shape ${shapeToString(rec.out.shape)}; use vjp or jacobian for other outputs`);
    // The tape is swept once: its values are released as the sweep passes them.
    const grads = pullBack(op, rec, onesLike(rec.out), undefined, true);
    return [rec.out, Array.isArray(argnums) ? grads : grads[0]];
  };
}

/**
 * A function a derivative is taken of: it returns a Tensor or a number, and
 * takes Tensors (numbers passed for a differentiated argument arrive as Tensors)
 * and any other arguments, which are passed through unchanged.
 */
export type ScalarFunction = (...args: never[]) => Tensor | number;

/**
 * The arguments a derived function (grad(f), jacobian(f), …) takes: f's own, except
 * that a parameter f types as a Tensor also accepts anything `tensor()` accepts
 * (a number, nested arrays, a typed array, an ndarray), which f receives as a Tensor.
 */
export type ArgsOf<F extends (...args: never[]) => unknown> = [F] extends [never] ? unknown[]
  : F extends (...args: infer P) => unknown ? (P extends never[] ? (never[] extends P ? unknown[] : ArgsMap<P>) : ArgsMap<P>) : unknown[];
type ArgsMap<P extends readonly unknown[]> = { [K in keyof P]: Tensor extends P[K] ? P[K] | Operand : P[K] };

/**
 * The gradient of a scalar function: grad(f)(...args) = ∇f w.r.t. argument 0
 * (or the `argnums` given), with the shape of that argument. One forward pass
 * plus one backward sweep, whatever the number of inputs.
 */
export function grad<F extends ScalarFunction>(f: F, opts?: { argnums?: number }): (...args: ArgsOf<F>) => Tensor;
export function grad<F extends ScalarFunction>(f: F, opts: { argnums: number[] }): (...args: ArgsOf<F>) => Tensor[];
export function grad<F extends ScalarFunction>(f: F, opts?: GradOptions): (...args: ArgsOf<F>) => Tensor | Tensor[];
export function grad(f: ScalarFunction, opts?: GradOptions): (...args: unknown[]) => Tensor | Tensor[] {
  return gradWithName("grad", f, opts);
}

/** @internal grad with the caller's public name in errors (hessian, hvp). */
export function gradWithName(op: string, f: ScalarFunction, opts?: GradOptions): (...args: unknown[]) => Tensor | Tensor[] {
  const inner = gradImpl(op, f, opts);
  return (...args) => inner(...args)[1];
}

/** Like grad, returning [value, gradient(s)] from the same pass. */
export function valueAndGrad<F extends ScalarFunction>(f: F, opts?: { argnums?: number }): (...args: ArgsOf<F>) => [Tensor, Tensor];
export function valueAndGrad<F extends ScalarFunction>(f: F, opts: { argnums: number[] }): (...args: ArgsOf<F>) => [Tensor, Tensor[]];
export function valueAndGrad<F extends ScalarFunction>(f: F, opts?: GradOptions): (...args: ArgsOf<F>) => [Tensor, Tensor | Tensor[]];
export function valueAndGrad(f: ScalarFunction, opts?: GradOptions): (...args: unknown[]) => [Tensor, Tensor | Tensor[]] {
  return gradImpl("valueAndGrad", f, opts);
}
