/**
 * Shared pieces of the contract specs (API.md, "Bad input, numerics and
 * failures"): a pool of bad values, assertions on how misuse fails, on user
 * errors passing through, on inputs left untouched, and a check that the
 * engine is still usable after a failure.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ImplicitFunction, Tensor, add, broadcastTo, cg, grad, hessian, jvp, mul, sin, sub, sum, tensor,
} from "../../lib/index.js";
import { nextLevel } from "../../lib/primitives/core.js";

export interface Junk {
  readonly name: string;
  readonly make: () => unknown;
}

const j = (name: string, make: () => unknown): Junk => ({ name, make });

/** Values a number, shape, axis or option must never be coerced from. */
export const COERCIBLE: Junk[] = [
  j('"1"', () => "1"), j('"0"', () => "0"), j('""', () => ""), j('" "', () => " "), j('"1e-3"', () => "1e-3"),
  j("true", () => true), j("false", () => false), j("null", () => null),
  j("[2]", () => [2]), j('["2"]', () => ["2"]), j("{valueOf}", () => ({ valueOf: () => 2 })), j("new Number(2)", () => new Number(2)),
  j("new String", () => new String("2")), j("Date", () => new Date(3)),
];

/** Non-finite, negative, fractional and huge numbers. */
export const BAD_NUMBERS: Junk[] = [
  j("NaN", () => NaN), j("Infinity", () => Infinity), j("-Infinity", () => -Infinity), j("-1", () => -1), j("1.5", () => 1.5),
  j("-0.5", () => -0.5), j("0", () => 0), j("1e20", () => 1e20), j("2**53+2", () => 2 ** 53 + 2),
];

/** Things that are not numbers, tensors or functions. */
export const OBJECTS: Junk[] = [
  j("undefined", () => undefined), j("{}", () => ({})), j("Object.create(null)", () => Object.create(null)), j("Symbol", () => Symbol("s")),
  j("1n", () => 1n), j("Map", () => new Map([[1, 2]])), j("Int32Array", () => new Int32Array([1, 2])), j("[]", () => []),
  j("[null]", () => [null]), j("[1,'2']", () => [1, "2"]), j("[[1],[1,2]]", () => [[1], [1, 2]]), j("[true,false]", () => [true, false]),
];

export const FUNCTIONS: Junk[] = [
  j("() => 1", () => () => 1), j('() => "x"', () => () => "x"), j("() => undefined", () => () => undefined), j("() => [1, 2]", () => () => [1, 2]),
];

export const TENSORS: Junk[] = [
  j("tensor(2)", () => tensor(2)), j("tensor([])", () => tensor([])), j("tensor([1,2,3])", () => tensor([1, 2, 3])),
  j("tensor([[1,2],[3,4]])", () => tensor([[1, 2], [3, 4]])), j("float32 [1,2]", () => tensor([1, 2], { dtype: "float32" })),
  j("Float64Array", () => new Float64Array([1, 2])), j("[1, 2]", () => [1, 2]), j("[[1, 2]]", () => [[1, 2]]),
];

/** Everything above: the pool misuse is drawn from. */
export const JUNK: Junk[] = [...COERCIBLE, ...BAD_NUMBERS, ...OBJECTS, ...FUNCTIONS, ...TENSORS];

/** Values that are not tensor data (nested arrays of numbers, numbers, typed arrays): never coerced into one. */
export const NOT_DATA: Junk[] = [...COERCIBLE, ...OBJECTS].filter((x) => x.name !== "[2]" && x.name !== "[]");

/** JUNK except values the caller deems valid for a slot (by name). */
export function junkExcept(...valid: string[]): Junk[] {
  for (const v of valid) if (!JUNK.some((x) => x.name === v)) throw new Error(`junkExcept: no junk named ${v}`);
  return JUNK.filter((x) => !valid.includes(x.name));
}

/** Junk that is not a function (for slots that take a function). */
export const NOT_FUNCTIONS: Junk[] = JUNK.filter((x) => typeof x.make() !== "function");

