/**
 * The checks of an ImplicitFunction call, each a plain function of what the
 * call computed anyway: forward's output read by the one rule, the number of
 * inputs against the parameters the functions declare, the dtype culprit, and
 * the residual checks (finite, strict, and the default residualTol check on
 * differentiated calls). They throw the Error that names the fix, or return.
 */
import { Tensor, contiguousData, type DType } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { concrete } from "../primitives/core.js";
import { operand } from "../primitives/operands.js";
import { DtypeMismatchError, ResidualError } from "../errors.js";
import { isPlainObject } from "../primitives/options.js";
import { declaredParameters, parametersText, plural } from "../ad/arity.js";
import type { OperatorProbes } from "./probes.js";
import { defaultResidualTol, type ImplicitSettings } from "./settings.js";
import { formatNumber, powerOfTenAbove } from "./wording.js";

/**
 * What forward returned, read by the one rule: `{ y, byproduct }` carries a
 * byproduct; anything else is y itself (a Tensor, a number or tensor data:
 * an array is never a tuple). Returns y as a plain Tensor and the byproduct.
 */
export function readForwardOutput(op: string, out: unknown): { y: Tensor; byproduct: unknown; hasByproduct: boolean } {
  if (isPlainObject(out)) {
    const keys = Object.keys(out);
    if (!keys.includes("y") || keys.some((k) => k !== "y" && k !== "byproduct")) {
      throw new Error(`${op}: forward returned an object with keys ${keys.length > 0 ? keys.join(", ") : "(none)"}; it must return y (a Tensor, a number or tensor data) or { y, byproduct }`);
    }
    return { y: concrete(operand(op, out.y, undefined, "forward's y")), byproduct: out.byproduct, hasByproduct: "byproduct" in out };
  }
  try {
    return { y: concrete(operand(op, out, undefined, "forward's return value")), byproduct: undefined, hasByproduct: false };
  } catch (e) {
    // Not tensor data: a pair [y, extra] (a byproduct or an iteration count, as
    // some solvers return), or Tensors in an array, are the likely intents.
    if (Array.isArray(out) && out.length === 2 && (out[0] instanceof Tensor || Array.isArray(out[0]) || typeof out[1] !== "number")) {
      throw new Error(`${op}: forward returned a pair (${describe(out[0])}, ${describe(out[1])}), which is not tensor data: an array forward returns is always y. To hand the conditions something besides y, return { y, byproduct } (here { y: ${out[0] instanceof Tensor ? "the Tensor" : "the first entry"}, byproduct: ${typeof out[1] === "number" ? out[1] : "the second"} }); to drop it, return y alone`, { cause: e });
    }
    if (Array.isArray(out) && out.some((v) => v instanceof Tensor)) {
      throw new Error(`${op}: forward returned an array of ${out.length} entries holding Tensors, which is not tensor data: y is one Tensor. Join the parts into one (stack or concat), or return { y, byproduct } to hand the conditions the rest`, { cause: e });
    }
    throw e;
  }
}

/** "F[0,1]" (or "F" for a scalar): the multi-index of flat entry k of a tensor of `shape`. */
function entryName(name: string, shape: readonly number[], k: number): string {
  if (shape.length === 0) return name;
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = k % shape[d];
    k = Math.floor(k / shape[d]);
  }
  return `${name}[${index.join(",")}]`;
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "∞";
  if (v === -Infinity) return "-∞";
  return String(Number(v.toPrecision(6)));
}

