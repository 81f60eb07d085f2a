/**
 * Values defined as solutions, differentiated by the implicit function theorem:
 * `customRoot` (a root y* of F(x, y) = 0, as JAX's `lax.custom_root`) and
 * `customLinearSolve` (x = K⁻¹b, as `lax.custom_linear_solve`, the root of
 * K x − b). Whatever found the solution is never differentiated; the
 * derivative comes from F alone:
 *
 *   ẏ = −A⁻¹ (∂F/∂p ṗ),   p̄ = −(∂F/∂p)ᵀ A⁻ᵀ ȳ,   A = ∂F/∂y at (p, y*).
 *
 * One construction serves every order and both modes (after JAX's custom_root):
 *
 *  1. F runs once per call, at the plain point (x, y*), in one forward-mode
 *     pass that both linearises it in (x, y) (lib/ad/linearize.ts) and records
 *     it as a program of (x, y, c), c being the traced values F captured
 *     (closure conversion, lib/program/closure.ts): p = (x, c) are all explicit
 *     inputs.
 *  2. The linearisation is planned (RootSystem, lib/ad/linear-plan.ts): the
 *     solver's systems A and Aᵀ at once, ∂F/∂x in the direction the first rule
 *     application asks for; products with ∂F/∂c come from the program.
 *  3. y is one custom node on p whose rules are the formulas above: the
 *     pushforward solves A ẏ = −Ḟ, the pullback Aᵀ u = ȳ (the transposed
 *     linear solve), each solve itself a `customLinearSolve`, so that the
 *     derivative of a derivative is taken the same way. The rules run wherever
 *     the node is met, by whichever transformation: at a plain point they use
 *     the linearisation's fused products; where the levels below trace the
 *     point, the program is evaluated on their values (so they record it) and
 *     differentiated by the engine's own jvp and vjp.
 */
import { contiguousData, shapeOnly, Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString, sizeOf } from "../tensor/shape.js";
import { bindCustom, concrete, dropDead, liveTraces, stagingTrace, untraced, type CustomRule, type MaybeTensor, type Tracer } from "../primitives/core.js";
import { add, mul, neg, sub } from "../primitives/elementwise.js";
import { reshape } from "../primitives/shape.js";
import { zerosLike } from "../primitives/util.js";
import { jvp } from "../ad/forward.js";
import { vjp } from "../ad/reverse.js";
import { linearProgram, type LinearProgram } from "../ad/linearize.js";
import { planLinear, type LinearPlan, type PlannedProduct } from "../ad/linear-plan.js";
import { keepingResident } from "../tensor/wasm/dense.js";
import { ClosureRecorder, type ClosedProgram } from "./closure.js";
import { evaluate } from "./evaluate.js";
import type { Program } from "./program.js";

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

export interface CustomLinearSolveOptions {
  /** u ↦ K⁻ᵀu on plain values (default: `solve` itself when `symmetric`). Needed by reverse mode. */
  transposeSolve?: (b: Tensor) => Tensor;
  /**
   * u ↦ Kᵀu. Not needed: Kᵀ's products are the transpose of `matvec`'s
   * linearisation (or `matvec` itself when `symmetric`); accepted, unused.
   */
  transposeMatvec?: (u: Tensor) => Tensor;
  symmetric?: boolean;
  name?: string;
}

/**
 * The solves read the numbers of their right-hand sides, which jit does not know
 * while it traces: an Error there, never a solve of placeholder zeros.
 * (An ImplicitFunction called under jit runs whole as a step of the program.)
 */
function refuseUnderJit(name: string): void {
  if (stagingTrace() !== null) throw new Error(`${name}: cannot be traced by jit: its solve reads the values of its inputs, which are not known while jit traces. Wrap the problem in an ImplicitFunction (it runs as a step of the compiled program) or call ${name} outside jit`);
}

/**
 * x = K⁻¹ b (JAX's `lax.custom_linear_solve`): `solve(b)` finds x on plain
 * values by any method; x is differentiable in b and in every traced value the
 * linear map `matvec` (x ↦ K x) closes over, as the root of K x − b = 0. Reverse
 * mode needs `transposeSolve` (or `symmetric: true`).
 */
