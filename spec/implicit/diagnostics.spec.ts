/**
 * ImplicitFunction never returns a silently wrong derivative, and says why
 * (issue 15): conditions that do not hold at forward's output, a NaN in ∂F/∂x,
 * what forward receives and returns (Tensors, data, byproducts), float32 and
 * mixed dtypes. Flags that do not describe ∂F/∂y, tolerances a precision
 * cannot reach and the "auto" rule are the linear solves' (linear-solve.spec.ts).
 */
import { expect } from "chai";
import ndarray from "ndarray";
import {
  ImplicitFunction, Tensor, add, exp, grad, jacobian, jvp, log, matmul, mul, sqrt, sub, sum, tanh, tensor, verifyImplicit, zeros,
  scalarArbitrary,
} from "../../lib/index.js";
import { SOLVER_NAMES } from "../../lib/implicit/linear-solve.js";
import { expectClose, expectError } from "../helpers.js";

/** √x by Newton's method on plain numbers, `iterations` steps from 1 (few steps: an unconverged forward). */
function newtonSqrt(x: number, iterations = 60): number {
  let y = 1;
  for (let i = 0; i < iterations; i++) y = 0.5 * (y + x / y);
  return y;
}

describe("ImplicitFunction: conditions that do not hold at forward's output (issue 15, item 2)", () => {
  // The typo: y = exp(x) with conditions log(y − 2) − x (should be log(y) − x).
  const typo = (extra: Record<string, unknown> = {}) => new ImplicitFunction({
    forward: (x: Tensor) => exp(x),
    conditions: (x: Tensor, y: Tensor) => sub(log(sub(y, 2)), x),
    ...extra,
  });

  it("a NaN in F at forward's output throws, strict or not, with or without a derivative, naming the entries", () => {
    const x = tensor([0, 1, 2]);
    for (const strict of [false, true]) {
      const f = typo({ strict });
      for (const run of [() => f.call(x), () => grad((v: Tensor) => sum(f.call(v)))(x), () => jvp((v: Tensor) => f.call(v), [x], [tensor([1, 1, 1])])]) {
        const e = expectError(run, "ImplicitFunction:", "does not satisfy the conditions", "F[0] = NaN", "y[0] = 1");
        expect(e.message).to.match(/1 of 3/);
      }
    }
    const inf = new ImplicitFunction({ forward: () => tensor([[1, 0], [2, 3]]), conditions: (_x: Tensor, y: Tensor) => log(y) });
    expectError(() => inf.call(1), "ImplicitFunction:", "F[0,1] = -∞");
  });

  it("by default, a finite residual large enough to make the derivative wrong throws, naming residualTol", () => {
    // At x = [1, 2] F is finite (−1.33, −0.32); the derivative computed there was [0.72, 5.39], the truth [2.72, 7.39].
    const f = typo();
    const x = tensor([1, 2]);
    expectError(() => grad((v: Tensor) => sum(f.call(v)))(x), "ImplicitFunction:", "does not satisfy the conditions", "residualTol");
    expectError(() => jvp((v: Tensor) => f.call(v), [x], [tensor([1, 0])]), "ImplicitFunction:", "residualTol");
    expectError(() => jacobian((v: Tensor) => f.call(v), { mode: "rev" })(x), "ImplicitFunction:", "residualTol");
    const right = new ImplicitFunction({ forward: (v: Tensor) => exp(v), conditions: (v: Tensor, y: Tensor) => sub(log(y), v) });
    expectClose(grad((v: Tensor) => sum(right.call(v)))(x), [Math.E, Math.exp(2)], 1e-12);
  });

  it("the rule is relative: an unconverged forward fails whatever F's scale, a converged one passes", () => {
    // Newton for √2 stopped after 3 steps: y = 1.41421568…, off by 2.1e-6 relative; after 60 steps, exact.
    for (const scale of [1e-12, 1, 1e12]) {
      const make = (iterations: number, extra: Record<string, unknown> = {}) => new ImplicitFunction({
        forward: (x: Tensor) => tensor(newtonSqrt(x.item(), iterations)),
        conditions: (x: Tensor, y: Tensor) => mul(scale, sub(mul(y, y), x)),
        ...extra,
      });
      const exact = make(60);
      expectClose(grad((x: Tensor) => exact.call(x))(tensor(2)), [1 / (2 * Math.SQRT2)], 1e-12, 0);
      const loose = make(2); // y = 1.4166…, 1.7e-3 from √2
      const e = expectError(() => grad((x: Tensor) => loose.call(x))(tensor(2)), "ImplicitFunction:", "residualTol 1e-5");
      expect(e.message, `scale ${scale}`).to.match(/residualTol: 1e-2/);
      // Accepting that accuracy on purpose: the derivative at forward's y, 1/(2y).
      const accepted = make(2, { residualTol: 1e-2 });
      expectClose(grad((x: Tensor) => accepted.call(x))(tensor(2)), [1 / (2 * newtonSqrt(2, 2))], 1e-12, 0);
    }
  });

  it("near y = 0 the rule is absolute (a forward stopped at 1e-13 instead of 0 passes)", () => {
    const f = new ImplicitFunction({ forward: () => tensor([1e-13, -2e-13]), conditions: (x: Tensor, y: Tensor) => sub(tanh(y), mul(x, 0.5)) });
    expectClose(grad((x: Tensor) => sum(f.call(x)))(tensor([0, 0])), [0.5, 0.5], 1e-9);
  });

  it("the default tolerance follows the dtype: 1e-5 for float64, 5e-3 for float32", () => {
    // y off by 1e-4 relative: wrong for float64, within float32's default.
    for (const [dtype, ok] of [["float64", false], ["float32", true]] as const) {
      const f = new ImplicitFunction({
        forward: (x: Tensor) => tensor(Math.sqrt(x.item()) * (1 + 1e-4), { dtype }),
        conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x),
      });
      const run = () => grad((x: Tensor) => f.call(x))(tensor(4, { dtype }));
      if (ok) expectClose(run(), [1 / (4 * (1 + 1e-4))], 1e-6);
      else expectError(run, "ImplicitFunction:", "residualTol 1e-5 (the float64 default)");
    }
  });

  it("strict keeps its absolute check; residualTol: Infinity switches the relative one off", () => {
    const f = new ImplicitFunction({ forward: (x: Tensor) => tensor(newtonSqrt(x.item(), 2)), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x), residualTol: Infinity });
    expectClose(grad((x: Tensor) => f.call(x))(tensor(2)), [1 / (2 * newtonSqrt(2, 2))], 1e-12, 0);
    const strict = new ImplicitFunction({ forward: (x: Tensor) => tensor(newtonSqrt(x.item(), 3)), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x), strict: true, strictTol: 1e-8, residualTol: 1 });
    expectError(() => strict.call(2), "ImplicitFunction:", "strictTol 1e-8");
    expectError(() => new ImplicitFunction({ forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => sub(y, x), residualTol: 0 }), "ImplicitFunction:", "residualTol");
  });

  it("a NaN only in ∂F/∂x is an Error naming the input, in both modes (it was a silent NaN gradient)", () => {
    // y = a + b^{3/2} with conditions y − a − b·√b: at b = 0, F = 0 and A = 1, but AD gives ∂F/∂b = √b + b/(2√b) = 0 + 0·∞ = NaN.
    const f = new ImplicitFunction({
      forward: (a: Tensor, b: Tensor) => tensor(a.item() + b.item() ** 1.5),
      conditions: (a: Tensor, b: Tensor, y: Tensor) => sub(sub(y, a), mul(b, sqrt(b))),
    });
    expectError(() => grad((a: Tensor, b: Tensor) => f.call(a, b), { argnums: [0, 1] })(tensor(1), tensor(0)), "ImplicitFunction:", "input 1", "∂F/∂(input 1)");
    expectError(() => jvp((a: Tensor, b: Tensor) => f.call(a, b), [tensor(1), tensor(0)], [tensor(0), tensor(1)]), "ImplicitFunction:", "input 1", "∂F/∂(input 1)");
    // Input 0 alone is fine.
    expectClose(grad((a: Tensor) => f.call(a, tensor(0)))(tensor(1)), [1], 1e-12);
  });

  it("a NaN cotangent is named as such", () => {
    const f = new ImplicitFunction({ forward: (x: Tensor) => mul(x, 0.5), conditions: (x: Tensor, y: Tensor) => sub(mul(y, 2), x) });
    expectError(() => grad((x: Tensor) => sum(mul(f.call(x), NaN)))(tensor([1, 2])), "ImplicitFunction:", "cotangent");
  });
});

