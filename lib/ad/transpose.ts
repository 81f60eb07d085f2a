/**
 * Transposing user rules. A custom JVP rule is linear in the tangents, so its
 * transpose (the pullback) is the reverse-mode derivative of the rule w.r.t. the
 * tangents; a custom pullback is linear in the cotangent, so J·ẋ is the gradient
 * of ȳ ↦ ⟨pullback(ȳ), ẋ⟩. Either works only when the rule is written with
 * library ops, which is checked: a rule whose result does not depend on its
 * linear argument but is nonzero cannot be transposed.
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString } from "../tensor/shape.js";
import { isOperand, operand } from "../primitives/operands.js";
import { concrete, dropDead, type MaybeTensor } from "../primitives/core.js";
import { DtypeMismatchError, TracedReadError } from "../errors.js";
import { add, mul } from "../primitives/elementwise.js";
import { sum } from "../primitives/reduce.js";
import { onesLike, zerosLike } from "../primitives/util.js";
import { pullBack, record } from "./reverse.js";

/** True when every entry of `t` is zero; its values are read under any tracer (engine use). */
function isAllZero(t: Tensor): boolean {
  const c = concrete(t).toFloat64Array();
  for (let i = 0; i < c.length; i++) if (c[i] !== 0) return false;
  return true;
}

function untransposable(name: string, what: string): Error {
  return new Error(`${name}: cannot transpose the rule: ${what} does not depend on its linear argument through library ops (write the rule with implicit-diff ops, or provide the other rule)`);
}

/** Runs a user rule being transposed: reading a differentiated value as numbers there means the rule is not written with library ops. */
function transposing<T>(name: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (!(e instanceof TracedReadError)) throw e;
    throw new Error(`${name}: cannot transpose the rule: it reads a value being differentiated as plain numbers (${e.message.slice(0, e.message.indexOf(":"))}), so its result does not depend on it through library ops (write the rule with implicit-diff ops, or provide the other rule)`);
  }
}

/** Checks a cotangent list from a user pullback: one per input, each of its input's shape. */
export function checkCotangents(name: string, cts: unknown, primals: Tensor[]): MaybeTensor[] {
  if (!Array.isArray(cts) || cts.length !== primals.length) {
    throw new Error(`${name}: the backward rule must return an array of ${primals.length} cotangent(s), one per argument, got ${describe(cts)}`);
  }
  return cts.map((c, i) => {
    if (c === null || c === undefined) return null;
    if (!isOperand(c)) throw new Error(`${name}: cotangent ${i} must be a Tensor (or a value tensor() accepts), got ${describe(c)}`);
    const t = operand(name, c, primals[i].dtype, `cotangent ${i} (argument ${i} has shape ${shapeToString(primals[i].shape)})`);
    if (!sameShape(t.shape, primals[i].shape)) throw new Error(`${name}: cotangent ${i} has shape ${shapeToString(t.shape)} but argument ${i} has shape ${shapeToString(primals[i].shape)}`);
    if (t.dtype !== primals[i].dtype) throw new DtypeMismatchError(`${name}: cotangent ${i} is ${t.dtype} but argument ${i} is ${primals[i].dtype}`);
    return t;
  });
}

/**
 * Pullback of a JVP rule, by reverse mode over the rule's tangent arguments.
 * The rule is linear in the tangents, so any tangent point gives the same
 * pullback; it is recorded at ẋ = 1 rather than 0 so that a tangent computed
 * outside the library (plain numbers) comes out nonzero and is caught, instead
 * of passing as a zero derivative.
 */
export function transposeJvp(
  name: string,
  rule: (primals: Tensor[], tangents: Tensor[]) => [Tensor, Tensor],
  primals: Tensor[],
): [Tensor, (cotangent: Tensor) => MaybeTensor[]] {
  let out: Tensor | null = null;
  const rec = record(name, (...tangents: Tensor[]) => {
    const [o, t] = transposing(name, () => rule(primals, tangents));
    out = o;
    return t;
  }, primals.map((p) => onesLike(p, name)));
  if (rec.outNode === null && !isAllZero(rec.out)) throw untransposable(name, "the tangent it returned");
  return [dropDead(out!), (ct) => pullBack(name, rec, ct)];
}

/**
 * J·ẋ from a pullback ȳ ↦ Jᵀȳ: the gradient of ȳ ↦ Σᵢ⟨(Jᵀȳ)ᵢ, ẋᵢ⟩, which is
 * the same at every ȳ (the map is linear). It is taken at ȳ = 1 rather than 0 so
 * that a cotangent computed outside the library comes out nonzero and is caught.
 */
export function transposeVjp(name: string, pullback: (cotangent: Tensor) => MaybeTensor[], out: Tensor, tangents: Tensor[]): Tensor {
  const rec = record(name, (ct: Tensor) => {
    const cts = transposing(name, () => pullback(ct));
    let total: Tensor | null = null;
    cts.forEach((c, i) => {
      if (c === null) return;
      if (dropDead(c)._trace !== ct._trace && !isAllZero(c)) throw untransposable(name, `cotangent ${i} of the backward rule`);
      const term = sum(mul(c, tangents[i]));
      total = total === null ? term : add(total, term);
    });
    return total ?? sum(zerosLike(ct));
  }, [onesLike(out, name)]);
  return pullBack(name, rec, onesLike(rec.out))[0];
}
