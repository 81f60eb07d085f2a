/**
 * What a primitive is, and how a call to one is dispatched (after JAX's Autodidax).
 *
 * A primitive is a name plus three rules written side by side in its family file:
 *   impl  — the kernel, on plain (concrete) tensors;
 *   jvp   — the pushforward: tangents of the inputs ↦ tangent of the output;
 *   vjp   — the pullback: cotangent of the output ↦ cotangents of the inputs.
 * The jvp and vjp rules are written with the library's own ops, so they are
 * themselves differentiable: that is all higher-order differentiation needs.
 *
 * `bind` finds the innermost live transformation (trace) among the inputs and
 * lets it handle the call; with no trace involved it runs the kernel. Each
 * transformation (lib/ad) owns a trace with a level; values carry the trace that
 * made them, so two nested transformations never mix up their perturbations.
 */
import { Tensor, tracing, type DType, type FloatArray, type TraceTag } from "../tensor/tensor.js";
import { shapeToString } from "../tensor/shape.js";
import { outputsPooled } from "../tensor/storage.js";
import { TracedReadError } from "../errors.js";

/** Cotangent or tangent, with `null` standing for a symbolic zero (no work done). */
export type MaybeTensor = Tensor | null;

export interface Primitive<P = void> {
  readonly name: string;
  impl(inputs: Tensor[], params: P): Tensor;
  /**
   * The output's shape from the inputs' shapes, without computing (JAX's
   * abstract evaluation): lets `linearize` record a program without running
   * kernels on its symbolic tangents. Absent: the kernel runs to find it.
   */
  shape?(inputs: Tensor[], params: P): number[];
  /** Tangent of the output given tangents of the inputs (null = zero); null result = zero. */
  jvp(primals: Tensor[], tangents: MaybeTensor[], out: Tensor, params: P): MaybeTensor;
  /**
   * Cotangents of the inputs given the output's cotangent (null = zero).
   * `needs[i]` is false for inputs nobody differentiates: a rule may skip them.
   */
  vjp(cotangent: Tensor, primals: Tensor[], out: Tensor, params: P, needs: readonly boolean[]): MaybeTensor[];
  /**
   * True when the derivative is identically zero (comparisons, sign,
   * stopGradient): transformations return the output as a plain value, so it
   * can be read (`greater(x, 0).item()`) and steers control flow freely.
   */
  readonly zeroDerivative?: boolean;
  /**
   * What the VJP rule reads besides shapes: input indices and/or "out". A
   * reverse-mode tape keeps only these (the rest as shape-only placeholders), so
   * a value no rule needs is freed during the forward pass, as PyTorch's saved
   * tensors are. Absent: everything is kept.
   */
  readonly saves?: readonly (number | "out")[];
  /**
   * Op knowledge, so that no pass compares op names: an elementwise op's scalar
   * form, a movement op's index map, a reduction's kind, a dense product. Program
   * passes (lib/program) fuse from it; absent, the op runs as its own step through
   * `impl`. The reverse sweep and linear programs find dense products by `dense`.
   */
  readonly elementwise?: Elementwise;
  /** A movement op as an index map from output to input positions, or null when it is not one per axis (a general reshape). */
  view?(inputShape: readonly number[], params: P): IndexMap | null;
  /** A reduction that fuses as an accumulation over its input ("sum", "max", "min"). */
  readonly reduction?: "sum" | "max" | "min";
  /** A dense product (matmul): its operands are materialised before it runs. */
  readonly dense?: boolean;
}

/**
 * An elementwise op's scalar form: `scalar` computes one entry, bit for bit as
 * the kernel does; `expr` (optional) is the same as JavaScript source over the
 * operand expressions, for generated code (absent: generated code calls `scalar`).
 */
export interface Elementwise {
  readonly scalar: (...xs: number[]) => number;
  readonly expr?: (...xs: string[]) => string;
  /**
   * The same over n entries: out[k] = f(xs[0][offsets[0] + k], …) (the interpreter's loop, where no
   * code may be generated); absent: `scalar` per entry.
   */
  readonly vector?: (out: Float64Array, xs: readonly FloatArray[], offsets: readonly number[], n: number) => void;
  /** Rough cost of one entry relative to an add (default 1; a transcendental function ~4): fusion recomputes only cheap values. */
  readonly cost?: number;
}

/**
 * Output position → input position, axis by axis (tinygrad's movement ops as
 * index maps): input axis j reads output axis `dims[j].axis` plus `dims[j].offset`
 * (axis −1: always position `offset`). Output positions outside `bounds`
 * (lo ≤ out[axis] < hi) read 0: the zeros of a pad.
 */
export interface IndexMap {
  readonly dims: readonly { readonly axis: number; readonly offset: number }[];
  readonly bounds: readonly { readonly axis: number; readonly lo: number; readonly hi: number }[];
}

