/**
 * lib/errors.ts: each exported class is what the library throws for its
 * failure, with its fields right (checked against independent values), its
 * message unchanged in form (prefixed with the public name), and what user
 * code throws still passing through as the same object.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ConvergenceError, DtypeMismatchError, ImplicitFunction, LinearSolveError, ResidualError, TracedReadError,
  add, broadcastTo, cg, gmres, grad, log, mul, slice, sub, sum, tensor, verifyImplicit, vjp,
  type KrylovStatus, type SolveStatus, type Tensor,
} from "../lib/index.js";

/** What `run` throws (fails when it returns). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  return expect.fail("expected a throw");
}

const D = [1, 2, 3, 4, 5];
/** y = x / d elementwise, from F(x, y) = diag(d) y − x: ∂F/∂y = diag(d). */
const scaled = (opts: Record<string, unknown> = {}) => new ImplicitFunction({
  forward: (x: Tensor) => tensor(Array.from(x.toFloat64Array(), (v, i) => v / D[i])),
  conditions: (x: Tensor, y: Tensor) => sub(mul(tensor(D), y), x),
  ...opts,
} as never);

/** F(x, y) = [y₀ + y₁ − x₀, y₀ + y₁ − x₁]: ∂F/∂y = [[1, 1], [1, 1]] is singular; y = [1, 1] solves it at x = [2, 2]. */
const singular = (linearSolver: "direct" | "lsqr") => new ImplicitFunction({
  forward: () => tensor([1, 1]),
  conditions: (x: Tensor, y: Tensor) => sub(mul(sum(y), tensor([1, 1])), x),
  linearSolver,
});
/** y₀ alone: its adjoint system [[1, 1], [1, 1]] u = [1, 0] is inconsistent, with least-squares residual 1/√2. */
const firstEntry = (f: ImplicitFunction) => () => grad((x: Tensor) => sum(slice(f.call(x), [0], [1])))(tensor([2, 2]));

