/**
 * ImplicitFunction (lib/implicit/implicit-function.ts) against closed forms and
 * finite differences: ridge hypergradients with every linearSolver, captured
 * data, fixed points, second order, the untaped forward, option and user
 * errors. Its refusals are in diagnostics.spec.ts, its linear solves in
 * linear-solve.spec.ts, the stock conditions in conditions.spec.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ImplicitFunction, Tensor, tensor, grad, valueAndGrad, jvp, vjp, jacobian, hessian, matmul, mul, sub, add, sum, tanh, solve, eye,
  transpose, outer, fixedPointConditions, slice, zeros, pow, exp, div, ones, hvp, stationarityConditions,
} from "../../lib/index.js";
import type { SolverName } from "../../lib/index.js";
import { SOLVER_NAMES } from "../../lib/implicit/linear-solve.js";
import { expectClose, expectError, fdDirectional, inner } from "../helpers.js";
import { randomMatrix as matrixOf, randomVector as vectorOf } from "./fixtures.js";

const randomMatrix = (m: number, n: number, seed: number): Tensor => tensor(matrixOf(m, n, seed));
const randomVector = (n: number, seed: number): Tensor => tensor(vectorOf(n, seed));

// Ridge regression with ½‖Xw − y‖² + ½λ‖w‖²: A = XᵀX + λI, w = A⁻¹Xᵀy.
const n = 12;
const d = 4;
const Xtr = randomMatrix(n, d, 1);
const ytr = randomVector(n, 2);
const Xval = randomMatrix(7, d, 3);
const yval = randomVector(7, 4);

function ridgeClosedForm(X: Tensor, y: Tensor, lambda: number): Tensor {
  return solve(add(matmul(transpose(X), X), mul(lambda, eye(X.shape[1]))), matmul(transpose(X), y));
}
const validationLoss = (w: Tensor) => mul(0.5, sum(pow(sub(matmul(Xval, w), yval), 2)));

/** Ridge as an implicit function of λ; X and y captured by the conditions. */
function ridgeCapturing(X: Tensor, y: Tensor, linearSolver: SolverName = "auto"): ImplicitFunction {
  return new ImplicitFunction({
    forward: (lambda: Tensor | number) => ridgeClosedForm(X, y, typeof lambda === "number" ? lambda : lambda.item()),
    conditions: (lambda: Tensor | number, w: Tensor) => add(matmul(transpose(X), sub(matmul(X, w), y)), mul(lambda, w)),
    linearSolver,
    symmetric: true,
    positiveDefinite: true,
    tol: 1e-12,
  });
}

