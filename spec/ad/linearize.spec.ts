/**
 * linearize and linearTranspose: the recorded linear program against the
 * transformations it replaces (jvp for lin, vjp for its transpose), on closed
 * forms and on random programs, fused (plain inputs) and by rules (traced
 * inputs); the adjoint identity; storage reuse; nesting; errors.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Tensor, add, concat, div, exp, grad, jvp, linearTranspose, linearize, logsumexp, matmul, mul, neg, reshape, sin, slice, sqrt, sub, sum, tanh,
  tensor, transpose, vjp, where,
} from "../../lib/index.js";
import { expectClose, expectError, flat, inner, nonContiguous, tensorOf } from "../helpers.js";
import { runs } from "./fixtures.js";
import { programOf, stepsArb as stepsOf, type ProgramOp, type Step } from "./subjects.js";

const shape = [3, 4];
const C4 = tensor([[0.5, -1, 0.25, 2], [1, 0.3, -0.7, 0.1], [-0.2, 0.9, 1.1, -0.4], [0.6, 0.2, -1.3, 0.8]]);
const row = tensor([1.5, -0.5, 2, 0.25]);
const col = tensor([[0.7], [-1.2], [0.4]]);
const mask = tensor([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 1]]);

/** The ops of random programs: every value has shape [3,4]. */
const OPS: ProgramOp[] = [
  (a) => sin(a),
  (a) => tanh(mul(a, 0.7)),
  (a) => exp(mul(0.3, a)),
  (a) => sqrt(add(mul(a, a), 1)),
  (a, b) => add(a, b),
  (a, b) => sub(a, mul(b, 0.5)),
  (a, b) => mul(a, b),
  (a, b) => div(a, add(mul(b, b), 1)),
  (a) => mul(a, row),
  (a) => add(mul(col, a), mul(a, 2)),
  (a) => matmul(a, C4),
  (a) => transpose(matmul(C4, transpose(a))),
  // A difference along rows and columns, through slices and their transposes (concat/pad).
  (a) => concat([sub(slice(a, [1, 0], [2, 4]), slice(a, [0, 0], [2, 4])), slice(a, [0, 0], [1, 4])], 0),
  (a, b) => mul(a, sum(b, 1, true)),
  (a, b) => where(mask, a, mul(b, -1.5)),
  (a, b) => sub(a, logsumexp(reshape(b, [12]))),
];
const program = (steps: Step[]): ((x: Tensor) => Tensor) => programOf(OPS, steps);
const stepsArb = stepsOf(OPS, 7);

/** Forward over reverse: the gradient of a scalar built from the program (what stationarity conditions do). */
function gradientOf(steps: Step[]): (x: Tensor) => Tensor {
  const f = program(steps);
  return (x) => grad((z: Tensor) => sum(mul(f(z), sin(z))))(x) as Tensor;
}

