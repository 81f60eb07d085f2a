/**
 * What is particular to GMRES: restarts, and (shared with MINRES) singular
 * consistent and inconsistent systems. What every solver of the table
 * promises is in solvers.spec.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import { tensor } from "../../lib/index.js";
import { gmres } from "../../lib/krylov/index.js";
import { expectStoppingRule, minimumResidualOnSingularSystems, nonsymmetricSystem, orthogonal, randomVector, residualNorm, rng, withSpectrum } from "./helpers.js";

describe("gmres", () => {
  minimumResidualOnSingularSystems(gmres);

  it("converges with short restarts, counting inner iterations against maxIter", () => {
    fc.assert(fc.property(nonsymmetricSystem(14), fc.integer({ min: 1, max: 4 }), ({ A, b }, restart) => {
      const r = gmres(tensor(A), tensor(b), { restart, maxIter: 500 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b);
    }), { numRuns: 40 });
    const next = rng(21);
    const n = 30;
    const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => 1 + i * i));
    const b = randomVector(n, next);
    const r = gmres(tensor(A), tensor(b), { restart: 3, maxIter: 7, history: true });
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["maxIter", false, 7]);
    expect(r.residualHistory).to.have.length(8);
    expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    // Within a cycle GMRES minimises the residual: the estimates never increase.
    const h = r.residualHistory!;
    for (let i = 1; i < h.length; i++) expect(h[i]).to.be.at.most(h[i - 1] * (1 + 1e-12));
  });
});
