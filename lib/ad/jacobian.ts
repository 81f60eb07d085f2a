/**
 * Whole derivatives built from the two modes: jacobian (one JVP per input entry
 * or one pullback per output entry), hessian (forward over reverse) and
 * Hessian-vector products. Results are assembled with `stack`, so they are
 * differentiable again.
 */
import { Tensor, zeros } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { reshape, stack } from "../primitives/shape.js";
import { zerosLike } from "../primitives/util.js";
import { is, readOptions, type OptionKind } from "../primitives/options.js";
import { jvpWithName } from "./forward.js";
import { linearProgram, type LinearProgram } from "./linearize.js";
import { gradWithName, pullBack, record, selectArgs, type ArgsOf, type ScalarFunction } from "./reverse.js";
import { checkArity } from "./arity.js";

export interface JacobianOptions {
  /** "fwd": f linearised once, applied once per input entry; "rev": one pullback per output entry; "auto" (default): the fewer. */
  mode?: "fwd" | "rev" | "auto";
  /** Which argument(s): a number (one Jacobian) or an array (an array of Jacobians). Default 0. */
  argnums?: number | number[];
}

function basis(op: string, like: Tensor, i: number): Tensor {
  const e = zerosLike(like, op);
  e.data[i] = 1;
  return e;
}

/**
 * The most entries a Jacobian (or one argument) may have: beyond this it could
 * not be allocated (and would take as many JVPs or pullbacks to build).
 */
const MAX_ENTRIES = 2 ** 31 - 1;

function checkSize(op: string, outShape: number[], argShape: number[]): void {
  const entries = outShape.reduce((a, b) => a * b, 1) * argShape.reduce((a, b) => a * b, 1);
  if (entries > MAX_ENTRIES) {
    throw new Error(`${op}: the Jacobian of an output of shape ${shapeToString(outShape)} w.r.t. an argument of shape ${shapeToString(argShape)} would have ${entries} entries, too many to build (at most ${MAX_ENTRIES}); use jvp or vjp for products with it`);
  }
}

function jacobianRev(op: string, g: (...xs: Tensor[]) => unknown, primals: Tensor[]): Tensor[] {
  const rec = record(op, g, primals);
  const out = rec.out;
  for (const p of primals) checkSize(op, out.shape, p.shape);
  const rows: Tensor[][] = primals.map(() => []);
  for (let i = 0; i < out.size; i++) {
    const cts = pullBack(op, rec, basis(op, out, i));
    cts.forEach((c, k) => rows[k].push(c));
  }
  return primals.map((p, k) => (out.size === 0 ? zeros([...out.shape, ...p.shape], { dtype: p.dtype }) : reshape(stack(rows[k], 0), [...out.shape, ...p.shape])));
}

/** The fewest Jacobian entries for which forward mode fuses the linear program (measured: below, unfused applications are faster). */
const FUSE_MIN_ENTRIES = 4096;

/**
 * Forward mode as JAX's jacfwd (vmap of the linearisation): g is linearised
 * once at the primals (lib/ad/linearize.ts), so its primal computation, an
 * ImplicitFunction's `forward` included, runs once; then the linear program is
 * applied to each basis direction, column by column. Factorisations made by
 * the first direction's solves (an ImplicitFunction's "direct" LU) serve the rest.
 */
function jacobianFwd(op: string, primals: Tensor[], [out, program]: [Tensor | Tensor[], LinearProgram]): Tensor[] {
  if (Array.isArray(out)) throw new Error(`${op}: the function must return a single Tensor`);
  for (const p of primals) checkSize(op, out.shape, p.shape);
  return primals.map((p, k) => {
    if (p.size === 0 || out.size === 0) return zeros([...out.shape, ...p.shape], { dtype: p.dtype });
    const cols: Tensor[] = [];
    // Fusing the program costs about as much as a few unfused applications; it pays off once the columns are many or large.
    const fused = p.size * out.size >= FUSE_MIN_ENTRIES;
    for (let j = 0; j < p.size; j++) {
      const tangents = primals.map((q, m) => (m === k ? basis(op, q, j) : null));
      try {
        const t = program.apply(tangents, [true], fused)[0];
        cols.push(t === null ? zerosLike(out, op) : program.detach(t));
      } finally {
        program.finish();
      }
    }
    return reshape(stack(cols, out.ndim), [...out.shape, ...p.shape]);
  });
}

/**
 * The Jacobian of f w.r.t. argument 0 (or `argnums`), shaped [...out.shape, ...arg.shape].
 * Forward mode linearises f once and applies the linear part once per input
 * entry; reverse mode records one tape and pulls back once per output entry;
 * "auto" evaluates f once to pick forward mode when the input is no larger than
 * the output, reverse mode otherwise (so f runs twice).
 */
