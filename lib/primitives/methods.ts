/**
 * Method forms of the ops on Tensor (`x.mul(y).sum()`), installed on the
 * prototype so that tensor/ does not depend on primitives/.
 */
import { Tensor, astype, type DType } from "../tensor/tensor.js";
import * as ew from "./elementwise.js";
import * as red from "./reduce.js";
import * as shp from "./shape.js";
import * as la from "./linalg.js";
import type { Operand } from "./operands.js";
import type { Axis } from "./reduce.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    add(other: Operand): Tensor;
    sub(other: Operand): Tensor;
    mul(other: Operand): Tensor;
    div(other: Operand): Tensor;
    pow(exponent: Operand): Tensor;
    maximum(other: Operand): Tensor;
    minimum(other: Operand): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    softplus(): Tensor;
    relu(): Tensor;
    sum(axis?: Axis, keepdims?: boolean): Tensor;
    mean(axis?: Axis, keepdims?: boolean): Tensor;
    max(axis?: Axis, keepdims?: boolean): Tensor;
    min(axis?: Axis, keepdims?: boolean): Tensor;
    logsumexp(axis?: Axis, keepdims?: boolean): Tensor;
    softmax(axis?: Axis): Tensor;
    norm(ord?: number, axis?: Axis, keepdims?: boolean): Tensor;
    matmul(other: Operand): Tensor;
    dot(other: Operand): Tensor;
    transpose(axes?: number[]): Tensor;
    reshape(shape: number[]): Tensor;
    broadcastTo(shape: number[]): Tensor;
    slice(begin: number[] | number, size?: number[] | number): Tensor;
    stopGradient(): Tensor;
    astype(dtype: DType): Tensor;
    /** The matrix transpose of a 2-D tensor (a view). */
    readonly T: Tensor;
  }
}

const methods: Record<string, (this: Tensor, ...args: never[]) => Tensor> = {
  add(o: Operand) { return ew.add(this, o); },
  sub(o: Operand) { return ew.sub(this, o); },
  mul(o: Operand) { return ew.mul(this, o); },
  div(o: Operand) { return ew.div(this, o); },
  pow(o: Operand) { return ew.pow(this, o); },
  maximum(o: Operand) { return ew.maximum(this, o); },
  minimum(o: Operand) { return ew.minimum(this, o); },
  neg() { return ew.neg(this); },
  exp() { return ew.exp(this); },
  log() { return ew.log(this); },
  sqrt() { return ew.sqrt(this); },
  abs() { return ew.abs(this); },
  sign() { return ew.sign(this); },
  sin() { return ew.sin(this); },
  cos() { return ew.cos(this); },
  tanh() { return ew.tanh(this); },
  sigmoid() { return ew.sigmoid(this); },
  softplus() { return ew.softplus(this); },
  relu() { return ew.relu(this); },
  sum(axis?: Axis, keepdims?: boolean) { return red.sum(this, axis, keepdims); },
  mean(axis?: Axis, keepdims?: boolean) { return red.mean(this, axis, keepdims); },
  max(axis?: Axis, keepdims?: boolean) { return red.max(this, axis, keepdims); },
  min(axis?: Axis, keepdims?: boolean) { return red.min(this, axis, keepdims); },
  logsumexp(axis?: Axis, keepdims?: boolean) { return red.logsumexp(this, axis, keepdims); },
  softmax(axis?: Axis) { return red.softmax(this, axis); },
  norm(ord?: number, axis?: Axis, keepdims?: boolean) { return red.norm(this, ord, axis, keepdims); },
  matmul(o: Operand) { return la.matmul(this, o); },
  dot(o: Operand) { return la.dot(this, o); },
  transpose(axes?: number[]) { return shp.transpose(this, axes); },
  reshape(shape: number[]) { return shp.reshape(this, shape); },
  broadcastTo(shape: number[]) { return shp.broadcastTo(this, shape); },
  slice(begin: number[] | number, size?: number[] | number) { return shp.slice(this, begin, size); },
  stopGradient() { return ew.stopGradient(this); },
  astype(dtype: DType) { return astype(this, dtype); },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
Object.defineProperty(Tensor.prototype, "T", {
  get(this: Tensor) {
    if (this.ndim !== 2) throw new Error(`T: needs a 2-D tensor, got shape [${this.shape.join(",")}]; use transpose(x, axes)`);
    return shp.transpose(this);
  },
  configurable: true,
  enumerable: false,
});
