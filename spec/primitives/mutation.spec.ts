/**
 * "No op mutates its inputs, ever": every op, its derivative rules (grad, jvp,
 * vjp through it) and the Tensor readers are run on inputs given as Tensors in
 * every layout, as raw ndarray views, as typed arrays and as nested arrays;
 * the whole underlying storage (padding included) is compared before and after.
 */
import { expect } from "chai";
import fc from "fast-check";
import ndarray from "ndarray";
import * as lib from "../../lib/index.js";
import { Tensor, tensor, grad, jvp, vjp, sum, mul } from "../../lib/index.js";
import { withLayout } from "../helpers.js";
import { layoutArb, type Layout, runs } from "./reference.js";

type InputForm = "tensor" | "ndarray" | "typed" | "nested";

interface Input {
  /** What is passed to the op. */
  value: unknown;
  /** The storage the value reads (checked for changes). */
  storage: Float64Array | unknown[];
}

/** The values in a given form; the form's own storage is what the test watches. */
function makeInput(shape: number[], values: number[], layout: Layout, form: InputForm): Input {
  if (form === "nested") {
    const nested = tensor(values, { shape }).toArray();
    return { value: nested, storage: nested as unknown[] };
  }
  if (form === "typed" && shape.length === 1) {
    const data = Float64Array.from(values);
    return { value: data, storage: data };
  }
  const t = withLayout(tensor(Float64Array.from(values), { shape }), layout);
  const nd = t.toNdarray();
  if (form === "ndarray") return { value: ndarray(nd.data, nd.shape, nd.stride, nd.offset), storage: nd.data as Float64Array };
  return { value: t, storage: nd.data as Float64Array };
}

const snapshot = (s: Float64Array | unknown[]): string => JSON.stringify(s instanceof Float64Array ? Array.from(s, (v) => (Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v)) : s);

type Op = { name: string; shapes: number[][]; call: (...xs: unknown[]) => Tensor; diff: boolean };
const f = lib as unknown as Record<string, (...args: unknown[]) => Tensor>;
const OPS: Op[] = [
  ...["neg", "exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid", "softplus", "relu", "stopGradient"].map((name) => ({ name, shapes: [[2, 3]], call: (x: unknown) => f[name](x), diff: true })),
  ...["add", "sub", "mul", "div", "pow", "maximum", "minimum"].flatMap((name) => [
    { name, shapes: [[2, 3], [2, 3]], call: (a: unknown, b: unknown) => f[name](a, b), diff: true },
    { name: `${name} (broadcast)`, shapes: [[2, 3], [3]], call: (a: unknown, b: unknown) => f[name](a, b), diff: true },
  ]),
  { name: "where", shapes: [[3], [2, 3], [2, 3]], call: (c, a, b) => lib.where(c as never, a as never, b as never), diff: true },
  ...["sum", "mean", "max", "min", "logsumexp"].flatMap((name) => [
    { name, shapes: [[2, 3]], call: (x: unknown) => f[name](x), diff: true },
    { name: `${name} axis`, shapes: [[2, 3]], call: (x: unknown) => f[name](x, -1, true), diff: true },
  ]),
  { name: "softmax", shapes: [[2, 3]], call: (x) => lib.softmax(x as never, 0), diff: true },
  ...[2, 1, Infinity, 3].map((ord) => ({ name: `norm ${ord}`, shapes: [[2, 3]], call: (x: unknown) => lib.norm(x as never, ord, 1), diff: true })),
  { name: "matmul", shapes: [[2, 3], [3, 3]], call: (a, b) => lib.matmul(a as never, b as never), diff: true },
  { name: "matmul mv", shapes: [[3, 3], [3]], call: (a, b) => lib.matmul(a as never, b as never), diff: true },
  { name: "dot", shapes: [[3], [3]], call: (a, b) => lib.dot(a as never, b as never), diff: true },
  { name: "outer", shapes: [[3], [3]], call: (a, b) => lib.outer(a as never, b as never), diff: true },
  { name: "solve", shapes: [[3, 3], [3]], call: (A, b) => lib.solve(A as never, b as never), diff: true },
  { name: "solve [n,k]", shapes: [[3, 3], [3, 2]], call: (A, b) => lib.solve(A as never, b as never), diff: true },
  { name: "diag of a vector", shapes: [[3]], call: (x) => lib.diag(x as never), diff: true },
  { name: "diag of a matrix", shapes: [[2, 3]], call: (x) => lib.diag(x as never), diff: true },
  { name: "transpose", shapes: [[2, 3]], call: (x) => lib.transpose(x as never), diff: true },
  { name: "reshape", shapes: [[2, 3]], call: (x) => lib.reshape(x as never, [3, 2]), diff: true },
  { name: "broadcastTo", shapes: [[3]], call: (x) => lib.broadcastTo(x as never, [2, 3]), diff: true },
  { name: "slice", shapes: [[2, 3]], call: (x) => lib.slice(x as never, [0, 1], [2, 2]), diff: true },
  { name: "concat", shapes: [[2, 3], [1, 3]], call: (a, b) => lib.concat([a as never, b as never]), diff: true },
  { name: "stack", shapes: [[2, 3], [2, 3]], call: (a, b) => lib.stack([a as never, b as never], 1), diff: true },
  { name: "astype", shapes: [[2, 3]], call: (x) => lib.astype(x instanceof Tensor ? x : tensor(x as never), "float32"), diff: false },
  { name: "toArray/item/toNdarray", shapes: [[2, 3]], call: (x) => { const t = x instanceof Tensor ? x : tensor(x as never); t.toArray(); t.toNdarray(); lib.reshape(t, [6]).slice([0], [1]).item(); return t; }, diff: false },
];

