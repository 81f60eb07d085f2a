/**
 * Example: differentiating entropic optimal transport through Sinkhorn's fixed point.
 *
 * Move the mass a (on n source points xᵢ) onto b (on m target points yⱼ) at
 * cost Cᵢⱼ = ‖xᵢ − yⱼ‖², with entropic regularisation ε. The optimal plan is
 * Pᵢⱼ = exp((fᵢ + gⱼ − Cᵢⱼ)/ε) for dual potentials f, g that make its row sums a
 * and column sums b; Sinkhorn's algorithm finds them by alternating
 *
 *   fᵢ = ε log aᵢ − ε LSEⱼ((gⱼ − Cᵢⱼ)/ε),   gⱼ = ε log bⱼ − ε LSEᵢ((fᵢ − Cᵢⱼ)/ε)
 *
 * (log-domain updates, so nothing under- or overflows). We run that loop in plain
 * code and differentiate its fixed point with `ImplicitFunction`.
 *
 * The gauge. (f + c, g − c) is a solution for every c: the fixed-point map has a
 * one-dimensional family of solutions, and ∂F/∂(f, g) is singular along (1, −1).
 * We fix the gauge in the conditions: the unknowns are f and g₀..g_{m−2}, with
 * g_{m−1} pinned to 0, and the fixed-point equation of g_{m−1} is dropped (it is
 * implied by the others when Σa = Σb). The system is then square and
 * nonsingular, the potentials themselves have well-defined derivatives, and
 * "auto" can factorise it directly. Marginals are parametrised as a = softmax(α),
 * b = softmax(β), so every perturbation stays on the simplex (Σa = Σb = 1).
 * For comparison we also build the un-pinned system (all of f and g, the
 * singular Jacobian) and let "auto" detect the singularity and fall back to a
 * least-squares solve: gauge-invariant quantities (the plan, the cost) agree.
 *
 * Run: npx tsx examples/sinkhorn.ts
 */
import {
  ImplicitFunction, Tensor, tensor, add, sub, mul, div, exp, log, sum, reshape, slice, concat, zeros, logsumexp, softmax, grad, checkGrad,
} from "../lib/index.js";
import { seededUniform } from "./data/random.js";

export const EPSILON = 0.1;

/** Cᵢⱼ = ‖xᵢ − yⱼ‖² from source points [n, 2] and target points [m, 2] (library ops: differentiable in both). */
export function costMatrix(sources: Tensor, targets: Tensor): Tensor {
  const [n, m] = [sources.shape[0], targets.shape[0]];
  return sum(sub(reshape(sources, [n, 1, 2]), reshape(targets, [1, m, 2])).pow(2), 2);
}

/** Log-domain Sinkhorn on plain arrays; returns f, g (gauge g_{m−1} = 0) and the iterations used. */
export function sinkhorn(C: Float64Array, a: Float64Array, b: Float64Array, epsilon = EPSILON): { f: Float64Array; g: Float64Array; iterations: number } {
  const [n, m] = [a.length, b.length];
  const f = new Float64Array(n);
  const g = new Float64Array(m);
  const lse = (values: number[]): number => {
    const top = Math.max(...values);
    return top + Math.log(values.reduce((s, v) => s + Math.exp(v - top), 0));
  };
  let iterations = 0;
  for (; iterations < 100000; iterations++) {
    for (let i = 0; i < n; i++) f[i] = epsilon * Math.log(a[i]) - epsilon * lse(Array.from(g, (gj, j) => (gj - C[i * m + j]) / epsilon));
    for (let j = 0; j < m; j++) g[j] = epsilon * Math.log(b[j]) - epsilon * lse(Array.from(f, (fi, i) => (fi - C[i * m + j]) / epsilon));
    // After the g update the column sums are exact; stop when the row sums are too.
    let rowError = 0;
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < m; j++) row += Math.exp((f[i] + g[j] - C[i * m + j]) / epsilon);
      rowError = Math.max(rowError, Math.abs(row - a[i]));
    }
    if (rowError <= 1e-14) break;
  }
  const shift = g[m - 1];
  return { f: f.map((v) => v + shift), g: g.map((v) => v - shift), iterations };
}

/** The Sinkhorn maps T_f(g) and T_g(f) in library ops (traced in C, a, b, f, g). */
function sinkhornMaps(C: Tensor, a: Tensor, b: Tensor, f: Tensor, g: Tensor, epsilon: number): { Tf: Tensor; Tg: Tensor } {
  const [n, m] = C.shape;
  const Tf = sub(mul(epsilon, log(a)), mul(epsilon, logsumexp(div(sub(reshape(g, [1, m]), C), epsilon), 1)));
  const Tg = sub(mul(epsilon, log(b)), mul(epsilon, logsumexp(div(sub(reshape(f, [n, 1]), C), epsilon), 0)));
  return { Tf, Tg };
}

