/**
 * Linear algebra primitives: matmul (NumPy semantics, batched), dot, outer,
 * and the dense solve A x = b by LU with partial pivoting.
 */
import { Tensor } from "../tensor/tensor.js";
import { matmulKernel, solveKernel } from "../tensor/kernels.js";
import { broadcastShapes, shapeToString } from "../tensor/shape.js";
import { bind, type MaybeTensor, type Primitive } from "./core.js";
import { operands, type Operand } from "./operands.js";
import { reshape, swapLastAxes, unbroadcast } from "./shape.js";
import { add, mul, neg, sub } from "./elementwise.js";

/** Product of operands of rank ≥ 2, batch dimensions broadcasting. */
const matmulPrim: Primitive<number[]> = {
  name: "matmul",
  impl: ([a, b], batch) => matmulKernel(a, b, batch, a.dtype),
  jvp: ([a, b], [ta, tb]) => {
    const left: MaybeTensor = ta === null ? null : matmul(ta, b);
    const right: MaybeTensor = tb === null ? null : matmul(a, tb);
    if (left === null) return right;
    return right === null ? left : add(left, right);
  },
  vjp: (ct, [a, b], _, __, needs) => [
    needs[0] ? unbroadcast(matmul(ct, swapLastAxes(b)), a.shape) : null,
    needs[1] ? unbroadcast(matmul(swapLastAxes(a), ct), b.shape) : null,
  ],
};

/**
 * Matrix product with NumPy's matmul semantics: 1-D operands are promoted to a
 * row (left) or column (right) and the added axis removed; leading batch axes
 * broadcast. Cost 2·m·k·n per matrix pair (cache-blocked kernel).
 */
export function matmul(a: Operand, b: Operand): Tensor {
  const [x, y] = operands("matmul", [a, b]);
  if (x.ndim === 0 || y.ndim === 0) throw new Error(`matmul: operands must have rank ≥ 1, got ${shapeToString(x.shape)} @ ${shapeToString(y.shape)}; use mul for scalars`);
  const xm = x.ndim === 1 ? reshape(x, [1, x.shape[0]]) : x;
  const ym = y.ndim === 1 ? reshape(y, [y.shape[0], 1]) : y;
  const k = xm.shape[xm.ndim - 1];
  if (ym.shape[ym.ndim - 2] !== k) throw new Error(`matmul: inner dimensions differ (${shapeToString(x.shape)} @ ${shapeToString(y.shape)})`);
  const batch = broadcastShapes("matmul", xm.shape.slice(0, -2), ym.shape.slice(0, -2));
  const out = bind(matmulPrim, [xm, ym], batch);
  if (x.ndim > 1 && y.ndim > 1) return out;
  const shape = out.shape.slice();
  if (y.ndim === 1) shape.splice(shape.length - 1, 1);
  if (x.ndim === 1) shape.splice(shape.length - (y.ndim === 1 ? 1 : 2), 1);
  return reshape(out, shape);
}

/** Inner product Σ aᵢbᵢ of two 1-D tensors of one length (use matmul for anything else). */
export function dot(a: Operand, b: Operand): Tensor {
  const [x, y] = operands("dot", [a, b]);
  if (x.ndim !== 1 || y.ndim !== 1) throw new Error(`dot: expects two 1-D tensors, got ${shapeToString(x.shape)} and ${shapeToString(y.shape)}; use matmul for matrices`);
  if (x.shape[0] !== y.shape[0]) throw new Error(`dot: lengths differ (${shapeToString(x.shape)} · ${shapeToString(y.shape)})`);
  return matmul(x, y);
}

/** Outer product a bᵀ of two 1-D tensors: shape [a.length, b.length]. */
export function outer(a: Operand, b: Operand): Tensor {
  const [x, y] = operands("outer", [a, b]);
  if (x.ndim !== 1 || y.ndim !== 1) throw new Error(`outer: expects two 1-D tensors, got ${shapeToString(x.shape)} and ${shapeToString(y.shape)}`);
  return mul(reshape(x, [x.shape[0], 1]), reshape(y, [1, y.shape[0]]));
}

/** x as a matrix (a column for 1-D), for the rules of solve. */
function asColumns(x: Tensor): Tensor {
  return x.ndim === 1 ? reshape(x, [x.shape[0], 1]) : x;
}

const solvePrim: Primitive = {
  name: "solve",
  impl: ([A, b]) => solveKernel("solve", A, b),
  // ẋ = A⁻¹(ḃ − Ȧ x)
  jvp: ([A, b], [tA, tb], x) => {
    let rhs: MaybeTensor = tb;
    if (tA !== null) {
      const tAx = reshape(matmul(tA, asColumns(x)), x.shape);
      rhs = rhs === null ? neg(tAx) : sub(rhs, tAx);
    }
    return rhs === null ? null : solve(A, rhs);
  },
  // b̄ = A⁻ᵀ x̄,  Ā = −b̄ xᵀ
  vjp: (ct, [A], x, _, needs) => {
    const ctb = solve(swapLastAxes(A), ct);
    return [needs[0] ? neg(matmul(asColumns(ctb), swapLastAxes(asColumns(x)))) : null, ctb];
  },
};

/**
 * Solves A x = b for square A ([n,n]) and b of shape [n] or [n,k], by LU with
 * partial pivoting (cost ⅔n³ + 2n²k). A singular matrix is an Error.
 */
export function solve(A: Operand, b: Operand): Tensor {
  const [M, rhs] = operands("solve", [A, b]);
  if (M.ndim !== 2 || M.shape[0] !== M.shape[1]) throw new Error(`solve: A must be a square matrix [n,n], got ${shapeToString(M.shape)}`);
  if ((rhs.ndim !== 1 && rhs.ndim !== 2) || rhs.shape[0] !== M.shape[0]) throw new Error(`solve: b must have shape [${M.shape[0]}] or [${M.shape[0]},k] to match A ${shapeToString(M.shape)}, got ${shapeToString(rhs.shape)}`);
  return bind(solvePrim, [M, rhs], undefined);
}