export function customLinearSolve(matvec: (x: Tensor) => Tensor, b: Tensor, solve: (b: Tensor) => Tensor, opts: CustomLinearSolveOptions = {}): Tensor {
  const name = opts.name ?? "customLinearSolve";
  refuseUnderJit(name);
  if (typeof matvec !== "function") throw new Error(`${name}: matvec must be a function x => K x, got ${describe(matvec)}`);
  if (typeof solve !== "function") throw new Error(`${name}: solve must be a function b => K⁻¹ b, got ${describe(solve)}`);
  if (!(b instanceof Tensor)) throw new Error(`${name}: b must be a Tensor, got ${describe(b)}`);
  const transposeSolve = opts.transposeSolve ?? (opts.symmetric ? solve : undefined);
  const xStar = checkedSolve(name, solve, b, null);
  if (liveTraces().length === 0) return xStar;
  // The systems of the root of K x − b are K (tangent) and Kᵀ (adjoint): the plain solves.
  // The solver receives flat vectors: the user's solves see b's and x's shapes.
  const bPlain = concrete(b);
  const solver: RootSolver = (_K, rhs, system) => {
    if (system === "tangent") return reshape(checkedSolve(name, solve, reshape(rhs, bPlain.shape), xStar), [xStar.size]);
    if (transposeSolve === undefined) throw new Error(`${name}: reverse mode through a linear solve needs transposeSolve (a solver for Kᵀ), or symmetric: true`);
    return reshape(checkedSolve(name, transposeSolve, reshape(rhs, xStar.shape), bPlain), [bPlain.size]);
  };
  return linearizeRoot((bb, x) => sub(matvec(x), bb), [b], xStar, { symmetric: opts.symmetric, name }).differentiate(solver);
}

function checkedSolve(name: string, solve: (b: Tensor) => Tensor, b: Tensor, like: Tensor | null): Tensor {
  const x: unknown = untraced(() => solve(concrete(b)));
  if (!(x instanceof Tensor)) throw new Error(`${name}: the solver must return a Tensor, got ${describe(x)}`);
  if (like !== null && !sameShape(x.shape, like.shape)) throw new Error(`${name}: the solver returned shape ${shapeToString(x.shape)}, expected ${shapeToString(like.shape)}`);
  return concrete(x);
}

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
 * The conditions recorded and linearised once at the plain point (inputs, y*),
 * before any solve: F's value there and the system of A = ∂F/∂y, for the
 * checks and settings a caller derives from them (ImplicitFunction's residual
 * check, the precision of its solves), then `differentiate` for y*.
 */
export interface RootLinearization {
  /** F(inputs, y*) on plain values. */
  readonly F: Tensor;
  /** The tangent system (K = A = ∂F/∂y at the point) as a solver receives it. */
  readonly system: LinearSystem;
  /** Whether a live transformation follows y: through an explicit input or a captured value. */
  readonly differentiated: boolean;
  /** y* differentiable in the inputs and captured values, its linear systems solved by `solve`. */
  differentiate(solve: RootSolver): Tensor;
}

/**
 * Steps 1 and 2 of the construction (see the top of this file): F recorded
 * and linearised at the plain point (inputs, y*) in one pass. Errors name
 * `opts.name` (default "customRoot").
 */
export function linearizeRoot(residual: (...args: Tensor[]) => Tensor, inputs: Tensor[], solution: Tensor, opts: Omit<CustomRootOptions, "onResidual"> = {}): RootLinearization {
  const name = opts.name ?? "customRoot";
  refuseUnderJit(name);
  const yStar = concrete(solution);
  const k = inputs.length;
  // One pass of F: recorded as a program (captured values becoming inputs) and,
  // beneath the recording, linearised in (inputs, y) at the plain point.
  const recorder = new ClosureRecorder(name);
  let closed: ClosedProgram | null = null;
  const [F, linear] = linearProgram(name, (...xs: Tensor[]) => {
    const result: unknown = residual(...xs);
    closed = recorder.finish(result);
    return result;
  }, [...inputs.map(concrete), yStar], recorder);
  const { program, captured } = closed!;
  if (Array.isArray(F)) throw new Error(`${name}: F must return a single Tensor`);
  if (F.size !== yStar.size) throw new Error(`${name}: F returns ${F.size} value(s) (shape ${shapeToString(F.shape)}) but y has ${yStar.size} (shape ${shapeToString(yStar.shape)}); the system must be square`);
  // p = (inputs, captured): what y depends on; y is the program's input k.
  const params = [...inputs, ...captured];
  const followed = params.map((p) => dropDead(p)._trace !== null);
  // The program is kept only where a rule will evaluate it: a point two transformations
  // follow (a rule of one then runs on the other's values) or a captured value to differentiate.
  const following = new Set<unknown>();
  for (const p of params) for (let v = dropDead(p); v._trace !== null; v = dropDead((v as Tracer).primal)) following.add(v._trace);
  const kept = following.size > 1 || followed.slice(k).some(Boolean) ? program : null;
  // The system needs F's shape and dtype only: its values are not kept alive through the solves.
  const system = new RootSystem(linear, k, yStar, shapeOnly(F.shape, F.dtype), opts.symmetric === true, followed.slice(0, k));
  return {
    F,
    system: system.systems().tangent,
    differentiated: followed.some(Boolean),
    differentiate: (solve) => {
      if (!followed.some(Boolean)) return solution;
      return bindCustom(rootNode({ name, program: kept, residual, inputs: inputs.map(concrete), k, yStar, system, followed, solve }), params);
    },
  };
}

