/**
 * Krylov solvers (the table in ./solvers.ts: one signature `(A, b, opts?)`,
 * one result type, each iteration in its own file) and dense direct solvers.
 * Public pieces only.
 */
export { cg, gmres, bicgstab, minres, lsqr } from "./solvers.js";
export { lu, luSolve, cholesky, choleskySolve, LUFactorization, CholeskyFactorization } from "./direct.js";
export { denseOperator, linearOperator } from "./operator.js";
export type { LinearOperator, LinearOperatorOptions, MatvecFunction, OperatorLike } from "./operator.js";
export type {
  KrylovOptions, GmresOptions, LsqrOptions, KrylovResult, LsqrResult, KrylovStatus, IterationInfo, Preconditioner, VectorLike,
} from "./result.js";
