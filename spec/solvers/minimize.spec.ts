/**
 * minimize: every method reaches the published minima of the Moré–Garbow–
 * Hillstrom problems from their standard starts; bounds; the method table.
 */
import { expect } from "chai";
import { Tensor, add, minimize, mul, pow, sub, sum, tensor } from "../../lib/index.js";
import { MINIMIZE_METHODS, MINIMIZE_METHOD_NAMES } from "../../lib/solvers/methods.js";
import { expectClose, flat } from "../helpers.js";
import { MGH, at, objectiveOf } from "./problems.js";

describe("solvers/minimize: Moré–Garbow–Hillstrom problems from their standard starts", () => {
  for (const problem of MGH) {
    const f = objectiveOf(problem);
    const methods = problem.firstOrderOnly ? ["lbfgs", "bfgs"] as const : ["lbfgs", "bfgs", "newton-cg"] as const;
    for (const method of methods) {
      it(`${problem.name} with ${method}`, () => {
        // Brown and Dennis has f* ≈ 8.6e4: its decrease near x* is below f's rounding, and the
        // line search's approximate Wolfe conditions are what carry it to ‖∇f‖ ≤ 1e-8.
        const tol = 1e-8;
        const r = minimize(f, problem.x0, { method, tol });
        expect(r.status, r.message).to.equal("converged");
        expect(r.residualNorm).to.be.at.most(tol);
        if (problem.fStar === 0) expect(r.value!).to.be.at.most(1e-12);
        else expect(Math.abs(r.value! - problem.fStar) / problem.fStar).to.be.below(1e-6);
        // Powell's singular Hessian at x* limits x's accuracy to about ‖∇f‖^{1/3}.
        if (problem.xStar) expectClose(r.x, problem.xStar, 0, problem.name.startsWith("Powell") ? 3e-3 : 1e-5, problem.name);
        expect(r.converged).to.equal(true);
        expect(r.evaluations).to.be.at.least(r.iterations);
      });
    }
  }

  it("gradient descent reaches Rosenbrock's minimum (slowly: thousands of iterations)", () => {
    const r = minimize(objectiveOf(MGH[0]), MGH[0].x0, { method: "gradient-descent", tol: 1e-5, maxIter: 100000 });
    expect(r.status).to.equal("converged");
    expectClose(r.x, [1, 1], 0, 1e-4);
    expect(r.iterations).to.be.above(100);
  });

  it("L-BFGS needs fewer evaluations than gradient descent, BFGS about as many as L-BFGS on small problems", () => {
    const f = objectiveOf(MGH[3]);
    const lbfgs = minimize(f, MGH[3].x0, { tol: 1e-6 });
    const gd = minimize(f, MGH[3].x0, { method: "gradient-descent", tol: 1e-6, maxIter: 200000 });
    expect(lbfgs.evaluations * 10).to.be.below(gd.evaluations);
  });
});

