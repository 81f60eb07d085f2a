/**
 * Derivative rules of matmul (1-D, 2-D and batched operands with broadcasting
 * batch dimensions), dot, outer and solve, on random shapes and layouts,
 * against finite differences in both modes and the two modes against each other.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, matmul, dot, outer, solve, diag, linearize, linearTranspose, hessian, mul, reshape } from "../../lib/index.js";
import { broadcastShapesArb, dimArb, makeOperand, operandOf, unitValues, layoutArb, runs } from "./reference.js";
import { checkRules } from "./rules.js";
import { expectClose } from "../helpers.js";
import * as lib from "../../lib/index.js";
import { grad, sum, tensor } from "../../lib/index.js";

const RUNS = runs(60);

const matmulShapes: fc.Arbitrary<[number[], number[]]> = fc.tuple(
  fc.constantFrom("vv", "vm", "mv", "mm", "mm", "mm"), dimArb(3, false), dimArb(3, false), dimArb(3, false), broadcastShapesArb(2, 2, 2, false),
).map(([kind, m, k, n, [ba, bb]]) => [kind[0] === "v" ? [k] : [...ba, m, k], kind[1] === "v" ? [k] : [...bb, k, n]]);

/** A strictly diagonally dominant n×n matrix (well conditioned) in a random layout. */
const matrixArb = (n: number) => fc.tuple(unitValues(n * n), layoutArb).map(([u, layout]) =>
  makeOperand([n, n], u.map((v, i) => (i % (n + 1) === 0 ? n + 1 + v : v)), layout));

