/**
 * implicit-diff: automatic and implicit differentiation over scijs ndarray.
 * Public exports only; see README.md and ../shared/API.md for the contract.
 */
import "./primitives/methods.js";

export { Tensor, tensor, zeros, ones, eye, full, arange, astype } from "./tensor/tensor.js";
export type { DType, NestedArray, ArrayOfRank, TensorLike, TensorOptions, FloatArray } from "./tensor/tensor.js";
export {
  add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sign, sin, cos, tanh, sigmoid, softplus, relu,
  maximum, minimum, where, stopGradient, greater, greaterEqual, less, lessEqual, equal,
} from "./primitives/elementwise.js";
export { sum, mean, max, min, logsumexp, softmax, norm } from "./primitives/reduce.js";
export type { Axis } from "./primitives/reduce.js";
export { reshape, transpose, broadcastTo, slice, concat, stack } from "./primitives/shape.js";
export { matmul, dot, outer, solve, diag } from "./primitives/linalg.js";
export { denseKernels } from "./tensor/wasm/dense.js";
export type { DenseKernels } from "./tensor/wasm/dense.js";
export type { Operand } from "./primitives/operands.js";

export { grad, valueAndGrad, vjp } from "./ad/reverse.js";
export type { GradOptions } from "./ad/reverse.js";
export { jvp } from "./ad/forward.js";
export { linearize, linearTranspose } from "./ad/linearize.js";
export { customRoot, customLinearSolve } from "./program/root.js";
export type { CustomRootOptions, CustomLinearSolveOptions, LinearSystem, RootSolver, InPlaceProduct } from "./program/root.js";
export type { LinearFunction, LinearTransposeFunction, LinearProgram } from "./ad/linearize.js";
export { jacobian, hessian, hvp } from "./ad/jacobian.js";
export type { JacobianOptions } from "./ad/jacobian.js";
export { customVjp, customJvp } from "./ad/custom.js";
export { jit } from "./program/jit.js";
export type { JitOptions, Jitted, Lowered } from "./program/jit.js";
export { traceTape, traceToString } from "./ad/tape-view.js";
export type { TapeTrace, TapeEntry, SweepStep } from "./ad/tape-view.js";

export { cg, gmres, bicgstab, minres, lsqr, luSolve, cholesky, choleskySolve } from "./krylov/index.js";
export type { LinearOperator, KrylovOptions, KrylovResult } from "./krylov/index.js";

export { ImplicitFunction } from "./implicit/implicit-function.js";
export type { ForwardOutput, ImplicitFunctionOptions, ImplicitInput, SolveDiagnostics, SolverName, UserSolver } from "./implicit/implicit-function.js";
export {
  stationarityConditions, fixedPointConditions, proximalGradientConditions, lassoConditions,
  projectedGradientConditions, kktConditions, packKKT, unpackKKT,
} from "./implicit/conditions.js";
export type { ConditionsSpec, KKTProblem } from "./implicit/conditions.js";
export { softThreshold, projectNonNegative, projectBox, projectL2Ball, projectSimplex } from "./implicit/projections.js";

export { checkGrad } from "./check/check-grad.js";
export type { CheckGradOptions, GradCheckResult, Mismatch } from "./check/check-grad.js";
export { verifyImplicit, tensorArbitrary, scalarArbitrary } from "./check/verify-implicit.js";
export type { ArbitraryLike, FastCheckArbitrary, VerifyOptions, VerifySummary } from "./check/verify-implicit.js";

export { LinearSolveError, ConvergenceError, ResidualError, DtypeMismatchError, TracedReadError } from "./errors.js";
export type { KrylovStatus, SolveStatus } from "./errors.js";

export { minimize } from "./solvers/minimize.js";
export type { MinimizeOptions } from "./solvers/minimize.js";
export { root, fixedPoint, leastSquares } from "./solvers/equations.js";
export type { RootOptions, FixedPointOptions, LeastSquaresOptions } from "./solvers/equations.js";
export { proximalGradient } from "./solvers/proximal-gradient.js";
export type { ProximalGradientOptions, ProxFunction } from "./solvers/proximal-gradient.js";
export type { SolverResult, SolverStatus, SolverOptions, IterationInfo as SolverIterationInfo, ImplicitOptions as SolverImplicitOptions } from "./solvers/result.js";
export type { MinimizeMethodName, RootMethodName, FixedPointMethodName, LeastSquaresMethodName } from "./solvers/methods.js";
