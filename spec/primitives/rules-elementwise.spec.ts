/**
 * Derivative rules of the elementwise primitives (JVP and VJP), checked with
 * spec/primitives/rules.ts against central finite differences and against each
 * other, on random shapes, broadcasting operands and non-contiguous layouts.
 * Values are kept away from kinks and singularities (abs/relu/sign at 0,
 * log/sqrt at ≤ 0, pow with a negative base, maximum/minimum at ties).
 */
import { expect } from "chai";
import fc from "fast-check";
import * as lib from "../../lib/index.js";
import { Tensor, grad, jvp, vjp, sum, mul, where, stopGradient, tensor } from "../../lib/index.js";
import { broadcastShapesArb, flatten, makeOperand, mapValues, operandOf, shapeOf, sizeOfShape, unitValues, layoutArb, type ValueKind, runs } from "./reference.js";
import { checkRules } from "./rules.js";
import { expectClose } from "../helpers.js";

const RUNS = runs(60);
const f = lib as unknown as Record<string, (...args: unknown[]) => Tensor>;

const UNARY: [string, ValueKind][] = [
  ["neg", "any"], ["exp", "any"], ["log", "positive"], ["sqrt", "positive"], ["abs", "awayFromZero"], ["sign", "awayFromZero"],
  ["sin", "any"], ["cos", "any"], ["tanh", "any"], ["sigmoid", "wide"], ["softplus", "wide"], ["relu", "awayFromZero"],
];
const BINARY: [string, ValueKind, ValueKind][] = [
  ["add", "any", "any"], ["sub", "any", "any"], ["mul", "any", "any"], ["div", "any", "awayFromZero"], ["pow", "positive", "any"],
  ["maximum", "gridOdd", "gridEven"], ["minimum", "gridEven", "gridOdd"],
];

describe("primitives/elementwise: derivative rules (FD, jvp, vjp, adjointness)", () => {
  for (const [name, kind] of UNARY) {
    it(`${name}`, () => {
      fc.assert(fc.property(shapeOf(3, 3).chain((s) => operandOf(s, kind)), fc.integer(), (x, seed) => {
        checkRules({ f: (t) => f[name](t), args: [x.t], seed, label: name });
      }), RUNS);
    });
  }

  for (const [name, ka, kb] of BINARY) {
    it(`${name} (both arguments, broadcasting, all layouts)`, () => {
      const arb = broadcastShapesArb(2, 3, 3).chain(([sa, sb]) => fc.tuple(operandOf(sa, ka), operandOf(sb, kb)));
      fc.assert(fc.property(arb, fc.integer(), ([a, b], seed) => {
        checkRules({ f: (x, y) => f[name](x, y), args: [a.t, b.t], seed, label: name });
        // With a plain number for the second operand: only the tensor is differentiated.
        const c = mapValues([0.3], kb)[0];
        checkRules({ f: (x) => f[name](x, c), args: [a.t], seed, label: `${name}(x, ${c})` });
      }), RUNS);
    });
  }

  it("pow with a negative base and an integer exponent (derivative in the base)", () => {
    fc.assert(fc.property(shapeOf(2, 3).chain((s) => operandOf(s, "awayFromZero")), fc.constantFrom(2, 3, -1, -2), fc.integer(), (x, k, seed) => {
      checkRules({ f: (t) => lib.pow(t, k), args: [x.t], seed, label: `pow(x, ${k})` });
    }), RUNS);
  });

  it("where (both branches, three-way broadcasting; the condition is not differentiated)", () => {
    const arb = broadcastShapesArb(3, 3, 3).chain(([sc, sa, sb]) => fc.tuple(
      fc.tuple(unitValues(sizeOfShape(sc)), layoutArb).map(([u, l]) => makeOperand(sc, u.map((v) => (v > 0 ? 1 : 0)), l)),
      operandOf(sa), operandOf(sb)));
    fc.assert(fc.property(arb, fc.integer(), ([c, a, b], seed) => {
      checkRules({ f: (cond, x, y) => where(cond, x, y), args: [c.t, a.t, b.t], diff: [1, 2], seed, label: "where" });
    }), RUNS);
  });

  it("stopGradient has zero derivative in both modes (and the identity's value)", () => {
    fc.assert(fc.property(shapeOf(3, 3).chain((s) => operandOf(s)), (x) => {
      const g = grad((t: Tensor) => sum(mul(stopGradient(t), t)))(x.t);
      // d/dx Σ sg(x)·x = sg(x) = x: only the second factor is differentiated.
      expect(flatten(g.toArray())).to.deep.equal(x.ref.data);
      const [, tangent] = jvp((t) => stopGradient(t), [x.t], [lib.ones(x.ref.shape)]);
      expect(flatten(tangent.toArray()).every((v) => v === 0)).to.equal(true);
      const [, pullback] = vjp((t: Tensor) => lib.add(stopGradient(t), 0), x.t);
      expect(flatten(pullback(lib.ones(x.ref.shape))[0].toArray()).every((v) => v === 0)).to.equal(true);
    }), RUNS);
  });

  it("derivatives at the conventional points: |x|′(0) = 0, relu′(0) = 0, ties of maximum split evenly, 0⁰", () => {
    expectClose(grad((x: Tensor) => sum(lib.abs(x)))(tensor([0, -0])), [0, 0], 0, 0, "abs′(0)");
    expect(grad((x: Tensor) => sum(lib.relu(x)))(tensor([0])).toArray()).to.deep.equal([0]);
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(lib.maximum(a, b)), { argnums: [0, 1] })(tensor([1, 2]), tensor([1, 3])) as Tensor[];
    expect(ga.toArray()).to.deep.equal([0.5, 0]);
    expect(gb.toArray()).to.deep.equal([0.5, 1]);
    // d/da a^b at b = 0 is 0 (also for a = 0), and d/db a^b at a = 0 is taken as 0.
    expect(grad((a: Tensor) => lib.pow(a, 0))(tensor(0)).item()).to.equal(0);
    expect(grad((b: Tensor) => lib.pow(0, b))(tensor(2)).item()).to.equal(0);
    expect(grad((a: Tensor) => lib.pow(a, 2))(tensor(0)).item()).to.equal(0);
    // d/dx sqrt(x) at large x, d/dx log at x: closed forms.
    expect(grad((x: Tensor) => lib.sqrt(x))(tensor(4)).item()).to.equal(0.25);
    expect(grad((x: Tensor) => lib.log(x))(tensor(8)).item()).to.equal(0.125);
  });

  it("stable derivatives at large |x|: sigmoid′, softplus′ and tanh′ are finite and exact", () => {
    const x = tensor([-1000, 1000, -50, 50]);
    expectClose(grad((t: Tensor) => sum(lib.softplus(t)))(x), [0, 1, 1 / (1 + Math.exp(50)), 1], 1e-14, 0, "softplus′");
    const gs = flatten(grad((t: Tensor) => sum(lib.sigmoid(t)))(x).toArray());
    expect(gs.slice(0, 2)).to.deep.equal([0, 0]);
    expect(gs.every(Number.isFinite)).to.equal(true);
    expect(flatten(grad((t: Tensor) => sum(lib.tanh(t)))(x).toArray()).slice(0, 2)).to.deep.equal([0, 0]);
  });
});

