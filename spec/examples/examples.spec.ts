/**
 * Every example's numbers, checked against truth computed here independently
 * (closed forms, central differences of plain solvers, optimality conditions),
 * so that an example cannot rot. Each example runs once, quietly.
 */
import { expect } from "chai";
import { Tensor } from "../../lib/index.js";
import { main as tapeWalkthrough } from "../../examples/tape-walkthrough.js";
import { main as sqrtNewton } from "../../examples/sqrt-newton.js";
import { main as ridgeHyperparameter, irisRidgeData } from "../../examples/ridge-hyperparameter.js";
import { main as lassoSparse, syntheticLassoData, fista } from "../../examples/lasso-sparse.js";
import { main as logisticHyperparameters, irisClassificationData, InnerSolver } from "../../examples/logistic-hyperparameters.js";
import { main as sinkhornExample, sinkhorn, sinkhornProblem, EPSILON } from "../../examples/sinkhorn.js";
import { main as equilibriumModel } from "../../examples/equilibrium-model.js";
import { main as molecularSensitivity, relaxFIRE, randomStart, PAIRS, BOX, PARTICLES } from "../../examples/molecular-sensitivity.js";
import { main as optimizationLayer, solvePortfolioQP, covariance } from "../../examples/optimization-layer.js";
import { main as verifyConditions } from "../../examples/verify-conditions.js";
import { main as demo } from "../../examples/demo.js";
import { main as jitDescent } from "../../examples/jit-descent.js";
import { gaussSolve as linearSolve } from "../krylov/helpers.js";

// ─── independent helpers (plain arithmetic, no library derivatives) ─────────

function rows(t: Tensor): number[][] {
  return t.toArray() as number[][];
}
function values(t: Tensor): number[] {
  return Array.from(t.toFloat64Array());
}

function gram(X: number[][], columns?: number[]): number[][] {
  const cols = columns ?? X[0].map((_, j) => j);
  return cols.map((i) => cols.map((j) => X.reduce((s, r) => s + r[i] * r[j], 0) / X.length));
}

function expectClose(actual: number, expected: number, rtol: number, atol = 0, what = ""): void {
  const tol = atol + rtol * Math.abs(expected);
  expect(Math.abs(actual - expected), `${what}: got ${actual}, expected ${expected}`).to.be.at.most(tol);
}

function expectAllClose(actual: number[], expected: number[], rtol: number, atol = 0, what = ""): void {
  expect(actual.length, `${what} length`).to.equal(expected.length);
  actual.forEach((a, i) => expectClose(a, expected[i], rtol, atol, `${what}[${i}]`));
}

