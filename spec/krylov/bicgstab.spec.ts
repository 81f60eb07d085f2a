/**
 * What is particular to BiCGStab: its breakdowns and its half step. What every solver of the table
 * promises is in solvers.spec.ts.
 */
import { expect } from "chai";
import { tensor } from "../../lib/index.js";
import { bicgstab } from "../../lib/krylov/index.js";

describe("bicgstab", () => {
  it("reports a zero denominator as a breakdown: r̂ᵀA p = 0 for a rotation", () => {
    // A is a 90° rotation: A b ⟂ b, so r̂ᵀv = 0 at the first step.
    const r = bicgstab(tensor([[0, 1], [-1, 0]]), tensor([1, 0]));
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["breakdown", false, 0]);
    expect(r.residualNorm).to.equal(1);
  });

  it("stops at the half step when x + α p̂ already meets the rule: A = 2I is solved by one half step", () => {
    // r₀ = b, v = A b = 2b, α = r̂ᵀr/r̂ᵀv = ½, so s = r₀ − α v = 0 before the second product.
    let products = 0;
    const r = bicgstab((v) => { products++; return v.mul(2); }, [1, -2, 3], { history: true });
    expect([r.status, r.iterations, products]).to.deep.equal(["converged", 1, 2]);
    expect(Array.from(r.x.toFloat64Array())).to.deep.equal([0.5, -1, 1.5]);
    expect(r.residualHistory).to.have.length(2);
    expect(r.residualHistory![0]).to.be.closeTo(Math.hypot(1, 2, 3), 1e-15);
    expect(r.residualHistory![1]).to.equal(0);
  });
});
