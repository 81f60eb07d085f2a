/**
 * Values defined as solutions, differentiated by the implicit function theorem:
 * `customRoot` (a root y* of F(x, y) = 0, as JAX's `lax.custom_root`) and
 * `customLinearSolve` (x = K⁻¹b, as `lax.custom_linear_solve`). Whatever found
 * the solution is never differentiated; the derivative comes from F alone:
 *
 *   ẏ = −A⁻¹ (∂F/∂x ẋ),   x̄ = −(∂F/∂x)ᵀ A⁻ᵀ ȳ,   A = ∂F/∂y at (x, y*).
 *
 * Two ways to get there, chosen per call:
 *
 *  - The direct way (one transformation, F capturing nothing it differentiates):
 *    F is linearised once in (x, y) at the plain point (lib/ad/linearize.ts). A,
 *    Aᵀ and ∂F/∂x are sub-programs of that one linearisation, fused and applied
 *    with reused storage: every Krylov iteration is one fused pass, and F's primal
 *    computation runs once per call, not once per product.
 *  - The general way (nested transformations, or F capturing traced values):
 *    y = y* + N(F), where N is a node of value 0 whose rules are Ḟ ↦ −A⁻¹Ḟ and
 *    ȳ ↦ −A⁻ᵀȳ. F is evaluated on each live transformation, so the chain rule
 *    through it reaches explicit inputs and captured values alike; N's linear
 *    solves are themselves `customLinearSolve`s, so every order works.
 */
import { contiguousData, shapeOnly, Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString, sizeOf } from "../tensor/shape.js";
import { bindCustom, concrete, dropDead, hiddenAbove, liveTraces, stagingTrace, untraced, watchCaptured, type CustomRule, type MaybeTensor } from "../primitives/core.js";
import { add, mul, neg, sub } from "../primitives/elementwise.js";
import { reshape } from "../primitives/shape.js";
import { zerosLike } from "../primitives/util.js";
import { jvp, JVPTrace } from "./forward.js";
import { vjp } from "./reverse.js";
import { linearProgram, type LinearProgram } from "./linearize.js";
import { keepingResident } from "../tensor/wasm/dense.js";

/** A product with its in-place form (see `MatvecFunction` in lib/krylov/operator.ts). */
export type InPlaceProduct = ((v: Tensor) => Tensor) & { into(x: Float64Array, out: Float64Array): void };

/**
 * A square system K x = b as handed to a solver: products on flat vectors
 * (a Krylov `LinearOperator`, with in-place forms), K being A or Aᵀ.
 */
export interface LinearSystem {
  readonly shape: readonly [number, number];
  readonly matvec: InPlaceProduct;
  readonly rmatvec: InPlaceProduct;
  readonly symmetric: boolean;
}

/**
 * Solves a linear system of implicit differentiation: returns x (flat, length
 * n) with K x = b, for the system "tangent" (K = A = ∂F/∂y) or "adjoint" (K = Aᵀ).
 * b is a plain flat Tensor. Throw to report failure.
 */
export type RootSolver = (K: LinearSystem, b: Tensor, system: "tangent" | "adjoint") => Tensor;

export interface CustomRootOptions {
  /** Declares ∂F/∂y symmetric: Aᵀ products then reuse A's (forward) program. */
  symmetric?: boolean;
  /** The name in errors (default "customRoot"). */
  name?: string;
  /** Receives F at the plain point (inputs, solution) whenever customRoot evaluates it there. */
  onResidual?: (F: Tensor) => void;
}

// ---------------------------------------------------------------------------
// y = y* + Σ_T N_T(residual_T): the general construction

interface LevelSolver {
  /** x with K x = dR (the tangent rule solves A ẏ = −Ḟ). */
  tangent(dR: Tensor): Tensor;
  /** u with Kᵀ u = ct. */
  adjoint(ct: Tensor): Tensor;
}

/**
 * z = z* + Σ_T N_T(residual_T) over the live transformations T, outermost
 * first: residual_T is evaluated with the transformations above T out of sight
 * and z (as the levels below see it) held constant at T; N_T has value 0 and
 * rules −K⁻¹· and −K⁻ᵀ· with K = ∂residual/∂z at that point.
 */