describe("ImplicitFunction: forward receives Tensors (issue 15, item 3)", () => {
  it("numbers, nested arrays, typed arrays and ndarrays reach forward (and the conditions) as Tensors, with and without a derivative", () => {
    const seen: string[] = [];
    const f = new ImplicitFunction({
      forward: (x: Tensor) => {
        seen.push(x instanceof Tensor ? `Tensor ${JSON.stringify(x.shape)}` : typeof x);
        return tensor(Math.sqrt(x.toFloat64Array()[0]));
      },
      conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), sum(x)),
    });
    expectClose(f.call(4), [2]);
    expectClose(f.call([4]), [2]);
    expectClose(f.call(Float64Array.of(4)), [2]);
    expectClose(f.call(ndarray(Float64Array.of(4), [1])), [2]);
    expectClose(grad((x: Tensor) => f.call(x))(4), [0.25], 1e-12);
    expect(seen).to.deep.equal(["Tensor []", "Tensor [1]", "Tensor [1]", "Tensor [1]", "Tensor []"]);
  });

  it("the README's x.item() pattern works with a plain number", () => {
    const sqrtF = new ImplicitFunction({
      forward: (x: Tensor) => tensor(newtonSqrt(x.item())),
      conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x),
    });
    expectClose(sqrtF.call(4), [2], 1e-15);
  });
});