/** ‖t‖₂ over a tensor's values (read in place when contiguous float64); NaN or ∞ when an entry is. */
export function normOf(t: Tensor): number {
  const v = contiguousData(t, "float64") as Float64Array;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * The number of inputs against the parameters forward and the conditions
 * declare, where those are known for sure (lib/ad/arity.ts): forward takes
 * the inputs (it may leave trailing ones undeclared); the conditions take the
 * inputs, y and, when forward returned one and passByproduct is on, the
 * byproduct (which they may leave undeclared). Before forward runs
 * (`byproduct` null) only forward is checked, after it the conditions. An extra
 * input would otherwise be read as y: a silent wrong value, or a misleading
 * ResidualError when differentiated.
 */
export function checkInputCount(f: ImplicitSettings, count: number, byproduct: boolean | null): void {
  const got = `call got ${plural(count, "input")}`;
  const conditions = declaredParameters(f.conditions);
  if (byproduct === null) {
    // A forward may ignore trailing inputs (one that scales F but not its root); it may not lack one.
    const forward = declaredParameters(f.forward);
    if (forward === null || forward.count <= count || forward.mayTakeFewer) return;
    const also = conditions === null ? "" : ` (and the conditions declare ${parametersText(conditions)}: the inputs, then y)`;
    throw new Error(`${f.name}: ${got} but forward declares ${parametersText(forward)}${also}; call passes its inputs to forward and then to the conditions before y, so it takes ${plural(forward.count, "input")}`);
  }
  if (conditions === null || conditions.count === count + 1 || (byproduct && conditions.count === count + 2) || (conditions.mayTakeFewer && conditions.count > count + 1)) return;
  const layout = byproduct ? "the inputs, then y, then forward's byproduct (which they may leave out)" : "the inputs and then y";
  const expected = byproduct && conditions.count >= 2 ? `${plural(conditions.count - 2, "input")} (or ${conditions.count - 1} if they leave the byproduct out)` : plural(conditions.count - 1, "input");
  const byproductHint = !byproduct && conditions.count === count + 2 ? ", or forward must return { y, byproduct } to fill their last parameter" : "";
  throw new Error(`${f.name}: ${got} but the conditions declare ${parametersText(conditions)}: they take ${layout}, so call takes ${expected}${byproductHint}`);
}

/**
 * The conditions failed on mixed dtypes while forward's y has another dtype
 * than an input: forward is the culprit, and the Error says so.
 */
export function dtypeCulprit(name: string, e: unknown, inputs: Tensor[], y: Tensor): DtypeMismatchError | null {
  if (!(e instanceof DtypeMismatchError)) return null;
  const i = inputs.findIndex((x) => x.dtype !== y.dtype);
  if (i < 0) return null;
  const want = inputs[i].dtype;
  return new DtypeMismatchError(`${name}: forward returned a ${y.dtype} y but input ${i} is ${want}, and the conditions cannot mix them (${e.message}). Return y in the inputs' dtype from forward (tensor(values, { dtype: "${want}" }) or y.astype("${want}")), or pass ${y.dtype} inputs`, { cause: e });
}

/**
 * The checks of F at forward's output on every call: F must be finite, strict
 * or not (a NaN or ∞ there means y does not satisfy the conditions), and with
 * `strict`, ‖F‖₂ ≤ strictTol. Returns ‖F‖₂.
 */
export function checkConditionsHold(f: ImplicitSettings, F: Tensor, y: Tensor, inputs: Tensor[]): number {
  const residualNorm = normOf(F);
  checkFinite(f.name, residualNorm, F, y, inputs);
  if (f.strict && !(residualNorm <= f.strictTol)) {
    throw new ResidualError(`${f.name}: the conditions do not hold at forward's output: ‖F(x, y)‖ = ${residualNorm} > strictTol ${formatNumber(f.strictTol)}. Check that forward converged and that the conditions characterise its solution`, residualNorm);
  }
  return residualNorm;
}

/** F must be finite at forward's output: the Error names the entries that are not and the likely cause. */
function checkFinite(name: string, residualNorm: number, F: Tensor, y: Tensor, inputs: Tensor[]): void {
  if (Number.isFinite(residualNorm)) return; // a NaN or ∞ entry makes the norm one
  const values = contiguousData(F, "float64");
  const bad: number[] = [];
  let count = 0;
  for (let k = 0; k < values.length; k++) {
    if (Number.isFinite(values[k])) continue;
    count++;
    if (bad.length < 3) bad.push(k);
  }
  if (count === 0) return;
  const yValues = contiguousData(y, "float64");
  const shown = bad.map((k) => `${entryName("F", F.shape, k)} = ${valueText(values[k])} where ${entryName("y", y.shape, k)} = ${valueText(yValues[k])}`);
  let cause = "Check the conditions at forward's y (a log or sqrt outside its domain, a division by zero, an overflow) and that forward converged";
  for (let i = 0; i < inputs.length; i++) {
    const x = contiguousData(inputs[i], "float64");
    const k = x.findIndex((v) => !Number.isFinite(v));
    if (k >= 0) {
      cause = `Input ${i} is not finite itself (${inputs[i].ndim === 0 ? "it is" : `its entry ${entryName("", inputs[i].shape, k)} is`} ${valueText(x[k])}): there is no solution to differentiate`;
      break;
    }
  }
  throw new ResidualError(`${name}: forward's output does not satisfy the conditions: F(x, y) is not finite at ${count} of ${values.length} entries (${shown.join("; ")}${count > bad.length ? "; …" : ""}). ${cause}`, residualNorm);
}

/**
 * The default check, on every differentiated call: ‖F‖ divided by ∂F/∂y's
 * typical gain g estimates the Newton correction y still needs; a derivative
 * taken farther than residualTol·max(1, ‖y‖) from a solution is wrong by
 * about as much, so it is refused. Invariant to scaling F; absolute for
 * ‖y‖ < 1, so a y of 1e-13 instead of 0 passes. One product with ∂F/∂y
 * (the call's gain probe, which its solves reuse).
 */
export function checkResidual(f: ImplicitSettings, residualNorm: number, y: Tensor, precision: DType, probes: OperatorProbes): void {
  const tolerance = f.residualTol ?? defaultResidualTol(precision);
  if (tolerance === Infinity || residualNorm === 0) return;
  const scale = Math.max(1, normOf(y));
  const distance = residualNorm / probes.gain() / scale;
  if (distance <= tolerance) return;
  const which = f.residualTol === undefined ? ` (the ${precision} default)` : "";
  throw new ResidualError(`${f.name}: forward's output does not satisfy the conditions closely enough for a derivative: ‖F(x, y)‖ = ${formatNumber(residualNorm)} puts y about ${formatNumber(distance)} from a solution (‖F‖/‖∂F/∂y‖, relative to max(1, ‖y‖)), above residualTol ${formatNumber(tolerance)}${which}; the derivative would be taken at the wrong point. Check that forward converged and that the conditions characterise its solution (verifyImplicit checks both). If forward is this inexact on purpose, loosen the check: residualTol: ${Number.isFinite(distance) ? powerOfTenAbove(distance) : "Infinity"} would accept it`, residualNorm);
}
