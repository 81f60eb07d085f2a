/**
 * The public cases of ../shared/REFERENCE_CASES.md: values computed
 * independently (JAXopt's ridge and lasso tests, closed forms), used as outside
 * truth. Nothing here is tuned to them.
 */
import { expect } from "chai";
import {
  ImplicitFunction, Tensor, tensor, grad, jvp, jacobian, matmul, mean, mul, sub, sum, cos, solve, eye, add,
  stationarityConditions, lassoConditions, fixedPointConditions, projectedGradientConditions, projectSimplex, projectL2Ball,
} from "../../lib/index.js";
import { expectClose } from "../helpers.js";
import { X_REF, Y_REF } from "./data.js";

const X = tensor(X_REF);
const Y = tensor(Y_REF);
const n = X_REF.length;

const ridgeObjective = (lambda: Tensor | number, w: Tensor) =>
  add(mul(0.5, mean(sub(matmul(X, w), Y).pow(2))), mul(mul(0.5, lambda), sum(mul(w, w))));

function ridgeForward(lambda: Tensor | number): Tensor {
  const l = typeof lambda === "number" ? lambda : lambda.item();
  const A = add(matmul(X.T, X).div(n), mul(l, eye(3)));
  return solve(A, matmul(X.T, Y).div(n));
}

