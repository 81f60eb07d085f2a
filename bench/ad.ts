/**
 * Benchmark of the AD engine (reverse mode on a tape).
 *
 * Workloads, each printed as JSON lines {workload, impl, ms, ...}:
 *   logreg   — L2-regularised logistic regression, mean(softplus(−y·(Xw))) + 0.005·‖w‖²,
 *              X 2000×100: the loss alone, valueAndGrad, their ratio, and a hand-written
 *              Float64Array loss + gradient (impl "hand-f64") as the reference.
 *              Targets: grad/f ≤ 3 and library gradient ≤ 1.5 × hand-written.
 *   mlp      — 784-128-10 tanh MLP with softmax cross-entropy (via logsumexp), batch 256:
 *              the loss alone and its gradient w.r.t. both weight matrices and biases.
 *              Target: gradient ≤ 8 ms.
 *   Both run with the default dense kernels (WebAssembly SIMD above a size threshold,
 *   impl "implicit-diff") and again with the JavaScript kernels only ("implicit-diff-js"),
 *   interleaved in one process; `speedupOverJs` is the ratio. Logreg target: gradient ≤ 0.35 ms.
 *   tiny-ops — 250 iterations of z = tanh(1.01·z + 0.1) − 0.5·z on a length-10 vector,
 *              forward + backward through grad; reported per recorded tape op.
 *              Targets (issue 13): ≤ 0.5 ms and ≤ 0.4 µs per recorded op, backward included.
 *
 * Times are medians over repeated runs after a warm-up. Run: `npx tsx bench/ad.ts`.
 */
import {
  add, grad, matmul, mean, mul, neg, softplus, sub, sum, tanh, tensor, valueAndGrad,
  type Tensor,
} from "../lib/index.js";
import { record } from "../lib/ad/reverse.js";
import { emit, mlpLoss, mlpProblem, mulberry32, randomArray, round, timeCalls, withBothKernels } from "./util.js";

// ---------------------------------------------------------------------------
// Timing and data helpers


/** Throws unless a and b agree to a relative tolerance (checked against the larger magnitude). */
function assertClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-9): void {
  if (a.length !== b.length) throw new Error(`bench/ad: ${what}: lengths differ (${a.length} vs ${b.length})`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= rtol * scale + 1e-300)) {
      throw new Error(`bench/ad: ${what}: entry ${i} differs: ${a[i]} vs ${b[i]} (scale ${scale})`);
    }
  }
}

// ---------------------------------------------------------------------------
// (1) Logistic regression

const LAMBDA = 0.5e-2;

/** The loss with library ops: mean(softplus(−y·(X w))) + λ Σ w². */
function logregLoss(w: Tensor, X: Tensor, y: Tensor): Tensor {
  return add(mean(softplus(mul(neg(y), matmul(X, w)))), mul(LAMBDA, sum(mul(w, w))));
}

/**
 * The same loss and its gradient on plain typed arrays:
 * z = X w, m_i = −y_i z_i, loss = mean(softplus(m)) + λ‖w‖²,
 * ∇w = Xᵀ(−y ⊙ σ(m)) / n + 2λ w.
 */
function logregHand(w: Float64Array, X: Float64Array, y: Float64Array, n: number, d: number, gradOut: Float64Array): number {
  let loss = 0;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) z += X[row + j] * w[j];
    const m = -y[i] * z;
    loss += Math.max(m, 0) + Math.log1p(Math.exp(-Math.abs(m)));
    const sig = m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
    s[i] = (-y[i] * sig) / n;
  }
  let reg = 0;
  for (let j = 0; j < d; j++) {
    reg += w[j] * w[j];
    gradOut[j] = 2 * LAMBDA * w[j];
  }
  for (let i = 0; i < n; i++) {
    const row = i * d;
    const si = s[i];
    for (let j = 0; j < d; j++) gradOut[j] += X[row + j] * si;
  }
  return loss / n + LAMBDA * reg;
}