describe("errors: the classes the library throws", () => {
  it("a solve that does not converge is a ConvergenceError (a LinearSolveError) whose diagnostics are lastSolve's", () => {
    const f = scaled({ linearSolver: "gmres", maxIter: 2 });
    const e = thrown(() => grad((x: Tensor) => sum(f.call(x)))(tensor([1, 1, 1, 1, 1])));
    expect(e).to.be.instanceOf(ConvergenceError).and.instanceOf(LinearSolveError).and.instanceOf(Error);
    const c = e as ConvergenceError;
    expect(c.name).to.equal("ConvergenceError");
    expect(c.message).to.match(/^ImplicitFunction: the adjoint linear solve with gmres did not converge: 2 iterations, residual /);
    expect(c.diagnostics).to.equal(f.lastSolve);
    expect(c.diagnostics).to.include({ solver: "gmres", iterations: 2, converged: false, status: "maxIter", system: "adjoint", tol: 1e-10 });
    // Five distinct eigenvalues: two GMRES steps leave a residual well above tol·‖b‖ (b = ones(5)).
    expect(c.diagnostics.residualNorm).to.be.above(1e-3 * Math.sqrt(5));
    expect(c.diagnostics.residualHistory).to.have.length(3);
  });

  it("a singular inconsistent system is a LinearSolveError (not a ConvergenceError) with the least-squares residual", () => {
    for (const [linearSolver, solver, status] of [["direct", "direct→lsqr", "singular"], ["lsqr", "lsqr", "inconsistent"]] as const) {
      const f = singular(linearSolver);
      const e = thrown(firstEntry(f));
      expect(e, linearSolver).to.be.instanceOf(LinearSolveError);
      expect(e, linearSolver).not.to.be.instanceOf(ConvergenceError);
      const d = (e as LinearSolveError).diagnostics;
      expect((e as Error).message).to.match(/^ImplicitFunction: ∂F\/∂y is singular and the adjoint system is inconsistent/);
      expect(d).to.equal(f.lastSolve);
      expect(d).to.include({ solver, status, converged: false, system: "adjoint" });
      expect(Math.abs(d.residualNorm - Math.SQRT1_2), `${linearSolver}: ${d.residualNorm}`).to.be.below(1e-8);
    }
  });

  it("a user solver returning junk, and a NaN cotangent, are LinearSolveErrors with status invalid and nonFinite", () => {
    const junk = scaled({ linearSolver: () => "junk" });
    const e = thrown(() => grad((x: Tensor) => sum(junk.call(x)))(tensor([1, 1, 1, 1, 1]))) as LinearSolveError;
    expect(e).to.be.instanceOf(LinearSolveError);
    expect(e.message).to.match(/^ImplicitFunction: the user linear solver must return/);
    expect(e.diagnostics).to.include({ solver: "user", status: "invalid", converged: false });
    expect(e.diagnostics).to.equal(junk.lastSolve);

    const f = scaled({ linearSolver: "gmres" });
    const [, pullback] = vjp((x: Tensor) => f.call(x), tensor([1, 1, 1, 1, 1]));
    const nan = thrown(() => pullback(tensor([1, NaN, 1, 1, 1]))) as LinearSolveError;
    expect(nan).to.be.instanceOf(LinearSolveError).and.not.instanceOf(ConvergenceError);
    expect(nan.message).to.match(/^ImplicitFunction: the adjoint system's right-hand side/);
    expect(nan.diagnostics).to.include({ status: "nonFinite", system: "adjoint", converged: false });
    expect(Number.isNaN(nan.diagnostics.residualNorm)).to.equal(true);
    expect(nan.diagnostics).to.equal(f.lastSolve);
  });

  it("a y that does not satisfy the conditions is a ResidualError carrying ‖F(x, y)‖", () => {
    // y = x for F = y² − x at x = 4: F = 12.
    const wrong = (opts: Record<string, unknown> = {}) => new ImplicitFunction({ forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x), ...opts } as never);
    for (const [what, run, words] of [
      ["residualTol", () => grad((x: Tensor) => sum(wrong().call(x)))(tensor(4)), "closely enough for a derivative"],
      ["strict", () => wrong({ strict: true }).call(tensor(4)), "do not hold at forward's output"],
    ] as const) {
      const e = thrown(run) as ResidualError;
      expect(e, what).to.be.instanceOf(ResidualError);
      expect(e.name).to.equal("ResidualError");
      expect(e.message, what).to.match(/^ImplicitFunction: /).and.contain(words);
      expect(e.residualNorm, what).to.equal(12);
    }
    // F = log(y − 2) − x at y = 1 is NaN.
    const nan = new ImplicitFunction({ forward: () => tensor(1), conditions: (x: Tensor, y: Tensor) => sub(log(sub(y, 2)), x) });
    const e = thrown(() => nan.call(tensor(0))) as ResidualError;
    expect(e).to.be.instanceOf(ResidualError);
    expect(e.message).to.contain("F(x, y) is not finite");
    expect(Number.isNaN(e.residualNorm)).to.equal(true);
  });

  it("mixed dtypes are a DtypeMismatchError, also when an ImplicitFunction names forward as the culprit", () => {
    const e = thrown(() => add(tensor([1], { dtype: "float32" }), tensor([1])));
    expect(e).to.be.instanceOf(DtypeMismatchError);
    expect((e as Error).message).to.match(/^add: dtypes differ/);
    const f64 = new ImplicitFunction({ forward: (x: Tensor) => tensor(Math.sqrt(x.item())), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x) });
    const culprit = thrown(() => f64.call(tensor(2, { dtype: "float32" }))) as DtypeMismatchError;
    expect(culprit).to.be.instanceOf(DtypeMismatchError);
    expect(culprit.message).to.match(/^ImplicitFunction: forward returned a float64 y but input 0 is float32/);
    expect(culprit.cause).to.be.instanceOf(DtypeMismatchError);
    const tangent = thrown(() => vjp((x: Tensor) => mul(x, x), tensor([1]))[1](tensor([1], { dtype: "float32" })));
    expect(tangent).to.be.instanceOf(DtypeMismatchError);
  });

  it("reading a differentiated value as numbers is a TracedReadError", () => {
    const e = thrown(() => grad((x: Tensor) => mul(x, x.item()))(tensor(3)));
    expect(e).to.be.instanceOf(TracedReadError);
    expect((e as Error).message).to.match(/^item: this value \(shape \[\]\) is being differentiated/);
  });

  it("the Krylov functions report non-convergence in their status and never throw it; the status is a SolveStatus", () => {
    const r = cg(tensor([[4, 1, 0], [1, 3, 1], [0, 1, 2]]), tensor([1, 2, 3]), { maxIter: 1 });
    const status: KrylovStatus = r.status;
    const shared: SolveStatus = status;
    expect(shared).to.equal("maxIter");
    expect(r.converged).to.equal(false);
  });
});

