/**
 * Implicit differentiation against unrolling (Blondel et al. 2022, Section 4):
 * the hypergradient dL/dλ of a multiclass SVM's validation loss
 * (examples/multiclass-svm.ts), its dual solved by projected gradient, mirror
 * descent and block coordinate descent, for growing numbers of features p
 * (100 training samples, or r·p with --samples-per-feature=r; 5 classes).
 *
 * Each solver runs until its projected-gradient fixed-point residual is ≤ 1e-6
 * (mirror descent: at most MIRROR_DESCENT_BUDGET iterations); then both routes run
 * that many iterations per call:
 *   implicit — the solver untraced, then one GMRES solve with ∂F/∂β of the fixed
 *              point (ImplicitFunction);
 *   unrolled — grad through every iteration (the same solver code, traced).
 * Reported per (solver, p): iterations, ms of one value-and-hypergradient call
 * for each route (best of 3 after a warm-up, the routes alternated), their
 * ratio, and the two hypergradients.
 *
 * Run: npm run bench -- svm   (or npx tsx bench/svm.ts [--samples-per-feature=r] [p ...])
 */
import { compareHypergradients, iterationsFor, svmProblem, MIRROR_DESCENT_BUDGET, SVM_SOLVERS } from "../examples/multiclass-svm.js";
import { emit, round } from "./util.js";

const FEATURES = [25, 50, 100, 200, 400];
const LAMBDA = 1;
const TOL = 1e-6;

/**
 * One line per (p, solver). `samplesFor(p)` sets the training-set size (default
 * 100 for every p; `--samples-per-feature=r` on the command line makes it r·p,
 * so that the problem grows in both directions and its conditioning stays put).
 */
export async function main(features = FEATURES, samplesFor: (p: number) => number = () => 100): Promise<void> {
  for (const p of features) {
    const problem = svmProblem({ features: p, samples: samplesFor(p) });
    for (const solver of SVM_SOLVERS) {
      const budget = solver === "mirror-descent" ? MIRROR_DESCENT_BUDGET : 100000;
      const { iterations, residual } = iterationsFor(solver, problem, LAMBDA, TOL, budget);
      const r = compareHypergradients(solver, problem, LAMBDA, iterations, { residual, residualTol: residual > TOL ? 10 * residual : undefined, repeats: 3 });
      emit({
        workload: "svm", solver, samples: problem.X.shape[0], features: p, classes: problem.Y.shape[1], iterations, residual: round(residual, 3),
        implicitMs: round(r.implicitMs), unrolledMs: round(r.unrolledMs), unrolledOverImplicit: round(r.unrolledMs / r.implicitMs, 3),
        dLdLambdaImplicit: r.implicit, dLdLambdaUnrolled: r.unrolled, linearSolveIterations: r.linearSolveIterations,
      });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const ratio = args.find((a) => a.startsWith("--samples-per-feature="));
  const sizes = args.filter((a) => !a.startsWith("--")).map(Number);
  await main(sizes.length > 0 ? sizes : FEATURES, ratio === undefined ? undefined : (p) => Math.round(Number(ratio.split("=")[1]) * p));
}