export const junkArb: fc.Arbitrary<Junk> = fc.constantFrom(...JUNK);

const NOT_THROWN = Symbol("not thrown");

/** What `run` threw, or NOT_THROWN. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  return NOT_THROWN;
}

function show(e: unknown): string {
  if (e === NOT_THROWN) return "nothing was thrown";
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  try {
    return `a non-Error ${String(e)}`;
  } catch {
    return "a non-Error value";
  }
}

/** The shape of a well-formed misuse error: an Error (not an engine TypeError/RangeError) prefixed `name: `. */
export function isMisuseError(e: unknown, name: string): e is Error {
  return e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && e.message.startsWith(`${name}: `);
}

/**
 * Asserts that `run` throws an Error whose message begins with `name: ` and
 * mentions each of `parts`, and that it is not an engine TypeError/RangeError.
 */
export function expectMisuse(run: () => unknown, name: string, ...parts: string[]): Error {
  const e = thrown(run);
  if (!isMisuseError(e, name)) expect.fail(`expected an Error starting with "${name}: ", got ${show(e)}`);
  for (const p of parts) expect(e.message, `the message should mention ${p}`).to.contain(p);
  return e;
}

/** Either `run` returns, or it throws a well-formed misuse Error prefixed `name: `. */
export function expectOkOrMisuse(run: () => unknown, name: string, what = ""): void {
  const e = thrown(run);
  if (e !== NOT_THROWN && !isMisuseError(e, name)) expect.fail(`${what}: expected success or an Error starting with "${name}: ", got ${show(e)}`);
}

/** Runs `call(junk)` for every junk value and asserts a misuse Error prefixed `name` mentioning `parts`. */
export function expectAllMisuse(pool: Junk[], name: string, call: (x: unknown) => unknown, ...parts: string[]): void {
  for (const junk of pool) {
    const e = thrown(() => call(junk.make()));
    if (!isMisuseError(e, name)) expect.fail(`${name} with ${junk.name}: expected an Error starting with "${name}: ", got ${show(e)}`);
    for (const p of parts) expect(e.message, `${name} with ${junk.name}: the message should mention ${p}`).to.contain(p);
  }
}

/** For every junk value: success, or a misuse Error prefixed `name`. */
export function expectAllOkOrMisuse(pool: Junk[], name: string, call: (x: unknown) => unknown): void {
  for (const junk of pool) expectOkOrMisuse(() => call(junk.make()), name, `${name} with ${junk.name}`);
}

/** Asserts that `run` throws exactly `token` (the same object), then that the engine still works. */
export function expectPassesThrough(run: () => unknown, token: unknown, context: string): void {
  const e = thrown(run);
  if (e !== token) expect.fail(`${context}: expected the user's own thrown value back, got ${show(e)}`);
  expectEngineUsable(context);
}

/** Values user code throws: Errors of each engine type and non-Errors. */
export const TOKENS: { name: string; make: () => unknown }[] = [
  { name: "Error", make: () => new Error("boom") },
  { name: "TypeError", make: () => new TypeError("user type error") },
  { name: "RangeError", make: () => new RangeError("user range error") },
  { name: "Error mentioning a linear solve", make: () => new Error("the linear solve is singular") },
  { name: "a string", make: () => "boom" },
  { name: "a number", make: () => 42 },
  { name: "a plain object", make: () => ({ code: 7 }) },
  { name: "undefined", make: () => undefined },
];

const ridge = new ImplicitFunction({
  forward: (x: Tensor) => mul(x, 0.5),
  conditions: (x: Tensor, y: Tensor) => sub(mul(y, 2), x),
});

