/**
 * The public ops, one row each: the key is the name the package exports it
 * under, `fn` the function, `method` whether Tensor has it as a method. A
 * method form passes the tensor as the first argument, `x.mul(y)` is
 * `mul(x, y)`, so its signature is the function's without the first parameter.
 *
 * lib/primitives/methods.ts installs the method forms from this table and
 * derives their types from it (`MethodForms`); lib/index.ts exports each op by
 * name (ES modules need static exports), and spec/primitives/ops.spec.ts
 * checks every row against both. A new op is its function in its family file,
 * one row here and its name in lib/index.ts.
 */
import { astype } from "../tensor/tensor.js";
import * as ew from "./elementwise.js";
import * as red from "./reduce.js";
import * as shp from "./shape.js";
import * as la from "./linalg.js";

/** A row of the table. */
export interface OpRow {
  readonly fn: (...args: never[]) => unknown;
  readonly method: boolean;
}

export const OPS = {
  // elementwise: binary
  add:          { fn: ew.add,          method: true },
  sub:          { fn: ew.sub,          method: true },
  mul:          { fn: ew.mul,          method: true },
  div:          { fn: ew.div,          method: true },
  pow:          { fn: ew.pow,          method: true },
  maximum:      { fn: ew.maximum,      method: true },
  minimum:      { fn: ew.minimum,      method: true },
  // elementwise: unary
  neg:          { fn: ew.neg,          method: true },
  exp:          { fn: ew.exp,          method: true },
  log:          { fn: ew.log,          method: true },
  sqrt:         { fn: ew.sqrt,         method: true },
  abs:          { fn: ew.abs,          method: true },
  sign:         { fn: ew.sign,         method: true },
  sin:          { fn: ew.sin,          method: true },
  cos:          { fn: ew.cos,          method: true },
  tanh:         { fn: ew.tanh,         method: true },
  sigmoid:      { fn: ew.sigmoid,      method: true },
  softplus:     { fn: ew.softplus,     method: true },
  relu:         { fn: ew.relu,         method: true },
  stopGradient: { fn: ew.stopGradient, method: true },
  // elementwise: selection and comparisons (0/1 masks for where)
  where:        { fn: ew.where,        method: false },
  greater:      { fn: ew.greater,      method: false },
  greaterEqual: { fn: ew.greaterEqual, method: false },
  less:         { fn: ew.less,         method: false },
  lessEqual:    { fn: ew.lessEqual,    method: false },
  equal:        { fn: ew.equal,        method: false },
  // reductions (x, axis?, keepdims?)
  sum:          { fn: red.sum,         method: true },
  mean:         { fn: red.mean,        method: true },
  max:          { fn: red.max,         method: true },
  min:          { fn: red.min,         method: true },
  logsumexp:    { fn: red.logsumexp,   method: true },
  softmax:      { fn: red.softmax,     method: true },
  norm:         { fn: red.norm,        method: true },
  // shapes
  reshape:      { fn: shp.reshape,     method: true },
  transpose:    { fn: shp.transpose,   method: true },
  broadcastTo:  { fn: shp.broadcastTo, method: true },
  slice:        { fn: shp.slice,       method: true },
  concat:       { fn: shp.concat,      method: false },
  stack:        { fn: shp.stack,       method: false },
  // linear algebra
  matmul:       { fn: la.matmul,       method: true },
  dot:          { fn: la.dot,          method: true },
  outer:        { fn: la.outer,        method: false },
  solve:        { fn: la.solve,        method: false },
  diag:         { fn: la.diag,         method: true },
  // dtype
  astype:       { fn: astype,          method: true },
} as const satisfies Record<string, OpRow>;

export type OpName = keyof typeof OPS;

/** A function's parameters without the first (the tensor a method is called on). */
type AfterFirst<F> = F extends (first: never, ...rest: infer R) => unknown ? R : never;

/** The method forms the table declares, typed from the functions: `x.sum(axis?, keepdims?)` from `sum(x, axis?, keepdims?)`. */
export type MethodForms = {
  [K in OpName as (typeof OPS)[K]["method"] extends true ? K : never]: (...args: AfterFirst<(typeof OPS)[K]["fn"]>) => ReturnType<(typeof OPS)[K]["fn"]>;
};