function lift(name: string, zStar: Tensor, residual: (z: Tensor) => Tensor, solverAt: (zBelow: Tensor) => LevelSolver): Tensor {
  let z = zStar;
  for (const trace of liveTraces()) {
    const R = hiddenAbove(trace, () => residual(z));
    if (dropDead(R)._trace !== trace) continue;
    const solver = solverAt(z);
    const zero = zerosLike(zStar);
    const node: CustomRule = {
      name,
      closures: true,
      call: () => zero,
      jvp: (_, [dR]) => [zero, neg(solver.tangent(dR))],
      vjp: () => [zero, (ct) => [neg(solver.adjoint(ct))]],
    };
    z = add(z, bindCustom(node, [R]));
  }
  return z;
}

export interface CustomLinearSolveOptions {
  /** u ↦ Kᵀu on plain values (default: the transpose of `solve` when `symmetric`). Needed by reverse mode. */
  transposeSolve?: (b: Tensor) => Tensor;
  /** u ↦ Kᵀu (default: a vjp of `matvec`, or `matvec` itself when `symmetric`). */
  transposeMatvec?: (u: Tensor) => Tensor;
  symmetric?: boolean;
  name?: string;
}

/**
 * x = K⁻¹ b (JAX's `lax.custom_linear_solve`): `solve(b)` finds x on plain
 * values by any method; x is differentiable in b and in every traced value the
 * linear map `matvec` (x ↦ K x) closes over, as the root of K x − b = 0. Reverse
 * mode needs `transposeSolve` (or `symmetric: true`).
 */
/**
 * The solves read the numbers of their right-hand sides, which jit does not know
 * while it traces: an Error there, never a solve of placeholder zeros.
 * (An ImplicitFunction called under jit runs whole as a step of the program.)
 */
function refuseUnderJit(name: string): void {
  if (stagingTrace() !== null) throw new Error(`${name}: cannot be traced by jit: its solve reads the values of its inputs, which are not known while jit traces. Wrap the problem in an ImplicitFunction (it runs as a step of the compiled program) or call ${name} outside jit`);
}

export function customLinearSolve(matvec: (x: Tensor) => Tensor, b: Tensor, solve: (b: Tensor) => Tensor, opts: CustomLinearSolveOptions = {}): Tensor {
  const name = opts.name ?? "customLinearSolve";
  refuseUnderJit(name);
  if (typeof matvec !== "function") throw new Error(`${name}: matvec must be a function x => K x, got ${describe(matvec)}`);
  if (typeof solve !== "function") throw new Error(`${name}: solve must be a function b => K⁻¹ b, got ${describe(solve)}`);
  if (!(b instanceof Tensor)) throw new Error(`${name}: b must be a Tensor, got ${describe(b)}`);
  const transposeSolve = opts.transposeSolve ?? (opts.symmetric ? solve : undefined);
  const transposeMatvec = opts.transposeMatvec ?? (opts.symmetric ? matvec : undefined);
  const xStar = checkedSolve(name, solve, b, null);
  const vecmat = (u: Tensor): Tensor => (transposeMatvec ? transposeMatvec(u) : vjp(matvec, zerosLike(xStar))[1](u)[0]);
  const forward = (dR: Tensor): Tensor => customLinearSolve(matvec, dR, solve, { ...opts, name });
  const adjoint = (ct: Tensor): Tensor => {
    if (transposeSolve === undefined) throw new Error(`${name}: reverse mode through a linear solve needs transposeSolve (a solver for Kᵀ), or symmetric: true`);
    return customLinearSolve(vecmat, ct, transposeSolve, { transposeSolve: solve, transposeMatvec: matvec, symmetric: opts.symmetric, name });
  };
  return lift(name, xStar, (x) => sub(matvec(x), b), () => ({ tangent: forward, adjoint }));
}

function checkedSolve(name: string, solve: (b: Tensor) => Tensor, b: Tensor, like: Tensor | null): Tensor {
  const x: unknown = untraced(() => solve(concrete(b)));
  if (!(x instanceof Tensor)) throw new Error(`${name}: the solver must return a Tensor, got ${describe(x)}`);
  if (like !== null && !sameShape(x.shape, like.shape)) throw new Error(`${name}: the solver returned shape ${shapeToString(x.shape)}, expected ${shapeToString(like.shape)}`);
  return concrete(x);
}

// ---------------------------------------------------------------------------
// customRoot