/** What a root node's rules need: the closure-converted F, the linearisation at the point, the solver. */
interface RootNodeDef {
  name: string;
  /** F as a program of (p[0..k), y, p[k..)), kept when a rule may evaluate it (a nested point, a captured value followed). */
  program: Program | null;
  /** The user's F and the plain inputs, for the error path only (which input makes Ḟ not finite). */
  residual: (...args: Tensor[]) => Tensor;
  inputs: Tensor[];
  k: number;
  yStar: Tensor;
  system: RootSystem;
  /** Per input p: whether a transformation follows it (the others need no product with ∂F/∂p). */
  followed: boolean[];
  solve: RootSolver;
}

/**
 * Step 3: y as one custom node on p. `call` is y* (the node is only ever met at
 * this point); the rules take y as the levels below see it (the node bound
 * again there) and apply the implicit function theorem. At a plain point the
 * products with A and ∂F/∂x come from the linearisation (fused, no evaluation
 * of F), those with ∂F/∂c for captured values from the program.
 */
function rootNode(def: RootNodeDef): CustomRule {
  const { name, k, system, followed } = def;
  const plainSolve = (b: Tensor, transpose: boolean): Tensor => system.solve(name, def.solve, b, transpose);
  /** F(p, ·) and F(·, y) at the point as the levels below see it (their transformations record the evaluation). */
  const atPoint = (p: Tensor[], y: Tensor) => {
    const program = def.program;
    if (program === null) throw new Error(`${name}: internal error: the conditions' program was not kept for a rule that evaluates it`);
    return {
      ofY: (w: Tensor): Tensor => evaluate(program, [...p.slice(0, k), w, ...p.slice(k)])[0],
      ofP: (...q: Tensor[]): Tensor => evaluate(program, [...q.slice(0, k), y, ...q.slice(k)])[0],
    };
  };
  /** A⁻¹b (or A⁻ᵀb): a customLinearSolve whose products are A's at the point, so a level below differentiates it too. */
  const solveWith = (A: (v: Tensor) => Tensor, b: Tensor, transpose: boolean): Tensor =>
    customLinearSolve(A, b, (r) => plainSolve(r, transpose), { transposeSolve: (r) => plainSolve(r, !transpose), name });
  const isPlainPoint = (p: Tensor[]): boolean => p.every((x) => dropDead(x)._trace === null);
  const capturedFollowed = followed.slice(k).some(Boolean);
  /** (∂F/∂c)·ċ at a plain point, from the program (null when no captured value is followed). */
  const capturedProduct = (p: Tensor[], tangents: MaybeTensor[]): MaybeTensor => {
    if (!capturedFollowed) return null;
    const F = atPoint(p, def.yStar);
    const c = p.slice(k);
    return jvp((...cs: Tensor[]) => F.ofP(...p.slice(0, k), ...cs), c, c.map((x, i) => tangents[k + i] ?? zerosLike(x)))[1] as Tensor;
  };
  /**
   * Which input a non-finite Ḟ comes from, at a plain point: ∂F/∂xᵢ ẋᵢ for each
   * input alone, by the user's F run again (an error path), then the captured values'.
   */
  const blameTangents = (p: Tensor[], tangents: MaybeTensor[]): void => {
    const x = def.inputs;
    blameInputs(name, k, tangents.map((t, i) => {
      if (t === null || !finite(t)) return null;
      if (i >= k) return capturedProduct(p, tangents.map((s, j) => (j === i ? s : null)));
      return jvp((xi: Tensor) => def.residual(...x.slice(0, i), xi, ...x.slice(i + 1), def.yStar), [x[i]], [t])[1] as Tensor;
    }));
  };
  // ∂F/∂x in the direction the plan lacks (a rule met in both modes at a plain point, as under
  // linearize then linearTranspose): the user's F again, differentiated by the engine.
  const Fx = (...x: Tensor[]): Tensor => def.residual(...x, def.yStar);
  const inputsByF = (tangents: MaybeTensor[]): MaybeTensor =>
    jvp(Fx, def.inputs, def.inputs.map((x, i) => (followed[i] ? tangents[i] ?? zerosLike(x) : zerosLike(x))))[1] as Tensor;
  const inputsTByF = (u: Tensor): MaybeTensor[] => vjp(Fx, ...def.inputs)[1](neg(u)).map((c, i) => (followed[i] ? c : null));
  const rule: CustomRule = {
    name,
    closures: true,
    call: () => def.yStar,
    jvp: (p, tangents) => {
      const y = bindCustom(rule, p);
      const live = tangents.map((t, i) => (followed[i] ? t : null));
      if (isPlainPoint(p)) {
        const planned = system.applyInputs(live.slice(0, k));
        const fromInputs = planned === undefined ? inputsByF(live) : planned;
        const fromCaptured = capturedProduct(p, live);
        const Fdot = fromInputs === null ? fromCaptured : fromCaptured === null ? fromInputs : add(fromInputs, fromCaptured);
        if (Fdot === null) return [y, zerosLike(y)];
        if (!finite(Fdot)) blameTangents(p, live);
        return [y, neg(solveWith((v) => system.applyA(v), Fdot, false))];
      }
      const F = atPoint(p, y);
      const Fdot = jvp(F.ofP, p, tangents)[1] as Tensor;
      return [y, neg(solveWith((v) => jvp(F.ofY, [y], [v])[1] as Tensor, Fdot, false))];
    },
    vjp: (p) => {
      const y = bindCustom(rule, p);
      return [y, (ct) => {
        if (isPlainPoint(p)) {
          const u = solveWith((w) => system.applyAT(w), ct, true);
          const ofInputs = system.applyInputsT(u) ?? inputsTByF(u); // undefined: the other direction was planned
          let ofCaptured: MaybeTensor[] = followed.slice(k).map(() => null);
          if (capturedFollowed) {
            const F = atPoint(p, def.yStar);
            ofCaptured = vjp((...cs: Tensor[]) => F.ofP(...p.slice(0, k), ...cs), ...p.slice(k))[1](neg(u));
          }
          const cotangents = [...ofInputs, ...ofCaptured].map((c, i) => (followed[i] ? c : null));
          blameInputs(name, k, cotangents);
          return cotangents;
        }
        const F = atPoint(p, y);
        const u = solveWith((w) => vjp(F.ofY, y)[1](w)[0], ct, true);
        const pullback = vjp(F.ofP, ...p)[1];
        return pullback(neg(u)).map((c, i) => (followed[i] ? c : null));
      }];
    },
  };
  return rule;
}

