/**
 * checkGrad: compares a function's derivatives from reverse mode, forward mode
 * and central finite differences, entry by entry, and says where they differ.
 */
import { Tensor, allocate, fromData, type DType } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete } from "../primitives/core.js";
import { isOperand, operand } from "../primitives/operands.js";
import { callWith, type UserFunction } from "../primitives/util.js";
import { is, kind, readOptions, type OptionKind } from "../primitives/options.js";
import { jvp } from "../ad/forward.js";
import { vjp, type ScalarFunction } from "../ad/reverse.js";
import { evaluateFlat, finiteDifferenceError, partialColumn, partialSamples, type FiniteDifferenceOptions } from "./finite-diff.js";

export interface CheckGradOptions extends FiniteDifferenceOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance, scaled by the output's magnitude (default 1e-7). */
  atol?: number;
  /** Which arguments to check (default: every Tensor or number argument). */
  argnums?: number[];
  /** Which modes to compare with finite differences (default both). */
  modes?: ("rev" | "fwd")[];
  /** At most this many entries per argument are checked, sampled when there are more (default 64). */
  maxEntries?: number;
  /** Seed of the random cotangents, tangents and samples (default 1). */
  seed?: number;
}

/** One comparison that failed. */
export interface Mismatch {
  mode: "rev" | "fwd" | "fwd-vs-rev";
  /** Argument index. */
  arg: number;
  /** Flat entry of the argument (−1 for a whole-direction check). */
  entry: number;
  /** Flat entry of the output (−1 when a contraction with a random cotangent is compared). */
  output: number;
  /** The reference: finite differences (for "rev" and "fwd"), or reverse mode (for "fwd-vs-rev"). */
  expected: number;
  /** The derivative being checked: reverse or forward mode. */
  got: number;
  error: number;
  /**
   * The finite differences' own error estimate: truncation (how the FD value
   * moves from step h to h/2) plus three standard deviations of the noise in f
   * (rounding, an inexact solver) carried into it, the noise measured from f's
   * fourth differences on the FD grid (0 for "fwd-vs-rev", which uses no FD).
   */
  fdError: number;
  /**
   * True when the disagreement is within `fdError` and `fdError` exceeds the
   * tolerance: finite differences cannot resolve the derivative here (f too
   * inexact or too rough for the step), so FD, not the derivative, is the
   * unreliable side. Still a failure: nothing confirmed the derivative.
   */
  fdUnreliable: boolean;
}

export interface GradCheckResult {
  /**
   * True only when every comparison meets the tolerance. A comparison that finite
   * differences cannot resolve (`fdUnreliable`) is still a failure: nothing
   * confirmed the derivative there, and the report says FD is the unreliable side.
   */
  ok: boolean;
  /** Largest |got − expected| / max(1, |expected|) over every comparison. */
  maxError: number;
  /** Number of scalar comparisons made. */
  checked: number;
  failures: Mismatch[];
  /** A readable summary: what was compared, and the worst discrepancies. */
  report: string;
}

/** True for an argument `operand` converts: what checkGrad checks when no argnums are given. */
function isTensorData(a: unknown): boolean {
  if (a instanceof Tensor || typeof a === "number") return true;
  if (!isOperand(a)) return false;
  try {
    operand("checkGrad", a);
    return true;
  } catch {
    return false;
  }
}

/** A small seeded generator (mulberry32), so checks are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values as a Tensor of `dtype` (tangents and cotangents must have their primal's or output's dtype). */
function typed(values: Float64Array, shape: number[], dtype: DType): Tensor {
  if (dtype === "float64") return fromData(values, shape.slice());
  const data = allocate(dtype, values.length);
  data.set(values);
  return fromData(data, shape.slice());
}