describe("linearize", () => {
  it("returns f's value and a lin that is jvp's tangent (closed form: d(eˣ sin x) = eˣ(sin x + cos x) ẋ)", () => {
    const x = tensor([0.3, -1, 2]);
    const [out, lin] = linearize((v: Tensor) => mul(exp(v), sin(v)), x);
    expectClose(out, [0.3, -1, 2].map((v) => Math.exp(v) * Math.sin(v)), 1e-15);
    const t = tensor([1, 0.5, -2]);
    expectClose(lin(t) as Tensor, [0.3, -1, 2].map((v, i) => [1, 0.5, -2][i] * Math.exp(v) * (Math.sin(v) + Math.cos(v))), 1e-14);
  });

  it("property: lin(t) equals jvp on random programs, fused or by rules, and into() agrees", () => {
    fc.assert(fc.property(stepsArb, tensorOf(shape, -1, 1), tensorOf(shape), (steps, x, t) => {
      for (const f of [program(steps), gradientOf(steps)]) {
        const [out, lin] = linearize(f, x);
        const [expectedOut, expected] = jvp(f, [x], [t]) as [Tensor, Tensor];
        expectClose(out, expectedOut, 1e-13, 1e-13, "value");
        expectClose(lin(t) as Tensor, expected, 1e-11, 1e-11, "lin");
        const into = new Float64Array(12);
        lin.into(t.toFloat64Array(), into);
        expectClose(Array.from(into), expected, 1e-11, 1e-11, "into");
        // Traced tangents run the nodes' rules instead of the fused program: the same map.
        const viaRules = jvp((s: Tensor) => lin(s) as Tensor, [t], [t])[0];
        expectClose(viaRules, expected, 1e-11, 1e-11, "rules");
      }
    }), runs(40));
  });

  it("property: linearTranspose(lin) equals vjp's pullback, and ⟨ȳ, lin(t)⟩ = ⟨lt(ȳ), t⟩", () => {
    fc.assert(fc.property(stepsArb, tensorOf(shape, -1, 1), tensorOf(shape), tensorOf(shape), (steps, x, t, ct) => {
      for (const f of [program(steps), gradientOf(steps)]) {
        const [, lin] = linearize(f, x);
        const lt = linearTranspose(lin);
        const [, pullback] = vjp(f, x);
        const back = lt(ct);
        expect(back).to.have.length(1);
        expectClose(back[0], pullback(ct)[0], 1e-11, 1e-11, "lt");
        const lhs = inner(ct, lin(t) as Tensor);
        expect(Math.abs(lhs - inner(back[0], t))).to.be.at.most(1e-10 * (1 + Math.abs(lhs)));
        const into = new Float64Array(12);
        lt.into(ct.toFloat64Array(), into);
        expectClose(Array.from(into), back[0], 1e-14, 1e-14, "lt.into");
      }
    }), runs(40));
  });

  it("several primals and outputs: lin takes one tangent per primal, lt one cotangent per output", () => {
    const f = (a: Tensor, b: Tensor) => [mul(a, b), sum(sin(a))] as unknown as Tensor;
    const a = tensor([1, 2]);
    const b = tensor([3, -1]);
    const [outs, lin] = linearize(f, a, b) as unknown as [Tensor[], (...t: Tensor[]) => Tensor[]];
    expect(outs).to.have.length(2);
    const [ta, tb] = [tensor([0.5, 1]), tensor([2, -2])];
    const got = lin(ta, tb);
    const [, want] = jvp(f, [a, b], [ta, tb]) as unknown as [Tensor[], Tensor[]];
    expectClose(got[0], want[0], 1e-15);
    expectClose(got[1], want[1], 1e-15);
    const lt = linearTranspose(lin as never);
    const [ga, gb] = lt(tensor([1, 1]), tensor(2));
    // ∂/∂a: b + 2 cos a; ∂/∂b: a.
    expectClose(ga, [3 + 2 * Math.cos(1), -1 + 2 * Math.cos(2)], 1e-15);
    expectClose(gb, [1, 2], 1e-15);
  });

  it("an output that does not depend on the primals has a zero tangent and sends nothing back", () => {
    const [, lin] = linearize((v: Tensor) => [mul(v, 2), tensor([7, 7, 7])] as unknown as Tensor, tensor([1, 2]));
    const [t0, t1] = lin(tensor([1, 1])) as unknown as Tensor[];
    expectClose(t0, [2, 2]);
    expectClose(t1, [0, 0, 0]);
    expectClose(linearTranspose(lin)(tensor([1, 1]), tensor([5, 5, 5]))[0], [2, 2]);
  });

  it("accepts tangents as anything tensor() accepts, in any layout, and float32 programs stay float32", () => {
    const x = tensor([[1, 2], [3, 4]]);
    const [, lin] = linearize((v: Tensor) => mul(v, v), x);
    expectClose(lin([[1, 0], [0, 1]]) as Tensor, [2, 0, 0, 8]);
    expectClose(lin(nonContiguous(tensor([[1, 2], [3, 4]]), "transposed")) as Tensor, [2, 8, 18, 32]);
    const x32 = tensor([1, 2], { dtype: "float32" });
    const [, lin32] = linearize((v: Tensor) => mul(v, 3), x32);
    const t32 = lin32(tensor([1, 1], { dtype: "float32" })) as Tensor;
    expect(t32.dtype).to.equal("float32");
    expectClose(t32, [3, 3]);
  });

  it("reuses its storage: results stay valid after later applications, and repeated applications add no storage", () => {
    const x = tensor(Array.from({ length: 400 }, (_, i) => Math.sin(i)), { shape: [20, 20] });
    const f = (v: Tensor) => grad((z: Tensor) => sum(sqrt(add(mul(sub(slice(z, [1, 0], [19, 20]), slice(z, [0, 0], [19, 20])), 2), 1))))(v) as Tensor;
    const [, lin] = linearize(f, x);
    const t1 = tensor(Array.from({ length: 400 }, (_, i) => Math.cos(i)), { shape: [20, 20] });
    const first = lin(t1) as Tensor;
    const firstValues = flat(first);
    const out = new Float64Array(400);
    lin.into(Float64Array.from({ length: 400 }, (_, i) => Math.sin(i)), out);
    const pooled = lin.program.pooledBytes;
    expect(pooled).to.be.greaterThan(0);
    for (let k = 0; k < 20; k++) lin.into(Float64Array.from({ length: 400 }, (_, i) => Math.sin(i * k)), out);
    expect(lin.program.pooledBytes).to.equal(pooled);
    expect(flat(first)).to.deep.equal(firstValues);
    expectClose(first, jvp(f, [x], [t1])[1] as Tensor, 1e-12, 1e-12);
  });

  it("nests: the derivative of lin's result w.r.t. the point (second order) and w.r.t. the tangent", () => {
    // f(x) = sin(x)·x; lin(t) = (cos x · x + sin x) t; d/dx of Σ lin(1) = Σ (−sin x · x + 2 cos x).
    const f = (v: Tensor) => mul(sin(v), v);
    const xs = [0.4, -1.3];
    const g = grad((x: Tensor) => {
      const [, lin] = linearize(f, x);
      return sum(lin(tensor([1, 1])) as Tensor);
    })(tensor(xs)) as Tensor;
    expectClose(g, xs.map((x) => -Math.sin(x) * x + 2 * Math.cos(x)), 1e-14);
    const [, lin] = linearize(f, tensor(xs));
    const w = tensor([2, -3]);
    expectClose(grad((t: Tensor) => sum(mul(lin(t) as Tensor, w)))(tensor([0.1, 0.2])) as Tensor, linearTranspose(lin)(w)[0], 1e-15);
  });

  it("prints the linear program and what fusion made of it", () => {
    const [, lin] = linearize((v: Tensor) => neg(mul(sin(v), 3)), tensor([1, 2]));
    const text = lin.toString();
    expect(text).to.match(/^linear program \(1 input, \d+ operations?\):/);
    expect(text).to.contain("#0 = input 0 [2]");
    expect(text).to.contain("mul(#0, const [0.5403,-0.4161])");
    expect(lin.program.fusedToString()).to.match(/fused \(1 instruction\):\n {2}\$1 = fused -?3?·?c⊙\(\$0\)/);
    expect(linearTranspose(lin).toString()).to.match(/^transposed linear program/);
  });

  it("errors name linearize or linearTranspose and the shapes involved", () => {
    const [, lin] = linearize((v: Tensor) => mul(v, 2), tensor([1, 2]));
    expectError(() => lin(tensor([1, 2, 3])), "linearize:", "[3]", "[2]");
    expectError(() => lin(), "linearize:", "expected 1 tangent");
    expectError(() => lin(tensor([1, 2], { dtype: "float32" })), "linearize:", "float32");
    expectError(() => lin("x" as never), "linearize:", "tangent 0");
    expectError(() => lin.into(new Float64Array(3), new Float64Array(2)), "linearize:", "2 entries");
    expectError(() => linearize("f" as never, tensor(1)), "linearize:", "function");
    expectError(() => linearize((v: Tensor) => v), "linearize:", "at least one primal");
    expectError(() => linearTranspose(((t: Tensor) => t) as never), "linearTranspose:", "linearize");
    expectError(() => linearTranspose(lin)(tensor([1])), "linearTranspose:", "[1]", "[2]");
  });

  it("user errors in f pass through unchanged, and a failed linearisation leaves the engine usable", () => {
    const boom = new Error("boom");
    let thrown: unknown = null;
    try {
      linearize(() => { throw boom; }, tensor(1));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.equal(boom);
    expectClose(grad((v: Tensor) => sum(mul(v, v)))(tensor([1, 2])) as Tensor, [2, 4]);
  });

  it("does not mutate its primals or tangents", () => {
    const x = tensor([0.5, 1.5]);
    const t = tensor([1, -1]);
    const [, lin] = linearize((v: Tensor) => mul(sin(v), v), x);
    lin(t);
    linearTranspose(lin)(t);
    expect(flat(x)).to.deep.equal([0.5, 1.5]);
    expect(flat(t)).to.deep.equal([1, -1]);
  });
});
