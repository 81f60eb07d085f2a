/**
 * What is particular to CG; what every solver of the table promises is in
 * solvers.spec.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import { tensor } from "../../lib/index.js";
import { cg } from "../../lib/krylov/index.js";
import { expectStoppingRule, orthogonal, randomVector, rng, withSpectrum } from "./helpers.js";

describe("cg", () => {
  it("reports an indefinite matrix as a breakdown, without throwing or claiming convergence", () => {
    const r = cg(tensor([[1, 0], [0, -2]]), tensor([1, 1]));
    expect(r.status).to.equal("breakdown");
    expect(r.converged).to.equal(false);
    // pᵀAp = 1 − 2 = −1 at the first step: nothing was taken.
    expect(r.iterations).to.equal(0);
    expect(r.residualNorm).to.be.closeTo(Math.SQRT2, 1e-15);
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
      const next = rng(seed);
      const n = 6;
      const A = withSpectrum(orthogonal(n, next), [3, 2, 1, -1, -2, -3]);
      const b = randomVector(n, next);
      const res = cg(tensor(A), tensor(b));
      // CG may still land on the solution of an indefinite system; it must never pretend to.
      if (res.converged) expectStoppingRule(A, res.x, b);
      else expect(["breakdown", "maxIter"]).to.include(res.status);
    }), { numRuns: 30 });
  });
});