/** The plan Pᵢⱼ = exp((fᵢ + gⱼ − Cᵢⱼ)/ε). */
export function plan(C: Tensor, f: Tensor, g: Tensor, epsilon = EPSILON): Tensor {
  const [n, m] = C.shape;
  return exp(div(sub(add(reshape(f, [n, 1]), reshape(g, [1, m])), C), epsilon));
}

/**
 * The potentials (f, g₀..g_{m−2}) as an implicit function of (C, a, b), gauge
 * fixed by g_{m−1} = 0. Returns the ImplicitFunction and a helper that unpacks
 * its output into f and the full g.
 */
export function pinnedSinkhorn(n: number, m: number, epsilon = EPSILON) {
  const unpack = (y: Tensor) => ({ f: slice(y, [0], [n]), g: concat([slice(y, [n], [m - 1]), zeros([1])]) });
  const potentials = new ImplicitFunction({
    forward: (C: Tensor, a: Tensor, b: Tensor) => {
      const { f, g } = sinkhorn(C.toFloat64Array(), a.toFloat64Array(), b.toFloat64Array(), epsilon);
      return tensor(Float64Array.from([...f, ...g.subarray(0, m - 1)]));
    },
    conditions: (C: Tensor, a: Tensor, b: Tensor, y: Tensor) => {
      const { f, g } = unpack(y);
      const { Tf, Tg } = sinkhornMaps(C, a, b, f, g, epsilon);
      return concat([sub(f, Tf), sub(slice(g, [0], [m - 1]), slice(Tg, [0], [m - 1]))]);
    },
    strict: true,
    strictTol: 1e-10,
    name: "sinkhorn",
  });
  return { potentials, unpack };
}

/** The un-pinned alternative: y = (f, g), all n + m fixed-point equations; ∂F/∂y is singular. */
export function unpinnedSinkhorn(n: number, m: number, epsilon = EPSILON) {
  const unpack = (y: Tensor) => ({ f: slice(y, [0], [n]), g: slice(y, [n], [m]) });
  const potentials = new ImplicitFunction({
    forward: (C: Tensor, a: Tensor, b: Tensor) => {
      const { f, g } = sinkhorn(C.toFloat64Array(), a.toFloat64Array(), b.toFloat64Array(), epsilon);
      return tensor(Float64Array.from([...f, ...g]));
    },
    conditions: (C: Tensor, a: Tensor, b: Tensor, y: Tensor) => {
      const { f, g } = unpack(y);
      const { Tf, Tg } = sinkhornMaps(C, a, b, f, g, epsilon);
      return concat([sub(f, Tf), sub(g, Tg)]);
    },
    strict: true,
    strictTol: 1e-10,
    name: "sinkhornUnpinned",
  });
  return { potentials, unpack };
}

export interface SinkhornProblem {
  sources: Tensor;
  targets: Tensor;
  /** Marginal logits: a = softmax(alpha), b = softmax(beta). */
  alpha: Tensor;
  beta: Tensor;
}

export function sinkhornProblem(seed = 11, n = 5, m = 6): SinkhornProblem {
  const uniform = seededUniform(seed);
  const points = (k: number, dx: number) => tensor(Array.from({ length: k }, () => [uniform() + dx, uniform()]));
  const logits = (k: number) => tensor(Array.from({ length: k }, () => uniform() - 0.5));
  return { sources: points(n, 0), targets: points(m, 0.5), alpha: logits(n), beta: logits(m) };
}

export interface SinkhornResult {
  sinkhornIterations: number;
  transportCost: number;
  /** d⟨P, C⟩/d(source points), implicit vs checkGrad's finite differences. */
  pointGradient: number[][];
  pointCheck: { ok: boolean; maxError: number };
  /** d⟨P, C⟩/d(marginal logits α, β). */
  marginalGradients: { alpha: number[]; beta: number[] };
  marginalCheck: { ok: boolean; maxError: number };
  /** Envelope theorem: d(dual value)/dC = P; max |difference|. */
  envelopeError: number;
  /** Pinned gauge vs un-pinned singular system: max |difference| of the point gradients. */
  gaugeAgreement: number;
  solvers: { pinned: string; unpinned: string };
}