/** checkGrad's options. */
const OPTIONS = {
  rtol: is.positiveOrInfinity,
  atol: is.nonNegativeOrInfinity,
  argnums: kind<number[]>("an array of argument indices", Array.isArray), // entries checked against args below
  modes: kind<("rev" | "fwd")[]>(`a non-empty array of "rev" and "fwd"`, (v) => Array.isArray(v) && v.length > 0 && v.every((m) => m === "rev" || m === "fwd")),
  maxEntries: kind<number>("a positive integer (or Infinity)", (v) => v === Infinity || (Number.isInteger(v) && (v as number) >= 1)),
  seed: kind<number>("a non-negative integer", (v) => Number.isSafeInteger(v) && (v as number) >= 0),
  step: is.positive,
  richardson: is.boolean,
  scale: is.positive,
} satisfies Record<keyof CheckGradOptions, OptionKind<unknown>>;

function sampleEntries(size: number, max: number, rand: () => number): number[] {
  if (size <= max) return Array.from({ length: size }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < max) picked.add(Math.floor(rand() * size));
  return [...picked].sort((a, b) => a - b);
}

/**
 * Checks the derivatives of f at `args` (an array of arguments) against central
 * finite differences: each sampled input entry's column J[:, j] by forward mode,
 * the contraction ȳᵀJ by reverse mode with a random ȳ, and ⟨ȳ, J ẋ⟩ = ⟨Jᵀȳ, ẋ⟩.
 * Returns { ok, maxError, checked, failures, report }; never throws on a mismatch.
 * For each failure it also estimates the finite differences' own error (from
 * extra samples of f around x) and says which side is unreliable: a
 * disagreement within that error means f is too inexact for the step (FD is the
 * suspect), one beyond it means the derivative is.
 */