/** Golden-section search for the minimiser of a unimodal f on [lo, hi]. */
function goldenSection(f: (t: number) => number, lo: number, hi: number, tol = 1e-8): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let [a, b] = [lo, hi];
  while (b - a > tol) {
    const c = b - ratio * (b - a);
    const d = a + ratio * (b - a);
    if (f(c) < f(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}

/** Ridge validation loss in closed form, plain arithmetic. */
function ridgeValidationLoss(theta: number): number {
  const data = irisRidgeData();
  const X = rows(data.Xtrain);
  const y = values(data.ytrain);
  const G = gram(X).map((r, i) => r.map((v, j) => v + (i === j ? Math.exp(theta) : 0)));
  const c = X[0].map((_, j) => X.reduce((s, r, k) => s + r[j] * y[k], 0) / X.length);
  const w = linearSolve(G, c);
  const Xv = rows(data.Xval);
  const yv = values(data.yval);
  return (0.5 * Xv.reduce((s, r, k) => s + (r.reduce((t, v, j) => t + v * w[j], 0) - yv[k]) ** 2, 0)) / Xv.length;
}

describe("examples", () => {
  it("tape-walkthrough: gradient, JVP and finite differences agree with the hand-derived gradient", async () => {
    const r = await tapeWalkthrough({ quiet: true });
    const exact = [1 / 2 + 5, 2 - Math.cos(5)];
    expectClose(r.value, Math.log(2) + 10 - Math.sin(5), 1e-14, 0, "value");
    expectAllClose(r.gradient, exact, 1e-14, 0, "reverse gradient");
    expectClose(r.jvp, exact[0] * r.direction[0] + exact[1] * r.direction[1], 1e-14, 0, "jvp");
    expectAllClose(r.finiteDifferences.gradient, exact, 1e-8, 0, "finite differences");
    expect(r.tapeLength).to.equal(7); // 2 inputs + log, mul, add, sin, sub
  });

  it("jit-descent: the compiled step follows the eager iterates, and the compiled gradient is the hand-written one", async () => {
    const r = await jitDescent({ quiet: true, N: 32, steps: 30 });
    expect(r.iterateDifference).to.be.at.most(1e-12);
    expect(r.gradientError).to.be.at.most(1e-12);
    expect(r.energyEnd).to.be.lessThan(r.energyStart);
    expect((r.program.match(/kernel,/g) ?? []).length).to.equal(3);
  });

  it("sqrt-newton: dy/dx = 1/(2√x) and d²y/dx² = −1/(4x^{3/2}) through Newton's method", async () => {
    for (const x of [2, 7.3, 0.04]) {
      const r = await sqrtNewton({ quiet: true, x });
      expectClose(r.y, Math.sqrt(x), 1e-15, 0, `√${x}`);
      expectClose(r.derivative.reverse, 1 / (2 * Math.sqrt(x)), 1e-13, 0, "dy/dx reverse");
      expectClose(r.derivative.forward, 1 / (2 * Math.sqrt(x)), 1e-13, 0, "dy/dx forward");
      expectClose(r.secondDerivative.reverse, -1 / (4 * x ** 1.5), 1e-12, 0, "d²y/dx² reverse");
      expectClose(r.secondDerivative.forwardOverReverse, -1 / (4 * x ** 1.5), 1e-12, 0, "d²y/dx² fwd∘rev");
    }
  });

  it("ridge-hyperparameter: the hypergradient matches closed-form differences and descent reaches the validation optimum", async () => {
    const r = await ridgeHyperparameter({ quiet: true });
    const h = 1e-5;
    const fd = (ridgeValidationLoss(r.thetaStart + h) - ridgeValidationLoss(r.thetaStart - h)) / (2 * h);
    expectClose(r.hypergradientCheck.implicit, fd, 1e-7, 0, "hypergradient at θ = 0");
    expectClose(r.losses[0], ridgeValidationLoss(r.thetaStart), 1e-12, 0, "initial loss");
    const best = goldenSection(ridgeValidationLoss, -8, 2);
    expectClose(r.thetaFinal, best, 0, 1e-4, "final θ vs golden-section optimum");
    expectClose(r.losses[r.losses.length - 1], ridgeValidationLoss(best), 1e-9, 0, "final loss");
    expect(r.losses[r.losses.length - 1]).to.be.below(r.losses[0] / 2);
  });

  it("lasso-sparse: w* satisfies the lasso optimality conditions and dw/dλ is the support closed form", async () => {
    const r = await lassoSparse({ quiet: true });
    const { X: Xt, y: yt } = syntheticLassoData();
    const X = rows(Xt);
    const y = values(yt);
    const n = X.length;
    const w = r.weights;
    // Subgradient conditions: X_jᵀ(y − Xw)/n = λ·sign(w_j) on the support, |·| ≤ λ off it.
    const residual = y.map((v, k) => v - X[k].reduce((s, x, j) => s + x * w[j], 0));
    w.forEach((wj, j) => {
      const correlation = X.reduce((s, row, k) => s + row[j] * residual[k], 0) / n;
      if (wj !== 0) expectClose(correlation, r.lambda * Math.sign(wj), 0, 1e-10, `stationarity ${j}`);
      else expect(Math.abs(correlation)).to.be.below(r.lambda);
    });
    expect(r.support).to.deep.equal([0, 2, 5]);
    const S = r.support;
    const onSupport = linearSolve(gram(X, S), S.map((j) => -Math.sign(w[j])));
    const expected = w.map(() => 0);
    S.forEach((j, k) => (expected[j] = onSupport[k]));
    expectAllClose(r.derivative.forward, expected, 1e-10, 1e-12, "dw/dλ forward");
    expectAllClose(r.derivative.reverse, expected, 1e-10, 1e-12, "dw/dλ reverse");
    // And central differences of the plain solver.
    const G = new Float64Array(gram(X).flat());
    const c = Float64Array.from(X[0].map((_, j) => X.reduce((s, row, k) => s + row[j] * y[k], 0) / n));
    const eta = 0.5;
    const h = 1e-6;
    const [plus, minus] = [fista(G, c, r.lambda + h, eta).w, fista(G, c, r.lambda - h, eta).w];
    expectAllClose(Array.from(plus, (v, j) => (v - minus[j]) / (2 * h)), expected, 1e-6, 1e-8, "finite differences");
  });

  it("logistic-hyperparameters: the hypergradient matches differences of re-solved inner problems and the validation loss drops", async () => {
    const r = await logisticHyperparameters({ quiet: true });
    const data = irisClassificationData();
    const inner = new InnerSolver(data.train);
    const validationCE = (theta: number[]): number => {
      const y = inner.solve(Float64Array.from(theta), 1e-13).toFloat64Array();
      const X = rows(data.val.X);
      let total = 0;
      X.forEach((x, i) => {
        const logits = [0, 1, 2].map((k) => y[12 + k] + x.reduce((s, v, j) => s + v * y[j * 3 + k], 0));
        const top = Math.max(...logits);
        const lse = top + Math.log(logits.reduce((s, z) => s + Math.exp(z - top), 0));
        total += lse - logits[data.val.labels[i]];
      });
      return total / X.length;
    };
    const h = 1e-5;
    const fd = r.thetaStart.map((_, j) => {
      const at = (d: number) => validationCE(r.thetaStart.map((t, k) => (k === j ? t + d : t)));
      return (at(h) - at(-h)) / (2 * h);
    });
    expectAllClose(r.hypergradientCheck.implicit, fd, 1e-5, 1e-9, "hypergradient at θ = 0");
    expectClose(r.losses[0], validationCE(r.thetaStart), 1e-9, 0, "initial validation CE");
    expectClose(r.losses[r.losses.length - 1], validationCE(r.thetaFinal), 1e-3, 0, "final validation CE");
    expect(r.losses[r.losses.length - 1]).to.be.below(r.losses[0] / 5);
    expect(r.testAccuracy.final).to.be.above(r.testAccuracy.start);
    expect(r.testAccuracy.final).to.be.at.least(0.85);
  });

  it("sinkhorn: d⟨P, C⟩/d(points) and d⟨P, C⟩/dα match differences of plain Sinkhorn; the envelope theorem holds", async () => {
    const r = await sinkhornExample({ quiet: true });
    const problem = sinkhornProblem();
    const targets = rows(problem.targets);
    const softmax = (z: number[]) => {
      const top = Math.max(...z);
      const e = z.map((v) => Math.exp(v - top));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const cost = (sources: number[][], alpha: number[]): number => {
      const C = sources.flatMap((x) => targets.map((y) => (x[0] - y[0]) ** 2 + (x[1] - y[1]) ** 2));
      const { f, g } = sinkhorn(Float64Array.from(C), Float64Array.from(softmax(alpha)), Float64Array.from(softmax(values(problem.beta))));
      let total = 0;
      f.forEach((fi, i) => g.forEach((gj, j) => (total += Math.exp((fi + gj - C[i * g.length + j]) / EPSILON) * C[i * g.length + j])));
      return total;
    };
    const sources = rows(problem.sources);
    const alpha = values(problem.alpha);
    expectClose(r.transportCost, cost(sources, alpha), 1e-12, 0, "transport cost");
    const h = 1e-6;
    sources.forEach((point, i) => [0, 1].forEach((d) => {
      const moved = (delta: number) => sources.map((p, k) => (k === i ? p.map((v, e) => (e === d ? v + delta : v)) : p));
      expectClose(r.pointGradient[i][d], (cost(moved(h), alpha) - cost(moved(-h), alpha)) / (2 * h), 1e-6, 1e-9, `point ${i}, coordinate ${d}`);
    }));
    alpha.forEach((_, i) => {
      const moved = (delta: number) => alpha.map((v, k) => (k === i ? v + delta : v));
      expectClose(r.marginalGradients.alpha[i], (cost(sources, moved(h)) - cost(sources, moved(-h))) / (2 * h), 1e-6, 1e-9, `α ${i}`);
    });
    expect(r.pointCheck.ok && r.marginalCheck.ok).to.equal(true);
    expect(r.envelopeError).to.be.below(1e-12);
    expect(r.gaugeAgreement).to.be.below(1e-10);
    expect(r.solvers.unpinned).to.match(/lsqr/);
  });

  it("equilibrium-model: the implicit gradient equals unrolled backprop and training cuts the loss by 50×", async () => {
    const r = await equilibriumModel({ quiet: true });
    expect(r.unrolledComparison.maxAbsDifference).to.be.below(1e-10);
    expect(r.losses[r.losses.length - 1]).to.be.below(r.losses[0] / 50);
    expect(r.finalWeightNorm).to.be.below(0.9);
    expect(r.lastSolve.solver).to.equal("gmres");
    expect(r.lastSolve.residualNorm).to.be.below(1e-9);
  });

  it("molecular-sensitivity: d r_ij/dσ matches differences of relaxed packings, with no net translation", async () => {
    const r = await molecularSensitivity({ quiet: true });
    expect(r.rattlers).to.equal(0);
    expect(r.positionSensitivity.netTranslation).to.be.below(1e-10);
    // Our own central differences (a different step from the example's), with our own minimum image.
    const xStar = relaxFIRE(randomStart(), r.sigma).x;
    const distance = (x: Float64Array, i: number, j: number) => {
      const d = [0, 1].map((e) => {
        const v = x[2 * i + e] - x[2 * j + e];
        return v - BOX * Math.round(v / BOX);
      });
      return Math.hypot(d[0], d[1]);
    };
    const h = 2e-5;
    const [plus, minus] = [relaxFIRE(xStar, r.sigma + h).x, relaxFIRE(xStar, r.sigma - h).x];
    expect(r.distanceSensitivity.pairs.length).to.equal(r.contacts);
    r.distanceSensitivity.pairs.forEach(([i, j], k) => {
      expect(distance(xStar, i, j)).to.be.below(r.sigma * 1.4);
      expectClose(r.distanceSensitivity.implicit[k], (distance(plus, i, j) - distance(minus, i, j)) / (2 * h), 0, 2e-6, `pair (${i}, ${j})`);
    });
    expect(PAIRS.length).to.equal((PARTICLES * (PARTICLES - 1)) / 2);
  });

  it("optimization-layer: the QP solution is optimal, its gradient matches differences of the exact solver, and fitting lowers the loss", async () => {
    const r = await optimizationLayer({ quiet: true });
    const Sigma = rows(covariance());
    const theta0 = [0.15, 0.1, 0, 0.08];
    const gamma0 = 1.5;
    const z = r.allocation;
    expectClose(z.reduce((a, b) => a + b, 0), 1, 0, 1e-14, "budget");
    z.forEach((v) => expect(v).to.be.at.least(0));
    // KKT: γΣz − θ + ν·1 − μ = 0 with μ ≥ 0 and μ ⊙ z = 0.
    z.forEach((_, i) => {
      const stationarity = gamma0 * Sigma[i].reduce((s, v, j) => s + v * z[j], 0) - theta0[i] + r.multipliers.nu - r.multipliers.mu[i];
      expectClose(stationarity, 0, 0, 1e-12, `stationarity ${i}`);
      expect(r.multipliers.mu[i] * z[i]).to.equal(0);
    });
    expect(r.dropped).to.deep.equal([2]);
    const target = [0.4, 0.3, 0.2, 0.1];
    const loss = (theta: number[], gamma: number) => solvePortfolioQP(Sigma, theta, gamma).z.reduce((s, v, i) => s + (v - target[i]) ** 2, 0);
    const h = 1e-6;
    theta0.forEach((_, i) => {
      const moved = (d: number) => theta0.map((t, k) => (k === i ? t + d : t));
      expectClose(r.gradient.theta[i], (loss(moved(h), gamma0) - loss(moved(-h), gamma0)) / (2 * h), 1e-6, 1e-9, `dLoss/dθ${i}`);
    });
    expectClose(r.gradient.gamma, (loss(theta0, gamma0 + h) - loss(theta0, gamma0 - h)) / (2 * h), 1e-6, 1e-9, "dLoss/dγ");
    expect(Math.abs(r.gradient.theta[2])).to.be.below(1e-12); // the dropped asset
    expect(r.losses[r.losses.length - 1]).to.be.below(r.losses[0] / 5);
    expect(Math.min(...r.finalAllocation)).to.be.above(0); // asset 2 is back
  });

  it("verify-conditions: verifyImplicit passes the right conditions and names the failed property for the wrong ones", async () => {
    const r = await verifyConditions({ quiet: true });
    expect(r.correct.ok).to.equal(true);
    expect(r.correct.worst.pushforward).to.be.below(1e-6);
    expect(r.signSlip).to.be.a("string");
    expect(r.signSlip!).to.match(/^verifyImplicit: property \(1\)/).and.match(/counterexample: inputs = \[tensor\(/);
    expect(r.detached).to.be.a("string");
    expect(r.detached!).to.match(/^verifyImplicit: property \((2|4)\)/).and.match(/counterexample/);
  });

  it("demo: hypergradient agrees with closed-form differences, λ approaches the optimum, CG converges", async () => {
    const r = await demo({ quiet: true });
    const h = 1e-5;
    expectClose(r.hypergradientCheck.implicit, (ridgeValidationLoss(h) - ridgeValidationLoss(-h)) / (2 * h), 1e-7, 0, "hypergradient");
    expect(r.losses[r.losses.length - 1]).to.be.below(r.losses[0] / 2);
    for (let k = 1; k < r.losses.length; k++) expect(r.losses[k]).to.be.below(r.losses[k - 1]);
    const best = goldenSection(ridgeValidationLoss, -8, 2);
    expectClose(r.thetaFinal, best, 0, 0.02, "θ after 12 steps");
    expect(r.lastSolve).to.include({ solver: "cg", converged: true });
  });
});