/**
 * A function with user-given derivative rules (customVjp, customJvp, the
 * implicit-function nodes). `call` evaluates it on plain or lower-level values.
 * Both rules are always there: where the user gave one, lib/ad/custom.ts makes
 * the other by transposition, so the transformations never need to.
 */
export interface CustomRule {
  readonly name: string;
  call(inputs: Tensor[]): Tensor;
  /** Pushforward: returns [out, tangentOut]; tangents are never null here. */
  jvp(primals: Tensor[], tangents: Tensor[]): [Tensor, Tensor];
  /** Forward pass for reverse mode: returns [out, pullback]. */
  vjp(primals: Tensor[]): [Tensor, (cotangent: Tensor) => MaybeTensor[]];
  /**
   * True when the rules may read traced values they close over, seen one level
   * down (the implicit-function nodes, whose derivative w.r.t. those values
   * flows through their inputs). Otherwise such a closure is an Error.
   */
  closures?: boolean;
  /**
   * The output's shape and dtype, when known without running the rule: a
   * staging trace (jit) records the call with it instead of tracing `call`.
   */
  signature?: { shape: readonly number[]; dtype: DType };
}

/** A transformation in progress. Implementations: lib/ad/forward.ts, lib/ad/reverse.ts, lib/ad/linearize.ts, lib/program/trace.ts (jit). */
export abstract class Trace implements TraceTag {
  /** False once the transformation has finished, for good (see `visible`). */
  active = true;
  /** True for a trace that stages a program (jit): ops on constants are recorded too, and no value is known. */
  readonly staged: boolean = false;
  constructor(readonly level: number) {}
  abstract process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor;
  abstract processCustom(rule: CustomRule, inputs: Tensor[]): Tensor;
}

/**
 * The operands of an op as a recording trace sees them: the values one level
 * down, and for each the node it came from on `trace`'s record (null: a
 * constant there). Reverse mode and linear programs record alike.
 */
export function splitOperands<N>(trace: Trace, inputs: Tensor[]): [Tensor[], (N | null)[]] {
  const primals = new Array<Tensor>(inputs.length);
  const parents = new Array<N | null>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const v = dropDead(inputs[i]);
    if (v._trace === trace) {
      primals[i] = (v as Tracer).primal;
      parents[i] = (v as Tracer & { node: N }).node;
    } else {
      primals[i] = v;
      parents[i] = null;
    }
  }
  return [primals, parents];
}

/** A value being traced by `trace`; `primal` is the value one level down. */
export abstract class Tracer extends Tensor {
  declare readonly _trace: Trace;
  constructor(trace: Trace, readonly primal: Tensor) {
    super(concrete(primal).data, primal.shape, primal.strides, primal.offset, trace);
  }
}

// A tracer's storage is its concrete value's, read through this accessor so that
// users reading `x.data` are checked as `x.item()` is; the engine uses `concrete`.
Object.defineProperty(Tracer.prototype, "data", {
  get(this: Tracer): FloatArray {
    checkRead(this, "data");
    return concrete(this).data;
  },
});

/**
 * Reading a traced value's numbers (item, toArray, toFloat64Array, toNdarray,
 * data) takes them off the tape: an Error while a live transformation
 * differentiates the value. A value of a hidden trace is read as `dropDead` sees
 * it (so a custom rule that reads a closure this way is caught by `runRule`).
 */
function checkRead(x: Tensor, method: string): void {
  if (dropDead(x)._trace === null) return;
  const call = method === "data" ? "data" : `${method}()`;
  if (stagedUnder(x)) {
    throw new TracedReadError(`${method}: jit is tracing this value (shape ${shapeToString(x.shape)}); its numbers are not known until the compiled function runs, and a branch on them would be fixed into the program. Select with where(cond, a, b) instead of branching in JavaScript, or pass the argument it comes from in jit(f, { staticArgnums: [...] }) so that its value is part of the signature`);
  }
  throw new TracedReadError(`${method}: this value (shape ${shapeToString(x.shape)}) is being differentiated by grad, vjp, jvp or another transformation; reading it as plain numbers would silently drop its derivative. Use stopGradient(x).${call} to read it as a constant, or keep the computation in library ops`);
}
tracing.checkRead = checkRead;

/** True when a live staging trace (jit) lies under `x`: its numbers are placeholders. */
function stagedUnder(x: Tensor): boolean {
  for (let v = x; v._trace !== null; v = (v as Tracer).primal) if ((v._trace as Trace).staged && visible(v._trace)) return true;
  return false;
}
// Printing a value jit traces shows NaN: its numbers are not known until the program runs.
tracing.concrete = (x) => (stagedUnder(x) ? unknownValues(x) : concrete(x));