/** Checks with known values that every layer works: no level, flag or floor was left behind. */
export function expectEngineUsable(context: string): void {
  expect(nextLevel(), `${context}: a transformation level was left behind`).to.equal(1);
  const near = (a: Tensor | number, b: number[], what: string) => {
    const got = typeof a === "number" ? [a] : Array.from(a.toFloat64Array());
    expect(got.length, `${context}: ${what}`).to.equal(b.length);
    got.forEach((v, i) => expect(Math.abs(v - b[i]), `${context}: ${what}[${i}] = ${v}, expected ${b[i]}`).to.be.lessThan(1e-9));
  };
  near(grad((x: Tensor) => sum(sin(x)))(tensor([0.3, 1])), [Math.cos(0.3), Math.cos(1)], "grad");
  near(jvp((x: Tensor) => mul(x, x), [tensor([3])], [tensor([2])])[1], [12], "jvp");
  near(grad((x: Tensor) => mul(x, grad((y: Tensor) => add(x, y))(1)))(2), [1], "nested grad (perturbation confusion)");
  near(hessian((x: Tensor) => sum(mul(mul(x, x), x)))(tensor([1, 2])), [6, 0, 0, 12], "hessian");
  near(grad((x: Tensor) => sum(ridge.call(x)))(tensor([1, 2])), [0.5, 0.5], "grad through an ImplicitFunction");
  near(jvp((x: Tensor) => grad((z: Tensor) => sum(mul(ridge.call(z), z)))(x), [tensor([1, 2])], [tensor([1, 0])])[1], [1, 0], "jvp of grad through an ImplicitFunction");
  const plain = ridge.call(tensor([4]));
  expect(plain._trace, `${context}: an untraced call returned a traced value`).to.equal(null);
  const r = cg(tensor([[4, 1], [1, 3]]), tensor([1, 2]));
  expect(r.converged, `${context}: cg`).to.equal(true);
}

/** A deep copy of every Tensor / array / typed array reachable in `values`, and a check that nothing changed. */
export function snapshot(...values: unknown[]): () => void {
  const copy = (v: unknown, depth: number): unknown => {
    if (depth > 6) return "…";
    if (v instanceof Tensor) return { tensor: Array.from(v.data), shape: v.shape.slice(), strides: v.strides.slice(), offset: v.offset };
    if (v instanceof Float64Array || v instanceof Float32Array) return { typed: Array.from(v) };
    if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1));
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x, depth + 1)]));
    }
    if (typeof v === "function") return "fn";
    // Other objects (an ImplicitFunction with its diagnostics, an Arbitrary) are not data the call may not change.
    if (v !== null && typeof v === "object") return `<${(v as object).constructor?.name ?? "object"}>`;
    return v;
  };
  const text = (x: unknown): unknown => ((typeof x === "number" && !Number.isFinite(x)) || typeof x === "bigint" || typeof x === "symbol" ? String(x) : x);
  const before = JSON.stringify(values.map((v) => copy(v, 0)), (_, x) => text(x));
  return () => {
    const after = JSON.stringify(values.map((v) => copy(v, 0)), (_, x) => text(x));
    expect(after, "an input was mutated").to.equal(before);
  };
}

/** Runs `run` and asserts it took less than `ms` milliseconds. */
export function quickly<T>(ms: number, what: string, run: () => T): T {
  const t0 = performance.now();
  const out = run();
  const dt = performance.now() - t0;
  expect(dt, `${what} took ${dt.toFixed(0)} ms`).to.be.lessThan(ms);
  return out;
}

/** A tensor view with far more entries than any engine can allocate (no storage is allocated for it). */
export function hugeView(shape: number[] = [100000, 100000]): Tensor {
  return broadcastTo(tensor(1), shape);
}

/** Small shapes of rank 0..3. */
export const shapeArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });

/** Two different small shapes. */
export const shapePairArb: fc.Arbitrary<[number[], number[]]> = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }))
  .filter(([a, b]) => a.length !== b.length || a.some((d, i) => d !== b[i]));

export function shapeText(shape: number[]): string {
  return `[${shape.join(",")}]`;
}

export function filled(shape: number[], value = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(new Float64Array(n).fill(value), { shape });
}

/** fast-check settings shared by the contract specs: reproducible and quick. */
export const FC = { numRuns: 100, seed: 20240611 } as const;