function finite(t: Tensor): boolean {
  const values = contiguousData(concrete(t), "float64");
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * A NaN or ∞ in ∂F/∂pᵢ would reach the derivative as a silent NaN: throws
 * naming the first input (or captured value, after the k inputs) whose product
 * with ∂F/∂pᵢ (given per input, null where not computed) is not finite.
 */
function blameInputs(name: string, k: number, products: MaybeTensor[]): void {
  const i = products.findIndex((p) => p !== null && !finite(p));
  if (i < 0) return;
  const what = i < k ? `input ${i}` : `captured value ${i - k}`;
  throw new Error(`${name}: ∂F/∂(${what}), the derivative of the conditions in ${what}, has a NaN or ∞ at forward's output: F is not differentiable in ${what} there (a sqrt or log of it at 0, say, or 0·∞ in its derivative), so the implicit function theorem gives no derivative w.r.t. ${what}. Rewrite the conditions so that they are differentiable at this point`);
}

/**
 * The linear systems of one call, from one linearisation of F in (x, y) at the
 * plain point (input k of the program is y, output 0 is F), planned once
 * (lib/ad/linear-plan.ts) for every product a rule can need: A; Aᵀ unless
 * symmetric; ∂F/∂x and (∂F/∂x)ᵀ for the followed inputs (the mode is the
 * transformation's to choose, and either may meet the node). Only the fused
 * executables and their folded coefficients stay alive through the solves, not
 * every constant the linearisation recorded.
 */
class RootSystem {
  private operators: { tangent: LinearSystem; adjoint: LinearSystem } | null = null;
  private plan: LinearPlan;
  /** The recorded program, until the products of ∂F/∂x are planned. */
  private program: LinearProgram | null;
  /** The products of A (index 0) and Aᵀ (1, unless symmetric): what the solves need. */
  private readonly systemProducts: PlannedProduct[];
  /** The direction of ∂F/∂x planned (the first a rule asked for), and its index in the plan. */
  private inputs: { direction: "tangent" | "adjoint"; index: number } | null = null;

  constructor(program: LinearProgram, private readonly k: number, private readonly y: Tensor, private readonly F: Tensor, private readonly symmetric: boolean,
    private readonly followed: boolean[]) {
    const onlyY = program.inputs.map((_, i) => i === k);
    this.systemProducts = [{ transposed: false, active: onlyY, wanted: [true] }];
    if (!symmetric) this.systemProducts.push({ transposed: true, active: [true], wanted: onlyY });
    this.plan = planLinear(program, this.systemProducts, { release: false });
    this.program = program;
  }

  /**
   * The plan index of ∂F/∂x (`tangent`) or (∂F/∂x)ᵀ (`adjoint`) for the followed
   * inputs, or null when the rules asked first for the other direction. The
   * first direction asked for is planned with A's products, and the recorded
   * programs let go, at the moment a transformation applies the rule (at the
   * call for grad and jvp): the mode is the transformation's own choice.
   */
  private inputProduct(direction: "tangent" | "adjoint"): number | null {
    if (this.inputs === null) {
      const pattern = [...this.followed, false];
      const product: PlannedProduct = direction === "tangent" ? { transposed: false, active: pattern, wanted: [true] } : { transposed: true, active: [true], wanted: pattern };
      this.plan = planLinear(this.program!, [...this.systemProducts, product]);
      this.program = null;
      this.inputs = { direction, index: this.systemProducts.length };
    }
    return this.inputs.direction === direction ? this.inputs.index : null;
  }

  /** A v, v shaped like y; the result shaped like F. */
  applyA(v: Tensor): Tensor {
    return this.plan.apply(0, [...this.followed.map((): MaybeTensor => null), v])[0] ?? zerosLike(this.F);
  }

  /** Aᵀ u, u shaped like F; the result shaped like y. */
  applyAT(u: Tensor): Tensor {
    if (this.symmetric) return reshape(this.applyA(reshape(u, this.y.shape)), this.y.shape);
    return this.plan.apply(1, [u])[this.k] ?? zerosLike(this.y);
  }

  /** Σᵢ ∂F/∂xᵢ ẋᵢ over the followed inputs (null: zero), one tangent per input; undefined when only the other direction is planned. */
  applyInputs(tangents: MaybeTensor[]): MaybeTensor | undefined {
    if (!this.followed.some(Boolean) || tangents.every((t, i) => t === null || !this.followed[i])) return null;
    const index = this.inputProduct("tangent");
    return index === null ? undefined : this.plan.apply(index, [...tangents, null])[0];
  }

  /** −(∂F/∂xᵢ)ᵀ u for each followed input (null elsewhere); undefined when only the other direction is planned. */
  applyInputsT(u: Tensor): MaybeTensor[] | undefined {
    if (!this.followed.some(Boolean)) return this.followed.map(() => null);
    const index = this.inputProduct("adjoint");
    return index === null ? undefined : this.plan.apply(index, [u]).slice(0, this.k).map((x) => (x === null ? null : mul(x, -1)));
  }

  /** The systems as flat operators with in-place products. */
  systems(): { tangent: LinearSystem; adjoint: LinearSystem } {
    if (this.operators !== null) return this.operators;
    const n = this.y.size;
    const flatProduct = (apply: (v: Tensor) => Tensor, inShape: number[], into: (x: Float64Array, out: Float64Array) => void): InPlaceProduct =>
      Object.assign((v: Tensor) => reshape(apply(reshape(v, inShape)), [n]), { into });
    const A = flatProduct((v) => this.applyA(v), this.y.shape, (x, out) => this.plan.into(0, this.k, x, 0, out));
    const AT = this.symmetric ? A : flatProduct((u) => this.applyAT(u), this.F.shape, (x, out) => this.plan.into(1, 0, x, this.k, out));
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
    const constants = [...this.plan.constants];
    // Through one solve the products' constant matrices stay in the WebAssembly
    // memory (the solver sees only the operators, not the arrays they capture),
    // and not after it returns: a user may write into an array a tensor wraps
    // before the next call.
    const x: unknown = untraced(() => keepingResident(constants, () => solver(transpose ? systems.adjoint : systems.tangent, flat, transpose ? "adjoint" : "tangent")));
    if (!(x instanceof Tensor) || x.size !== this.y.size) throw new Error(`${name}: the linear solver must return a Tensor of ${this.y.size} entries, got ${x instanceof Tensor ? `shape ${shapeToString(x.shape)}` : describe(x)}`);
    const shaped = reshape(concrete(x), transpose ? this.F.shape : this.y.shape);
    const dtype = transpose ? this.F.dtype : this.y.dtype;
    return shaped.dtype === dtype ? shaped : shaped.astype(dtype);
  }
}