const unknownChunks = { float64: new Float64Array([NaN]), float32: new Float32Array([NaN]) };
function unknownValues(x: Tensor): Tensor {
  return new Tensor(unknownChunks[x.dtype], x.shape.slice(), x.shape.map(() => 0), 0);
}

// ---------------------------------------------------------------------------
// Visibility: which tracers a computation sees. One rule (`visible`):
//
//   a trace is visible while it is active and no hiding scope covers its level.
//
// A finished trace (`active` false, for good) leaves its tracers as plain
// constants to whatever runs later. A hiding scope covers a range of levels
// [lo, hi], hi being the innermost level when the scope opens, so that a
// transformation started inside (one level above) is visible there:
//   - `untraced` covers every level: code that must record nothing on the
//     transformations around it (an implicit function's forward and solves)
//     sees their values as constants;
//   - `hiddenFrom(trace)` (and `runRule`, while a custom rule runs for `trace`)
//     covers `trace` and the levels above it: the rule sees the values it is
//     handed one level down, like its arguments.
// `dropDead` strips the tracers that are out of sight, as every op does with its
// inputs. Inside a rule's scope it also notes a use of the rule's own trace's
// values (a closure), which `runRule` turns into an Error unless the rule accepts
// closures; a value customRoot's conditions captured is found by closure
// conversion instead (lib/program/closure.ts). `concrete` strips every tracer:
// for reading numbers inside the engine and for values never differentiated.

/** The stack of live transformations, innermost last (levels increase along it). */
const stack: Trace[] = [];

/** A range of levels out of sight while some code runs; `owner`: the trace whose custom rule runs there (closures are noted). */
interface HidingScope {
  readonly lo: number;
  readonly hi: number;
  readonly owner: Trace | null;
  usedOwner: boolean;
}

/** The open hiding scopes, innermost last. */
const scopes: HidingScope[] = [];

/** The one visibility rule. */
function visible(t: TraceTag): boolean {
  if (!t.active) return false;
  for (let i = scopes.length - 1; i >= 0; i--) if (t.level >= scopes[i].lo && t.level <= scopes[i].hi) return false;
  return true;
}

/** The innermost level on the stack (0 when there is none). */
function topLevel(): number {
  return stack.length === 0 ? 0 : stack[stack.length - 1].level;
}

/** The level a new transformation gets: one above every transformation on the stack, visible or not. */
export function nextLevel(): number {
  return topLevel() + 1;
}

/** True while some transformation is visible. */
export function isTracing(): boolean {
  for (let i = stack.length - 1; i >= 0; i--) if (visible(stack[i])) return true;
  return false;
}

function hiding<T>(lo: number, owner: Trace | null, body: () => T): [T, boolean] {
  const scope: HidingScope = { lo, hi: topLevel(), owner, usedOwner: false };
  scopes.push(scope);
  try {
    return [body(), scope.usedOwner];
  } finally {
    scopes.splice(scopes.lastIndexOf(scope), 1);
  }
}

/**
 * Runs `body` with `trace` and every transformation above it out of sight. A
 * custom rule handled by `trace` runs this way, so that values it captured which
 * `trace` follows are seen as their primals, one level down, as its arguments are.
 */
export function hiddenFrom<T>(trace: Trace, body: () => T): T {
  return hiding(trace.level, null, body)[0];
}

/**
 * Runs a custom rule for `trace` (hidden, as `hiddenFrom`). Unless the rule
 * accepts closures, it is an Error for it to use a value `trace` differentiates
 * without taking it as an argument: that derivative would be lost.
 */
export function runRule<T>(trace: Trace, rule: CustomRule, body: () => T): T {
  const [out, usedClosure] = hiding(trace.level, trace, body);
  if (usedClosure && !rule.closures) {
    throw new Error(`${rule.name}: the function uses a value that the surrounding transformation differentiates without taking it as an argument (a closure); its derivative would be lost. Pass that value as an argument`);
  }
  return out;
}

/** The visible transformations, innermost last. */
export function liveTraces(): Trace[] {
  return stack.filter(visible);
}

/** Runs `body` seeing every value of the current transformations as a plain constant. */
export function untraced<T>(body: () => T): T {
  return hiding(0, null, body)[0];
}

/** Runs `body` with `trace` live, and retires it afterwards even when `body` throws. */
export function withTrace<T>(trace: Trace, body: () => T): T {
  stack.push(trace);
  if (trace.staged) staging++;
  try {
    return body();
  } finally {
    trace.active = false;
    if (trace.staged) staging--;
    const i = stack.lastIndexOf(trace);
    if (i >= 0) stack.splice(i, 1);
  }
}

/** How many staging traces (jit) are on the stack: the eager path checks this one number. */
let staging = 0;

/**
 * The innermost live staging trace, or null. An op whose inputs are all
 * constants goes there while jit traces (JAX's omnistaging): its value is
 * computed at every call, so a captured array written between calls is seen.
 */