describe("errors: what user code throws passes through a Krylov solve as the same object", () => {
  const A = tensor([[4, 1], [1, 3]]);
  const b = tensor([1, 2]);

  it("a RangeError (or anything) thrown by a matvec, a preconditioner or the callback, at either iteration of a 2×2 solve", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.constantFrom("matvec", "M", "callback"), fc.constantFrom<() => unknown>(() => new RangeError("user range error"), () => new Error("boom"), () => "a string"), (k, where, make) => {
      const token = make();
      let calls = 0;
      const spoil = () => {
        if (++calls === k) throw token;
      };
      const matvec = (v: Tensor) => {
        if (where === "matvec") spoil();
        return tensor([4 * v.toFloat64Array()[0] + v.toFloat64Array()[1], v.toFloat64Array()[0] + 3 * v.toFloat64Array()[1]]);
      };
      const opts = where === "M" ? { M: (v: Tensor) => (spoil(), v) } : where === "callback" ? { callback: spoil } : {};
      expect(thrown(() => gmres(matvec, b, { tol: 1e-14, ...opts }))).to.equal(token);
    }), { numRuns: 30, seed: 7 });
  });

  it("through a nested solve (a matvec that runs cg itself), and the library's own RangeError still names the solver", () => {
    const token = new RangeError("inner");
    const inner = () => { throw token; };
    expect(thrown(() => cg((v: Tensor) => cg(inner, v).x, b))).to.equal(token);
    const huge = thrown(() => cg(broadcastTo(tensor(1), [70000, 70000]), broadcastTo(tensor(1), [70000])));
    expect(huge).to.be.instanceOf(Error).and.not.instanceOf(RangeError);
    expect((huge as Error).message).to.match(/^cg: /);
    expect(cg(A, b).converged).to.equal(true);
  });
});

describe("errors: verifyImplicit classifies the library's refusals by class", () => {
  const arb = () => fc.tuple(fc.double({ min: 1, max: 2, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true })).map((v) => tensor(v));

  it("a ConvergenceError is property (4), a ResidualError property (1)", () => {
    expect(() => verifyImplicit(scaled({ linearSolver: "gmres", maxIter: 2 }), [arb()], { numRuns: 3 })).to.throw(/^verifyImplicit: property \(4\)[^]*did not converge/);
    // forward off by 1e-7: within conditionsTol 1e-3, outside residualTol 1e-12.
    const inexact = scaled({ residualTol: 1e-12, forward: (x: Tensor) => tensor(Array.from(x.toFloat64Array(), (v, i) => v / D[i] + 1e-7)) });
    expect(() => verifyImplicit(inexact, [arb()], { numRuns: 3, conditionsTol: 1e-3 })).to.throw(/^verifyImplicit: property \(1\)[^]*does not satisfy the conditions/);
  });
});
