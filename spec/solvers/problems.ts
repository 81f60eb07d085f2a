/**
 * Moré, Garbow & Hillstrom (1981), "Testing unconstrained optimization
 * software", ACM TOMS 7: test problems written with library ops, each as a
 * residual vector r(x) (so f = Σ rᵢ², the paper's form) with its standard
 * start and the published minimum.
 */
import { Tensor, add, concat, cos, customVjp, exp, mul, reshape, sin, slice, sqrt, sub, sum, tensor, stopGradient, div } from "../../lib/index.js";

/** Entry i of a 1-D tensor as a scalar tensor. */
export const at = (x: Tensor, i: number): Tensor => reshape(slice(x, [i], [1]), []);

/** A vector of scalar tensors. */
const vec = (parts: (Tensor | number)[]): Tensor => concat(parts.map((p) => reshape(typeof p === "number" ? tensor(p) : p, [1])));

/**
 * θ(x₁, x₂) = atan2(x₂, x₁)/(2π) of the helical valley (the library has no
 * atan), with its derivative (x₁ dx₂ − x₂ dx₁)/(2π(x₁² + x₂²)) as a custom pullback:
 * first-order methods only.
 */
const theta = customVjp(
  (a: Tensor, b: Tensor) => tensor(Math.atan2(stopGradient(b).item(), stopGradient(a).item()) / (2 * Math.PI)),
  (a: Tensor, b: Tensor) => [tensor(Math.atan2(b.item(), a.item()) / (2 * Math.PI)), [a, b]] as [Tensor, Tensor[]],
  ([a, b]: Tensor[], ct: Tensor) => {
    const scale = div(ct, mul(2 * Math.PI, add(mul(a, a), mul(b, b))));
    return [mul(scale, mul(b, -1)), mul(scale, a)];
  },
);

export interface MGHProblem {
  name: string;
  residuals: (x: Tensor) => Tensor;
  x0: number[];
  /** The published minimum of f = Σ rᵢ². */
  fStar: number;
  /** The published minimiser (when f* = 0 and it is unique). */
  xStar?: number[];
  /** Needs only first derivatives (a custom pullback inside): no Newton-CG, no Hessian. */
  firstOrderOnly?: boolean;
}

export const MGH: MGHProblem[] = [
  {
    name: "Rosenbrock (1)",
    residuals: (x) => vec([mul(10, sub(at(x, 1), mul(at(x, 0), at(x, 0)))), sub(1, at(x, 0))]),
    x0: [-1.2, 1], fStar: 0, xStar: [1, 1],
  },
  {
    name: "helical valley (7)",
    residuals: (x) => {
      const [x1, x2, x3] = [at(x, 0), at(x, 1), at(x, 2)];
      return vec([mul(10, sub(x3, mul(10, theta(x1, x2)))), mul(10, sub(sqrt(add(mul(x1, x1), mul(x2, x2))), 1)), x3]);
    },
    x0: [-1, 0, 0], fStar: 0, xStar: [1, 0, 0], firstOrderOnly: true,
  },
  {
    name: "Powell singular (13)",
    residuals: (x) => {
      const [x1, x2, x3, x4] = [0, 1, 2, 3].map((i) => at(x, i));
      const a = sub(x2, mul(2, x3));
      const b = sub(x1, x4);
      return vec([add(x1, mul(10, x2)), mul(Math.sqrt(5), sub(x3, x4)), mul(a, a), mul(Math.sqrt(10), mul(b, b))]);
    },
    x0: [3, -1, 0, 1], fStar: 0, xStar: [0, 0, 0, 0],
  },
  {
    name: "Wood (14)",
    residuals: (x) => {
      const [x1, x2, x3, x4] = [0, 1, 2, 3].map((i) => at(x, i));
      return vec([
        mul(10, sub(x2, mul(x1, x1))), sub(1, x1), mul(Math.sqrt(90), sub(x4, mul(x3, x3))), sub(1, x3),
        mul(Math.sqrt(10), sub(add(x2, x4), 2)), div(sub(x2, x4), Math.sqrt(10)),
      ]);
    },
    x0: [-3, -1, -3, -1], fStar: 0, xStar: [1, 1, 1, 1],
  },
  {
    name: "Beale (5)",
    residuals: (x) => {
      const [x1, x2] = [at(x, 0), at(x, 1)];
      return vec([1.5, 2.25, 2.625].map((y, i) => sub(y, mul(x1, sub(1, mul(x2, i === 0 ? 1 : i === 1 ? x2 : mul(x2, x2)))))));
    },
    x0: [1, 1], fStar: 0, xStar: [3, 0.5],
  },
  {
    name: "extended Rosenbrock (21), n = 10",
    residuals: (x) => {
      const odd = slice(x, [0], [5]);
      const even = slice(x, [5], [5]);
      // Pairs (x_{2i−1}, x_{2i}) laid out as the first and second halves: the same problem, permuted.
      return concat([mul(10, sub(even, mul(odd, odd))), sub(1, odd)]);
    },
    x0: [-1.2, -1.2, -1.2, -1.2, -1.2, 1, 1, 1, 1, 1], fStar: 0, xStar: new Array(10).fill(1),
  },
  {
    name: "Brown and Dennis (16), m = 20",
    residuals: (x) => {
      const t = tensor(Array.from({ length: 20 }, (_, i) => (i + 1) / 5));
      const [x1, x2, x3, x4] = [0, 1, 2, 3].map((i) => at(x, i));
      const u = sub(add(x1, mul(t, x2)), exp(t));
      const v = sub(add(x3, mul(sin(t), x4)), cos(t));
      return add(mul(u, u), mul(v, v));
    },
    x0: [25, 5, -5, -1], fStar: 85822.2, // as published (six digits)
  },
];

/** f = Σ rᵢ(x)². */
export const objectiveOf = (p: MGHProblem) => (x: Tensor): Tensor => {
  const r = p.residuals(x);
  return sum(mul(r, r));
};