describe("ImplicitFunction: float32 and mixed dtypes (issue 15, item 4)", () => {
  const sqrt32 = (extra: Record<string, unknown> = {}) => new ImplicitFunction({
    forward: (x: Tensor) => tensor(Math.sqrt(x.item()), { dtype: "float32" }),
    conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x),
    ...extra,
  });

  it("a float32 √x works with the default options, its tolerance chosen by the dtype", () => {
    for (const linearSolver of SOLVER_NAMES) {
      const f = sqrt32({ linearSolver });
      const x = tensor(2, { dtype: "float32" });
      const g = grad((v: Tensor) => f.call(v))(x);
      expect(g.dtype).to.equal("float32");
      expectClose(g, [1 / (2 * Math.SQRT2)], 1e-6, 0, linearSolver);
      expect(f.lastSolve!.tol, linearSolver).to.equal(1e-5);
      expectClose(jvp((v: Tensor) => f.call(v), [x], [tensor(1, { dtype: "float32" })])[1], [1 / (2 * Math.SQRT2)], 1e-6, 0, linearSolver);
    }
  });

  it("a forward returning another dtype than its inputs is named as the culprit", () => {
    const f64 = new ImplicitFunction({ forward: (x: Tensor) => tensor(Math.sqrt(x.item())), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x) });
    const x32 = tensor(2, { dtype: "float32" });
    expectError(() => f64.call(x32), "ImplicitFunction:", "forward returned a float64 y", "input 0 is float32");
    expectError(() => grad((v: Tensor) => f64.call(v))(x32), "ImplicitFunction:", "forward returned a float64 y", "input 0 is float32");
    expectError(() => grad((v: Tensor) => sqrt32().call(v))(tensor(2)), "ImplicitFunction:", "forward returned a float32 y", "input 0 is float64");
    // Other dtype errors in the conditions (not forward's doing) pass through as they are.
    const data32 = tensor([1], { dtype: "float32" });
    const mixed = new ImplicitFunction({ forward: (x: Tensor) => tensor(Math.sqrt(x.item())), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), add(x, data32)) });
    expectError(() => mixed.call(3), "add: dtypes differ");
  });
});