describe("reference cases (REFERENCE_CASES.md)", () => {
  it("ridge regression at λ = 5: w* and dw*/dλ (JAXopt)", () => {
    const ridge = new ImplicitFunction({ forward: ridgeForward, ...stationarityConditions(ridgeObjective), strict: true });
    const lambda = tensor(5);
    expectClose(ridge.call(lambda), [16.51390727, 8.20625411, 23.62360791], 1e-8);
    const dw = jacobian((l: Tensor) => ridge.call(l))(lambda);
    expectClose(dw, [-2.50171644, -1.26718286, -3.54263662], 1e-7);
    const [, tangent] = jvp((l: Tensor) => ridge.call(l), [lambda], [tensor(1)]);
    expectClose(tangent, [-2.50171644, -1.26718286, -3.54263662], 1e-7);
  });

  it("lasso at λ = 10 and λ = 1: w* and dw*/dλ (JAXopt)", () => {
    const smooth = (_lambda: Tensor | number, w: Tensor) => mul(0.5, mean(sub(matmul(X, w), Y).pow(2)));
    // Forward: proximal gradient (ISTA) on plain arrays, run to convergence.
    const G = matmul(X.T, X).div(n).toFloat64Array();
    const c = matmul(X.T, Y).div(n).toFloat64Array();
    const L = 3; // an upper bound on the largest eigenvalue of XᵀX/n (trace ≈ 2.9)
    const eta = 1 / L;
    const ista = (lambda: Tensor | number): Tensor => {
      const l = typeof lambda === "number" ? lambda : lambda.item();
      const w = new Float64Array(3);
      for (let it = 0; it < 200000; it++) {
        let change = 0;
        const next = new Float64Array(3);
        for (let i = 0; i < 3; i++) {
          let g = -c[i];
          for (let j = 0; j < 3; j++) g += G[i * 3 + j] * w[j];
          const v = w[i] - eta * g;
          next[i] = Math.sign(v) * Math.max(Math.abs(v) - eta * l, 0);
          change = Math.max(change, Math.abs(next[i] - w[i]));
        }
        w.set(next);
        if (change < 1e-14) break;
      }
      return tensor(w);
    };
    const lasso = new ImplicitFunction({ forward: ista, ...lassoConditions(smooth, eta, 0), strict: true, strictTol: 1e-8 });
    expectClose(lasso.call(10), [62.16485194, 29.03583355, 88.27012188], 1e-7);
    const dw10 = jacobian((l: Tensor) => lasso.call(l))(tensor(10));
    expectClose(dw10, [-0.6017178, -0.69149565, -0.6104686], 1e-6);
    expectClose(lasso.call(1), [67.58031211, 35.25929441, 93.76433925], 1e-7);
    const [, dw1] = jvp((l: Tensor) => lasso.call(l), [tensor(1)], [tensor(1)]);
    expectClose(dw1, [-0.6017178, -0.69149565, -0.6104686], 1e-6);
  });

  it("fixed point x = cos(x) + θ at θ = 0", () => {
    const forward = (theta: Tensor | number) => {
      const t = typeof theta === "number" ? theta : theta.item();
      let x = 0;
      for (let i = 0; i < 1000; i++) x = Math.cos(x) + t;
      return tensor(x);
    };
    const fp = new ImplicitFunction({ forward, ...fixedPointConditions((theta: Tensor | number, x: Tensor) => add(cos(x), theta)) });
    expectClose(fp.call(0), [0.7390851332151607], 1e-14);
    expectClose(grad((t: Tensor) => fp.call(t))(tensor(0)), [0.5975100456753034], 1e-12);
    expectClose(jvp((t: Tensor) => fp.call(t), [tensor(0)], [tensor(1)])[1], [0.5975100456753034], 1e-12);
  });

  it("sparsemax: p*, and the Jacobian diag(s) − ssᵀ/|S|, through the projected-gradient fixed point", () => {
    const x0 = tensor([0.5, 0.2, -0.1, 0.9, 0.65]);
    expectClose(projectSimplex(x0), [0.15, 0, 0, 0.55, 0.3], 0, 1e-12);
    const expected = [
      [2 / 3, 0, 0, -1 / 3, -1 / 3], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0],
      [-1 / 3, 0, 0, 2 / 3, -1 / 3], [-1 / 3, 0, 0, -1 / 3, 2 / 3],
    ].flat();
    // The projection itself, differentiated by the engine.
    expectClose(jacobian((x: Tensor) => projectSimplex(x))(x0), expected, 0, 1e-12);
    // As an implicit function: p = argmin ½‖p − x‖² over the simplex.
    const objective = (x: Tensor, p: Tensor) => mul(0.5, sum(sub(p, x).pow(2)));
    const sparsemax = new ImplicitFunction({
      forward: (x: Tensor) => projectSimplex(x),
      ...projectedGradientConditions(objective, (v: Tensor) => projectSimplex(v), 0.5),
      strict: true,
    });
    expectClose(jacobian((x: Tensor) => sparsemax.call(x), { mode: "rev" })(x0), expected, 0, 1e-10);
    expectClose(jacobian((x: Tensor) => sparsemax.call(x), { mode: "fwd" })(x0), expected, 0, 1e-10);
  });

  it("projection onto the ℓ2 ball: ∂p/∂r = x/‖x‖ and ∂p/∂x = (r/‖x‖)(I − xxᵀ/‖x‖²)", () => {
    const x = tensor([3, -4, 12]); // ‖x‖ = 13
    const r = tensor(2);
    expectClose(projectL2Ball(x, r), [6 / 13, -8 / 13, 24 / 13], 1e-14);
    expectClose(jacobian((rad: Tensor) => projectL2Ball(x, rad))(r), [3 / 13, -4 / 13, 12 / 13], 1e-12);
    const xs = [3, -4, 12];
    const expected = xs.flatMap((xi, i) => xs.map((xj, j) => (2 / 13) * ((i === j ? 1 : 0) - (xi * xj) / 169)));
    expectClose(jacobian((v: Tensor) => projectL2Ball(v, r))(x), expected, 1e-12, 1e-14);
    // Inside the ball the projection is the identity.
    expectClose(jacobian((v: Tensor) => projectL2Ball(v, 20))(x), [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 1e-14);
  });

  it("square root by Newton: dy/dx = 1/(2√x), and higher derivatives", () => {
    const newton = (x: Tensor | number) => {
      const a = typeof x === "number" ? x : x.item();
      let y = Math.max(a, 1);
      for (let i = 0; i < 100; i++) y = 0.5 * (y + a / y);
      return tensor(y);
    };
    const sqrtImplicit = new ImplicitFunction({ forward: newton, conditions: (x: Tensor | number, y: Tensor) => sub(mul(y, y), x) });
    for (const a of [0.25, 2, 9, 1e4]) {
      expectClose(grad((x: Tensor) => sqrtImplicit.call(x))(tensor(a)), [1 / (2 * Math.sqrt(a))], 1e-12);
    }
    // Second and third derivatives through the implicit function: −1/(4x^{3/2}) and 3/(8x^{5/2}).
    const dsqrt = (x: Tensor) => grad((z: Tensor) => sqrtImplicit.call(z))(x);
    for (const a of [0.25, 4, 30]) {
      expectClose(grad(dsqrt)(tensor(a)), [-1 / (4 * a ** 1.5)], 1e-10);
      expectClose(jvp(dsqrt, [tensor(a)], [tensor(1)])[1], [-1 / (4 * a ** 1.5)], 1e-10);
      expectClose(grad((x: Tensor) => grad(dsqrt)(x))(tensor(a)), [3 / (8 * a ** 2.5)], 1e-9);
    }
  });
});
