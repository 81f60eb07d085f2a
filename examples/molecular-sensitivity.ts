/**
 * Example: how a relaxed packing of soft spheres responds to their size.
 *
 * Twelve discs in a periodic square box, six of diameter σ and six of 1.4σ (two
 * sizes, as usual in jamming studies, so that the packing is disordered rather
 * than a crystal, where every disc would sit at a symmetric point and nothing
 * would move). Pairs interact by harmonic soft-sphere repulsion: an overlapping
 * pair (r < σ_ij, the mean of the two diameters) costs ½(1 − r/σ_ij)²:
 *
 *   E(x; σ) = Σ_{i<j} ½·max(0, 1 − r_ij/σ_ij)²,   r_ij = minimum-image distance.
 *
 * The box is packed above jamming (area fraction 0.95), so every disc overlaps
 * some neighbours and the relaxed configuration x*(σ) (a local minimum of E,
 * found by `minimize` on E written once with library ops) is mechanically
 * stable. How does it move when the discs grow? x*(σ) solves ∇ₓE(x; σ) = 0, and
 * `minimize` differentiates its result through exactly that:
 * d(x*)/dσ = −H⁻¹ ∂(∇ₓE)/∂σ with H the Hessian of E.
 *
 * Translation zero modes. E is unchanged when every disc moves by the same
 * vector, so H has a two-dimensional null space (the global translations):
 * H is singular and x*(σ) is only defined up to a translation. The implicit
 * system is still consistent (the right-hand side is a net force, and internal
 * forces sum to zero), and every solution differs from the others by a
 * translation. Quantities that do not see translations, pair distances r_ij
 * for instance, have well-defined derivatives. The stationarity conditions are
 * symmetric, so `minimize` solves them with MINRES, which (started from 0)
 * builds its iterates in the range of H and so returns the solution with no net
 * translation: Σᵢ dxᵢ/dσ = 0. L-BFGS conserves the centroid too (its steps
 * are combinations of net-force-free gradients). The
 * finite-difference check removes the mean displacement before comparing all the same.
 *
 * The minimum image is chosen by a rounding that is piecewise constant in x:
 * the energy reads the image shifts off the current positions (`stopGradient`),
 * so they are constants to every derivative.
 *
 * Run: npx tsx examples/molecular-sensitivity.ts
 */
import { Tensor, tensor, sub, mul, div, sum, sqrt, relu, matmul, jacobian, minimize, stopGradient, type SolverResult } from "../lib/index.js";
import { seededUniform } from "./data/random.js";

export const PARTICLES = 12;
/** Diameters in units of σ: half small, half large. */
export const SIZES = Array.from({ length: PARTICLES }, (_, i) => (i % 2 === 0 ? 1 : 1.4));
export const PACKING_FRACTION = 0.95;
/** Box side giving PACKING_FRACTION at σ = 1. */
export const BOX = Math.sqrt((Math.PI / 4) * SIZES.reduce((s, d) => s + d * d, 0) / PACKING_FRACTION);

/** All pairs i < j. */
export const PAIRS: [number, number][] = [];
for (let i = 0; i < PARTICLES; i++) for (let j = i + 1; j < PARTICLES; j++) PAIRS.push([i, j]);
/** Contact distance of each pair in units of σ: (d_i + d_j)/2. */
const PAIR_SCALE = PAIRS.map(([i, j]) => (SIZES[i] + SIZES[j]) / 2);

/** Pair incidence matrix S [pairs, particles]: (S x)_p = x_i − x_j for pair p = (i, j). */
const INCIDENCE = tensor(PAIRS.map(([i, j]) => Array.from({ length: PARTICLES }, (_, k) => (k === i ? 1 : k === j ? -1 : 0))));

/** Minimum-image shifts round((x_i − x_j)/L) for each pair, from plain positions [N·2]. */
export function imageShifts(x: Float64Array): Tensor {
  return tensor(PAIRS.map(([i, j]) => [0, 1].map((d) => Math.round((x[2 * i + d] - x[2 * j + d]) / BOX))));
}