/**
 * `solution` as a differentiable root y(inputs) of F(...inputs, y) = 0 (JAX's
 * `lax.custom_root`): the derivative in every input, and in every traced value F
 * captures, follows from the implicit function theorem, with the linear systems
 * of A = ∂F/∂y solved by `solve`. F returns a tensor of y's size. Without a live
 * transformation, `solution` is returned as it is.
 */
export function customRoot(residual: (...args: Tensor[]) => Tensor, inputs: Tensor[], solution: Tensor, solve: RootSolver, opts: CustomRootOptions = {}): Tensor {
  const name = opts.name ?? "customRoot";
  refuseUnderJit(name);
  if (liveTraces().length === 0) return solution;
  const root = linearizeRoot(residual, inputs, solution, opts);
  opts.onResidual?.(root.F);
  return root.differentiate(solve);
}

/**
 * The conditions linearised once at the plain point (inputs, y*), before any
 * solve: F's value there and the system of A = ∂F/∂y, for the checks and
 * settings a caller derives from them (ImplicitFunction's residual check, the
 * precision of its solves), then `differentiate` for y*.
 */
export interface RootLinearization {
  /** F(inputs, y*) on plain values. */
  readonly F: Tensor;
  /** The tangent system (K = A = ∂F/∂y at the point) as a solver receives it. */
  readonly system: LinearSystem;
  /** Whether a live transformation follows y: through an explicit input, a captured value, or nested transformations. */
  readonly differentiated: boolean;
  /** y* differentiable in the inputs and captured values, its linear systems solved by `solve`. */
  differentiate(solve: RootSolver): Tensor;
}

/**
 * F linearised in (inputs, y) at the plain point (inputs, y*) (the first half
 * of `customRoot`): errors name `opts.name` (default "customRoot"). Without a
 * live transformation, `differentiate` returns `solution` as it is.
 */
export function linearizeRoot(residual: (...args: Tensor[]) => Tensor, inputs: Tensor[], solution: Tensor, opts: Omit<CustomRootOptions, "onResidual"> = {}): RootLinearization {
  const name = opts.name ?? "customRoot";
  refuseUnderJit(name);
  const traces = liveTraces();
  const yStar = concrete(solution);
  const plainInputs = inputs.map(concrete);
  const k = inputs.length;
  // One linearisation of F in (inputs, y) at the plain point, and whether F used
  // a value a live transformation differentiates without receiving it.
  const [[F, program], captured] = watchCaptured(() => untraced(() => linearProgram(name, (...args: Tensor[]) => residual(...args), [...plainInputs, yStar])));
  if (Array.isArray(F)) throw new Error(`${name}: F must return a single Tensor`);
  if (F.size !== yStar.size) throw new Error(`${name}: F returns ${F.size} value(s) (shape ${shapeToString(F.shape)}) but y has ${yStar.size} (shape ${shapeToString(yStar.shape)}); the system must be square`);
  const isDirect = traces.length === 1 && !captured;
  // Which inputs the one transformation follows, and which products of ∂F/∂x its rule needs.
  const active = inputs.map((x) => isDirect && dropDead(x)._trace === traces[0]);
  const reverse = isDirect && !(traces[0] instanceof JVPTrace);
  // The system needs F's shape and dtype only: its values are not kept alive through the solves.
  const system = new RootSystem(program, k, yStar, shapeOnly(F.shape, F.dtype), opts.symmetric === true, active, { inputs: isDirect && !reverse, inputsT: reverse });
  const differentiate = (solve: RootSolver): Tensor => {
    if (traces.length === 0) return solution;
    const plainSolve = (b: Tensor, transpose: boolean): Tensor => system.solve(name, solve, b, transpose);
    if (isDirect) return direct(name, traces[0], inputs, active, yStar, system, plainSolve);
    // The general way: F on every live transformation, N's solves at the traced point.
    const condOfY = (w: Tensor): Tensor => residual(...inputs, w);
    const solverAt = (yBelow: Tensor): LevelSolver => ({
      tangent: (dR) => customLinearSolve((v) => jvp(condOfY, [yBelow], [v])[1], dR, (b) => plainSolve(b, false), {
        transposeSolve: (b) => plainSolve(b, true), transposeMatvec: (u) => vjp(condOfY, yBelow)[1](u)[0], name,
      }),
      adjoint: (ct) => customLinearSolve((u) => vjp(condOfY, yBelow)[1](u)[0], ct, (b) => plainSolve(b, true), {
        transposeSolve: (b) => plainSolve(b, false), transposeMatvec: (v) => jvp(condOfY, [yBelow], [v])[1], name,
      }),
    });
    return lift(name, yStar, condOfY, solverAt);
  };
  return { F, system: system.systems().tangent, differentiated: traces.length > 0 && (!isDirect || active.some(Boolean)), differentiate };
}

