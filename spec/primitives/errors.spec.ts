/**
 * Misuse of the Tensor layer and the primitives: every Error begins with the
 * public name of the op called and names the shapes or option involved;
 * strings, booleans and null are never coerced; and, by a property over many
 * junk arguments fed to every op and method, no engine TypeError or RangeError
 * ever reaches the user.
 */
import { expect } from "chai";
import fc from "fast-check";
import { runs } from "./reference.js";
import ndarray from "ndarray";
import * as lib from "../../lib/index.js";
import { Tensor, tensor, zeros, ones, eye } from "../../lib/index.js";
import { expectError, nonContiguous } from "../helpers.js";

const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"];
const UNARY = ["neg", "exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid", "softplus", "relu", "stopGradient"];
const REDUCE = ["sum", "mean", "max", "min", "logsumexp"];

const fn = (name: string): ((...args: unknown[]) => unknown) => (lib as unknown as Record<string, (...args: unknown[]) => unknown>)[name];

describe("primitives: errors name the op, the shapes and the option", () => {
  it("broadcast mismatches name both shapes, for every broadcasting op", () => {
    for (const name of BINARY) {
      expectError(() => fn(name)(zeros([2, 3]), zeros([4])), name, "[2,3]", "[4]");
      expectError(() => fn(name)(zeros([2, 1, 3]), zeros([4, 2])), name, "[2,1,3]", "[4,2]");
      expectError(() => fn(name)(zeros([0]), zeros([2])), name, "[0]", "[2]");
    }
    expectError(() => lib.where(zeros([2]), zeros([3]), 0), "where", "[2]", "[3]");
    expectError(() => lib.where(1, zeros([2, 2]), zeros([3, 1, 3])), "where", "[2,2]", "[3,1,3]");
  });

  it("mixing float32 and float64 is an Error in every multi-operand op", () => {
    const d = zeros([2, 2]);
    const f = zeros([2, 2], { dtype: "float32" });
    for (const name of [...BINARY, "matmul"]) {
      expectError(() => fn(name)(d, f), name, "float64", "float32");
      expectError(() => fn(name)(f, d), name, "float32", "float64");
    }
    expectError(() => lib.where(1, d, f), "where", "float");
    expectError(() => lib.dot(zeros([2]), zeros([2], { dtype: "float32" })), "dot", "float32");
    expectError(() => lib.outer(zeros([2]), zeros([2], { dtype: "float32" })), "outer", "float32");
    expectError(() => lib.solve(eye(2), zeros([2], { dtype: "float32" })), "solve", "float32");
    expectError(() => lib.concat([d, f]), "concat", "float32");
    // Typed arrays and ndarrays over them carry their dtype too.
    expectError(() => lib.add(new Float32Array(2), new Float64Array(2)), "add", "float32", "float64");
    expectError(() => lib.outer(ndarray(new Float32Array(2)), zeros([2])), "outer", "float32", "float64");
    // Which operand is which (issue 25).
    expectError(() => lib.add(zeros([2, 3], { dtype: "float32" }), zeros([3])), "add: dtypes differ", "the first operand (shape [2,3]) is float32", "the second operand (shape [3]) is float64", "astype");
    expectError(() => lib.concat([d, d, f]), "concat: dtypes differ", "the first operand (shape [2,2]) is float64", "the third operand (shape [2,2]) is float32");
  });

  it("diag: a rank other than 1 or 2, a second argument, junk (issue 25)", () => {
    expectError(() => lib.diag(tensor(3)), "diag:", "shape []", "1-D vector", "2-D matrix");
    expectError(() => lib.diag(zeros([2, 2, 2])), "diag:", "shape [2,2,2]");
    expectError(() => (lib.diag as (...a: unknown[]) => unknown)(zeros([3]), 1), "diag:", "one argument", "offset k");
    expectError(() => (zeros([3, 3]) as unknown as { diag(k: number): unknown }).diag(1), "diag:", "one argument");
    for (const junk of ["a", true, null, undefined, [[1], [2, 3]]]) expectError(() => lib.diag(junk as never), "diag:");
  });

  it("bad axes: out of range, repeated, fractional, non-numeric; bad keepdims", () => {
    const x = zeros([2, 3]);
    for (const name of REDUCE) {
      expectError(() => fn(name)(x, 2), name, "axis 2", "rank 2");
      expectError(() => fn(name)(x, -3), name, "axis -3");
      expectError(() => fn(name)(x, [0, -2]), name, "repeated");
      expectError(() => fn(name)(x, [1, 1]), name, "repeated");
      expectError(() => fn(name)(x, 0.5), name, "axis");
      expectError(() => fn(name)(x, "0"), name, "axis", "string");
      expectError(() => fn(name)(x, true), name, "axis", "boolean");
      expectError(() => fn(name)(x, [0, null]), name, "axis", "null");
      expectError(() => fn(name)(x, NaN), name, "axis");
      expectError(() => fn(name)(x, 0, "true"), name, "keepdims");
      expectError(() => fn(name)(x, 0, 1), name, "keepdims");
      expectError(() => fn(name)(3, 0), name, "axis 0", "rank 0");
    }
    expectError(() => lib.softmax(x, 2), "softmax", "axis 2");
    expectError(() => lib.softmax(x, "1" as never), "softmax", "axis");
    expectError(() => lib.norm(x, 2, [0, 0]), "norm", "repeated");
    expectError(() => lib.norm(x, 2, 0, "yes" as never), "norm", "keepdims");
    expectError(() => lib.concat([x, x], 2), "concat", "axis 2");
    expectError(() => lib.stack([x, x], -4), "stack", "axis -4");
  });

  it("strings, booleans, null and ragged arrays are never coerced into operands", () => {
    for (const name of [...BINARY, "matmul", "dot", "outer"]) {
      for (const bad of ["1", "", true, false, null, undefined, [1, "2"], [[1], [1, 2]], [true, false], {}, Symbol("s"), 1n]) {
        expectError(() => fn(name)(bad, zeros([1])), name);
        expectError(() => fn(name)(zeros([1]), bad), name);
      }
    }
    for (const name of [...UNARY, ...REDUCE, "softmax", "norm", "transpose"]) {
      for (const bad of ["1", true, null, undefined, [1, "2"], [[1], [1, 2]], [null]]) expectError(() => fn(name)(bad), name);
    }
    expectError(() => lib.add([[1, 2], [3]], 1), "add", "ragged");
    expectError(() => lib.mul([1, "2"] as never, 1), "mul", "string");
    expectError(() => lib.where([true, false] as never, 1, 2), "where", "boolean");
    expectError(() => lib.add(undefined as never, 1), "add", "missing");
    expectError(() => lib.add(new Int32Array(2) as never, 1), "add", "Int32Array");
  });

  it("the exact wording the API fixes: matmul inner dimensions", () => {
    const err = expectError(() => lib.matmul(zeros([3, 4]), zeros([5, 2])), "matmul");
    expect(err.message).to.equal("matmul: inner dimensions differ ([3,4] @ [5,2])");
  });

  it("huge shapes are Errors naming the op, not the engine's RangeError", () => {
    expectError(() => zeros([2 ** 40]), "zeros", "[1099511627776]");
    expectError(() => ones([1e6, 1e6]), "ones");
    expectError(() => eye(1e7), "eye");
    expectError(() => lib.full([2 ** 33], 1), "full");
    expectError(() => lib.arange(2 ** 40), "arange");
    const huge = lib.broadcastTo(1, [1e6, 1e6]);
    expectError(() => lib.add(huge, 1), "add", "[1000000,1000000]");
    expectError(() => lib.sum(huge), "sum", "[1000000,1000000]");
    expectError(() => lib.exp(huge), "exp");
    expectError(() => lib.reshape(huge, [-1]), "reshape");
    expectError(() => lib.matmul(lib.broadcastTo(1, [1e5, 1e5, 1, 1]), lib.broadcastTo(1, [1e5, 1, 1])), "matmul");
  });
});