export function checkGrad(f: UserFunction<unknown>, args: unknown[], opts: CheckGradOptions = {}): GradCheckResult {
  const op = "checkGrad";
  if (typeof f !== "function") throw new Error(`${op}: f must be a function, got ${describe(f)}`);
  if (!Array.isArray(args)) throw new Error(`${op}: args must be an array of arguments, got ${describe(args)}`);
  const o = readOptions(op, opts, OPTIONS);
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-7;
  const maxEntries = o.maxEntries ?? 64;
  const modes = o.modes ?? ["rev", "fwd"];
  const rand = seededRandom(o.seed ?? 1);
  const fdOptions: FiniteDifferenceOptions = {};
  if (o.step !== undefined) fdOptions.step = o.step;
  if (o.scale !== undefined) fdOptions.scale = o.scale;
  if (o.richardson !== undefined) fdOptions.richardson = o.richardson;
  const argnums = o.argnums ?? args.flatMap((a, i) => (isTensorData(a) ? [i] : []));
  if (argnums.length === 0) throw new Error(`${op}: nothing to check: ${o.argnums === undefined ? "no argument is a Tensor, a number or other tensor data (nested arrays of numbers, a Float64Array/Float32Array, an ndarray)" : "argnums is empty"}`);
  for (const k of argnums) {
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= args.length) throw new Error(`${op}: argnums entry ${describe(k)} is not an argument index (0..${args.length - 1})`);
    if (!isOperand(args[k])) throw new Error(`${op}: argument ${k} is ${describe(args[k])}; only Tensors and values tensor() accepts (numbers, nested arrays of numbers, Float64Array/Float32Array, ndarrays) can be checked`);
  }
  if (new Set(argnums).size !== argnums.length) throw new Error(`${op}: argnums [${argnums.join(",")}] repeat an index`);
  const primals = argnums.map((k) => concrete(operand(op, args[k], undefined, `argument ${k}`)));
  primals.forEach((p, a) => {
    // Tangents, cotangents and columns are allocated per argument: a huge broadcast view cannot be checked.
    if (p.size > 2 ** 31 - 1) throw new Error(`${op}: argument ${argnums[a]} of shape ${shapeToString(p.shape)} has ${p.size} entries, too many to check`);
  });
  // f sees a checked argument as a Tensor (a number stays a number) in every call, differentiated or not.
  const plainArgs = args.map((a, i) => {
    const checkedAt = argnums.indexOf(i);
    if (checkedAt >= 0 && typeof a !== "number") return primals[checkedAt];
    return a instanceof Tensor ? concrete(a) : a;
  });
  const g = (...xs: Tensor[]): unknown => {
    const full = plainArgs.slice();
    argnums.forEach((k, i) => (full[k] = xs[i]));
    return callWith(f, full);
  };
  const out = evaluateFlat(op, f, plainArgs);
  let outScale = 1;
  for (const v of out) if (Number.isFinite(v)) outScale = Math.max(outScale, Math.abs(v));
  const failures: Mismatch[] = [];
  let maxError = 0;
  let checked = 0;
  /** Compares one value; `fdError` (computed only for a failure) estimates the error of `m.expected` when it comes from FD. */
  const compare = (m: Omit<Mismatch, "error" | "fdError" | "fdUnreliable">, fdError: () => number = () => 0): void => {
    checked++;
    const diff = Math.abs(m.got - m.expected);
    const error = Number.isNaN(diff) ? (Object.is(m.got, m.expected) ? 0 : Infinity) : diff / Math.max(1, Math.abs(m.expected));
    maxError = Math.max(maxError, error);
    const tolerance = atol * outScale + rtol * Math.abs(m.expected);
    if (diff <= tolerance || (Number.isNaN(m.got) && Number.isNaN(m.expected))) return;
    const fdErr = fdError();
    failures.push({ ...m, error, fdError: fdErr, fdUnreliable: fdErr > tolerance && diff <= fdErr });
  };

  // A random cotangent for the reverse-mode contraction, and the pullback once.
  const cotangent = new Float64Array(out.length).map(() => (out.length === 1 ? 1 : 2 * rand() - 1));
  let reverse: Tensor[] | null = null;
  if (modes.includes("rev")) {
    const [o, pullback] = vjp(g as ScalarFunction, ...primals);
    if (o.size !== cotangent.length) throw new Error(`${op}: f returned ${cotangent.length} value(s) on a plain call but shape ${shapeToString(o.shape)} when differentiated; f must be deterministic`);
    reverse = pullback(typed(cotangent, o.shape, o.dtype)).map((c) => concrete(c));
  }
  argnums.forEach((k, a) => {
    const p = primals[a];
    const revFlat = reverse ? reverse[a].toFloat64Array() : null;
    for (const j of sampleEntries(p.size, maxEntries, rand)) {
      const column = partialColumn(op, f, plainArgs, k, j, p.size, fdOptions);
      // The FD's own error, from samples taken only when a comparison on this column fails.
      let sampled: ReturnType<typeof partialSamples> | null = null;
      const fdError = (series: (sample: Float64Array) => number): number => {
        sampled ??= partialSamples(op, f, plainArgs, k, j, p.size, fdOptions);
        return finiteDifferenceError(sampled.offsets, sampled.samples.map(series), sampled.spacing, fdOptions.richardson === true);
      };
      if (revFlat) {
        let expected = 0;
        for (let i = 0; i < column.length; i++) expected += cotangent[i] * column[i];
        const contracted = (sample: Float64Array): number => {
          let total = 0;
          for (let i = 0; i < sample.length; i++) total += cotangent[i] * sample[i];
          return total;
        };
        compare({ mode: "rev", arg: k, entry: j, output: out.length === 1 ? 0 : -1, expected, got: revFlat[j] }, () => fdError(contracted));
      }
      if (modes.includes("fwd")) {
        const tangents = primals.map((q, m) => {
          const t = new Float64Array(q.size);
          if (m === a) t[j] = 1;
          return typed(t, q.shape, q.dtype);
        });
        const [, tangentOut] = jvp(g as ScalarFunction, primals, tangents);
        const got = concrete(tangentOut).toFloat64Array();
        for (let i = 0; i < column.length; i++) compare({ mode: "fwd", arg: k, entry: j, output: i, expected: column[i], got: got[i] }, () => fdError((sample) => sample[i]));
      }
    }
  });
  // Forward and reverse against each other along a random direction.
  if (reverse && modes.includes("fwd")) {
    const directions = primals.map((q) => new Float64Array(q.size).map(() => 2 * rand() - 1));
    const [, tangentOut] = jvp(g as ScalarFunction, primals, directions.map((d, m) => typed(d, primals[m].shape, primals[m].dtype)));
    const jx = concrete(tangentOut).toFloat64Array();
    let lhs = 0;
    for (let i = 0; i < jx.length; i++) lhs += cotangent[i] * jx[i];
    let rhs = 0;
    directions.forEach((d, m) => {
      const r = reverse![m].toFloat64Array();
      for (let i = 0; i < d.length; i++) rhs += r[i] * d[i];
    });
    compare({ mode: "fwd-vs-rev", arg: -1, entry: -1, output: -1, expected: rhs, got: lhs });
  }
  const ok = failures.length === 0;
  const modesAgree = reverse !== null && modes.includes("fwd") && !failures.some((m) => m.mode === "fwd-vs-rev");
  return { ok, maxError, checked, failures, report: formatReport(ok, maxError, checked, failures, argnums.map((k, a) => `argument ${k} ${shapeToString(primals[a].shape)}`), rtol, atol, modesAgree) };
}

