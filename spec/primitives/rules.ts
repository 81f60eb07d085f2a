/**
 * The derivative-rule harness used by spec/primitives/rules-*.spec.ts. For a
 * function of several tensors it checks, against central finite differences of
 * the forward computation (plain JS arithmetic on the outputs):
 *   (a) reverse mode: grad of ⟨w, f(x…)⟩ w.r.t. each differentiated argument;
 *   (b) forward mode: jvp(f, primals, tangents) against the FD directional derivative;
 *   (c) the two modes against each other: ⟨ȳ, J ẋ⟩ = Σᵢ ⟨Jᵢᵀȳ, ẋᵢ⟩ via vjp and jvp.
 * Weights, tangents and cotangents come from a seeded PRNG so that a failing
 * fast-check case replays exactly.
 */
import { expect } from "chai";
import { Tensor, tensor, grad, jvp, vjp, sum, mul } from "../../lib/index.js";
import { fdGrad, withLayout } from "../helpers.js";
import { flatten, LAYOUTS, prng, sizeOfShape } from "./reference.js";

export interface RuleCase {
  /** The function under test (non-differentiated parameters already fixed). */
  f: (...xs: Tensor[]) => Tensor;
  /** Primal arguments (any layout). */
  args: Tensor[];
  /** Indices of the arguments to differentiate (default: all). */
  diff?: number[];
  seed: number;
  label?: string;
}

export interface Tolerance {
  rtol: number;
  atol: number;
  h: number;
}
export const DEFAULT_TOL: Tolerance = { rtol: 1e-5, atol: 1e-6, h: 1e-6 };

const values = (t: Tensor): number[] => flatten(t.toArray());

/** Random values in [−1, 1), stored in a random layout (tangents and cotangents may be strided views too). */
function randomTensor(shape: number[], rnd: () => number): Tensor {
  const t = tensor(Float64Array.from({ length: sizeOfShape(shape) }, () => 2 * rnd() - 1), { shape });
  return withLayout(t, LAYOUTS[Math.floor(rnd() * LAYOUTS.length)]);
}

function closeTo(actual: number[], expected: number[], tol: { rtol: number; atol: number }, what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const bound = tol.atol + tol.rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= bound)) {
      throw new Error(`${what}[${i}]: got ${actual[i]}, finite differences give ${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i]).toExponential(2)} > ${bound.toExponential(2)})`);
    }
  }
}

/** (f(x + h v) − f(x − h v)) / 2h with every argument moved along its tangent, flat. */
export function fdDirectionalMulti(f: (...xs: Tensor[]) => Tensor, args: Tensor[], tangents: Tensor[], h: number): number[] {
  const shifted = (s: number): Tensor[] => args.map((a, i) => {
    const x = values(a);
    const v = values(tangents[i]);
    return tensor(Float64Array.from(x, (xi, k) => xi + s * h * v[k]), { shape: a.shape.slice() });
  });
  const plus = values(f(...shifted(1)));
  const minus = values(f(...shifted(-1)));
  return plus.map((p, k) => (p - minus[k]) / (2 * h));
}

/** Runs checks (a), (b) and (c) on one case. */
export function checkRules(c: RuleCase, tol: Tolerance = DEFAULT_TOL): void {
  const { f, args } = c;
  const diff = c.diff ?? args.map((_, i) => i);
  const rnd = prng(c.seed);
  const label = c.label ?? "";
  const out = f(...args);
  const w = randomTensor(out.shape, rnd);
  const wv = values(w);
  const objective = (xs: Tensor[]): number => values(f(...xs)).reduce((s, y, k) => s + y * wv[k], 0);

  // (a) reverse mode against finite differences, one argument at a time.
  for (const i of diff) {
    const g = grad((...xs: Tensor[]) => sum(mul(f(...xs), w)), { argnums: i })(...args) as Tensor;
    expect(g.shape, `${label} grad ${i} shape`).to.deep.equal(args[i].shape);
    const fd = fdGrad((x) => objective(args.map((a, j) => (j === i ? x : a))), args[i], tol.h);
    closeTo(values(g), fd, tol, `${label} grad w.r.t. argument ${i}`);
  }

  // (b) forward mode against the finite-difference directional derivative.
  const tangents = args.map((a, i) => (diff.includes(i) ? randomTensor(a.shape, rnd) : tensor(new Float64Array(a.size), { shape: a.shape.slice() })));
  const [primalOut, tangentOut] = jvp(f, args, tangents);
  expect(primalOut.shape, `${label} jvp primal shape`).to.deep.equal(out.shape);
  expect(tangentOut.shape, `${label} jvp tangent shape`).to.deep.equal(out.shape);
  closeTo(values(primalOut), values(out), { rtol: 1e-12, atol: 1e-12 }, `${label} jvp primal`);
  closeTo(values(tangentOut), fdDirectionalMulti(f, args, tangents, tol.h), tol, `${label} jvp tangent`);

  // (c) ⟨ȳ, J ẋ⟩ = Σᵢ ⟨Jᵢᵀ ȳ, ẋᵢ⟩.
  const [vjpOut, pullback] = vjp(f, ...args);
  closeTo(values(vjpOut), values(out), { rtol: 1e-12, atol: 1e-12 }, `${label} vjp primal`);
  const ybar = randomTensor(out.shape, rnd);
  const cotangents = pullback(ybar);
  expect(cotangents.length, `${label} one cotangent per primal`).to.equal(args.length);
  let lhs = 0;
  let scale = 0;
  const yv = values(ybar);
  values(tangentOut).forEach((t, k) => { lhs += yv[k] * t; scale += Math.abs(yv[k] * t); });
  let rhs = 0;
  cotangents.forEach((ct, i) => {
    expect(ct.shape, `${label} cotangent ${i} shape`).to.deep.equal(args[i].shape);
    const tv = values(tangents[i]);
    values(ct).forEach((v, k) => { rhs += v * tv[k]; scale += Math.abs(v * tv[k]); });
  });
  if (!(Math.abs(lhs - rhs) <= 1e-10 * (1 + scale))) throw new Error(`${label} ⟨ȳ, Jẋ⟩ = ${lhs} but ⟨Jᵀȳ, ẋ⟩ = ${rhs}`);
}

/**
 * Second order: for g = ∇⟨w, f(x)⟩, checks H v two ways (reverse over reverse:
 * ∇⟨g(x), v⟩, and forward over reverse: jvp(g, [x], [v])) against the FD
 * directional derivative of g, which itself is computed by the library's grad.
 */
export function checkSecondOrder(f: (x: Tensor) => Tensor, x: Tensor, seed: number, tol = { rtol: 1e-5, atol: 1e-6, h: 1e-5 }, label = ""): void {
  const rnd = prng(seed);
  const w = randomTensor(f(x).shape, rnd);
  const v = randomTensor(x.shape, rnd);
  const g = (y: Tensor): Tensor => grad((z: Tensor) => sum(mul(f(z), w)))(y) as Tensor;
  const fd = fdDirectionalMulti(g, [x], [v], tol.h);
  const revRev = grad((y: Tensor) => sum(mul(g(y), v)))(x) as Tensor;
  closeTo(values(revRev), fd, tol, `${label} grad of grad (H v)`);
  const [, fwdRev] = jvp(g, [x], [v]);
  closeTo(values(fwdRev), fd, tol, `${label} jvp of grad (H v)`);
}
