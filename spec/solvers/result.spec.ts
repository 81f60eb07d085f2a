/**
 * The result and its failures, for every solver: statuses, ConvergenceError
 * with the result, throw: false and the Error on differentiating an
 * unconverged x, callbacks, warm starts, option checks, no mutation.
 */
import { expect } from "chai";
import {
  ConvergenceError, LinearSolveError, Tensor, add, cos, customVjp, fixedPoint, grad, jvp, leastSquares, log, minimize, mul, pow, proximalGradient, root, softThreshold, sub,
  sum, tensor, stopGradient, where, greater, type SolverResult, type SolverStatus,
} from "../../lib/index.js";
import { expectError } from "../helpers.js";
import { MGH, objectiveOf } from "./problems.js";

const rosen = objectiveOf(MGH[0]);
const quadratic = (x: Tensor, a: Tensor | number = 1): Tensor => sum(pow(sub(x, a), 2));
const FIELDS = ["x", "iterations", "evaluations", "residualNorm", "converged", "status", "message"];

describe("solvers/result: the fields", () => {
  it("every solver returns { x, iterations, evaluations, residualNorm, converged, status, message } (value for minimize)", () => {
    const results: [string, SolverResult][] = [
      ["minimize", minimize(quadratic, [0, 0])],
      ["root", root((y: Tensor) => sub(mul(y, y), 2), [1])],
      ["fixedPoint", fixedPoint((y: Tensor) => cos(y), [0])],
      ["leastSquares", leastSquares((y: Tensor) => sub(y, tensor([1, 2])), [0, 0])],
      ["proximalGradient", proximalGradient(quadratic, [0, 0], { prox: (v: Tensor) => v })],
    ];
    for (const [name, r] of results) {
      for (const k of FIELDS) expect(r, `${name}.${k}`).to.have.property(k);
      expect(r.x, name).to.be.instanceOf(Tensor);
      expect(r.converged, name).to.equal(true);
      expect(r.status, name).to.equal("converged");
      expect(r.residualNorm, name).to.be.at.most(1e-8);
      expect(r.message, name).to.match(new RegExp(`^${name} \\(`));
    }
    expect(results[0][1].value).to.be.closeTo(0, 1e-15);
  });
});

