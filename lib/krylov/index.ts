/**
 * Krylov solvers (one per file, one signature `(A, b, opts?)`, one result
 * type) and dense direct solvers. Public pieces only.
 */
export { cg } from "./cg.js";
export { minres } from "./minres.js";
export { gmres } from "./gmres.js";
export { bicgstab } from "./bicgstab.js";
export { lsqr } from "./lsqr.js";
export { lu, luSolve, cholesky, choleskySolve, LUFactorization, CholeskyFactorization } from "./direct.js";
export { denseOperator, linearOperator } from "./operator.js";
export type { LinearOperator, LinearOperatorOptions, MatvecFunction, OperatorLike } from "./operator.js";
export type {
  KrylovOptions, GmresOptions, LsqrOptions, KrylovResult, LsqrResult, KrylovStatus, IterationInfo, Preconditioner, VectorLike,
} from "./result.js";