describe("solvers/minimize: bounds (projected)", () => {
  const rosen = objectiveOf(MGH[0]);

  for (const method of ["lbfgs", "gradient-descent"] as const) {
    it(`${method}: Rosenbrock on [-2, 0.5]² stops at the bound x₁ = 0.5 with x₂ = x₁² (the constrained minimum)`, () => {
      const r = minimize(rosen, [-1.2, 1], { method, bounds: [-2, 0.5], maxIter: 100000, tol: 1e-6 });
      expect(r.status, r.message).to.equal("converged");
      expectClose(r.x, [0.5, 0.25], 0, 1e-5);
    });

    it(`${method}: a separable quadratic ½‖x − a‖² on a box gives clip(a, lower, upper), bounds as Tensors and ±Infinity`, () => {
      const a = tensor([-3, 0.25, 7, 2]);
      const f = (x: Tensor): Tensor => mul(0.5, sum(pow(sub(x, a), 2)));
      const r = minimize(f, [0, 0, 0, 0], { method, bounds: [tensor([-1, 0, -Infinity, 3]), tensor([Infinity, 1, 5, 4])] });
      expect(r.status).to.equal("converged");
      expectClose(r.x, [-1, 0.25, 5, 3], 0, 1e-8);
      // The residual is the projected gradient, not ∇f (which is nonzero at active bounds).
      expect(r.residualNorm).to.be.at.most(1e-8);
    });
  }

  it("a variable starting just inside its bound, with the gradient pushing it out, reaches the bound (the ε-active set moves too)", () => {
    const f = (x: Tensor): Tensor => add(at(x, 0), pow(sub(at(x, 1), 3), 2));
    for (const x0 of [[1e-5, 0], [0.5, 0], [0, 0]]) {
      for (const method of ["lbfgs", "gradient-descent"] as const) {
        const r = minimize(f, x0, { method, bounds: [0, 10] });
        expect(r.status, `${method} from ${x0}`).to.equal("converged");
        expectClose(r.x, [0, 3], 0, 1e-8, `${method} from ${x0}`);
      }
    }
  });

  it("non-negative least squares with 60 unknowns: the KKT conditions hold at lbfgs's answer, checked on plain numbers", () => {
    const m = 80;
    const n = 60;
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    const A = Array.from({ length: m }, () => Array.from({ length: n }, random));
    const b = Array.from({ length: m }, random);
    const f = (x: Tensor): Tensor => mul(0.5, sum(pow(sub(tensor(A).matmul(x), tensor(b)), 2)));
    const r = minimize(f, new Array(n).fill(0), { bounds: [0, Infinity], tol: 1e-10, maxIter: 5000 });
    expect(r.status, r.message).to.equal("converged");
    const x = flat(r.x);
    const residual = A.map((row, i) => row.reduce((acc, a, j) => acc + a * x[j], 0) - b[i]);
    const g = Array.from({ length: n }, (_, j) => A.reduce((acc, row, i) => acc + row[j] * residual[i], 0));
    let active = 0;
    for (let j = 0; j < n; j++) {
      expect(x[j]).to.be.at.least(0);
      if (x[j] === 0) {
        active++;
        expect(g[j], `g[${j}] at an active bound`).to.be.at.least(-1e-9);
      } else expect(Math.abs(g[j]), `g[${j}] of a free variable`).to.be.below(1e-9);
    }
    expect(active, "some bounds are active").to.be.above(5);
  });

  it("a start outside the box is projected onto it first", () => {
    const r = minimize((x: Tensor) => sum(mul(x, x)), [5, -5], { bounds: [1, 2] });
    expectClose(r.x, [1, 1], 0, 1e-10);
  });

  it("bounds with bfgs or newton-cg are an Error naming the methods that take them", () => {
    for (const method of ["bfgs", "newton-cg"] as const) {
      expect(() => minimize(rosen, [0, 0], { method, bounds: [0, 1] })).to.throw(/^minimize: bounds work with method "lbfgs" and "gradient-descent"/);
    }
  });

  it("lower > upper, NaN bounds and bounds of a shape that does not broadcast are Errors", () => {
    expect(() => minimize(rosen, [0, 0], { bounds: [1, 0] })).to.throw(/^minimize: bounds must satisfy lower ≤ upper/);
    expect(() => minimize(rosen, [0, 0], { bounds: [NaN, 1] })).to.throw(/^minimize: bounds must satisfy lower ≤ upper/);
    expect(() => minimize(rosen, [0, 0], { bounds: [[0, 0, 0], 1] })).to.throw(/^minimize: bounds lower has shape \[3\]/);
  });
});

describe("solvers/minimize: the method table", () => {
  it("holds exactly the contract's methods, lbfgs first (the default)", () => {
    expect(MINIMIZE_METHOD_NAMES).to.deep.equal(["lbfgs", "bfgs", "newton-cg", "gradient-descent"]);
    expect(Object.entries(MINIMIZE_METHODS).filter(([, row]) => row.bounds).map(([name]) => name)).to.deep.equal(["lbfgs", "gradient-descent"]);
  });

  it("every method minimises a strongly convex quadratic to tol, and the default is lbfgs", () => {
    const A = tensor([[4, 1, 0], [1, 3, 1], [0, 1, 2]]);
    const b = tensor([1, -2, 3]);
    // x* = A⁻¹b by hand: solved by Cramer's rule below.
    const det = 4 * (3 * 2 - 1) - 1 * (1 * 2 - 0) + 0;
    const xStar = [
      (1 * (3 * 2 - 1) - 1 * (-2 * 2 - 3) + 0) / det,
      (4 * (-2 * 2 - 3) - 1 * (1 * 2 - 0) + 0) / det,
      (4 * (3 * 3 - 1 * -2) - 1 * (1 * 3 - 0) + 1 * (1 * 1 - 0 * 3)) / det,
    ];
    const f = (x: Tensor): Tensor => sub(mul(0.5, sum(mul(x, A.matmul(x)))), sum(mul(b, x)));
    for (const method of MINIMIZE_METHOD_NAMES) {
      const r = minimize(f, [0, 0, 0], { method });
      expect(r.status, method).to.equal("converged");
      expectClose(r.x, xStar, 0, 1e-8, method);
    }
    expect(minimize(f, [0, 0, 0]).message).to.contain("(lbfgs)");
  });

  it("value is fn at x (a number) and x keeps x0's shape and dtype", () => {
    const f = (x: Tensor): Tensor => sum(pow(sub(x, 1), 2));
    const r = minimize(f, tensor([[0, 0], [0, 0]], { dtype: "float32" }));
    expect(r.x.shape).to.deep.equal([2, 2]);
    expect(r.x.dtype).to.equal("float32");
    expect(typeof r.value).to.equal("number");
    expectClose(flat(r.x), [1, 1, 1, 1], 0, 1e-4);
  });
});