describe("ImplicitFunction", () => {
  describe("ridge regression (closed forms)", () => {
    const lambda = 0.7;
    const A = add(matmul(transpose(Xtr), Xtr), mul(lambda, eye(d)));
    const w = ridgeClosedForm(Xtr, ytr, lambda);
    const g = matmul(transpose(Xval), sub(matmul(Xval, w), yval)); // ∇_w of the validation loss
    const u = solve(A, g);

    for (const solver of SOLVER_NAMES) {
      it(`hypergradient dL/dλ = −gᵀA⁻¹w with linearSolver "${solver}", both modes`, () => {
        const f = ridgeCapturing(Xtr, ytr, solver);
        const expected = -inner(u, w);
        expectClose(grad((l: Tensor) => validationLoss(f.call(l)))(tensor(lambda)), [expected], 1e-8, 1e-10);
        const [, tangent] = jvp((l: Tensor) => validationLoss(f.call(l)), [tensor(lambda)], [tensor(1)]);
        expectClose(tangent, [expected], 1e-8, 1e-10);
        expect(f.lastSolve).to.include({ converged: true });
        expect(f.lastSolve!.solver).to.be.a("string");
      });
    }

    it("gradients w.r.t. the captured training data: ∂L/∂y = X u and ∂L/∂X = (y − Xw)uᵀ − X u wᵀ", () => {
      for (const solver of ["direct", "cg", "gmres"] as SolverName[]) {
        const [gX, gy] = grad((X: Tensor, y: Tensor) => validationLoss(ridgeCapturing(X, y, solver).call(lambda)), { argnums: [0, 1] })(Xtr, ytr);
        expectClose(gy, matmul(Xtr, u), 1e-8, 1e-10, `${solver} ∂L/∂y`);
        const expectedX = sub(outer(sub(ytr, matmul(Xtr, w)), u), outer(matmul(Xtr, u), w));
        expectClose(gX, expectedX, 1e-8, 1e-10, `${solver} ∂L/∂X`);
      }
    });

    it("JVP w.r.t. captured y equals A⁻¹Xᵀẏ, and mixes with an explicit λ", () => {
      const ydot = randomVector(n, 9);
      for (const solver of ["direct", "gmres"] as SolverName[]) {
        const [, tangent] = jvp((y: Tensor) => ridgeCapturing(Xtr, y, solver).call(lambda), [ytr], [ydot]);
        expectClose(tangent, solve(A, matmul(transpose(Xtr), ydot)), 1e-8, 1e-10);
        // Both at once: ẇ = A⁻¹(Xᵀẏ − λ̇ w).
        const [, both] = jvp((y: Tensor, l: Tensor) => ridgeCapturing(Xtr, y, solver).call(l), [ytr, tensor(lambda)], [ydot, tensor(0.3)]);
        expectClose(both, solve(A, sub(matmul(transpose(Xtr), ydot), mul(0.3, w))), 1e-8, 1e-10);
      }
    });

    it("jacobian through the implicit function in fwd and rev mode agrees with −A⁻¹w", () => {
      const f = ridgeCapturing(Xtr, ytr, "direct");
      const expected = mul(-1, solve(A, w));
      expectClose(jacobian((l: Tensor) => f.call(l), { mode: "fwd" })(tensor(lambda)), expected, 1e-9, 1e-12);
      expectClose(jacobian((l: Tensor) => f.call(l), { mode: "rev" })(tensor(lambda)), expected, 1e-9, 1e-12);
    });

    it("second order: d²L/dλ² through the implicit function matches finite differences of the closed-form hypergradient", () => {
      const f = ridgeCapturing(Xtr, ytr, "direct");
      const hyper = (l: number) => {
        const Al = add(matmul(transpose(Xtr), Xtr), mul(l, eye(d)));
        const wl = solve(Al, matmul(transpose(Xtr), ytr));
        const gl = matmul(transpose(Xval), sub(matmul(Xval, wl), yval));
        return -inner(solve(Al, gl), wl);
      };
      const h = 1e-5;
      const expected = (hyper(lambda + h) - hyper(lambda - h)) / (2 * h);
      const H = hessian((l: Tensor) => validationLoss(f.call(l)))(tensor(lambda));
      expectClose(H, [expected], 1e-6, 1e-9);
      expectClose(grad((l: Tensor) => grad((m: Tensor) => validationLoss(f.call(m)))(l))(tensor(lambda)), [expected], 1e-6, 1e-9);
      const gmresF = ridgeCapturing(Xtr, ytr, "gmres");
      expectClose(jvp((l: Tensor) => grad((m: Tensor) => validationLoss(gmresF.call(m)))(l), [tensor(lambda)], [tensor(1)])[1], [expected], 1e-6, 1e-9);
    });
  });

  describe("fixed points and nonlinear systems", () => {
    // z = tanh(W z + U x): a deep-equilibrium layer (contractive W).
    const m = 5;
    const W = mul(0.4, randomMatrix(m, m, 11));
    const U = randomMatrix(m, 3, 12);
    const T = (x: Tensor, Wm: Tensor, z: Tensor) => tanh(add(matmul(Wm, z), matmul(U, x)));
    const solveEquilibrium = (x: Tensor, Wm: Tensor): Tensor => {
      let z = zeros([m]);
      for (let i = 0; i < 200; i++) z = T(x, Wm, z);
      return z;
    };
    const equilibrium = new ImplicitFunction({ forward: solveEquilibrium, ...fixedPointConditions(T), strict: true });

    it("pushforward matches finite differences of forward, w.r.t. x and W (property)", () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        const x = randomVector(3, seed);
        const xdot = randomVector(3, seed + 1);
        const Wdot = randomMatrix(m, m, seed + 2);
        const [, tx] = jvp((xx: Tensor) => equilibrium.call(xx, W), [x], [xdot]);
        expectClose(tx, fdDirectional((xx) => solveEquilibrium(xx, W), x, xdot), 1e-5, 1e-7);
        const [, tW] = jvp((Wm: Tensor) => equilibrium.call(x, Wm), [W], [Wdot]);
        expectClose(tW, fdDirectional((Wm) => solveEquilibrium(x, Wm), W, Wdot), 1e-5, 1e-7);
      }), { numRuns: 8 });
    });

    it("pullback is the adjoint of the pushforward", () => {
      const x = randomVector(3, 5);
      const xdot = randomVector(3, 6);
      const Wdot = randomMatrix(m, m, 7);
      const ybar = randomVector(m, 8);
      const [, tangent] = jvp((xx: Tensor, Wm: Tensor) => equilibrium.call(xx, Wm), [x, W], [xdot, Wdot]);
      const [, pullback] = vjp((xx: Tensor, Wm: Tensor) => equilibrium.call(xx, Wm), x, W);
      const [cx, cW] = pullback(ybar);
      expectClose([inner(ybar, tangent)], [inner(cx, xdot) + inner(cW, Wdot)], 1e-10, 1e-12);
    });

    it("agrees with differentiating the unrolled solver on the tape", () => {
      const x = randomVector(3, 21);
      const loss = (z: Tensor) => sum(mul(z, randomVector(m, 22)));
      const implicit = grad((xx: Tensor) => loss(equilibrium.call(xx, W)))(x);
      const unrolled = grad((xx: Tensor) => loss(solveEquilibrium(xx, W)))(x);
      expectClose(implicit, unrolled, 1e-8, 1e-10);
    });
  });

  describe("closures and the untaped forward (byproducts: diagnostics.spec.ts)", () => {
    it("a warm start captured from the surrounding trace contributes nothing, and forward is not recorded", () => {
      for (const iterations of [10, 1000]) {
        let warm: Tensor | null = null;
        const f = new ImplicitFunction({
          forward: (x: Tensor) => {
            let y = warm!; // a traced value, touched by forward
            for (let i = 0; i < iterations; i++) y = add(mul(0.5, y), mul(0.25, x)); // → x/2, d/dwarm = 2⁻ⁱᵗᵉʳ
            return y;
          },
          conditions: (x: Tensor, y: Tensor) => sub(y, mul(0.5, x)),
        });
        const d = grad((s: Tensor) => {
          warm = add(s, 1.5); // depends on s: a naive engine would differentiate through it
          return f.call(tensor(4));
        })(tensor(0.5));
        expectClose(d, [0], 0, 0);
      }
    });
  });

  describe("errors", () => {
    it("validates its options when constructed", () => {
      const ok = { forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => sub(y, x) };
      expectError(() => new ImplicitFunction(null as never), "ImplicitFunction:");
      expectError(() => new ImplicitFunction({ ...ok, forward: 3 as never }), "ImplicitFunction:", "forward");
      expectError(() => new ImplicitFunction({ ...ok, conditions: undefined as never }), "ImplicitFunction:", "conditions");
      expectError(() => new ImplicitFunction({ ...ok, linearSolver: "qr" as never }), "ImplicitFunction:", "linearSolver");
      expectError(() => new ImplicitFunction({ ...ok, tol: -1 }), "ImplicitFunction:", "tol");
      expectError(() => new ImplicitFunction({ ...ok, tol: "1e-8" as never }), "ImplicitFunction:", "tol");
      expectError(() => new ImplicitFunction({ ...ok, maxIter: 2.5 }), "ImplicitFunction:", "maxIter");
      expectError(() => new ImplicitFunction({ ...ok, strict: "yes" as never }), "ImplicitFunction:", "strict");
    });

    it("names both shapes when the conditions' size differs from y's", () => {
      const f = new ImplicitFunction({ forward: () => tensor([1, 2, 3]), conditions: (_x: Tensor, y: Tensor) => slice(y, [0], [2]) });
      expectError(() => grad((x: Tensor) => sum(f.call(x)))(tensor(1)), "ImplicitFunction:", "[2]", "[3]");
      expectError(() => f.call(tensor(1)), "ImplicitFunction:", "[2]", "[3]"); // without any transformation too
    });

    it("rejects what forward returns when it is not a Tensor", () => {
      const f = new ImplicitFunction({ forward: () => "y" as never, conditions: (_x: Tensor, y: Tensor) => y });
      expectError(() => f.call(tensor(1)), "ImplicitFunction:", "forward");
    });

    it("strict mode names the residual when the conditions do not hold", () => {
      const f = new ImplicitFunction({ forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x), strict: true });
      expectError(() => f.call(tensor(4)), "ImplicitFunction:", "‖F(x, y)‖ = 12");
    });

    it("errors thrown by user code reach the caller unchanged, and the engine stays usable", () => {
      const boom = new Error("boom");
      const f = new ImplicitFunction({ forward: (x: Tensor) => x, conditions: () => { throw boom; } });
      let caught: unknown = null;
      try {
        grad((x: Tensor) => sum(f.call(x)))(tensor([1, 2]));
      } catch (e) {
        caught = e;
      }
      expect(caught).to.equal(boom);
      expectClose(grad((x: Tensor) => sum(mul(x, x)))(tensor([1, 2])), [2, 4]);
    });
  });

  it("works with plain-number inputs and several inputs, composed with other ops", () => {
    // y solves y³ + a y − b = 0 (a > 0: unique real root).
    const f = new ImplicitFunction({
      forward: (a: number | Tensor, b: number | Tensor) => {
        const av = typeof a === "number" ? a : a.item();
        const bv = typeof b === "number" ? b : b.item();
        let y = 0;
        for (let i = 0; i < 100; i++) y -= (y ** 3 + av * y - bv) / (3 * y * y + av);
        return tensor(y);
      },
      conditions: (a: Tensor | number, b: Tensor | number, y: Tensor) => sub(add(pow(y, 3), mul(a, y)), b),
    });
    const a = 2;
    const b = 3;
    expectClose(f.call(a, b), [1], 1e-12);
    // dy/da = −y/(3y² + a), dy/db = 1/(3y² + a) at y = 1.
    const [va, ga] = valueAndGrad((aa: Tensor, bb: Tensor) => mul(2, f.call(aa, bb)), { argnums: [0, 1] })(a, b);
    expectClose(va, [2]);
    expectClose((ga as Tensor[])[0], [-2 / 5], 1e-12);
    expectClose((ga as Tensor[])[1], [2 / 5], 1e-12);
  });
});