export async function main(opts: { quiet?: boolean } = {}): Promise<SinkhornResult> {
  const print = opts.quiet ? () => {} : console.log;
  const problem = sinkhornProblem();
  const [n, m] = [problem.sources.shape[0], problem.targets.shape[0]];
  const pinned = pinnedSinkhorn(n, m);

  /** The whole pipeline: points → cost matrix → potentials → plan → transport cost ⟨P, C⟩. */
  const transportCost = (sources: Tensor, targets: Tensor, alpha: Tensor, beta: Tensor, solver = pinned): Tensor => {
    const C = costMatrix(sources, targets);
    const { f, g } = solver.unpack(solver.potentials.call(C, softmax(alpha), softmax(beta)));
    return sum(mul(plan(C, f, g), C));
  };
  const args: [Tensor, Tensor, Tensor, Tensor] = [problem.sources, problem.targets, problem.alpha, problem.beta];

  const C0 = costMatrix(problem.sources, problem.targets);
  const { iterations } = sinkhorn(C0.toFloat64Array(), softmax(problem.alpha).toFloat64Array(), softmax(problem.beta).toFloat64Array());
  const cost = transportCost(problem.sources, problem.targets, problem.alpha, problem.beta).item();
  print(`Entropic OT between ${n} and ${m} points in the plane, ε = ${EPSILON}: Sinkhorn converged in ${iterations} iterations, ⟨P, C⟩ = ${cost.toFixed(8)}`);

  // Gradient of the transport cost w.r.t. the source points, through C, the
  // potentials (implicitly) and the plan. Checked against central differences
  // of the plain pipeline, which re-runs Sinkhorn at every perturbed point.
  const [gradSources, gradAlpha, gradBeta] = grad(transportCost, { argnums: [0, 2, 3] })(...args) as Tensor[];
  const pointCheck = checkGrad(transportCost, args, { argnums: [0], richardson: true, rtol: 1e-6 });
  const marginalCheck = checkGrad(transportCost, args, { argnums: [2, 3], richardson: true, rtol: 1e-6 });
  print(`\nd⟨P, C⟩/d(source points):\n${(gradSources.toArray() as number[][]).map((r) => `  [${r.map((v) => v.toFixed(8).padStart(12)).join(", ")}]`).join("\n")}`);
  print(pointCheck.report);
  print(`d⟨P, C⟩/dα = [${Array.from(gradAlpha.toFloat64Array(), (v) => v.toFixed(6)).join(", ")}]`);
  print(`d⟨P, C⟩/dβ = [${Array.from(gradBeta.toFloat64Array(), (v) => v.toFixed(6)).join(", ")}]`);
  print(marginalCheck.report);
  print(`linear solver (pinned gauge): ${JSON.stringify(pinned.potentials.lastSolve)}`);

  // A closed-form check: the entropic dual value D = ⟨a, f⟩ + ⟨b, g⟩ − ε ΣP + ε
  // is stationary in (f, g), so dD/dC = ∂D/∂C = P (envelope theorem). Through the
  // implicit function, the potentials' derivatives must cancel exactly.
  const a0 = softmax(problem.alpha);
  const b0 = softmax(problem.beta);
  const dualValue = (C: Tensor): Tensor => {
    const { f, g } = pinned.unpack(pinned.potentials.call(C, a0, b0));
    return add(sub(add(sum(mul(a0, f)), sum(mul(b0, g))), mul(EPSILON, sum(plan(C, f, g)))), EPSILON);
  };
  const dDdC = grad(dualValue)(C0).toFloat64Array();
  const { f: f0, g: g0 } = pinned.unpack(pinned.potentials.call(C0, a0, b0));
  const P0 = plan(C0, f0, g0).toFloat64Array();
  const envelopeError = Math.max(...Array.from(P0, (p, k) => Math.abs(p - dDdC[k])));
  print(`\nenvelope check: max |dD/dC − P| = ${envelopeError.toExponential(2)}`);

  // The other way to handle the gauge: keep all n + m unknowns and equations.
  // ∂F/∂y is singular; "auto" notices (LU with a negligible pivot) and falls back
  // to LSQR's minimum-norm solution, accepted because the system is consistent.
  const unpinned = unpinnedSinkhorn(n, m);
  const gradUnpinned = grad((s: Tensor) => transportCost(s, problem.targets, problem.alpha, problem.beta, unpinned))(problem.sources).toFloat64Array();
  const gaugeAgreement = Math.max(...Array.from(gradSources.toFloat64Array(), (v, k) => Math.abs(v - gradUnpinned[k])));
  print(`un-pinned system: solver ${unpinned.potentials.lastSolve?.solver}, residual ${unpinned.potentials.lastSolve?.residualNorm.toExponential(1)}; max |difference| of d⟨P, C⟩/d(points) from the pinned gauge: ${gaugeAgreement.toExponential(2)}`);

  return {
    sinkhornIterations: iterations,
    transportCost: cost,
    pointGradient: gradSources.toArray() as number[][],
    pointCheck: { ok: pointCheck.ok, maxError: pointCheck.maxError },
    marginalGradients: { alpha: Array.from(gradAlpha.toFloat64Array()), beta: Array.from(gradBeta.toFloat64Array()) },
    marginalCheck: { ok: marginalCheck.ok, maxError: marginalCheck.maxError },
    envelopeError,
    gaugeAgreement,
    solvers: { pinned: pinned.potentials.lastSolve?.solver ?? "none", unpinned: unpinned.potentials.lastSolve?.solver ?? "none" },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
