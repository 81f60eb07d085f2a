/**
 * Linear algebra primitives: matmul (NumPy semantics, batched), dot, outer,
 * the dense solve A x = b by LU with partial pivoting, and diag.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocateOutput } from "../tensor/storage.js";
import { matmulKernel, solveKernel } from "../tensor/kernels.js";
import { broadcastShapes, contiguousStrides, shapeToString } from "../tensor/shape.js";
import { bind, type MaybeTensor, type Primitive } from "./core.js";
import { operand, operands, type Operand } from "./operands.js";
import { reshape, swapLastAxes, unbroadcast } from "./shape.js";
import { add, mul, neg, sub } from "./elementwise.js";

/** A 1-D operand read as a row [1, k] (left) or a column [k, 1] (right): a view, no copy. */
function asMatrix(x: Tensor, side: "left" | "right"): Tensor {
  if (x.ndim !== 1) return x;
  const [n] = x.shape;
  const [s] = x.strides;
  return side === "left"
    ? new Tensor(x.data, [1, n], [n * s, s], x.offset)
    : new Tensor(x.data, [n, 1], [s, n * s], x.offset);
}

/** The shape of a ⋅ b under NumPy's matmul rules (1-D operands lose their added axis). */
function productShape(a: Tensor, b: Tensor, batch: number[]): number[] {
  const shape = [...batch];
  if (a.ndim > 1) shape.push(a.shape[a.ndim - 2]);
  if (b.ndim > 1) shape.push(b.shape[b.ndim - 1]);
  return shape;
}

/**
 * The matrix product as one primitive for every rank ≥ 1 (so a matrix-vector
 * product is one node on the tape). Its rules work on the operands promoted to
 * matrices: Ā = C̄ Bᵀ and B̄ = Aᵀ C̄, summed over broadcast batch axes.
 */
const matmulPrim: Primitive<number[]> = {
  name: "matmul",
  dense: true,
  impl: ([a, b], batch) => {
    const out = matmulKernel(asMatrix(a, "left"), asMatrix(b, "right"), batch, a.dtype);
    return new Tensor(out.data, productShape(a, b, batch), contiguousStrides(productShape(a, b, batch)), 0);
  },
  shape: ([a, b], batch) => productShape(a, b, batch),
  jvp: ([a, b], [ta, tb]) => {
    const left: MaybeTensor = ta === null ? null : matmul(ta, b);
    const right: MaybeTensor = tb === null ? null : matmul(a, tb);
    if (left === null) return right;
    return right === null ? left : add(left, right);
  },
  vjp: (ct, [a, b], _, batch, needs) => {
    const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
    const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
    const ct2 = reshape(ct, [...batch, a2.shape[a2.ndim - 2], b2.shape[b2.ndim - 1]]);
    return [
      needs[0] ? reshape(unbroadcast(matmul(ct2, swapLastAxes(b2)), a2.shape), a.shape) : null,
      needs[1] ? reshape(unbroadcast(matmul(swapLastAxes(a2), ct2), b2.shape), b.shape) : null,
    ];
  },
};

/**
 * Matrix product with NumPy's matmul semantics: 1-D operands are promoted to a
 * row (left) or column (right) and the added axis removed; leading batch axes
 * broadcast. Cost 2·m·k·n per matrix pair (cache-blocked kernel).
 */
export function matmul(a: Operand, b: Operand): Tensor {
  const [x, y] = operands("matmul", [a, b]);
  if (x.ndim === 0 || y.ndim === 0) throw new Error(`matmul: operands must have rank ≥ 1, got ${shapeToString(x.shape)} @ ${shapeToString(y.shape)}; use mul for scalars`);
  const k = x.shape[x.ndim - 1];
  const kb = y.ndim === 1 ? y.shape[0] : y.shape[y.ndim - 2];
  if (kb !== k) throw new Error(`matmul: inner dimensions differ (${shapeToString(x.shape)} @ ${shapeToString(y.shape)})`);
  const batch = broadcastShapes("matmul", x.shape.slice(0, Math.max(0, x.ndim - 2)), y.shape.slice(0, Math.max(0, y.ndim - 2)));
  return bind(matmulPrim, [x, y], batch);
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
  saves: [0, "out"],
  shape: ([, b]) => b.shape.slice(),
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

/**
 * The diagonal of an m×n matrix, entries (i, i) for i < min(m, n), read with
 * stride = the sum of the matrix's strides. Copied out rather than returned as
 * a view: min(m, n) entries cost nothing, and a result that owns its storage
 * stays valid whatever later reuses the matrix's. Linear; its transpose is
 * `diagEmbed` into the matrix's shape.
 */
const diagPartPrim: Primitive = {
  name: "diagPart",
  saves: [],
  impl: ([x]) => {
    const k = Math.min(x.shape[0], x.shape[1]);
    const out = allocateOutput(x.dtype, k, false);
    const stride = x.strides[0] + x.strides[1];
    for (let i = 0, p = x.offset; i < k; i++, p += stride) out[i] = x.data[p];
    return new Tensor(out, [k], [1], 0);
  },
  shape: ([x]) => [Math.min(x.shape[0], x.shape[1])],
  jvp: (_, [t]) => (t === null ? null : bind(diagPartPrim, [t], undefined)),
  vjp: (ct, [x]) => [bind(diagEmbedPrim, [ct], x.shape.slice())],
};

/**
 * A vector placed on the diagonal of a zero matrix of the shape given (m×n, with
 * m, n ≥ its length): cost m·n to zero, one pass over the vector. Linear; its
 * transpose is `diagPart`.
 */
const diagEmbedPrim: Primitive<number[]> = {
  name: "diagEmbed",
  saves: [],
  impl: ([v], shape) => {
    const [m, n] = shape;
    const out = allocateOutput(v.dtype, m * n);
    const [stride] = v.strides;
    for (let i = 0, k = v.offset; i < v.shape[0]; i++, k += stride) out[i * n + i] = v.data[k];
    return new Tensor(out, shape.slice(), contiguousStrides(shape), 0);
  },
  shape: (_, shape) => shape.slice(),
  jvp: (_, [t], __, shape) => (t === null ? null : bind(diagEmbedPrim, [t], shape)),
  vjp: (ct) => [bind(diagPartPrim, [ct], undefined)],
};

/**
 * NumPy's diag: a 1-D `v` of length n gives the n×n matrix with v on its
 * diagonal (zeros elsewhere); a 2-D m×n matrix gives its diagonal, of length
 * min(m, n). The two are each other's transpose, which is how each is
 * differentiated.
 */
export function diag(v: Operand): Tensor {
  const x = operand("diag", v);
  // A NumPy habit: diag(v, k) for an off-diagonal; not supported, so not ignored.
  if (arguments.length > 1) throw new Error(`diag: takes one argument (a 1-D vector or a 2-D matrix), got ${arguments.length}; a diagonal offset k is not supported (use slice on the matrix)`);
  if (x.ndim === 1) return bind(diagEmbedPrim, [x], [x.shape[0], x.shape[0]]);
  if (x.ndim === 2) return bind(diagPartPrim, [x], undefined);
  throw new Error(`diag: expects a 1-D vector (→ the square matrix with it on its diagonal) or a 2-D matrix (→ its diagonal), got shape ${shapeToString(x.shape)}${x.ndim === 0 ? "; for a 1×1 matrix use diag(reshape(x, [1]))" : ""}`);
}
