/**
 * Declared options: the one check behind every options argument (and every
 * options-like object, such as KKT `sizes`) of the public functions.
 *
 * A schema declares each option by its kind, one line per option:
 *
 *   const OPTIONS = { tol: is.positive, maxIter: is.positiveInteger, history: is.boolean };
 *
 * and `readOptions(op, opts, OPTIONS)` accepts `opts` when it is absent or a
 * plain object (not an array, a Map, a Tensor, a class instance) whose keys are
 * all declared and whose values have their kinds. Otherwise it throws an Error
 * beginning with `op` and naming the option and what it must be. A key whose
 * value is undefined counts as absent; null is never a value. Strings and
 * booleans are never coerced to numbers. Defaults and checks that relate options to each other or
 * to other arguments stay with the caller.
 */
import { describe } from "../tensor/shape.js";

/** One option's kind: a test, and what the value must be in the words of the Error ("a boolean"). */
export interface OptionKind<T> {
  readonly expects: string;
  readonly accepts: (v: unknown) => v is T;
  /** The option may not be absent. */
  readonly required?: true;
}

/** A kind from its Error text and its test. */
export function kind<T>(expects: string, accepts: (v: unknown) => boolean): OptionKind<T> {
  return { expects, accepts: accepts as (v: unknown) => v is T };
}

/** The same kind, described in other words (to say what a value means, not only what it is). */
export function described<T>(k: OptionKind<T>, expects: string): OptionKind<T> {
  return { ...k, expects };
}

/** The same kind, which must be given. */
export function required<T>(k: OptionKind<T>): OptionKind<T> & { readonly required: true } {
  return { ...k, required: true };
}

const isNumber = (v: unknown): v is number => typeof v === "number";

/** The kinds options have. Numbers are never NaN; "finite" ones are never ±∞. */
export const is = {
  boolean: kind<boolean>("a boolean", (v) => typeof v === "boolean"),
  /** A function; `expects` says which (`"a function v => M⁻¹v"`). */
  function: <F = (...args: never[]) => unknown>(expects = "a function"): OptionKind<F> => kind<F>(expects, (v) => typeof v === "function"),
  nonEmptyString: kind<string>("a non-empty string", (v) => typeof v === "string" && v.trim() !== ""),
  /** One of the strings listed. */
  oneOf: <const S extends string>(values: readonly S[]): OptionKind<S> => kind<S>(`one of ${values.map((s) => `"${s}"`).join(", ")}`, (v) => (values as readonly unknown[]).includes(v)),
  positive: kind<number>("a positive finite number", (v) => isNumber(v) && v > 0 && Number.isFinite(v)),
  positiveOrInfinity: kind<number>("a positive number", (v) => isNumber(v) && v > 0),
  nonNegative: kind<number>("a finite non-negative number", (v) => isNumber(v) && v >= 0 && Number.isFinite(v)),
  nonNegativeOrInfinity: kind<number>("a non-negative number", (v) => isNumber(v) && v >= 0),
  integer: kind<number>("an integer", (v) => Number.isInteger(v)),
  positiveInteger: kind<number>("a positive integer", (v) => Number.isInteger(v) && (v as number) >= 1),
  nonNegativeInteger: kind<number>("a non-negative integer", (v) => Number.isInteger(v) && (v as number) >= 0),
  /**
   * Any value but null, checked further by the caller (a vector against A,
   * argnums against the arguments); `expects` says what it must be.
   */
  given: <T = unknown>(expects: string): OptionKind<T> => kind<T>(expects, (v) => v !== null),
  finite: kind<number>("a finite number", (v) => isNumber(v) && Number.isFinite(v)),
};

/** A schema: option name → kind (typed loosely so that a kind's own type, not this one, types its value). */
export type OptionSchema = { readonly [option: string]: { readonly expects: string; readonly accepts: (v: unknown) => boolean; readonly required?: true } };

/** The options a schema accepts, typed: optional unless declared `required`. */
export type OptionValues<S extends OptionSchema> =
  { readonly [K in keyof S as S[K] extends { required: true } ? K : never]: S[K] extends OptionKind<infer T> ? T : never } &
  { readonly [K in keyof S as S[K] extends { required: true } ? never : K]?: S[K] extends OptionKind<infer T> ? T : never };

/** How the object is named in errors, and what may be said of keys it does not declare. */
export interface OptionsForm {
  /** The argument's name: "options" (the default; its keys are "option "k"") or a field such as "sizes" (keys "sizes.k"). */
  readonly what?: string;
  /** The argument itself may not be absent. */
  readonly required?: boolean;
  /** For a key the schema does not declare: the sentence (after "op: ") when it belongs to another function, or undefined. */
  readonly misplaced?: (key: string) => string | undefined;
}

/** A plain object: made by a literal or Object.create(null), not data, not a class instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks `opts` against `schema` for the public function `op` (see the module
 * comment) and returns it typed; an absent `opts` reads as {}. Cost: one pass
 * over the keys given and one over the schema.
 */
export function readOptions<S extends OptionSchema>(op: string, opts: unknown, schema: S, form: OptionsForm = {}): OptionValues<S> {
  const what = form.what ?? "options";
  if (opts === undefined && !form.required) return {} as OptionValues<S>;
  const keys = Object.keys(schema);
  if (!isPlainObject(opts)) throw new Error(`${op}: ${what} must be a plain object { ${keys.join(", ")} }, got ${describe(opts)}`);
  for (const key of Object.keys(opts)) {
    if (opts[key] === undefined || Object.hasOwn(schema, key)) continue;
    const elsewhere = form.misplaced?.(key);
    if (elsewhere !== undefined) throw new Error(`${op}: ${elsewhere}`);
    throw new Error(what === "options"
      ? `${op}: unknown option "${key}" (the options are ${keys.join(", ")})`
      : `${op}: unknown entry ${what}.${key} (${what} has ${keys.join(", ")})`);
  }
  for (const key of keys) {
    const k = schema[key];
    const v = opts[key];
    if (v === undefined ? k.required : !k.accepts(v)) {
      throw new Error(`${op}: ${what === "options" ? key : `${what}.${key}`} must be ${k.expects}, got ${describe(v)}`);
    }
  }
  return opts as OptionValues<S>;
}
