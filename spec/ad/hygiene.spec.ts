/**
 * Tape hygiene: user errors pass through unchanged and leave no trace, level or
 * flag behind at any nesting depth; tracers leaked from a finished
 * transformation are constants to later ones; pullbacks can be reused; no
 * transformation mutates its inputs.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Tensor, add, customJvp, customVjp, exp, grad, hessian, hvp, jacobian, jvp, matmul, mul, sin, stopGradient, sum, tensor,
  valueAndGrad, vjp,
} from "../../lib/index.js";
import { nextLevel } from "../../lib/primitives/core.js";
import { expectClose, flat, nonContiguous } from "../helpers.js";
import { randomMatrix, runs, scalarArb, vec, vectorArb } from "./fixtures.js";

/** The engine works: a first and a nested derivative with known values, and no live level left. */
function expectEngineUsable(context: string): void {
  expect(nextLevel(), `${context}: a transformation was left live`).to.equal(1);
  expectClose(grad((x: Tensor) => sum(sin(x)))(vec([0.3, 1])), [Math.cos(0.3), Math.cos(1)], 1e-15, 1e-15, `${context}: grad`);
  expectClose(jvp((x: Tensor) => mul(x, x), [vec([3])], [vec([2])])[1], [12], 0, 0, `${context}: jvp`);
  // perturbation confusion check: d/dx [x · d/dy (x + y)] = 1
  expectClose(grad((x: Tensor) => mul(x, grad((y: Tensor) => add(x, y))(1)))(2), 1, 0, 0, `${context}: nested`);
  expectClose(grad(grad(sin))(0.5), -Math.sin(0.5), 1e-15, 1e-15, `${context}: second order`);
}

/** Calls `run` and returns what it threw (fails if it did not throw). */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  expect.fail("expected the call to throw");
}

type Runner = (f: (x: Tensor) => Tensor) => unknown;

/** Every way of running f under one or more transformations; `f` throws inside. */
const runners: [string, Runner][] = [
  ["grad", (f) => grad(f)(vec([1, 2]))],
  ["valueAndGrad", (f) => valueAndGrad(f)(vec([1, 2]))],
  ["vjp", (f) => vjp(f, vec([1, 2]))],
  ["jvp", (f) => jvp(f, [vec([1, 2])], [vec([1, 1])])],
  ["jacobian fwd", (f) => jacobian(f, { mode: "fwd" })(vec([1, 2]))],
  ["jacobian rev", (f) => jacobian(f, { mode: "rev" })(vec([1, 2]))],
  ["hessian", (f) => hessian(f)(vec([1, 2]))],
  ["hvp", (f) => hvp(f, [vec([1, 2])], [vec([1, 1])])],
  ["grad∘grad", (f) => grad((x: Tensor) => sum(grad(f)(x)))(vec([1, 2]))],
  ["jvp∘grad", (f) => jvp(grad(f), [vec([1, 2])], [vec([1, 0])])],
  ["grad∘jvp", (f) => grad((x: Tensor) => sum(jvp(f, [x], [vec([1, 1])])[1]))(vec([1, 2]))],
  ["jvp∘vjp", (f) => jvp((x: Tensor) => vjp(f, x)[1](1)[0], [vec([1, 2])], [vec([1, 1])])],
  ["grad∘jvp∘grad (depth 3)", (f) => grad((x: Tensor) => sum(jvp(grad(f), [x], [vec([1, 1])])[1]))(vec([1, 2]))],
  ["customVjp inside grad", (f) => grad((x: Tensor) => sum(customVjp(f, (t: Tensor) => [f(t), null] as [Tensor, null], (_r: null, ct: Tensor) => [ct])(x)))(vec([1, 2]))],
];