describe("primitives: no engine error ever leaks (fuzz)", () => {
  const nd = ndarray(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const nullProto = Object.create(null) as object;
  const junk: unknown[] = [
    "a", "", "1", "float32", "float64", null, undefined, true, false, {}, [], [[]], [[[]]], [[1], [1, 2]], [1, "a"], [null], [undefined], [true],
    [NaN], [Symbol("s")], [nullProto], [0, 0, Symbol("t")], [0, 0, nullProto], [[nullProto]], nullProto, [[1, 2], [3, 4]], [-1], [0.5], [2, "2"], [2, 3], [3, 2], [0, 1], [1, 0], [-1, 6],
    NaN, 1.5, Infinity, -Infinity, -0, 2 ** 40, 1e300, Symbol("u"), () => 1, new Int32Array(2), new Uint8Array(1),
    new Float32Array(2), new Map(), new Date(0), { shape: [2] }, { dtype: "float32" }, { dtype: "int8" }, { shape: [2, 3] }, { shape: "2" },
    { data: new Float64Array(2), shape: [2], stride: [1], offset: 0 }, { data: 5, shape: [1], stride: [1], offset: 0 },
    { data: [1], shape: ["a"], stride: [1], offset: 0 }, { data: new Float64Array(2), shape: [2], stride: [1], offset: -5 },
    { data: new Float64Array(2), shape: [2], stride: [1.5], offset: 0 }, { data: new Float64Array(2), shape: [2], stride: [1], offset: "0" },
    10n, new Proxy({}, {}),
  ];
  /** Valid values, so that calls get past their first check and into the deeper ones. */
  const valid: unknown[] = [
    0, 1, 2, 3, -1, -2, [0], [1, 0], [2, 3], [3, 2], [6], [-1], [0, 1], [1, 1], new Float64Array(3), new Float32Array(2), nd, nd.transpose(1, 0), nd.step(-1),
    zeros([2, 3]), tensor([1, 2, 3]), tensor(2), zeros([3], { dtype: "float32" }), ones([3, 3]), zeros([0]), zeros([2, 0]), eye(2), tensor([[1, 2], [3, 4]]),
    nonContiguous(tensor([[1, 2, 3], [4, 5, 6]]), "reversed"), tensor([NaN, Infinity, -Infinity]), tensor([[[1]]]), [[1, 2], [3, 4]], [1, 2, 3],
  ];
  const OPS = [
    "tensor", "zeros", "ones", "eye", "full", "arange", ...BINARY, ...UNARY, ...REDUCE, "where", "softmax", "matmul", "dot", "outer", "transpose",
    "reshape", "broadcastTo", "slice", "concat", "stack", "norm", "solve", "diag", "greater", "less", "equal", "astype",
  ];
  const METHODS = [
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "sum", "mean", "max", "min", "logsumexp", "softmax", "norm", "matmul", "dot",
    "transpose", "reshape", "broadcastTo", "slice", "diag", "astype", "item", "exp", "relu", "toArray", "toNdarray",
  ];
  const arg = fc.oneof(fc.nat({ max: junk.length - 1 }).map((i) => junk[i]), fc.nat({ max: valid.length - 1 }).map((i) => valid[i]));
  const args = fc.array(fc.oneof(arg, fc.array(arg, { maxLength: 3 })), { maxLength: 4 });

  function expectClean(name: string, call: () => unknown, what: string): void {
    let err: unknown = null;
    try {
      call();
    } catch (e) {
      err = e;
    }
    if (err === null) return;
    if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError || !err.message.startsWith(`${name}: `)) {
      throw new Error(`${what} threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
    }
  }
  const show = (xs: unknown[]): string => xs.map((x) => (typeof x === "symbol" ? "Symbol" : x instanceof Tensor ? x.toString() : (() => { try { return JSON.stringify(x) ?? String(x); } catch { return Object.prototype.toString.call(x); } })())).join(", ");

  it("every op, fed junk arguments, returns a Tensor or throws an Error starting with its name", () => {
    fc.assert(fc.property(fc.constantFrom(...OPS), args, (name, xs) => {
      expectClean(name, () => fn(name)(...xs), `${name}(${show(xs)})`);
    }), runs(10000));
  });

  it("every method form, fed junk arguments, throws only Errors starting with the op name", () => {
    const receivers = [zeros([2, 3]), tensor([1, 2, 3]), tensor(5), nonContiguous(tensor([[1, 2], [3, 4]]), "transposed"), zeros([0])];
    fc.assert(fc.property(fc.constantFrom(...METHODS), fc.constantFrom(...receivers), args, (name, x, xs) => {
      const m = (x as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
      expectClean(name, () => m.apply(x, xs), `${x.toString()}.${name}(${show(xs)})`);
    }), runs(5000));
  });

  it("list arguments (concat, stack) with junk entries", () => {
    fc.assert(fc.property(fc.constantFrom("concat", "stack"), fc.array(arg, { maxLength: 4 }), fc.option(arg), (name, xs, axis) => {
      expectClean(name, () => (axis === null ? fn(name)(xs) : fn(name)(xs, axis)), `${name}([${show(xs)}], ${show([axis])})`);
    }), runs(2000));
  });
});
