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
import { Tensor, type TraceTag } from "../tensor/tensor.js";

/** Cotangent or tangent, with `null` standing for a symbolic zero (no work done). */
export type MaybeTensor = Tensor | null;

export interface Primitive<P = void> {
  readonly name: string;
  impl(inputs: Tensor[], params: P): Tensor;
  /** Tangent of the output given tangents of the inputs (null = zero); null result = zero. */
  jvp(primals: Tensor[], tangents: MaybeTensor[], out: Tensor, params: P): MaybeTensor;
  /**
   * Cotangents of the inputs given the output's cotangent (null = zero).
   * `needs[i]` is false for inputs nobody differentiates: a rule may skip them.
   */
  vjp(cotangent: Tensor, primals: Tensor[], out: Tensor, params: P, needs: readonly boolean[]): MaybeTensor[];
}

/**
 * A function with user-given derivative rules (customVjp, customJvp, the
 * implicit-function node). `call` evaluates it on plain or lower-level values.
 */
export interface CustomRule {
  readonly name: string;
  call(inputs: Tensor[]): Tensor;
  /** Pushforward: returns [out, tangentOut]; tangents are never null here. */
  jvp?(primals: Tensor[], tangents: Tensor[]): [Tensor, Tensor];
  /** Forward pass for reverse mode: returns [out, pullback]. */
  vjp?(primals: Tensor[]): [Tensor, (cotangent: Tensor) => MaybeTensor[]];
}

/** A transformation in progress. Implementations: lib/ad/forward.ts, lib/ad/reverse.ts. */
export abstract class Trace implements TraceTag {
  active = true;
  constructor(readonly level: number) {}
  abstract process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor;
  abstract processCustom(rule: CustomRule, inputs: Tensor[]): Tensor;
}

/** A value being traced by `trace`; `primal` is the value one level down. */
export abstract class Tracer extends Tensor {
  declare readonly _trace: Trace;
  constructor(trace: Trace, readonly primal: Tensor) {
    super(primal.data, primal.shape, primal.strides, primal.offset, trace);
  }
}

/** The stack of live transformations, innermost last. */
const stack: Trace[] = [];

/** The level a new transformation gets: one above every live one. */
export function nextLevel(): number {
  return stack.length === 0 ? 1 : stack[stack.length - 1].level + 1;
}

/** Runs `body` with `trace` live, and retires it afterwards even when `body` throws. */
export function withTrace<T>(trace: Trace, body: () => T): T {
  stack.push(trace);
  try {
    return body();
  } finally {
    trace.active = false;
    const i = stack.lastIndexOf(trace);
    if (i >= 0) stack.splice(i, 1);
  }
}

/** A tracer whose transformation has finished is just its primal (a constant to later ones). */
export function dropDead(x: Tensor): Tensor {
  while (x._trace !== null && !x._trace.active) x = (x as Tracer).primal;
  return x;
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
  if (!traced) return prim.impl(inputs, params);
  const top = topTrace(inputs);
  if (top === null) return prim.impl(inputs.map(concrete), params);
  return top.process(prim, inputs, params);
}

/** Applies a function with custom rules, like `bind`. */
export function bindCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
  const top = topTrace(inputs);
  if (top === null) return rule.call(inputs.map(dropDead));
  return top.processCustom(rule, inputs);
}