describe("hygiene: errors thrown by f", () => {
  for (const [name, run] of runners) {
    it(`${name}: the same Error object reaches the caller, and the engine is usable afterwards`, () => {
      const sentinel = new Error("user failure");
      const thrown = thrownBy(() => run((x: Tensor) => {
        const y = sum(mul(sin(x), x)); // some ops are on the tape when it throws
        if (y !== null) throw sentinel;
        return y;
      }));
      expect(thrown).to.equal(sentinel);
      expectEngineUsable(name);
    });

    it(`${name}: non-Error values thrown by f pass through unchanged too`, () => {
      const payload = { code: 42 };
      expect(thrownBy(() => run((x: Tensor) => {
        mul(x, x);
        throw payload;
      }))).to.equal(payload);
      expect(thrownBy(() => run(() => {
        throw "plain string";
      }))).to.equal("plain string");
      expectEngineUsable(name);
    });
  }

  it("an error caught inside an outer transformation does not disturb it: d/dx [try inner; x²] = 2x", () => {
    fc.assert(
      fc.property(scalarArb(), (x0) => {
        const sentinel = new Error("inner");
        const F = (x: Tensor): Tensor => {
          try {
            grad((y: Tensor) => {
              mul(x, y);
              throw sentinel;
            })(1);
          } catch (e) {
            expect(e).to.equal(sentinel);
          }
          try {
            jvp((y: Tensor) => {
              throw sentinel;
            }, [x], [1]);
          } catch (e) {
            expect(e).to.equal(sentinel);
          }
          return mul(x, x);
        };
        expectClose(grad(F)(x0), 2 * x0, 1e-15, 1e-15);
        expectClose(jvp(F, [x0], [1])[1], 2 * x0, 1e-15, 1e-15);
        expectClose(grad(grad(F))(x0), 2, 0, 1e-15);
      }),
      runs(5),
    );
    expectEngineUsable("after caught inner errors");
  });

  it("errors raised by the library inside nested transformations leave nothing behind either", () => {
    expect(thrownBy(() => grad((x: Tensor) => sum(grad((y: Tensor) => mul(y, x))(vec([1, 2]))))(vec([1, 2])))).to.be.instanceOf(Error);
    expect(thrownBy(() => jvp((x: Tensor) => jvp((y: Tensor) => y, [x], [vec([1])])[1], [vec([1, 2])], [vec([1, 1])]))).to.be.instanceOf(Error);
    expect(thrownBy(() => grad((x: Tensor) => matmul(x, vec([1, 2, 3])))(vec([1, 2])))).to.be.instanceOf(Error);
    expectEngineUsable("after library errors");
  });

  it("errors thrown inside custom rules (fwd, bwd, jvp rule, and their transposition)", () => {
    const sentinel = new Error("rule failure");
    const badBwd = customVjp((x: Tensor) => sin(x), (x: Tensor) => [sin(x), x] as [Tensor, Tensor], () => {
      throw sentinel;
    });
    const badFwd = customVjp((x: Tensor) => sin(x), () => {
      throw sentinel;
    }, (_r: unknown, ct: Tensor) => [ct]);
    const badRule = customJvp((x: Tensor) => exp(x), () => {
      throw sentinel;
    });
    expect(thrownBy(() => grad(badBwd)(1))).to.equal(sentinel);
    expect(thrownBy(() => jvp(badBwd, [1], [1]))).to.equal(sentinel);
    expect(thrownBy(() => grad(badFwd)(1))).to.equal(sentinel);
    expect(thrownBy(() => jvp(badRule, [1], [1]))).to.equal(sentinel);
    expect(thrownBy(() => grad(badRule)(1))).to.equal(sentinel);
    expect(thrownBy(() => grad((x: Tensor) => jvp(badRule, [x], [1])[1])(1))).to.equal(sentinel);
    expectEngineUsable("after rule errors");
  });

  it("many failures in a row do not accumulate levels", () => {
    for (let i = 0; i < 200; i++) {
      thrownBy(() => grad((x: Tensor) => jvp(() => {
        throw new Error(String(i));
      }, [x], [1])[1])(1));
    }
    expectEngineUsable("after 200 failures");
  });
});

