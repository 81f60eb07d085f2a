/**
 * `proximalGradient(fn, x0, opts)`: min fn(x, ...args) + g(x) for smooth fn and
 * g given by `opts.prox(v, step, ...args)`, by accelerated proximal gradient
 * (./fista.ts). x is differentiable w.r.t. args and the traced values fn and
 * prox capture, through the prox fixed point x = prox(x − η∇fn(x), η).
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, sameShape, shapeToString } from "../tensor/shape.js";
import { concrete, untraced } from "../primitives/core.js";
import { operand, type Operand } from "../primitives/operands.js";
import { mul, sub } from "../primitives/elementwise.js";
import { is, readOptions, required, type OptionKind } from "../primitives/options.js";
import { callWith, type UserFunction } from "../primitives/util.js";
import { grad } from "../ad/reverse.js";
import { ScalarObjective, flatCopy } from "./objective.js";
import { COMMON_OPTIONS, conclude, type SolverOptions, type SolverResult } from "./result.js";
import { checkFunction, setup } from "./setup.js";
import { withDerivative } from "./implicit.js";
import { proximalGradientMethod } from "./fista.js";

/** A proximal operator: prox(v, η, ...args) = argmin_x g(x) + ‖x − v‖²/(2η), written with library ops. */
export type ProxFunction = (v: Tensor, step: number, ...args: never[]) => Tensor;

export interface ProximalGradientOptions extends SolverOptions {
  /** The proximal operator of g (softThreshold, a projection, …): prox(v, step, ...args). Required. */
  prox: ProxFunction;
  /** FISTA's momentum (default true); false gives ISTA. */
  accelerated?: boolean;
  /** A fixed step η (default: backtracking from a Lipschitz estimate). */
  stepSize?: number;
}

const OPTIONS = {
  ...COMMON_OPTIONS,
  prox: required(is.function<ProxFunction>("a function (v, step) => prox_{step·g}(v)")),
  accelerated: is.boolean,
  stepSize: is.positive,
} satisfies Record<keyof ProximalGradientOptions, OptionKind<unknown>>;

/** prox's value, checked against the point: a Tensor of x's shape. */
function proxValue(op: string, v: unknown, like: Tensor): Tensor {
  const t = typeof v === "number" ? operand(op, v, like.dtype) : v;
  if (!(t instanceof Tensor)) throw new Error(`${op}: prox must return a Tensor of x's shape ${shapeToString(like.shape)}, got ${describe(v)}`);
  if (!sameShape(t.shape, like.shape) && t.size !== like.size) throw new Error(`${op}: prox returned shape ${shapeToString(t.shape)} but x has shape ${shapeToString(like.shape)}`);
  return t;
}

/**
 * Minimises fn(x, ...args) + g(x) from x0, g given by `opts.prox`. Returns the
 * solver result (value: fn(x), the smooth part; residualNorm: the gradient
 * mapping ‖x − prox(x − η∇fn(x), η)‖₂/η). Accelerated (FISTA with restart) by
 * default. x is differentiable w.r.t. args and what fn and prox capture.
 */
export function proximalGradient(fn: UserFunction<Tensor | number>, x0: Operand, opts: ProximalGradientOptions): SolverResult {
  const op = "proximalGradient";
  checkFunction(op, "fn", fn);
  const o = readOptions(op, opts, OPTIONS, { required: true });
  const s = setup(op, x0, o, 10000);
  const f = new ScalarObjective(op, fn, s.shape, s.dtype, s.plainArgs);
  const prox = (v: Float64Array, step: number): Float64Array => untraced(() => {
    const point = s.toTensor(v);
    return flatCopy(concrete(proxValue(op, callWith(o.prox, [point, step, ...s.plainArgs]), point)));
  });
  const outcome = proximalGradientMethod({ f, prox, x0: s.start, tol: s.tol, maxIter: s.maxIter, monitor: s.monitor, accelerated: o.accelerated ?? true, stepSize: o.stepSize ?? null });
  const result = conclude(op, o.accelerated === false ? "ista" : "fista", outcome, s.toTensor(outcome.x), f.evaluations, s.tol, s.shouldThrow);
  const eta = outcome.step;
  const conditions = (...all: Tensor[]): Tensor => {
    const inputs = all.slice(0, -1);
    const x = all[all.length - 1];
    const g = grad((w: Tensor) => {
      const v: unknown = callWith(fn, [w, ...inputs]);
      if (typeof v === "number" || (v instanceof Tensor && v.ndim === 0)) return v;
      throw new Error(`${op}: fn must return a scalar (a rank-0 Tensor or a number), got ${v instanceof Tensor ? `shape ${shapeToString(v.shape)}` : describe(v)}`);
    })(x);
    return sub(proxValue(op, callWith(o.prox, [sub(x, mul(g, eta)), eta, ...inputs]), x).reshape(x.shape), x);
  };
  result.x = withDerivative(op, conditions, s.args, result, { symmetric: false, implicit: s.implicit });
  return result;
}