function benchLogreg(): void {
  const n = 2000;
  const d = 100;
  const random = mulberry32(1);
  const Xdata = randomArray(n * d, 1, random);
  const wData = randomArray(d, 0.1, random);
  const yData = new Float64Array(n);
  for (let i = 0; i < n; i++) yData[i] = random() < 0.5 ? -1 : 1;
  const X = tensor(Xdata, { shape: [n, d] });
  const w = tensor(wData);
  const y = tensor(yData);

  const lossAndGrad = valueAndGrad(logregLoss);
  const handGrad = new Float64Array(d);
  const [libValue, libGrad] = lossAndGrad(w, X, y) as [Tensor, Tensor];
  const handValue = logregHand(wData, Xdata, yData, n, d, handGrad);
  assertClose("logreg loss (library vs hand-written)", [libValue.item()], [handValue]);
  assertClose("logreg gradient (library vs hand-written)", libGrad.toFloat64Array(), handGrad);

  const f = withBothKernels(() => timeCalls(() => logregLoss(w, X, y), { samples: 31, warmup: 5 }));
  const g = withBothKernels(() => timeCalls(() => lossAndGrad(w, X, y), { samples: 31, warmup: 5 }));
  const handMs = timeCalls(() => logregHand(wData, Xdata, yData, n, d, handGrad), { samples: 31, warmup: 5 });
  const shape = { n, d };
  emit({ workload: "logreg", impl: "implicit-diff", ms: round(f.ms), what: "f", ...shape, speedupOverJs: round(f.jsMs / f.ms, 3) });
  emit({ workload: "logreg", impl: "implicit-diff", ms: round(g.ms), what: "valueAndGrad", ...shape, gradOverF: round(g.ms / f.ms, 3), gradOverHand: round(g.ms / handMs, 3), speedupOverJs: round(g.jsMs / g.ms, 3), targetGradOverF: 3, targetGradOverHand: 1.5, targetMs: 0.35 });
  emit({ workload: "logreg", impl: "implicit-diff-js", ms: round(f.jsMs), what: "f", ...shape });
  emit({ workload: "logreg", impl: "implicit-diff-js", ms: round(g.jsMs), what: "valueAndGrad", ...shape, gradOverHand: round(g.jsMs / handMs, 3) });
  emit({ workload: "logreg", impl: "hand-f64", ms: round(handMs), what: "loss+gradient", ...shape });
}

// ---------------------------------------------------------------------------
// (2) MLP 784-128-10 with softmax cross-entropy

function benchMlp(): void {
  const { batch, layers, X, Y, W1, b1, W2, b2 } = mlpProblem();
  const gradient = grad(mlpLoss, { argnums: [0, 1, 2, 3] });
  const f = withBothKernels(() => timeCalls(() => mlpLoss(W1, b1, W2, b2, X, Y), { samples: 11, warmup: 3 }));
  const g = withBothKernels(() => timeCalls(() => gradient(W1, b1, W2, b2, X, Y), { samples: 11, warmup: 3 }));
  const shape = { batch, layers };
  emit({ workload: "mlp", impl: "implicit-diff", ms: round(f.ms), what: "f", ...shape, speedupOverJs: round(f.jsMs / f.ms, 3) });
  emit({ workload: "mlp", impl: "implicit-diff", ms: round(g.ms), what: "grad(W1,b1,W2,b2)", ...shape, gradOverF: round(g.ms / f.ms, 3), speedupOverJs: round(g.jsMs / g.ms, 3), targetMs: 8 });
  emit({ workload: "mlp", impl: "implicit-diff-js", ms: round(f.jsMs), what: "f", ...shape });
  emit({ workload: "mlp", impl: "implicit-diff-js", ms: round(g.jsMs), what: "grad(W1,b1,W2,b2)", ...shape });
}

// ---------------------------------------------------------------------------
// (3) Many tiny ops: the per-op overhead of the tape

const ITERATIONS = 250;

function tinyLoop(z0: Tensor): Tensor {
  let z = z0;
  for (let i = 0; i < ITERATIONS; i++) z = sub(tanh(add(mul(z, 1.01), 0.1)), mul(0.5, z));
  return sum(z);
}

function benchTinyOps(): void {
  const z0 = tensor(randomArray(10, 1, mulberry32(3)));
  // Count the recorded ops exactly: tape nodes minus the one leaf for the input.
  const recordedOps = record("grad", tinyLoop, [z0]).trace.tape.length - 1;
  const gradient = grad(tinyLoop);
  const ms = timeCalls(() => gradient(z0), { samples: 51, warmup: 20 });
  const fMs = timeCalls(() => tinyLoop(z0), { samples: 51, warmup: 20 });
  emit({ workload: "tiny-ops", impl: "implicit-diff", ms: round(ms), what: "grad (forward + backward)", iterations: ITERATIONS, size: 10, recordedOps, usPerOp: round((1000 * ms) / recordedOps, 3), targetMs: 0.5, targetUsPerOp: 0.4, fMs: round(fMs) });
}

export async function main(): Promise<void> {
  benchLogreg();
  benchMlp();
  benchTinyOps();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