describe("hygiene: leaked tracers", () => {
  it("a tracer stored by f during grad is a constant to later transformations", () => {
    let leaked: Tensor | null = null;
    expectClose(grad((x: Tensor) => {
      leaked = mul(x, x);
      return sum(leaked);
    })(vec([2, 3])), [4, 6]);
    const l = leaked as unknown as Tensor;
    expectClose(l, [4, 9]); // still readable as a value
    expectClose(grad((z: Tensor) => sum(mul(z, l)))(vec([1, 1])), [4, 9]);
    expectClose(grad((z: Tensor) => add(sum(mul(l, l)), sum(z)))(vec([1, 1])), [1, 1]);
    expectClose(jvp((z: Tensor) => mul(z, l), [vec([1, 1])], [vec([1, 2])])[1], [4, 18]);
    // returned as the output of a new transformation: a constant, zero derivative
    expectClose(grad((_z: Tensor) => sum(l))(vec([1, 1])), [0, 0]);
    expectClose(jvp((_z: Tensor) => l, [vec([1])], [vec([1])])[1], [0, 0]);
    // used as a tangent or cotangent
    expectClose(jvp((z: Tensor) => mul(z, 3), [vec([1, 1])], [l])[1], [12, 27]);
    expectClose(vjp((z: Tensor) => mul(z, 3), vec([1, 1]))[1](l)[0], [12, 27]);
    // and in plain code
    expectClose(add(l, 1), [5, 10]);
    expectEngineUsable("after a leak");
  });

  it("a tracer leaked from jvp, and one leaked from a nested transformation, are constants later", () => {
    let fromJvp: Tensor | null = null;
    jvp((x: Tensor) => {
      fromJvp = exp(x);
      return fromJvp;
    }, [vec([0])], [vec([1])]);
    let fromNested: Tensor | null = null;
    grad((x: Tensor) => sum(grad((y: Tensor) => {
      fromNested = mul(x, y);
      return sum(fromNested);
    })(x)))(vec([3]));
    const a = fromJvp as unknown as Tensor;
    const b = fromNested as unknown as Tensor;
    expectClose(grad((z: Tensor) => sum(mul(mul(z, a), b)))(vec([1])), [1 * 9]);
    expectClose(jvp((z: Tensor) => add(z, mul(a, b)), [vec([5])], [vec([1])])[1], [1]);
  });

  it("a tracer leaked from an inner transformation is its primal to the still-running outer one", () => {
    // Inside d/dx: the inner grad over y stores x·y (at y = 1); after the inner grad ends, the stored
    // value is x·1 as the outer transformation sees it, so d/dx [stored · x] = d/dx x² = 2x.
    fc.assert(
      fc.property(scalarArb(), (x0) => {
        const F = (x: Tensor): Tensor => {
          let stored: Tensor | null = null;
          grad((y: Tensor) => {
            stored = mul(x, y);
            return stored;
          })(1);
          return mul(stored as unknown as Tensor, x);
        };
        expectClose(grad(F)(x0), 2 * x0, 1e-15, 1e-15);
        expectClose(jvp(F, [x0], [1])[1], 2 * x0, 1e-15, 1e-15);
      }),
      runs(5),
    );
  });

  it("a leaked tracer passed as the argument of a new transformation is differentiated as a plain value", () => {
    let leaked: Tensor | null = null;
    grad((x: Tensor) => {
      leaked = mul(x, 2);
      return sum(leaked);
    })(vec([1, 2]));
    const l = leaked as unknown as Tensor;
    expectClose(grad((z: Tensor) => sum(mul(z, z)))(l), [4, 8]);
    expectClose(jvp((z: Tensor) => sin(z), [l], [vec([1, 1])])[1], [Math.cos(2), Math.cos(4)]);
  });

  it("stopGradient of a leaked tracer, and a leaked tracer inside a custom rule's residuals", () => {
    let leaked: Tensor | null = null;
    grad((x: Tensor) => {
      leaked = sin(x);
      return leaked;
    })(0.5);
    const l = leaked as unknown as Tensor;
    const scaled = customVjp((x: Tensor) => mul(x, l), (x: Tensor) => [mul(x, l), l] as [Tensor, Tensor], (r: Tensor, ct: Tensor) => [mul(ct, r)]);
    expectClose(grad(scaled)(3), Math.sin(0.5), 1e-15);
    expectClose(jvp(scaled, [3], [2])[1], 2 * Math.sin(0.5), 1e-15);
    expectClose(grad((z: Tensor) => mul(z, stopGradient(l)))(1), Math.sin(0.5), 1e-15);
  });
});

