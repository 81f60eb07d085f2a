/**
 * jit(f): f traced once per signature into a program, then run as compiled
 * code (after JAX's `jax.jit`; the design is Autodidax's `xla_call`).
 *
 * A call looks up the signature of its arguments (shapes and dtypes of the
 * dynamic ones, the values of the static ones). The first call of a signature
 * traces f into a program (lib/program/trace.ts) and compiles it: fusion,
 * memory plan, code generation (lib/program/executable.ts). Later calls run the
 * executable. Under an outer transformation (grad(jit(f)), jvp, another jit
 * tracing) the program's equations are applied with `bind` instead, so the
 * outer transformation sees the same ops f would have run.
 */
import { Tensor } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { dropDead, isTracing } from "../primitives/core.js";
import { isOperand, operand } from "../primitives/operands.js";
import { is, readOptions, type OptionKind } from "../primitives/options.js";
import { evaluate } from "./evaluate.js";
import { compile, type Executable } from "./executable.js";
import { programToString } from "./program.js";
import { traceFunction, type OutputTree, type Traced } from "./trace.js";

export interface JitOptions {
  /**
   * Arguments passed as they are rather than traced (numbers that choose a
   * branch, sizes, options, functions): their values are part of the signature,
   * so each new value traces f again. Numbers, strings, booleans and arrays of
   * them are compared by value; objects and functions by identity (so mutating
   * one between calls is not seen: pass a new object).
   */
  staticArgnums?: number | number[];
}

const JIT_OPTIONS = { staticArgnums: is.given<number | number[]>("a non-negative integer or an array of them") } satisfies Record<keyof JitOptions, OptionKind<unknown>>;

/** What `jit(f).lower(...)` returns: the traced program and its compiled form, for reading. */
export interface Lowered {
  /** The program and its fused kernels as text. */
  toString(): string;
}

/** A jitted function: f's signature and results, plus `lower`. */
export type Jitted<F extends (...args: never[]) => unknown> = F & {
  /** Traces (or finds) the program for these arguments without running it. */
  lower(...args: Parameters<F>): Lowered;
};

interface Entry extends Traced {
  executable: Executable | null;
}

function checkStatic(staticArgnums: unknown): number[] {
  if (staticArgnums === undefined) return [];
  const list = Array.isArray(staticArgnums) ? staticArgnums : [staticArgnums];
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a) || a < 0) throw new Error(`jit: staticArgnums must be a non-negative integer or an array of them, got ${describe(a)}`);
  }
  if (new Set(list).size !== list.length) throw new Error(`jit: staticArgnums [${list.join(",")}] repeat an index`);
  return list as number[];
}

/** Ids for static argument values compared by identity (objects, functions). */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function staticKey(v: unknown): string {
  if (v === null || v === undefined || typeof v === "boolean" || typeof v === "string") return `${typeof v}:${String(v)}`;
  if (typeof v === "number") return `n:${Object.is(v, -0) ? "-0" : String(v)}`;
  if (typeof v === "bigint") return `b:${v}`;
  if (Array.isArray(v) && v.every((x) => x === null || ["number", "string", "boolean", "undefined"].includes(typeof x))) return `[${v.map(staticKey).join(",")}]`;
  if (typeof v === "object" || typeof v === "function") {
    let id = identities.get(v as object);
    if (id === undefined) identities.set(v as object, (id = nextIdentity++));
    return `#${id}`;
  }
  return `?${String(v)}`;
}

/** Forces generated code or the interpreter (specs run both); "auto" detects once whether code generation is allowed. */
export { setJitBackend } from "./executable.js";

/**
 * Compiles `f`: the first call for each signature (argument shapes and dtypes,
 * values of `staticArgnums`) traces f into a program; later calls run that
 * program fused into a few loops, with memory planned once. Results equal f's
 * up to rounding. Rules: f must not branch on the values of traced arguments
 * (use `where`, or make the argument static); arrays f captures are read at
 * every call. Composes with grad, jvp, hessian, vjp and jit, in either order.
 */
export function jit<F extends (...args: never[]) => unknown>(f: F, opts?: JitOptions): Jitted<F> {
  if (typeof f !== "function") throw new Error(`jit: f must be a function, got ${describe(f)}`);
  const o = readOptions("jit", opts, JIT_OPTIONS);
  const statics = checkStatic(o.staticArgnums);
  const cache = new Map<string, Entry>();
  const call = f as unknown as (...args: unknown[]) => unknown;

  function prepare(args: unknown[]): { entry: Entry; dynamic: Tensor[] } {
    for (const s of statics) if (s >= args.length) throw new Error(`jit: staticArgnums ${s} is out of range for ${args.length} argument(s)`);
    const dynamic: Tensor[] = [];
    const sigs: ({ shape: number[]; dtype: Tensor["dtype"] } | null)[] = [];
    const staticValues: unknown[] = [];
    let key = "";
    args.forEach((a, i) => {
      if (statics.includes(i)) {
        sigs.push(null);
        staticValues.push(a);
        key += `s${staticKey(a)};`;
        return;
      }
      if (!isOperand(a)) throw new Error(`jit: argument ${i} is ${describe(a)}; a traced argument must be a Tensor or a value tensor() accepts. Pass other values (options, functions, sizes) as static arguments: jit(f, { staticArgnums: [${i}] })`);
      const t = operand("jit", a, undefined, `argument ${i}`);
      dynamic.push(t);
      sigs.push({ shape: t.shape, dtype: t.dtype });
      staticValues.push(null);
      key += `${t.dtype}[${t.shape.join(",")}];`;
    });
    let entry = cache.get(key);
    if (entry === undefined) {
      const traced = traceFunction(call, sigs, staticValues);
      entry = { ...traced, executable: null };
      if (!traced.capturesTraced) cache.set(key, entry);
    }
    return { entry, dynamic };
  }

  const jitted = (...args: unknown[]): unknown => {
    const { entry, dynamic } = prepare(args);
    let outs: Tensor[];
    const underTransformation = entry.capturesTraced || isTracing() || dynamic.some((t) => dropDead(t)._trace !== null);
    if (underTransformation) outs = evaluate(entry.program, dynamic);
    else {
      if (entry.executable === null) entry.executable = compile(entry.program);
      outs = entry.executable.run(dynamic);
    }
    return rebuild(entry.tree, outs);
  };
  const lower = (...args: unknown[]): Lowered => {
    const { entry } = prepare(args);
    return {
      toString: () => {
        if (entry.executable === null && !entry.capturesTraced) entry.executable = compile(entry.program);
        return entry.executable === null ? programToString(entry.program) : entry.executable.toString();
      },
    };
  };
  return Object.assign(jitted, { lower }) as unknown as Jitted<F>;
}

function rebuild(tree: OutputTree, outs: readonly Tensor[]): unknown {
  if (tree.kind === "tensor") return outs[tree.index];
  if (tree.kind === "number") return tree.value;
  return tree.items.map((t) => rebuild(t, outs));
}
