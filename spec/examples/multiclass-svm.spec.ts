/**
 * examples/multiclass-svm.ts, checked against a dual solver written here in
 * plain arithmetic (block coordinate descent run to machine precision, no
 * library op): the validation loss, dL/dλ by central differences of that
 * solver, and unrolled derivatives that approach the implicit one.
 */
import { expect } from "chai";
import { Tensor } from "../../lib/index.js";
import { main, svmProblem, MIRROR_DESCENT_BUDGET, type SvmProblem } from "../../examples/multiclass-svm.js";

function rows(t: Tensor): number[][] {
  return t.toArray() as number[][];
}

/** Euclidean projection of v onto the simplex (sorting; Duchi et al. 2008). */
function projectSimplexPlain(v: number[]): number[] {
  const sorted = v.slice().sort((a, b) => b - a);
  let cumulative = 0;
  let tau = 0;
  sorted.forEach((s, j) => {
    cumulative += s;
    const t = (cumulative - 1) / (j + 1);
    if (s > t) tau = t;
  });
  return v.map((x) => Math.max(x - tau, 0));
}

/** The dual solution by cyclic block coordinate descent until no entry moves by more than 1e-15; returns W = Xᵀ(Y − β)/λ. */
function plainSvmWeights(problem: SvmProblem, lambda: number): number[][] {
  const X = rows(problem.X);
  const Y = rows(problem.Y);
  const [m, p, k] = [X.length, X[0].length, Y[0].length];
  const beta = Y.map(() => new Array<number>(k).fill(1 / k));
  const V = Array.from({ length: p }, (_, j) => Array.from({ length: k }, (_, c) => X.reduce((s, x, i) => s + x[j] * (Y[i][c] - beta[i][c]), 0)));
  for (let epoch = 0; epoch < 100000; epoch++) {
    let change = 0;
    for (let i = 0; i < m; i++) {
      const squaredNorm = X[i].reduce((s, v) => s + v * v, 0);
      const gradient = Y[i].map((y, c) => y - X[i].reduce((s, x, j) => s + x * V[j][c], 0) / lambda);
      const updated = projectSimplexPlain(beta[i].map((b, c) => b - (lambda / squaredNorm) * gradient[c]));
      for (let c = 0; c < k; c++) {
        const delta = beta[i][c] - updated[c];
        change = Math.max(change, Math.abs(delta));
        for (let j = 0; j < p; j++) V[j][c] += X[i][j] * delta;
      }
      beta[i] = updated;
    }
    if (change <= 1e-15) break;
  }
  return V.map((r) => r.map((v) => v / lambda));
}

function plainValidationLoss(problem: SvmProblem, lambda: number): number {
  const W = plainSvmWeights(problem, lambda);
  const Xv = rows(problem.Xval);
  const Yv = rows(problem.Yval);
  let total = 0;
  Xv.forEach((x, i) => Yv[i].forEach((y, c) => (total += (x.reduce((s, v, j) => s + v * W[j][c], 0) - y) ** 2)));
  return (0.5 * total) / Xv.length;
}

describe("examples: multiclass-svm", () => {
  it("the validation loss and dL/dλ match a plain solver and its central differences; unrolling converges to the implicit derivative", async () => {
    const features = 40;
    const r = await main({ quiet: true, features: [features], repeats: 0 });
    const problem = svmProblem({ features });
    const h = 1e-5;
    const loss = plainValidationLoss(problem, r.lambda);
    const fd = (plainValidationLoss(problem, r.lambda + h) - plainValidationLoss(problem, r.lambda - h)) / (2 * h);
    expect(Math.abs(fd)).to.be.above(1e-2); // a slope worth checking, not the flat hard-margin regime

    for (const row of r.rows) {
      expect(row.features).to.equal(features);
      if (row.solver === "mirror-descent") {
        // Sublinear: stopped by its budget short of tol; still near the solution, and both derivatives near the true one.
        expect(row.iterations).to.equal(MIRROR_DESCENT_BUDGET);
        expect(row.residual).to.be.below(1e-2);
        expect(Math.abs(row.loss - loss)).to.be.below(1e-2 * loss);
        expect(Math.abs(row.implicit - fd)).to.be.below(0.05 * Math.abs(fd));
        expect(Math.abs(row.unrolled - fd)).to.be.below(0.05 * Math.abs(fd));
        continue;
      }
      // Projected gradient and block coordinate descent reach tol = 1e-6 on the fixed-point residual.
      expect(row.residual, row.solver).to.be.at.most(r.tol);
      expect(Math.abs(row.loss - loss), `${row.solver} loss`).to.be.below(1e-5 * loss);
      expect(Math.abs(row.implicit - fd), `${row.solver}: implicit ${row.implicit} vs FD ${fd}`).to.be.below(1e-4 * Math.abs(fd));
      expect(Math.abs(row.unrolled - fd), `${row.solver}: unrolled ${row.unrolled} vs FD ${fd}`).to.be.below(1e-2 * Math.abs(fd));
      expect(row.linearSolveIterations).to.be.above(0);
    }

    // At convergence (residual 1e-10) the implicit derivative is the true one to ~1e-7, and
    // the unrolled one approaches it: the last two epoch counts agree to 1e-6 and better than the earlier ones.
    expect(Math.abs(r.implicitAtConvergence - fd)).to.be.below(1e-6 * Math.abs(fd));
    const differences = r.convergence.map((c) => Math.abs(c.unrolled - r.implicitAtConvergence));
    const last = differences[differences.length - 1];
    expect(last).to.be.below(1e-6 * Math.abs(fd));
    expect(differences[0]).to.be.above(100 * last);
    expect(r.convergence[r.convergence.length - 1].residual).to.be.at.most(1e-10);
    expect(Math.min(...differences.slice(0, -1))).to.be.above(last);
  });
});