describe("ImplicitFunction: byproducts are explicit (issue 15, item 6)", () => {
  it("an array forward returns is y's data, never a tuple", () => {
    const pair = new ImplicitFunction({ forward: () => [1, 2], conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    expectClose(pair.call([1, 2]), [1, 2]);
    expectClose(jvp((x: Tensor) => pair.call(x), [tensor([1, 2])], [tensor([3, 4])])[1], [3, 4], 1e-12);
    const nested = new ImplicitFunction({ forward: () => [[1, 2], [3, 4]], conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    expect(nested.call([[1, 2], [3, 4]]).shape).to.deep.equal([2, 2]);
    const typed = new ImplicitFunction({ forward: (x: Tensor) => Float64Array.from(x.toFloat64Array(), Math.sqrt), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x) });
    expectClose(grad((x: Tensor) => sum(typed.call(x)))(tensor([4, 9])), [1 / 4, 1 / 6], 1e-12);
  });

  it("{ y, byproduct } hands the byproduct to the conditions, undifferentiated", () => {
    let seen: unknown = null;
    const f = new ImplicitFunction({
      forward: (x: Tensor) => ({ y: tensor(Math.sqrt(x.item())), byproduct: { iterations: 7 } }),
      conditions: (x: Tensor, y: Tensor, info: unknown) => {
        seen = info;
        return sub(mul(y, y), x);
      },
    });
    expectClose(grad((x: Tensor) => f.call(x))(tensor(9)), [1 / 6], 1e-12);
    expect(seen).to.deep.equal({ iterations: 7 });
    // y may itself be data.
    const g = new ImplicitFunction({ forward: () => ({ y: [3, 4], byproduct: tensor([1, 1]) }), conditions: (x: Tensor, y: Tensor, mask: Tensor) => mul(mask, sub(y, x)) });
    expectClose(jvp((x: Tensor) => g.call(x), [tensor([3, 4])], [tensor([1, 2])])[1], [1, 2], 1e-12);
  });

  it("the old pair [y, byproduct] is an Error pointing to { y, byproduct }", () => {
    const f = new ImplicitFunction({ forward: (x: Tensor) => [mul(x, 1), { iterations: 3 }] as never, conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    expectError(() => f.call(tensor([1, 2])), "ImplicitFunction:", "forward", "{ y, byproduct }");
    expectError(() => grad((x: Tensor) => sum(f.call(x)))(tensor([1, 2])), "ImplicitFunction:", "{ y, byproduct }");
    const junk = new ImplicitFunction({ forward: () => ({ value: tensor(1) }) as never, conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    expectError(() => junk.call(1), "ImplicitFunction:", "forward", "{ y, byproduct }");
  });

  it("a pair [y, a number] (an iteration count) and an array of Tensors point to { y, byproduct } too (issue 25)", () => {
    const withCount = new ImplicitFunction({ forward: (x: Tensor) => [mul(x, 1), 3000] as never, conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    const err = expectError(() => withCount.call(tensor([1, 2])), "ImplicitFunction:", "forward returned a pair (a Tensor, number 3000)", "return { y, byproduct }", "byproduct: 3000");
    expect(err.message).not.to.contain("only numbers are accepted");
    expectError(() => grad((x: Tensor) => sum(withCount.call(x)))(tensor([1, 2])), "ImplicitFunction:", "{ y, byproduct }");
    const dataPair = new ImplicitFunction({ forward: () => [[1, 2], 7] as never, conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    expectError(() => dataPair.call(tensor([1, 2])), "ImplicitFunction:", "pair", "{ y, byproduct }");
    const parts = new ImplicitFunction({ forward: (x: Tensor) => [x, x, x] as never, conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    expectError(() => parts.call(tensor([1, 2])), "ImplicitFunction:", "array of 3 entries holding Tensors", "stack or concat", "{ y, byproduct }");
  });

  it("verifyImplicit reads { y, byproduct } too (the stock conditions' part is in conditions.spec.ts)", () => {
    const withByproduct = new ImplicitFunction({
      forward: (x: Tensor) => ({ y: tensor(Math.sqrt(x.item())), byproduct: 2 }),
      conditions: (x: Tensor, y: Tensor, power: number) => sub(mul(y, y), mul(x, power / 2)),
    });
    expect(verifyImplicit(withByproduct, [scalarArbitrary(0.5, 4)], { numRuns: 5 }).ok).to.equal(true);
  });
});

describe("ImplicitFunction: a refused call leaves no state behind", () => {
  it("the engine differentiates as before after the error", () => {
    const f = new ImplicitFunction({ forward: (x: Tensor) => exp(x), conditions: (x: Tensor, y: Tensor) => sub(log(sub(y, 2)), x) });
    expect(() => grad((v: Tensor) => sum(f.call(v)))(tensor([1, 2]))).to.throw();
    expectClose(grad((v: Tensor) => sum(mul(v, add(v, 1))))(tensor([1, 2])), [3, 5]);
  });
});

describe("ImplicitFunction: a solve that hit maxIter names the limit (issue 25)", () => {
  // A symmetric positive definite tridiagonal system of 30 unknowns: CG needs about 30 steps, not 2.
  const n = 30;
  const A = tensor(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 + i / n : Math.abs(i - j) === 1 ? -1 : 0))));
  const make = (extra: Record<string, unknown>) => new ImplicitFunction({
    forward: () => zeros([n]),
    conditions: (b: Tensor, y: Tensor) => sub(matmul(A, y), b),
    residualTol: Infinity,
    ...extra,
  });
  const b = zeros([n]);

  it("linearSolver \"cg\" with maxIter: 2 names maxIter and does not blame a positiveDefinite flag never set", () => {
    const err = expectError(() => grad((v: Tensor) => sum(make({ linearSolver: "cg", maxIter: 2 }).call(v)))(b), "ImplicitFunction:", "cg did not converge", "status maxIter", "the iteration limit maxIter: 2", "raise maxIter");
    expect(err.message).not.to.match(/drop positiveDefinite/i);
  });

  it("with positiveDefinite: true set, the limit comes first and the flag is mentioned only as a possibility", () => {
    const err = expectError(() => grad((v: Tensor) => sum(make({ linearSolver: "cg", positiveDefinite: true, maxIter: 2 }).call(v)))(b), "ImplicitFunction:", "the iteration limit maxIter: 2", "Only if it is not positive definite");
    expect(err.message.indexOf("maxIter: 2")).to.be.below(err.message.indexOf("positiveDefinite"));
  });

  it("gmres (no flag involved) says maxIter was the status and suggests a larger one", () => {
    expectError(() => grad((v: Tensor) => sum(make({ linearSolver: "gmres", maxIter: 3 }).call(v)))(b), "ImplicitFunction:", "gmres did not converge: 3 iterations", "status maxIter", "a larger maxIter");
  });

  it("a large enough maxIter solves it (so the limit was the reason)", () => {
    expect(() => grad((v: Tensor) => sum(make({ linearSolver: "cg", maxIter: 200 }).call(v)))(b)).not.to.throw();
  });
});
