/**
 * Contract: what user code throws (f, a customVjp/customJvp rule, a matvec or
 * callback run inside f, an ImplicitFunction's forward or conditions) reaches
 * the caller as the same value, at any nesting depth of transformations, and
 * leaves no tape, level or flag behind: derivatives taken afterwards are right.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ImplicitFunction, Tensor, cg, customJvp, customVjp, gmres, grad, hessian, hvp, jacobian, jvp, mul, sin, sub, sum, tensor,
  traceTape, valueAndGrad, vjp,
} from "../../lib/index.js";
import { FC, TOKENS, expectEngineUsable, thrown } from "./helpers.js";

type Scalar = (x: Tensor) => Tensor;

/** Transformations that turn a scalar function of x into another one (so they stack). */
const LAYERS: [string, (f: Scalar) => Scalar][] = [
  ["grad", (f) => (x) => sum(mul(grad(f)(x), x))],
  ["valueAndGrad", (f) => (x) => {
    const [v, g] = valueAndGrad(f)(x);
    return sum(mul(g, x)).add(v);
  }],
  ["jvp", (f) => (x) => jvp(f, [x], [sin(x)])[1]],
  ["vjp", (f) => (x) => sum(vjp((z: Tensor) => mul(z, f(z)), x)[1](tensor([1, 2]))[0])],
  ["hvp", (f) => (x) => sum(hvp(f, [x], [x]) as Tensor)],
  ["jacobian rev", (f) => (x) => sum(jacobian((z: Tensor) => mul(z, f(z)), { mode: "rev" })(x))],
  ["jacobian fwd", (f) => (x) => sum(jacobian((z: Tensor) => mul(z, f(z)), { mode: "fwd" })(x))],
  ["identity", (f) => f],
];

/** Where user code runs inside the innermost function; `boom` throws on the chosen call. */
const SITES: [string, (boom: () => void) => Scalar][] = [
  ["f", (boom) => (x) => {
    boom();
    return sum(mul(sin(x), x));
  }],
  ["customVjp fwd", (boom) => (x) => sum(customVjp((z: Tensor) => sin(z), (z: Tensor) => {
    boom();
    return [sin(z), z];
  }, (z: Tensor, ct: Tensor) => [mul(ct, z.cos())])(x))],
  ["customVjp bwd", (boom) => (x) => sum(customVjp((z: Tensor) => sin(z), (z: Tensor) => [sin(z), z], (z: Tensor, ct: Tensor) => {
    boom();
    return [mul(ct, z.cos())];
  })(x))],
  ["customJvp rule", (boom) => (x) => sum(customJvp((z: Tensor) => sin(z), ([z]: Tensor[], [t]: Tensor[]) => {
    boom();
    return [sin(z), mul(t, z.cos())];
  })(x))],
  ["a cg matvec inside f", (boom) => (x) => {
    const r = cg((v: Tensor) => {
      boom();
      return mul(v, 2);
    }, tensor([1, 2]));
    return sum(mul(x, r.x));
  }],
  ["a gmres callback inside f", (boom) => (x) => {
    gmres(tensor([[3, 1], [1, 2]]), tensor([1, 2]), { callback: boom });
    return sum(mul(x, x));
  }],
  ["traceTape inside f", (boom) => (x) => {
    traceTape((z: Tensor) => {
      boom();
      return sum(z);
    }, tensor([1, 2]));
    return sum(sin(x));
  }],
  ["an ImplicitFunction's conditions", (boom) => {
    const f = new ImplicitFunction({
      forward: (z: Tensor) => mul(z, 0.5),
      conditions: (z: Tensor, y: Tensor) => {
        boom();
        return sub(mul(y, 2), z);
      },
    });
    return (x) => sum(mul(f.call(x), x));
  }],
  ["an ImplicitFunction's forward", (boom) => {
    const f = new ImplicitFunction({
      forward: (z: Tensor) => {
        boom();
        return mul(z, 0.5);
      },
      conditions: (z: Tensor, y: Tensor) => sub(mul(y, 2), z),
    });
    return (x) => sum(mul(f.call(x), x));
  }],
];

describe("contract: user errors pass through transformations unchanged and leave nothing behind", () => {
  it("property: a throw at the k-th user call, under a random stack of transformations", () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom(...LAYERS), { minLength: 0, maxLength: 3 }),
      fc.constantFrom(...SITES),
      fc.constantFrom(...TOKENS),
      fc.integer({ min: 1, max: 40 }),
      (layers, [site, makeSite], { name, make }, k) => {
        // Count the user calls a clean run makes, then throw on one of them.
        let calls = 0;
        let throwAt = Infinity;
        const token = make();
        const fn = makeSite(() => {
          if (++calls === throwAt) throw token;
        });
        const composed = layers.reduce<Scalar>((f, [, layer]) => layer(f), fn);
        const x = tensor([0.4, -0.3]);
        const clean = thrown(() => composed(x));
        const total = calls;
        const layerNames = layers.map(([n]) => n).join(" ∘ ");
        if (typeof clean !== "symbol") expect.fail(`a clean run of ${site} under [${layerNames}] threw ${clean instanceof Error ? clean.message : String(clean)}`);
        if (total === 0) return;
        throwAt = 1 + ((k - 1) % total);
        calls = 0;
        const got = thrown(() => composed(x));
        const context = `${name} thrown by ${site} at call ${throwAt}/${total} under [${layerNames}]`;
        expect(got === token, `${context}: got ${got instanceof Error ? got.message : String(got)}`).to.equal(true);
        expectEngineUsable(context);
      },
    ), { ...FC, numRuns: 400 });
  });

  it("the same after hessian and nested grad of an ImplicitFunction", () => {
    for (const { name, make } of TOKENS) {
      const token = make();
      let calls = 0;
      // The conditions run once per call at every order; the user's solves run later, in the sweeps: the third one throws.
      const f = new ImplicitFunction({
        forward: (z: Tensor) => mul(z, 0.5),
        conditions: (z: Tensor, y: Tensor) => sub(mul(y, 2), z),
        linearSolver: (_A: unknown, b: Tensor) => {
          if (++calls % 3 === 0) throw token;
          return mul(b, 0.5);
        },
      });
      for (const run of [
        () => hessian((x: Tensor) => sum(mul(f.call(x), x)))(tensor([1, 2])),
        () => grad((x: Tensor) => sum(grad((z: Tensor) => sum(mul(f.call(z), z)))(x)))(tensor([1, 2])),
      ]) {
        calls = 0;
        expect(thrown(run) === token, name).to.equal(true);
        expectEngineUsable(`${name} from an ImplicitFunction under second order`);
      }
    }
  });
});