/**
 * One transformation, nothing captured: a single custom node on the explicit
 * inputs whose rules apply ∂F/∂x and solve with A from the linearisation.
 */
function direct(name: string, trace: unknown, inputs: Tensor[], active: boolean[], yStar: Tensor, system: RootSystem, plainSolve: (b: Tensor, transpose: boolean) => Tensor): Tensor {
  if (!active.some(Boolean)) return yStar;
  const rule: CustomRule = {
    name,
    call: () => yStar,
    jvp: (_, tangents) => {
      const live = tangents.map((t, i) => (active[i] ? t : null));
      const Fdot = system.applyInputs(live);
      if (Fdot === null) return [yStar, zerosLike(yStar)];
      if (!finite(Fdot)) blameInputs(name, live.map((t, i) => (t !== null && finite(t) ? system.applyInputs(live.map((_, j) => (j === i ? t : null))) : null)));
      return [yStar, neg(customLinearSolve((v) => system.applyA(v), Fdot, (b) => plainSolve(b, false), {
        transposeSolve: (b) => plainSolve(b, true), transposeMatvec: (u) => system.applyAT(u), name,
      }))];
    },
    vjp: () => [yStar, (ct) => {
      const u = customLinearSolve((w) => system.applyAT(w), ct, (b) => plainSolve(b, true), {
        transposeSolve: (b) => plainSolve(b, false), transposeMatvec: (v) => system.applyA(v), name,
      });
      const cotangents = system.applyInputsT(u, active, -1);
      blameInputs(name, cotangents);
      return cotangents;
    }],
  };
  return bindCustom(rule, inputs);
}