describe("primitives/linalg: derivative rules (FD, jvp, vjp, adjointness)", () => {
  it("matmul: 1-D, 2-D and batched operands with broadcasting batch dimensions", () => {
    fc.assert(fc.property(matmulShapes.chain(([sa, sb]) => fc.tuple(operandOf(sa), operandOf(sb))), fc.integer(), ([a, b], seed) => {
      checkRules({ f: (x, y) => matmul(x, y), args: [a.t, b.t], seed, label: `matmul ${JSON.stringify(a.ref.shape)} @ ${JSON.stringify(b.ref.shape)}` });
    }), runs(50));
  });

  it("dot and outer", () => {
    const arb = fc.tuple(dimArb(4, false), dimArb(4, false)).chain(([n, m]) => fc.tuple(operandOf([n]), operandOf([n]), operandOf([m])));
    fc.assert(fc.property(arb, fc.integer(), ([a, b, c], seed) => {
      checkRules({ f: (x, y) => dot(x, y), args: [a.t, b.t], seed, label: "dot" });
      checkRules({ f: (x, y) => outer(x, y), args: [a.t, c.t], seed, label: "outer" });
    }), RUNS);
  });

  it("solve in A and b (b of shape [n] or [n,k])", () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.option(fc.integer({ min: 1, max: 3 }))).chain(([n, k]) =>
      fc.tuple(matrixArb(n), operandOf(k === null ? [n] : [n, k])));
    fc.assert(fc.property(arb, fc.integer(), ([A, b], seed) => {
      checkRules({ f: (M, r) => solve(M, r), args: [A.t, b.t], seed, label: `solve [${A.ref.shape}] [${b.ref.shape}]` });
    }), RUNS);
  });

  it("diag of a vector and of a matrix (square and rectangular), in every layout", () => {
    const arb = fc.oneof(dimArb(4, false).map((n) => [n]), fc.tuple(dimArb(4, false), dimArb(4, false))).chain((shape) => operandOf(shape));
    fc.assert(fc.property(arb, fc.integer(), (a, seed) => {
      checkRules({ f: (x) => diag(x), args: [a.t], seed, label: `diag ${JSON.stringify(a.ref.shape)}` });
      // Composed both ways (a matrix's diagonal back on a diagonal, a vector's matrix back to the vector).
      checkRules({ f: (x) => diag(diag(x)), args: [a.t], seed, label: `diag∘diag ${JSON.stringify(a.ref.shape)}` });
    }), RUNS);
  });

  it("diag: values against their definition, views of strided matrices, zero sizes, and linearize", () => {
    const M = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(diag(M).toArray()).to.deep.equal([1, 5]);
    expect(diag(M.T).toArray()).to.deep.equal([1, 5]);
    expect(diag(tensor([[1, 2], [3, 4], [5, 6]]).T).toArray()).to.deep.equal([1, 4]);
    expect(M.diag().toArray()).to.deep.equal([1, 5]);
    expect(diag(tensor([2, -1, 3])).toArray()).to.deep.equal([[2, 0, 0], [0, -1, 0], [0, 0, 3]]);
    expect(diag(lib.slice(tensor([9, 2, 9, 3]), [1], [2])).toArray()).to.deep.equal([[2, 0], [0, 9]]);
    expect(diag(lib.zeros([0])).shape).to.deep.equal([0, 0]);
    expect(diag(lib.zeros([3, 0])).shape).to.deep.equal([0]);
    expect(diag(tensor([1, 2], { dtype: "float32" })).dtype).to.equal("float32");
    // ∇ of Σ diag(A)ᵢ wᵢ is diag(w) padded to A's shape; the Hessian of ½ xᵀ diag(d) x is diag(d).
    expectClose(grad((A: Tensor) => dot(diag(A), tensor([3, -2])))(M), tensor([[3, 0, 0], [0, -2, 0]]), 0, 0, "∇ diag");
    const d = tensor([1, 4, 9]);
    expectClose(hessian((x: Tensor) => mul(0.5, dot(x, matmul(diag(d), x))))(tensor([1, 1, 1])), tensor([[1, 0, 0], [0, 4, 0], [0, 0, 9]]), 1e-15, 0, "Hessian");
    // A linear program through diag, and its transpose.
    const [, lin] = linearize((x: Tensor) => diag(mul(x, x)), tensor([1, 2]));
    expectClose(lin(tensor([1, 1])) as Tensor, tensor([[2, 0], [0, 4]]), 0, 0, "lin");
    expectClose(linearTranspose(lin)(tensor([[1, 5], [7, 1]]))[0], [2, 4], 0, 0, "lt");
    expectClose(reshape(diag(tensor([[7]])), []), 7, 0, 0, "1×1");
  });

  it("closed forms: ∂(aᵀb)/∂a = b, ∂(xᵀA⁻¹c)/∂c = A⁻ᵀx", () => {
    expectClose(grad((a: Tensor) => dot(a, tensor([4, 5, 6])))(tensor([1, 2, 3])), [4, 5, 6], 0, 0, "∇dot");
    const A = tensor([[2, 1], [0, 4]]);
    // A⁻ᵀ [1, 1] = [[1/2, 0], [-1/8, 1/4]] [1, 1] = [0.5, 0.125]
    expectClose(grad((c: Tensor) => sum(solve(A, c)))(tensor([1, 1])), [0.5, 0.125], 1e-15, 0, "∇ sum(A⁻¹c)");
  });
});

describe("primitives: derivative rules on zero-size operands", () => {
  it("matmul with k = 0, broadcasting adds and reductions of empty tensors differentiate to empty/zero results", () => {
    const e = (shape: number[]) => lib.zeros(shape);
    checkRules({ f: (a, b) => matmul(a, b), args: [e([2, 0]), e([0, 3])], seed: 1, label: "matmul k=0" });
    checkRules({ f: (a, b) => matmul(a, b), args: [e([0, 2]), lib.ones([2, 3])], seed: 2, label: "matmul m=0" });
    checkRules({ f: (a, b) => lib.add(a, b), args: [e([0, 3]), lib.ones([1, 3])], seed: 3, label: "add [0,3]+[1,3]" });
    checkRules({ f: (a) => lib.sum(a, 1), args: [e([2, 0])], seed: 4, label: "sum over an empty axis" });
    // logsumexp over an empty axis is −∞ (no finite differences there); its derivatives are empty or zero.
    const [, tangent] = lib.jvp((a: Tensor) => lib.logsumexp(a, 0, true), [e([0, 2])], [e([0, 2])]);
    expect(tangent.toArray()).to.deep.equal([[0, 0]]);
    expect(grad((a: Tensor) => lib.sum(lib.logsumexp(a, 0)))(e([0, 2])).shape).to.deep.equal([0, 2]);
    checkRules({ f: (a, b) => lib.concat([a, b], 0), args: [e([0, 2]), lib.ones([1, 2])], seed: 6, label: "concat with an empty part" });
  });
});