function formatReport(ok: boolean, maxError: number, checked: number, failures: Mismatch[], args: string[], rtol: number, atol: number, modesAgree: boolean): string {
  const head = `checkGrad: ${ok ? "OK" : `${failures.length} of ${checked} comparisons FAILED`} (${checked} comparisons of ${args.join(", ")}; max error ${maxError.toExponential(2)}; rtol ${rtol}, atol ${atol})`;
  if (ok) return head;
  const unreliable = failures.filter((m) => m.fdUnreliable).length;
  const fdFailures = failures.filter((m) => m.mode !== "fwd-vs-rev").length;
  const verdict: string[] = [];
  if (unreliable > 0 && unreliable === fdFailures) {
    verdict.push(`  Every disagreement with finite differences is within their own error (truncation and noise of f, estimated from samples around x): FD, not the derivative, is the unreliable side${modesAgree ? ", and forward and reverse mode agree with each other" : ""}. f is too inexact or too rough for this step (an iterative solver's tolerance?): tighten f or try another step; nothing here confirms the derivative.`);
  } else if (unreliable > 0) {
    verdict.push(`  ${unreliable} of the ${fdFailures} disagreements with finite differences are within FD's own error (marked "FD unreliable"); the others exceed it: the derivative is wrong there.`);
  }
  const worst = failures.slice().sort((a, b) => Number(a.fdUnreliable) - Number(b.fdUnreliable) || b.error - a.error).slice(0, 10);
  const lines = worst.map((m) => {
    if (m.mode === "fwd-vs-rev") {
      return `  forward vs reverse along a random direction: forward mode ⟨ȳ, J ẋ⟩ = ${m.got.toPrecision(8)}, reverse mode ⟨Jᵀȳ, ẋ⟩ = ${m.expected.toPrecision(8)}: the two modes disagree`;
    }
    const label = m.mode === "rev" ? "reverse mode" : "forward mode";
    const where = `argument ${m.arg}, entry ${m.entry}${m.mode === "fwd" ? `, output entry ${m.output}` : m.output === 0 ? "" : " (contracted with a random cotangent)"}`;
    const diff = Math.abs(m.got - m.expected);
    const why = m.fdUnreliable ? "within FD's own error: FD unreliable" : `beyond FD's own error, so the ${label} derivative is likely wrong`;
    return `  ${label}, ${where}: ${label} ${m.got.toPrecision(8)}, finite differences ${m.expected.toPrecision(8)} ± ${m.fdError.toExponential(1)}; they differ by ${diff.toExponential(2)}, ${why}`;
  });
  return [head, ...verdict, ...lines].join("\n");
}