function finite(t: Tensor): boolean {
  const values = contiguousData(concrete(t), "float64");
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * A NaN or ∞ in ∂F/∂xᵢ would reach the derivative as a silent NaN: throws
 * naming the first input whose product with ∂F/∂xᵢ (given per input, null
 * where not computed) is not finite.
 */
function blameInputs(name: string, products: MaybeTensor[]): void {
  const i = products.findIndex((p) => p !== null && !finite(p));
  if (i < 0) return;
  throw new Error(`${name}: ∂F/∂(input ${i}), the derivative of the conditions in input ${i}, has a NaN or ∞ at forward's output: F is not differentiable in input ${i} there (a sqrt or log of it at 0, say, or 0·∞ in its derivative), so the implicit function theorem gives no derivative w.r.t. input ${i}. Rewrite the conditions so that they are differentiable at this point`);
}

/**
 * The linear systems of one call, from one linearisation of F in (inputs, y):
 * input k of the program is y, output 0 is F.
 */
class RootSystem {
  private operators: { tangent: LinearSystem; adjoint: LinearSystem } | null = null;
  /** The transposed program, when Aᵀ (A not symmetric) or (∂F/∂x)ᵀ is needed. */
  private readonly transposed: LinearProgram | null;
  /** The constant matrices the products multiply by, kept in the WebAssembly memory through each solve. */
  private readonly constants: Tensor[];

  /**
   * Builds now every product the call can need (A; Aᵀ unless symmetric; ∂F/∂x
   * or its transpose for the active inputs), then lets the recorded programs go:
   * only the fused executables and their folded coefficients stay alive through
   * the solves, not every constant the linearisation recorded.
   */
  constructor(private readonly program: LinearProgram, private readonly k: number, private readonly y: Tensor, private readonly F: Tensor, private readonly symmetric: boolean,
    active: boolean[], needs: { inputs: boolean; inputsT: boolean }) {
    const onlyY = program.inputs.map((_, i) => i === k);
    program.prepare({ active: onlyY, wanted: [true] });
    if (needs.inputs && active.some(Boolean)) program.prepare({ active: [...active, false], wanted: [true] });
    this.transposed = !symmetric || needs.inputsT ? program.transpose() : null;
    this.constants = [...program.productConstants(), ...(this.transposed?.productConstants() ?? [])];
    if (this.transposed !== null) {
      if (!symmetric) this.transposed.prepare({ active: [true], wanted: onlyY });
      if (needs.inputsT && active.some(Boolean)) this.transposed.prepare({ active: [true], wanted: [...active, false] });
      this.transposed.release();
    }
    program.release();
  }

  /** Runs the program on the given input tangents (null: zero), returning output `out` (null: zero) detached. */
  private run(program: LinearProgram, tangents: MaybeTensor[], out: number, wanted?: boolean[]): MaybeTensor {
    try {
      const r = program.apply(tangents, wanted ?? program.outputs.map((_, j) => j === out))[out];
      return r === null ? null : program.detach(r);
    } finally {
      program.finish();
    }
  }

  /** A v, v shaped like y; the result shaped like F. */
  applyA(v: Tensor): Tensor {
    const tangents: MaybeTensor[] = this.program.inputs.map((_, i) => (i === this.k ? v : null));
    return this.run(this.program, tangents, 0) ?? zerosLike(this.F);
  }

  /** Aᵀ u, u shaped like F; the result shaped like y. */
  applyAT(u: Tensor): Tensor {
    if (this.symmetric) return reshape(this.applyA(reshape(u, this.y.shape)), this.y.shape);
    return this.run(this.transposed!, [u], this.k) ?? zerosLike(this.y);
  }

  /** Σᵢ ∂F/∂xᵢ ẋᵢ (null: zero). */
  applyInputs(tangents: MaybeTensor[]): MaybeTensor {
    if (tangents.every((t) => t === null)) return null;
    return this.run(this.program, [...tangents, null], 0);
  }

  /** (∂F/∂xᵢ)ᵀ u for each active input (null elsewhere). */
  /** factor · (∂F/∂xᵢ)ᵀ u for each active input (null elsewhere). */
  applyInputsT(u: Tensor, active: boolean[], factor = 1): MaybeTensor[] {
    const t = this.transposed!;
    try {
      const wanted = t.outputs.map((_, i) => i < this.k && active[i]);
      return t.apply([u], wanted).slice(0, this.k).map((r) => (r === null ? null : factor === 1 ? t.detach(r) : mul(r, factor)));
    } finally {
      t.finish();
    }
  }

  /** The systems as flat operators with in-place products. */
  systems(): { tangent: LinearSystem; adjoint: LinearSystem } {
    if (this.operators !== null) return this.operators;
    const n = this.y.size;
    const flatProduct = (apply: (v: Tensor) => Tensor, inShape: number[], into: (x: Float64Array, out: Float64Array) => void): InPlaceProduct =>
      Object.assign((v: Tensor) => reshape(apply(reshape(v, inShape)), [n]), { into });
    const A = flatProduct((v) => this.applyA(v), this.y.shape, (x, out) => this.program.applyFlat(this.k, x, 0, out));
    const AT = this.symmetric ? A : flatProduct((u) => this.applyAT(u), this.F.shape, (x, out) => this.transposed!.applyFlat(0, x, this.k, out));
    this.operators = {
      tangent: { shape: [n, n], matvec: A, rmatvec: AT, symmetric: this.symmetric },
      adjoint: { shape: [n, n], matvec: AT, rmatvec: A, symmetric: this.symmetric },
    };
    return this.operators;
  }

  /** K⁻¹ b on plain values (K = A, or Aᵀ when `transpose`), shaped as the unknown. */
  solve(name: string, solver: RootSolver, b: Tensor, transpose: boolean): Tensor {
    const systems = this.systems();
    const flat = reshape(concrete(b), [sizeOf(b.shape)]);
    // Through one solve the products' constant matrices stay in the WebAssembly
    // memory (the solver sees only the operators, not the arrays they capture),
    // and not after it returns: a user may write into an array a tensor wraps
    // before the next call.
    const x: unknown = untraced(() => keepingResident(this.constants, () => solver(transpose ? systems.adjoint : systems.tangent, flat, transpose ? "adjoint" : "tangent")));
    if (!(x instanceof Tensor) || x.size !== this.y.size) throw new Error(`${name}: the linear solver must return a Tensor of ${this.y.size} entries, got ${x instanceof Tensor ? `shape ${shapeToString(x.shape)}` : describe(x)}`);
    const shaped = reshape(concrete(x), transpose ? this.F.shape : this.y.shape);
    const dtype = transpose ? this.F.dtype : this.y.dtype;
    return shaped.dtype === dtype ? shaped : shaped.astype(dtype);
  }
}