describe("solvers/result: each failure status", () => {
  it("maxIter: returned with throw: false, a ConvergenceError carrying the result otherwise", () => {
    const r = minimize(rosen, [-1.2, 1], { maxIter: 3, throw: false });
    expect(r.status).to.equal("maxIter");
    expect(r.converged).to.equal(false);
    expect(r.iterations).to.equal(3);
    expect(r.residualNorm).to.be.above(1e-8);
    let caught: unknown = null;
    try {
      minimize(rosen, [-1.2, 1], { maxIter: 3 });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(ConvergenceError).and.instanceOf(LinearSolveError);
    const err = caught as ConvergenceError<SolverResult>;
    expect(err.message).to.match(/^minimize \(lbfgs\) reached maxIter after 3 iteration/);
    expect(err.result!.status).to.equal("maxIter");
    expect(err.result!.x.toArray()).to.deep.equal(r.x.toArray());
    expect(err.name).to.equal("ConvergenceError");
  });

  it("maxIter for every other solver, each with its public name", () => {
    const cases: [string, () => unknown][] = [
      ["root", () => root((y: Tensor) => sub(mul(y, mul(y, y)), 2), [10], { maxIter: 1 })],
      ["fixedPoint", () => fixedPoint((y: Tensor) => cos(y), [0], { maxIter: 2, method: "iterate" })],
      ["leastSquares", () => leastSquares((y: Tensor) => MGH[0].residuals(y), [-1.2, 1], { maxIter: 2 })],
      ["proximalGradient", () => proximalGradient(rosen, [-1.2, 1], { prox: (v: Tensor) => v, maxIter: 2 })],
    ];
    for (const [name, run] of cases) {
      const err = expectError(run, `${name} (`, "maxIter");
      expect(err, name).to.be.instanceOf(ConvergenceError);
      expect((err as ConvergenceError<SolverResult>).result!.status, name).to.equal("maxIter");
    }
  });

  it("stopped: a callback returning false stops the solver; returned, never thrown", () => {
    const seen: number[] = [];
    const r = minimize(rosen, [-1.2, 1], { callback: (info) => { seen.push(info.iteration); return info.iteration < 2; } });
    expect(r.status).to.equal("stopped");
    expect(r.converged).to.equal(false);
    expect(r.iterations).to.equal(2);
    expect(seen).to.deep.equal([1, 2]);
    const rr = root((y: Tensor) => sub(mul(y, mul(y, y)), 2), [10], { callback: () => false });
    expect(rr.status).to.equal("stopped");
    expect(rr.iterations).to.equal(1);
  });

  it("nonFinite: fn NaN at the start (log of a negative) gives status nonFinite, not a wrong answer", () => {
    const f = (x: Tensor): Tensor => sum(log(x));
    const r = minimize(f, [-1, 2], { throw: false });
    expect(r.status).to.equal("nonFinite");
    expect(r.converged).to.equal(false);
    expect(() => minimize(f, [-1, 2])).to.throw(ConvergenceError, /^minimize \(lbfgs\) met a NaN or ∞/);
    expect(root((y: Tensor) => log(y), [-1], { throw: false }).status).to.equal("nonFinite");
    expect(fixedPoint((y: Tensor) => log(y), [-1], { throw: false }).status).to.equal("nonFinite");
  });

  it("lineSearchFailed: a gradient that disagrees with fn's values (a wrong custom pullback)", () => {
    const wrong = customVjp((x: Tensor) => sum(mul(x, x)), (x: Tensor) => [sum(mul(x, x)), x] as [Tensor, Tensor], (x: Tensor, ct: Tensor) => [mul(ct, mul(x, -2))]);
    for (const method of ["lbfgs", "bfgs", "newton-cg", "gradient-descent"] as const) {
      if (method === "newton-cg") continue; // its Hessian would transpose the wrong rule: no clean failure to expect
      const r = minimize((x: Tensor) => wrong(x), [1, 2], { method, throw: false });
      expect(r.status, method).to.equal("lineSearchFailed");
    }
  });

  it("stalled: a tol below what float64 can resolve (f = 1 + Σ(x² − 2)², minimised at √2, which no double is)", () => {
    const f = (x: Tensor): Tensor => add(1, sum(pow(sub(mul(x, x), 2), 2)));
    for (const method of ["lbfgs", "bfgs", "gradient-descent"] as const) {
      const r = minimize(f, [1, 1], { method, tol: 1e-300, throw: false });
      expect(r.status, `${method}: ${r.message}`).to.equal("stalled");
      expect(Math.abs((r.x.toArray() as number[])[0] - Math.SQRT2)).to.be.below(1e-7);
    }
    // A jump from −1 to 1 after 0.1 (no zero anywhere): the bracket closes on it.
    const b = root((y: Tensor) => where(greater(y, 0.1), 1, -1), undefined, { method: "bisection", bracket: [0, 1], throw: false });
    expect(b.status).to.equal("stalled");
    expect(b.x.item()).to.be.closeTo(0.1, 1e-15);
  });
});

describe("solvers/result: an unconverged x has no derivative", () => {
  it("differentiating x from a run that stopped early is an Error (reverse and forward), never a number", () => {
    const quartic = (x: Tensor, a: Tensor): Tensor => sum(pow(sub(x, a), 4));
    const solve = (lam: Tensor): Tensor => minimize(quartic, [0, 0], { args: [lam], maxIter: 1, method: "gradient-descent", throw: false }).x;
    expect(() => grad((l: Tensor) => sum(solve(l)))(tensor(3))).to.throw(/^minimize: x did not converge \(status "maxIter"/);
    expect(() => jvp(solve, [tensor(3)], [tensor(1)])).to.throw(/^minimize: x did not converge/);
    // Read as a constant it is fine.
    expect(grad((l: Tensor) => add(sum(stopGradient(solve(l))), l))(tensor(3)).item()).to.equal(1);
    const pg = (lam: Tensor): Tensor => proximalGradient(quartic, [0, 0], { args: [lam], prox: (v: Tensor) => v, maxIter: 1, throw: false }).x;
    expect(() => grad((l: Tensor) => sum(pg(l)))(tensor(3))).to.throw(/^proximalGradient: x did not converge/);
  });

  it("a converged x is differentiable; the same x is not when it came from a stopped run", () => {
    const stopAt = (n: number) => (lam: Tensor): Tensor => root((y: Tensor, l: Tensor) => sub(mul(y, y), l), [1], { args: [lam], callback: (i) => i.iteration < n }).x;
    expect(grad((l: Tensor) => sum(stopAt(100)(l)))(tensor(4)).item()).to.be.closeTo(0.25, 1e-9);
    expect(() => grad((l: Tensor) => sum(stopAt(1)(l)))(tensor(4))).to.throw(/^root: x did not converge \(status "stopped"/);
  });
});

describe("solvers/result: callbacks and warm starts", () => {
  it("the callback sees { iteration, x, residualNorm, value } once per iteration, x a fresh Tensor shaped like x0", () => {
    const infos: { iteration: number; x: number[][]; residualNorm: number; value?: number }[] = [];
    const r = minimize((x: Tensor) => quadratic(x, 2), tensor([[0, 1], [3, 4]]), { callback: (info) => { infos.push({ ...info, x: info.x.toArray() as number[][] }); } });
    expect(infos.map((i) => i.iteration)).to.deep.equal(Array.from({ length: r.iterations }, (_, i) => i + 1));
    expect(infos.every((i) => typeof i.value === "number" && typeof i.residualNorm === "number" && i.x.length === 2)).to.equal(true);
    expect(infos[infos.length - 1].residualNorm).to.equal(r.residualNorm);
  });

  it("a warm start at the solution returns at once (0 iterations, 1 evaluation)", () => {
    const first = minimize(rosen, [-1.2, 1]);
    const again = minimize(rosen, first.x);
    expect(again.iterations).to.equal(0);
    expect(again.evaluations).to.equal(1);
    const near = minimize(rosen, first.x.add(1e-3));
    expect(near.iterations).to.be.below(first.iterations);
  });

  it("an error thrown by fn or the callback reaches the caller unchanged, and the library stays usable", () => {
    const boom = new Error("user boom");
    expect(() => minimize(() => { throw boom; }, [0])).to.throw(boom);
    expect(() => minimize(quadratic, [0], { callback: () => { throw boom; } })).to.throw(boom);
    expect(() => grad((l: Tensor) => sum(minimize((x: Tensor) => { if (x.size > 0) throw boom; return quadratic(x, l); }, [0]).x))(tensor(1))).to.throw(boom);
    expect(grad((x: Tensor) => sum(mul(x, x)))(tensor([1, 2])).toArray()).to.deep.equal([2, 4]);
  });
});

describe("solvers/result: misuse", () => {
  it("options are checked, each Error beginning with the public name", () => {
    expectError(() => minimize(quadratic, [0], { metod: "lbfgs" } as never), "minimize: unknown option \"metod\"");
    expectError(() => minimize(quadratic, [0], { method: "nelder-mead" } as never), "minimize: method must be one of \"lbfgs\", \"bfgs\", \"newton-cg\", \"gradient-descent\"");
    expectError(() => minimize(quadratic, [0], { tol: -1 }), "minimize: tol must be a positive finite number");
    expectError(() => minimize(quadratic, [0], { maxIter: 1.5 }), "minimize: maxIter must be a non-negative integer");
    expectError(() => minimize(quadratic, [0], { throw: "yes" } as never), "minimize: throw must be a boolean");
    expectError(() => minimize(quadratic, [0], { args: 3 } as never), "minimize: args must be an array");
    expectError(() => minimize("f" as never, [0]), "minimize: fn must be a function");
    expectError(() => root((y: Tensor) => y, [0], { method: "secant" } as never), "root: method must be one of \"newton\", \"broyden\", \"bisection\"");
    expectError(() => root((y: Tensor) => y, [0], { method: "bisection" }), "root: method \"bisection\" needs opts.bracket");
    expectError(() => root((y: Tensor) => y, [0], { bracket: [0, 1] }), "root: opts.bracket is for method \"bisection\"");
    expectError(() => root((y: Tensor) => y, [0], { method: "bisection", bracket: [1, 0] }), "root: bracket must be a pair [a, b]");
    expectError(() => root((y: Tensor) => add(y, 3), undefined, { method: "bisection", bracket: [0, 1] }), "root: bisection needs a bracket [a, b] where fn changes sign");
    expectError(() => fixedPoint((y: Tensor) => y, [0], { method: "broyden" } as never), "fixedPoint: method must be one of \"anderson\", \"iterate\"");
    expectError(() => leastSquares((y: Tensor) => y, [0], { method: "dogleg" } as never), "leastSquares: method must be one of \"levenberg-marquardt\", \"gauss-newton\"");
    expectError(() => proximalGradient(quadratic, [0], {} as never), "proximalGradient: prox must be a function");
    expectError(() => proximalGradient(quadratic, [0], undefined as never), "proximalGradient: options must be a plain object");
  });

  it("a NaN in x0, a non-scalar objective, a wrong-size root function and a wrong-shape prox are Errors naming the solver", () => {
    expectError(() => minimize(quadratic, [0, NaN]), "minimize: x0 has a NaN or ∞ (entry 1");
    expectError(() => minimize((x: Tensor) => x, [0, 1]), "minimize: fn must return a scalar", "[2]");
    expectError(() => root((y: Tensor) => sum(y), [0, 1]), "root: fn returned shape [] (1 entries) but must return 2 entries");
    expectError(() => fixedPoint(() => tensor([1, 2, 3]), [0, 1]), "fixedPoint: fn returned shape [3]");
    expectError(() => proximalGradient(quadratic, [0, 1], { prox: () => tensor([1, 2, 3]) }), "proximalGradient: prox returned shape [3]");
    expectError(() => minimize(quadratic, "abc" as never), "minimize: x0");
    expectError(() => minimize(quadratic, [0, 1], { args: [tensor([1, 2], { dtype: "float32" })] }), "minimize: args[0] is float32 but x0 is float64");
  });

  it("the dense methods (bfgs, broyden) refuse more than 4000 unknowns, naming the scalable method", () => {
    expectError(() => minimize((x: Tensor) => sum(mul(x, x)), new Float64Array(4001), { method: "bfgs" }), "minimize: method \"bfgs\" keeps a dense 4001×4001 matrix", "\"lbfgs\"");
    expectError(() => root((y: Tensor) => y, new Float64Array(4001), { method: "broyden" }), "root: method \"broyden\" keeps a dense", "\"newton\"");
  });

  it("no input is mutated: x0, args and bounds keep their values", () => {
    const x0 = new Float64Array([3, -1]);
    const a = tensor([1, 2]);
    const lower = tensor([0, 0]);
    minimize(quadratic, x0, { args: [a], bounds: [lower, 5] });
    expect(Array.from(x0)).to.deep.equal([3, -1]);
    expect(a.toArray()).to.deep.equal([1, 2]);
    expect(lower.toArray()).to.deep.equal([0, 0]);
    const y0 = tensor([0.5]);
    fixedPoint((y: Tensor) => cos(y), y0);
    expect(y0.toArray()).to.deep.equal([0.5]);
  });

  it("statuses are the contract's", () => {
    const all: SolverStatus[] = ["converged", "maxIter", "lineSearchFailed", "nonFinite", "stalled", "stopped"];
    expect(all).to.have.length(6);
    const r = minimize(quadratic, [0], { maxIter: 0, throw: false });
    expect(all).to.include(r.status);
    expect(r.status).to.equal("maxIter");
    void softThreshold;
  });
});