describe("primitives: no op mutates its inputs", () => {
  it("forward, grad, jvp and vjp leave every input's storage unchanged (Tensors in all layouts, ndarray views, typed and nested arrays)", () => {
    const formArb = fc.constantFrom<InputForm>("tensor", "tensor", "ndarray", "typed", "nested");
    const arb = fc.constantFrom(...OPS).chain((op) => fc.tuple(
      fc.constant(op),
      fc.tuple(...op.shapes.map((s) => fc.tuple(layoutArb, formArb, fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: s.reduce((a, b) => a * b, 1), maxLength: s.reduce((a, b) => a * b, 1) })))),
    ));
    fc.assert(fc.property(arb, ([op, specs]) => {
      // Keep the values where the op is defined (positive for log/sqrt/pow, a nonsingular A for solve).
      const prepare = (v: number, i: number, k: number): number =>
        op.name === "log" || op.name === "sqrt" || op.name.startsWith("pow") ? Math.abs(v) + 0.5 : op.name.startsWith("solve") && i === 0 && k % 4 === 0 ? v + 10 : v;
      const inputs = specs.map(([layout, form, values], i) => makeInput(op.shapes[i], values.map((v, k) => prepare(v, i, k)), layout, form));
      const before = inputs.map((x) => snapshot(x.storage));
      const values = inputs.map((x) => x.value);
      op.call(...values);
      if (op.diff) {
        const primals = values.map((v) => (v instanceof Tensor ? v : tensor(v as never)));
        const out = op.call(...primals);
        const w = lib.full(out.shape, 0.5);
        for (let i = 0; i < primals.length; i++) {
          // Keep the tensors the user passed (not copies) in the differentiated slots.
          const args = values.map((v, j) => (j === i ? primals[i] : v));
          grad((...xs: Tensor[]) => sum(mul(op.call(...args.map((a, j) => (j === i ? xs[0] : a))), w)))(primals[i]);
        }
        jvp((...xs: Tensor[]) => op.call(...xs), primals, primals.map((p) => lib.full(p.shape, 1)));
        const [, pullback] = vjp((...xs: Tensor[]) => op.call(...xs), ...primals);
        pullback(w);
      }
      inputs.forEach((x, i) => expect(snapshot(x.storage), `${op.name}: input ${i} was modified`).to.equal(before[i]));
    }), runs(600));
  });

  it("toFloat64Array returns a fresh array, so writing to it leaves the tensor alone", () => {
    const t = tensor([1, 2, 3]);
    const out = t.toFloat64Array();
    out[0] = 99;
    expect(t.toArray()).to.deep.equal([1, 2, 3]);
  });
});