describe("hygiene: pullbacks", () => {
  it("a pullback can be called many times, with the same results", () => {
    const X = randomMatrix(3, 2, 51);
    const [, pullback] = vjp((w: Tensor) => sin(matmul(tensor(X), w)), vec([0.5, -1]));
    const ct = vec([1, 2, 3]);
    const first = flat(pullback(ct)[0]);
    for (let i = 0; i < 5; i++) expectClose(pullback(ct)[0], first, 0, 0);
    // linear in the cotangent: pb(a + 2b) = pb(a) + 2 pb(b)
    const a = vec([1, 0, -1]);
    const b = vec([0.5, 2, 1]);
    const combined = flat(pullback(add(a, mul(b, 2)))[0]);
    const separate = flat(pullback(a)[0]).map((v, i) => v + 2 * flat(pullback(b)[0])[i]);
    expectClose(combined, separate, 1e-14, 1e-15);
    // and against the closed form Xᵀ (cos(Xw) ⊙ ȳ)
    const z = X.map((row) => row[0] * 0.5 + row[1] * -1);
    expectClose(first, [0, 1].map((j) => X.reduce((s, row, i) => s + row[j] * Math.cos(z[i]) * (i + 1), 0)), 1e-14, 1e-15);
  });

  it("a pullback called inside a later transformation is differentiable in the cotangent", () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, vec([2, 3])), vec([1, 1]));
    // ȳ ↦ Σ pullback(ȳ) ⊙ w = Σ ȳ ⊙ (2, 3) ⊙ w, gradient (2w₁, 3w₂)
    const w = vec([5, 7]);
    expectClose(grad((ct: Tensor) => sum(mul(pullback(ct)[0], w)))(vec([1, 1])), [10, 21]);
    expectClose(pullback(vec([1, 1]))[0], [2, 3]);
  });

  it("a pullback whose recording errored on one call still works on the next", () => {
    const [, pullback] = vjp((x: Tensor) => exp(x), vec([0, 1]));
    expect(thrownBy(() => pullback(vec([1])))).to.be.instanceOf(Error);
    expectClose(pullback(vec([1, 1]))[0], [1, Math.E], 1e-15);
  });
});

describe("hygiene: no transformation mutates its inputs", () => {
  it("primals, tangents, cotangents and captured constants keep their values (contiguous and strided views)", () => {
    fc.assert(
      fc.property(vectorArb(4), vectorArb(4), (x0, v0) => {
        const C = tensor(randomMatrix(4, 4, 52));
        for (const layout of ["contiguous", "padded", "reversed"] as const) {
          const x = layout === "contiguous" ? x0 : nonContiguous(x0, layout);
          const v = layout === "contiguous" ? v0 : nonContiguous(v0, layout);
          const snapshot = (): number[][] => [x, v, C].map((t) => Array.from(t.data));
          const before = snapshot();
          const f = (t: Tensor): Tensor => sum(mul(sin(matmul(C, t)), t));
          const identity = (t: Tensor): Tensor => t;
          grad(f)(x);
          valueAndGrad(f)(x);
          vjp(f, x)[1](1);
          vjp(identity, x)[1](v);
          jvp(f, [x], [v]);
          jvp(identity, [x], [v]);
          jacobian((t: Tensor) => mul(sin(t), C), { mode: "fwd" })(x);
          jacobian((t: Tensor) => mul(sin(t), C), { mode: "rev" })(x);
          hessian(f)(x);
          hvp(f, [x], [v]);
          grad((t: Tensor) => sum(grad(f)(t)))(x);
          jvp(grad(f), [x], [v]);
          stopGradient(x);
          expect(snapshot()).to.deep.equal(before);
        }
      }),
      runs(5),
    );
  });
});