/** Pair distances r_p = ‖x_i − x_j − L·shift_p‖ (library ops, differentiable in x). */
export function pairDistances(x: Tensor, shifts: Tensor): Tensor {
  const separations = sub(matmul(INCIDENCE, x), mul(BOX, shifts));
  return sqrt(sum(mul(separations, separations), 1));
}

/** E(x; σ) for positions x [N, 2] (library ops). */
export function energy(sigma: Tensor | number, x: Tensor, shifts: Tensor): Tensor {
  const contactDistances = mul(sigma, tensor(PAIR_SCALE));
  return mul(0.5, sum(relu(sub(1, div(pairDistances(x, shifts), contactDistances))).pow(2)));
}

/**
 * The relaxed configuration near `start`: `minimize` (L-BFGS) on E(x; σ) to
 * ‖∇ₓE‖ ≤ tol, the
 * image shifts read off the current positions at every evaluation (piecewise
 * constant in x, so they are constants to the derivative). x* is differentiable
 * in σ through ∇ₓE = 0, which `minimize` attaches; its Hessian is singular (the
 * translations), and the symmetric solve it uses (MINRES, from 0) returns the
 * solution with no net translation.
 */
export function relax(start: Tensor | Float64Array, sigma: Tensor | number, tol = 1e-12): SolverResult {
  const x0 = start instanceof Tensor ? start : tensor(start, { shape: [PARTICLES, 2] });
  return minimize((x: Tensor, s: Tensor) => energy(s, x, imageShifts(stopGradient(x).toFloat64Array())), x0, { args: [sigma], tol });
}

/** A seeded random start in the box. */
export function randomStart(seed = 2): Float64Array {
  const uniform = seededUniform(seed);
  return Float64Array.from({ length: 2 * PARTICLES }, () => BOX * uniform());
}

/** Removes the mean displacement from x − reference (a global translation). */
function withoutTranslation(x: Float64Array, reference: Float64Array): Float64Array {
  const shift = [0, 1].map((d) => {
    let s = 0;
    for (let i = 0; i < PARTICLES; i++) s += x[2 * i + d] - reference[2 * i + d];
    return s / PARTICLES;
  });
  return x.map((v, k) => v - shift[k % 2]);
}

export interface MolecularSensitivityResult {
  sigma: number;
  /** The relaxed positions x* [N·2] (row-major). */
  positions: number[];
  /** L-BFGS iterations and the final ‖∇ₓE‖. */
  relaxation: { iterations: number; gradientNorm: number };
  energy: number;
  contacts: number;
  /** Particles without any overlapping neighbour (must be 0 for a stable packing). */
  rattlers: number;
  /** d r_ij/dσ of the overlapping pairs: implicit (forward mode) vs central differences of relaxed configurations. */
  distanceSensitivity: { pairs: [number, number][]; implicit: number[]; finiteDifference: number[]; maxAbsError: number };
  /** d(x*)/dσ: max |implicit − finite differences| after removing the translation, and |Σᵢ dxᵢ/dσ|. */
  positionSensitivity: { maxAbsError: number; netTranslation: number };
}