export function stagingTrace(): Trace | null {
  if (staging === 0) return null;
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].staged && visible(stack[i])) return stack[i];
  return null;
}

/**
 * The value as the code running now sees it: tracers of transformations out of
 * sight are their primals (a finished one's are constants to later ones). A
 * value of the trace whose rule runs in an open scope is noted (a closure).
 */
export function dropDead(x: Tensor): Tensor {
  while (x._trace !== null && !visible(x._trace)) {
    if (scopes.length > 0) noteOwnerUse(x._trace as Trace);
    x = (x as Tracer).primal;
  }
  return x;
}

/** Marks the innermost open rule scope of `t`, if any: its rule used a value of `t` it was not handed. */
function noteOwnerUse(t: Trace): void {
  for (let i = scopes.length - 1; i >= 0; i--) {
    if (scopes[i].owner === t) {
      scopes[i].usedOwner = true;
      return;
    }
  }
}

/** The innermost live trace among the inputs, or null when all are plain values. */
function topTrace(inputs: Tensor[]): Trace | null {
  let top: Trace | null = null;
  for (const x of inputs) {
    const t = dropDead(x)._trace as Trace | null;
    if (t !== null && (top === null || t.level > top.level)) top = t;
  }
  return top;
}

/** Strips every tracer (live or not) down to the concrete value: used for values that are never differentiated. */
export function concrete(x: Tensor): Tensor {
  while (x._trace !== null) x = (x as Tracer).primal;
  return x;
}

/** Applies a primitive: the innermost live trace handles it, or the kernel runs. */
export function bind<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
  let traced = false;
  for (let i = 0; i < inputs.length; i++) if (inputs[i]._trace !== null) traced = true;
  if (!traced) {
    const staged = stagingTrace();
    return staged === null ? runKernel(prim, inputs, params) : staged.process(prim, inputs, params);
  }
  const top = topTrace(inputs);
  if (top === null) {
    const staged = stagingTrace();
    return staged === null ? runKernel(prim, inputs.map(concrete), params) : staged.process(prim, inputs.map(concrete), params);
  }
  return top.process(prim, inputs, params);
}

/**
 * Runs a primitive's kernel. The only engine error a kernel can raise on
 * validated inputs is a RangeError for an output too large to allocate (say, an
 * op on a huge broadcast view); it reaches the user as an Error naming the op.
 */
function runKernel<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
  const memo = shared !== null && !outputsPooled() ? sharedSlot(prim, inputs, params) : null;
  if (memo !== null) {
    const hit = memo.map.get(memo.key);
    if (hit !== undefined) return hit;
  }
  let out: Tensor;
  try {
    out = prim.impl(inputs, params);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new Error(`${prim.name}: the result is too large to allocate (${e.message}); inputs of shape ${inputs.map((x) => shapeToString(x.shape)).join(", ")}`);
  }
  if (memo !== null) memo.map.set(memo.key, out);
  return out;
}

/**
 * Results of kernels run while `shareResults` is active. Forward over reverse
 * computes the same derivative factor twice (the JVP rule of √x and the VJP rule
 * it differentiates both form 0.5/√x from the same output): while a linear
 * program is recorded, a kernel of one array and scalars met again with the
 * same operands returns the tensor already made. Results are filed under their
 * array operand in a WeakMap, so they live no longer than it does; tensors are
 * immutable, so the shared result is indistinguishable from a fresh one.
 */
let shared: WeakMap<Tensor, Map<string, Tensor>> | null = null;

function sharedSlot(prim: Primitive<unknown>, inputs: Tensor[], params: unknown): { map: Map<string, Tensor>; key: string } | null {
  let array: Tensor | null = null;
  let key = prim.name;
  for (const x of inputs) {
    if (x.size === 1) {
      const v = x.data[x.offset];
      key += `|${x.dtype}[${x.shape.join(",")}]${Object.is(v, -0) ? "-0" : v}`;
    } else if (array === null) {
      array = x;
      key += "|a";
    } else return null;
  }
  if (array === null) return null;
  if (params !== undefined) key += `|${JSON.stringify(params)}`;
  let map = shared!.get(array);
  if (map === undefined) shared!.set(array, (map = new Map()));
  return { map, key };
}

/** Runs `body` with kernel results shared between identical calls (see `shared`). */
export function shareResults<T>(body: () => T): T {
  const saved = shared;
  shared = new WeakMap();
  try {
    return body();
  } finally {
    shared = saved;
  }
}

/** Applies a function with custom rules, like `bind`. */
export function bindCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
  const top = topTrace(inputs) ?? stagingTrace();
  if (top === null) return rule.call(inputs.map(dropDead));
  return top.processCustom(rule, inputs);
}
