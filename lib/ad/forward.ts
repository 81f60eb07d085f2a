/**
 * Forward mode: every traced value carries a tangent beside its primal, and
 * each primitive's JVP rule pushes tangents through as the primal is computed.
 * No tape is kept. Cost: about one extra evaluation per op.
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString } from "../tensor/shape.js";
import { bind, bindCustom, concrete, dropDead, runRule, nextLevel, Trace, Tracer, withTrace, type CustomRule, type MaybeTensor, type Primitive } from "../primitives/core.js";
import { isOperand, operand } from "../primitives/operands.js";
import { checkOutput, zerosLike } from "../primitives/util.js";
import { DtypeMismatchError } from "../errors.js";
import { checkArity } from "./arity.js";

export class JVPTracer extends Tracer {
  declare readonly _trace: JVPTrace;
  constructor(trace: JVPTrace, primal: Tensor, readonly tangent: Tensor) {
    super(trace, primal);
  }
}

/**
 * Watches the ops a forward-mode trace processes (closure conversion,
 * lib/program/closure.ts): the arguments the trace made, then each op with its
 * operands as given and its result.
 */
export interface OpRecorder {
  inputs(args: readonly Tensor[]): void;
  op(prim: Primitive<unknown> | null, rule: CustomRule | null, params: unknown, inputs: readonly Tensor[], out: Tensor): void;
}

export class JVPTrace extends Trace {
  /**
   * Set while closure conversion records this trace's ops: an operand the trace
   * does not follow is then read as its plain value (a captured traced value is
   * an input of the recorded program, not of this op).
   */
  recorder: OpRecorder | null = null;

  /** Splits a value into (primal, tangent) as this trace sees it; tangent null = zero. */
  split(x: Tensor): [Tensor, MaybeTensor] {
    const v = dropDead(x);
    return v._trace === this ? [(v as JVPTracer).primal, (v as JVPTracer).tangent] : [v, null];
  }

  wrap(primal: Tensor, tangent: MaybeTensor): Tensor {
    return tangent === null ? primal : new JVPTracer(this, primal, tangent);
  }

  process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
    const primals = new Array<Tensor>(inputs.length);
    const tangents = new Array<MaybeTensor>(inputs.length);
    for (let i = 0; i < inputs.length; i++) [primals[i], tangents[i]] = this.split(inputs[i]);
    const recorder = this.recorder;
    if (recorder !== null) for (let i = 0; i < inputs.length; i++) if (tangents[i] === null) primals[i] = concrete(primals[i]);
    const out = bind(prim, primals, params);
    const result = this.wrap(out, prim.jvp(primals, tangents, out, params));
    recorder?.op(prim as Primitive<unknown>, null, params, inputs, result);
    return result;
  }

  processCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
    const split = inputs.map((x) => this.split(x));
    const recorder = this.recorder;
    const primals = split.map(([p, t]) => (recorder !== null && t === null ? concrete(p) : p));
    if (split.every(([, t]) => t === null)) return bindCustom(rule, primals);
    const tangents = split.map(([p, t], i) => t ?? zerosLike(primals[i], rule.name));
    const [out, tangentOut] = runRule(this, rule, () => rule.jvp(primals, tangents));
    const result = this.wrap(out, tangentOut);
    recorder?.op(null, rule, undefined, inputs, result);
    return result;
  }
}

type JvpOutput = Tensor | Tensor[];

function checkTangent(op: string, primal: Tensor, tangent: unknown, i: number): Tensor {
  if (!isOperand(tangent)) throw new Error(`${op}: tangent ${i} must be a Tensor (or a value tensor() accepts) of shape ${shapeToString(primal.shape)}, got ${describe(tangent)}`);
  const t = operand(op, tangent, primal.dtype, `tangent ${i} (its primal has shape ${shapeToString(primal.shape)})`);
  if (!sameShape(t.shape, primal.shape)) throw new Error(`${op}: tangent ${i} has shape ${shapeToString(t.shape)} but its primal has shape ${shapeToString(primal.shape)}`);
  if (t.dtype !== primal.dtype) throw new DtypeMismatchError(`${op}: tangent ${i} is ${t.dtype} but its primal is ${primal.dtype}`);
  return t;
}

/** True when every entry of `t` is exactly zero (−0 included). */
function isAllZero(t: Tensor): boolean {
  const values = t.contiguous ? t.data.subarray(t.offset, t.offset + t.size) : t.toFloat64Array();
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}


/**
 * Forward-mode derivative: evaluates f at `primals` and the directional
 * derivative J·tangents in one pass. Returns [out, tangentOut]; f may return a
 * Tensor, a number, or an array of them (then both results are arrays).
 */
export function jvp(f: (...args: never[]) => Tensor | number, primals: unknown[], tangents: unknown[]): [Tensor, Tensor];
export function jvp(f: (...args: never[]) => (Tensor | number)[], primals: unknown[], tangents: unknown[]): [Tensor[], Tensor[]];
export function jvp(f: (...args: never[]) => unknown, primals: unknown[], tangents: unknown[]): [JvpOutput, JvpOutput];
export function jvp(f: (...args: never[]) => unknown, primals: unknown[], tangents: unknown[]): [JvpOutput, JvpOutput] {
  return jvpWithName("jvp", f, primals, tangents, true);
}

/**
 * @internal jvp with the caller's public name in errors (hvp, jacobian).
 * `checkCount`: f is the user's, so the number of primals is checked against
 * the parameters it declares (lib/ad/arity.ts).
 */
export function jvpWithName(op: string, f: (...args: never[]) => unknown, primals: unknown[], tangents: unknown[], checkCount = false, recorder: OpRecorder | null = null): [JvpOutput, JvpOutput] {
  if (typeof f !== "function") throw new Error(`${op}: f must be a function, got ${describe(f)}`);
  if (!Array.isArray(primals) || !Array.isArray(tangents)) throw new Error(`${op}: primals and tangents must be arrays, got ${describe(primals)} and ${describe(tangents)}`);
  if (primals.length !== tangents.length) throw new Error(`${op}: ${primals.length} primals but ${tangents.length} tangents`);
  if (checkCount) checkArity(op, f, primals, tangents);
  const ps = primals.map((p, i) => operand(op, p, undefined, `primal ${i}`));
  const ts = ps.map((p, i) => checkTangent(op, p, tangents[i], i));
  const trace = new JVPTrace(nextLevel());
  return withTrace(trace, () => {
    const call = f as (...args: Tensor[]) => unknown;
    // A constant all-zero tangent is a symbolic zero: the input is not perturbed,
    // so no rule multiplies it by a factor that is infinite or NaN there
    // (0·log(−1.5) in ∂(xʸ)/∂y, 0/0 in ∂(1/x)) and turns a finite derivative into
    // NaN. A tangent an outer transformation differentiates is kept, zero or not.
    const args = ps.map((p, i) => (dropDead(ts[i])._trace === null && isAllZero(ts[i]) ? p : new JVPTracer(trace, p, ts[i])));
    if (recorder !== null) {
      trace.recorder = recorder;
      recorder.inputs(args);
    }
    const out = checkOutput(op, call(...args), true);
    const one = (o: Tensor): [Tensor, Tensor] => {
      const [p, t] = trace.split(o);
      return [p, t ?? zerosLike(p, op)];
    };
    if (out instanceof Tensor) return one(out);
    const pairs = out.map(one);
    return [pairs.map(([p]) => p), pairs.map(([, t]) => t)];
  });
}
