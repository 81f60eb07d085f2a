/**
 * What is particular to MINRES: singular systems (shared with GMRES), a warm
 * start's null-space part, an SPD preconditioner on an indefinite system.
 * What every solver of the table promises is in solvers.spec.ts.
 */
import { expect } from "chai";
import { tensor } from "../../lib/index.js";
import { minres } from "../../lib/krylov/index.js";
import { expectNear, expectStoppingRule, jacobi, minimumResidualOnSingularSystems, randomVector, rng, stiffDiagonallyDominant } from "./helpers.js";

describe("minres", () => {
  minimumResidualOnSingularSystems(minres);

  it("from x0 ≠ 0 on a singular system it keeps x0's null-space part", () => {
    // A = diag(2, −1, 0): the null space is e3, so x = A⁺b + (x0)₃ e3.
    const r = minres(tensor([[2, 0, 0], [0, -1, 0], [0, 0, 0]]), tensor([2, 3, 0]), { x0: [5, 5, 7] });
    expect(r.converged).to.equal(true);
    expectNear(r.x, [1, -3, 7], 1e-10);
  });

  it("uses an SPD preconditioner to cut iterations on an ill-conditioned system", () => {
    const n = 60;
    const A = stiffDiagonallyDominant(n, true, 3);
    // Make it indefinite: flip the sign of every other row and column pair's diagonal block.
    const S = A.map((row, i) => row.map((v, j) => (i === j && i % 3 === 0 ? -v : v)));
    const b = randomVector(n, rng(9));
    const plain = minres(tensor(S), tensor(b), { maxIter: 3000 });
    const pre = minres(tensor(S), tensor(b), { M: jacobi(A), maxIter: 3000 });
    expect(plain.converged).to.equal(true);
    expect(pre.converged).to.equal(true);
    expectStoppingRule(S, pre.x, b);
    expect(pre.iterations).to.be.lessThan(plain.iterations / 3);
  });
});