export function jacobian<F extends ScalarFunction>(f: F, opts?: { mode?: JacobianOptions["mode"]; argnums?: number }): (...args: ArgsOf<F>) => Tensor;
export function jacobian<F extends ScalarFunction>(f: F, opts: { mode?: JacobianOptions["mode"]; argnums: number[] }): (...args: ArgsOf<F>) => Tensor[];
export function jacobian<F extends ScalarFunction>(f: F, opts?: JacobianOptions): (...args: ArgsOf<F>) => Tensor | Tensor[];
export function jacobian(f: ScalarFunction, opts: JacobianOptions = {}): (...args: unknown[]) => Tensor | Tensor[] {
  if (typeof f !== "function") throw new Error(`jacobian: f must be a function, got ${describe(f)}`);
  const o = readOptions("jacobian", opts, JACOBIAN_OPTIONS);
  return jacobianWithName("jacobian", f, o.mode ?? "auto", o.argnums ?? 0);
}

/** jacobian's options (argnums is checked against the arguments by selectArgs). */
const JACOBIAN_OPTIONS = { mode: is.oneOf(["fwd", "rev", "auto"]), argnums: is.given<number | number[]>("a non-negative integer or an array of them") } satisfies Record<keyof JacobianOptions, OptionKind<unknown>>;

/** jacobian with the caller's public name in errors (hessian). */
function jacobianWithName(op: string, f: ScalarFunction, mode: "fwd" | "rev" | "auto", argnums: unknown): (...args: unknown[]) => Tensor | Tensor[] {
  return (...args) => {
    const { primals, g } = selectArgs(op, f, args, argnums);
    for (const p of primals) checkSize(op, [], p.shape);
    let useFwd = mode === "fwd";
    if (mode === "auto") {
      // A plain evaluation decides: linearising first would save it when forward mode wins, but
      // cost about two evaluations more than it when reverse mode does (a gradient, say).
      const inSize = primals.reduce((n, p) => n + p.size, 0);
      useFwd = inSize <= operandSize(g, primals);
    }
    const jacs = useFwd ? jacobianFwd(op, primals, linearProgram(op, g, primals)) : jacobianRev(op, g, primals);
    return Array.isArray(argnums) ? jacs : jacs[0];
  };
}

/** The output size of g, found by one plain evaluation. */
function operandSize(g: (...xs: Tensor[]) => unknown, primals: Tensor[]): number {
  const out = g(...primals);
  return out instanceof Tensor ? out.size : 1;
}

/** The Hessian of a scalar function w.r.t. argument 0 (or `argnums`): forward mode over reverse mode. */
export function hessian<F extends ScalarFunction>(f: F, opts?: { argnums?: number }): (...args: ArgsOf<F>) => Tensor;
export function hessian(f: ScalarFunction, opts: { argnums?: number } = {}): (...args: unknown[]) => Tensor {
  if (typeof f !== "function") throw new Error(`hessian: f must be a function, got ${describe(f)}`);
  const argnums = readOptions("hessian", opts, { argnums: is.given<number>("a non-negative integer") }).argnums ?? 0;
  if (Array.isArray(argnums)) throw new Error("hessian: argnums must be a single index");
  return jacobianWithName("hessian", gradWithName("hessian", f, { argnums }) as ScalarFunction, "fwd", argnums) as (...args: unknown[]) => Tensor;
}

/**
 * Hessian-vector product H·v of a scalar function, by forward mode over reverse
 * mode (cost: a few gradient evaluations, no Hessian formed). Returns a Tensor for
 * one primal, an array for several (the blocks Σⱼ Hᵢⱼ vⱼ).
 */
export function hvp(f: ScalarFunction, primals: readonly [unknown], tangents: readonly [unknown]): Tensor;
export function hvp(f: ScalarFunction, primals: readonly [unknown, unknown, ...unknown[]], tangents: readonly unknown[]): Tensor[];
export function hvp(f: ScalarFunction, primals: readonly unknown[], tangents: readonly unknown[]): Tensor | Tensor[];
export function hvp(f: ScalarFunction, primals: readonly unknown[], tangents: readonly unknown[]): Tensor | Tensor[] {
  if (typeof f !== "function") throw new Error(`hvp: f must be a function, got ${describe(f)}`);
  if (!Array.isArray(primals) || primals.length === 0) throw new Error(`hvp: primals must be a non-empty array, got ${describe(primals)}`);
  if (Array.isArray(tangents) && tangents.length === primals.length) checkArity("hvp", f, primals, tangents);
  const argnums = primals.map((_, i) => i);
  const gradient = gradWithName("hvp", f, { argnums });
  const [, tangentOut] = jvpWithName("hvp", (...xs) => gradient(...xs), primals as unknown[], tangents as unknown[]);
  return primals.length === 1 ? (tangentOut as Tensor[])[0] : (tangentOut as Tensor[]);
}