export async function main(opts: { quiet?: boolean; sigma?: number } = {}): Promise<MolecularSensitivityResult> {
  const print = opts.quiet ? () => {} : console.log;
  const sigma = opts.sigma ?? 1;
  const start = tensor(randomStart(), { shape: [PARTICLES, 2] });

  const relaxation = relax(start, sigma);
  const xStar = relaxation.x.toFloat64Array();
  const shifts = imageShifts(xStar);
  const distances = pairDistances(tensor(xStar, { shape: [PARTICLES, 2] }), shifts).toFloat64Array();
  const contactIndex = PAIRS.map((_, p) => p).filter((p) => distances[p] < sigma * PAIR_SCALE[p]);
  const contactPairs = contactIndex.map((p) => PAIRS[p]);
  const touched = new Set(contactPairs.flat());
  const rattlers = PARTICLES - touched.size;
  const E = energy(sigma, tensor(xStar, { shape: [PARTICLES, 2] }), shifts).item();
  print(`${PARTICLES} soft discs (diameters σ and 1.4σ), σ = ${sigma}, periodic box L = ${BOX.toFixed(4)} (area fraction ${PACKING_FRACTION} at σ = 1)`);
  print(`L-BFGS relaxed in ${relaxation.iterations} iterations (‖∇E‖ = ${relaxation.residualNorm.toExponential(1)}): E = ${E.toExponential(6)}, ${contactPairs.length} overlapping pairs, ${rattlers} rattlers`);

  // d(x*)/dσ and d r_ij/dσ by forward mode (σ is a scalar: one tangent solve), the relaxation warm-started at x*.
  const relaxed = (s: Tensor) => relax(relaxation.x, s).x;
  const sensitivityJacobian: Tensor = jacobian(relaxed, { mode: "fwd" })(tensor(sigma));
  const sensitivity = sensitivityJacobian.toFloat64Array();
  const distanceOf = (s: Tensor) => pairDistances(relaxed(s), shifts);
  const distanceJacobian: Tensor = jacobian(distanceOf, { mode: "fwd" })(tensor(sigma));
  const distanceSensitivity = distanceJacobian.toFloat64Array();
  const netTranslation = Math.hypot(...[0, 1].map((d) => sensitivity.reduce((s, v, k) => (k % 2 === d ? s + v : s), 0)));

  // Finite differences: relax again at σ ± h, starting from x*, and remove the translation.
  const h = 1e-5;
  const relaxAt = (s: number) => withoutTranslation(relax(relaxation.x, s).x.toFloat64Array(), xStar);
  const [plus, minus] = [relaxAt(sigma + h), relaxAt(sigma - h)];
  const fdPositions = plus.map((v, k) => (v - minus[k]) / (2 * h));
  const distancesAt = (x: Float64Array) => pairDistances(tensor(x, { shape: [PARTICLES, 2] }), shifts).toFloat64Array();
  const [dPlus, dMinus] = [distancesAt(plus), distancesAt(minus)];
  const fdDistances = contactIndex.map((p) => (dPlus[p] - dMinus[p]) / (2 * h));
  const implicitDistances = contactIndex.map((p) => distanceSensitivity[p]);
  const distanceError = Math.max(...implicitDistances.map((v, k) => Math.abs(v - fdDistances[k])));
  const positionError = Math.max(...Array.from(sensitivity, (v, k) => Math.abs(v - fdPositions[k])));

  print(`\nnet translation |Σ dxᵢ/dσ| = ${netTranslation.toExponential(1)}`);
  print("d r_ij/dσ of the overlapping pairs (first 8):   implicit      finite differences");
  contactPairs.slice(0, 8).forEach(([i, j], k) => {
    print(`  pair (${String(i).padStart(2)}, ${String(j).padStart(2)})  r = ${distances[contactIndex[k]].toFixed(6)}   ${implicitDistances[k].toFixed(9).padStart(13)}   ${fdDistances[k].toFixed(9).padStart(13)}`);
  });
  print(`max |implicit − FD| over ${contactPairs.length} pairs: ${distanceError.toExponential(2)}; over all d(x*)/dσ (translation removed): ${positionError.toExponential(2)}`);

  return {
    sigma,
    positions: Array.from(xStar),
    relaxation: { iterations: relaxation.iterations, gradientNorm: relaxation.residualNorm },
    energy: E,
    contacts: contactPairs.length,
    rattlers,
    distanceSensitivity: { pairs: contactPairs, implicit: implicitDistances, finiteDifference: fdDistances, maxAbsError: distanceError },
    positionSensitivity: { maxAbsError: positionError, netTranslation },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