describe("ImplicitFunction: as many inputs as forward and the conditions declare (issue 25)", () => {
  // y = 2x: forward takes x, the conditions (x, y).
  const double = (forward: (...xs: Tensor[]) => Tensor) => new ImplicitFunction({ forward, conditions: (x: Tensor, y: Tensor) => sub(y, mul(x, 2)) });

  it("one input more than the conditions take is an Error naming the count, differentiated or not", () => {
    const f = double((x: Tensor) => mul(x, 2));
    expectError(() => f.call(tensor([1]), 7), "ImplicitFunction:", "call got 2 inputs", "conditions declare 2 parameters (x, y)", "the inputs and then y", "takes 1 input");
    expectError(() => grad((x: Tensor) => sum(f.call(x, 7)))(tensor([1])), "ImplicitFunction:", "call got 2 inputs");
    expectClose(f.call(tensor([1.5])), [3], 0, 0, "one input");
  });

  it("an input fewer than forward declares is an Error before forward runs; a forward may leave trailing inputs out", () => {
    let runs = 0;
    const f = double((x: Tensor, scale: Tensor) => {
      runs++;
      return mul(x, mul(scale, 0));
    });
    expectError(() => f.call(tensor([1])), "ImplicitFunction:", "call got 1 input", "forward declares 2 parameters (x, scale)");
    expect(runs).to.equal(0);
    // F = w·(y − 2x): w does not move the root, so forward can ignore it, and dy/dw = 0.
    const weighted = new ImplicitFunction({ forward: (x: Tensor) => mul(x, 2), conditions: (x: Tensor, w: Tensor, y: Tensor) => mul(w, sub(y, mul(x, 2))) });
    const [dx, dw] = grad((x: Tensor, w: Tensor) => sum(weighted.call(x, w)), { argnums: [0, 1] })(tensor([1]), tensor(3));
    expectClose(dx, [2], 1e-12, 0, "dy/dx");
    expectClose(dw, 0, 0, 1e-12, "dy/dw");
  });

  it("forward of unknown arity: the conditions name the count (7 would be read as y)", () => {
    const f = double((...xs: Tensor[]) => mul(xs[0], 2));
    expectError(() => f.call(tensor([1]), 7), "ImplicitFunction:", "call got 2 inputs", "conditions declare 2 parameters (x, y)", "the inputs and then y", "takes 1 input");
    expectError(() => grad((x: Tensor) => sum(f.call(x, 7)))(tensor([1])), "ImplicitFunction:", "conditions declare 2 parameters");
  });

  it("one input fewer than the conditions take, and a byproduct the conditions may declare or leave out", () => {
    const g = new ImplicitFunction({ forward: (...xs: Tensor[]) => mul(xs[0], 2), conditions: (x: Tensor, theta: Tensor, y: Tensor) => sub(y, mul(x, 2)) });
    expectError(() => g.call(tensor([1])), "ImplicitFunction:", "call got 1 input", "3 parameters (x, theta, y)", "takes 2 inputs", "{ y, byproduct }");
    const withByproduct = (conditions: (...args: never[]) => Tensor) => new ImplicitFunction({ forward: (...xs: Tensor[]) => ({ y: mul(xs[0], 2), byproduct: "b" }), conditions });
    const declares = withByproduct((x: Tensor, y: Tensor, b: string) => (b === "b" ? sub(y, mul(x, 2)) : x));
    expectClose(declares.call(tensor([2])), [4], 0, 0, "byproduct declared");
    expectClose(withByproduct((x: Tensor, y: Tensor) => sub(y, mul(x, 2))).call(tensor([2])), [4], 0, 0, "byproduct left out");
    expectError(() => declares.call(tensor([2]), 1, 2), "ImplicitFunction:", "call got 3 inputs", "forward's byproduct", "takes 1 input (or 2 if they leave the byproduct out)");
  });

  it("conditions with defaults or rest parameters, and the stock conditions, are not counted", () => {
    const rest = new ImplicitFunction({ forward: (x: Tensor) => mul(x, 2), conditions: (...args: Tensor[]) => sub(args[1], mul(args[0], 2)) });
    expectClose(rest.call(tensor([1])), [2], 0, 0, "rest");
    const fp = new ImplicitFunction({ forward: (x: Tensor) => mul(x, 2), ...fixedPointConditions((x: Tensor, y: Tensor) => sub(add(y, mul(x, 2)), y)) });
    expectClose(fp.call(tensor([1])), [2], 0, 0, "stock");
  });
});