describe("primitives/elementwise: one-pass derivative products", () => {
  // A first-order vjp or jvp of a unary op on float64 values multiplies by the
  // derivative in one pass; it must equal the rule's composition of ops, which
  // nested transformations and float32 still use, to the bit (NaN and ±∞ included).
  const composed: Record<string, (x: Tensor, out: Tensor) => Tensor> = {
    exp: (_, out) => out,
    log: (x) => lib.div(1, x),
    sqrt: (_, out) => lib.div(0.5, out),
    sin: (x) => lib.cos(x),
    cos: (x) => lib.neg(lib.sin(x)),
    tanh: (_, out) => lib.sub(1, lib.mul(out, out)),
    sigmoid: (_, out) => lib.mul(out, lib.sub(1, out)),
    softplus: (x) => lib.sigmoid(x),
  };
  const special = [0, -0, 1e-300, -1e-300, 710, -745, Infinity, -Infinity, NaN, 3.5, -2.25];
  const bits = (t: Tensor): string[] => Array.from(t.toFloat64Array(), (v) => (Object.is(v, -0) ? "-0" : String(v)));

  for (const [name, derivative] of Object.entries(composed)) {
    it(`${name}: vjp and jvp equal the composed rule bit for bit, on any layout`, () => {
      fc.assert(fc.property(
        fc.array(fc.oneof(fc.double(), fc.constantFrom(...special)), { minLength: 6, maxLength: 6 }),
        fc.array(fc.oneof(fc.double({ min: -10, max: 10 }), fc.constantFrom(...special)), { minLength: 6, maxLength: 6 }),
        fc.boolean(),
        (xs, gs, transposed) => {
          const base = tensor(Float64Array.from(xs), { shape: [2, 3] });
          const x = transposed ? lib.transpose(tensor(Float64Array.from(xs), { shape: [3, 2] })) : base;
          const g = tensor(Float64Array.from(gs), { shape: [2, 3] });
          const out = f[name](x);
          const expected = bits(mul(g, derivative(x, out)));
          const [, pullback] = vjp((t: Tensor) => f[name](t), x);
          expect(bits(pullback(g)[0])).to.deep.equal(expected);
          expect(bits(jvp((t: Tensor) => f[name](t), [x], [g])[1])).to.deep.equal(expected);
        },
      ), runs(40));
    });
  }

  it("second order (the cotangent is traced) still differentiates the rule", () => {
    const x = tensor([0.3, -1.2, 2]);
    // d²/dx² tanh = −2 tanh (1 − tanh²)
    const h = grad((t: Tensor) => sum(grad((u: Tensor) => sum(lib.tanh(u)))(t)))(x).toFloat64Array();
    Array.from(x.toFloat64Array()).forEach((v, i) => expect(h[i]).to.be.closeTo(-2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2), 1e-14));
  });
});