describe("ImplicitFunction: transformations inside forward (issue 25, README)", () => {
  it("a forward that runs grad (gradient descent) and hvp (Newton steps) is differentiated by the conditions only", () => {
    // min_y Σ exp(y) − x·y: y = log x, dy/dx = 1/x.
    const objective = (x: Tensor, y: Tensor): Tensor => sub(sum(exp(y)), sum(mul(x, y)));
    const descent = new ImplicitFunction({
      forward: (x: Tensor) => {
        const g = grad((w: Tensor) => objective(x, w));
        let y = zeros([2]);
        for (let i = 0; i < 300; i++) y = sub(y, mul(0.2, g(y)));
        return y;
      },
      ...stationarityConditions(objective, { positiveDefinite: true }),
    });
    const newton = new ImplicitFunction({
      forward: (x: Tensor) => {
        let y = zeros([2]);
        // The Hessian is diagonal, exp(y): a Newton step divides the gradient by H·1.
        for (let i = 0; i < 30; i++) {
          const g = grad((w: Tensor) => objective(x, w))(y);
          y = sub(y, div(g, hvp((w: Tensor) => objective(x, w), [y], [ones([2])])));
        }
        return y;
      },
      ...stationarityConditions(objective),
    });
    const x = tensor([2, 3]);
    for (const f of [descent, newton]) {
      expectClose(f.call(x), [Math.log(2), Math.log(3)], 1e-9, 1e-12);
      expectClose(grad((v: Tensor) => sum(f.call(v)))(x), [1 / 2, 1 / 3], 1e-8, 1e-10);
      expectClose(jvp((v: Tensor) => f.call(v), [x], [tensor([1, 1])])[1], [1 / 2, 1 / 3], 1e-8, 1e-10);
    }
  });
});
