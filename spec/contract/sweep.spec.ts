/**
 * Contract sweep: every export covered here, every argument position (of the
 * export and of the function it returns), every value of the junk pool. Each
 * call either succeeds or throws an Error prefixed with the public name, never
 * an engine TypeError/RangeError, never hangs, and never mutates the valid
 * arguments around the junk.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ImplicitFunction, Tensor, bicgstab, cg, checkGrad, cholesky, choleskySolve, customJvp, customVjp, fixedPointConditions, gmres,
  grad, hessian, hvp, jacobian, jvp, kktConditions, lassoConditions, lsqr, luSolve, minres, mul, packKKT, projectBox, projectL2Ball,
  projectNonNegative, projectSimplex, projectedGradientConditions, proximalGradientConditions, scalarArbitrary, sin, softThreshold,
  stationarityConditions, sub, sum, tensor, tensorArbitrary, traceTape, traceToString, unpackKKT, valueAndGrad, verifyImplicit, vjp,
} from "../../lib/index.js";
import { FC, JUNK, isMisuseError, snapshot, thrown } from "./helpers.js";

const sq = (x: Tensor) => sum(mul(x, x));
const half = () => new ImplicitFunction({ forward: (x: Tensor) => mul(x, 0.5), conditions: (x: Tensor, y: Tensor) => sub(mul(y, 2), x) });
const plainValues = (v: unknown): number[] => (v instanceof Tensor ? Array.from(v.toFloat64Array()) : [Number(v)]);
const halfPlain = () => new ImplicitFunction({
  forward: (x: unknown) => tensor(plainValues(x).map((v) => v / 2)),
  conditions: (...args: unknown[]) => tensor(plainValues(args[args.length - 1]).map(() => 0)),
});
const cond = (spec: { conditions: unknown }) => spec.conditions as (...args: unknown[]) => unknown;

interface Entry {
  /** The public name errors must begin with. */
  name: string;
  /**
   * Positions whose value the template hands to other public functions first:
   * their names, any of which may begin the Error (a value one accepts, the next may refuse).
   */
  via: Record<number, string[]>;
  /** Valid arguments (all stages flattened). */
  args: () => unknown[];
  call: (a: unknown[]) => unknown;
}

const e = (name: string, args: () => unknown[], call: (a: unknown[]) => unknown, via: Record<number, string[]> = {}): Entry => ({ name, args, call, via });

/** v ↦ [[4,1],[1,3]] v on plain numbers, for any input (so that only the library judges its output). */
const product = (v: Tensor): Tensor => {
  const x = v.toFloat64Array();
  return tensor([4 * x[0] + x[1], x[0] + 3 * x[1]]);
};
const A = () => tensor([[4, 1], [1, 3]]);
const b = () => tensor([1, 2]);
const x2 = () => tensor([0.3, -0.6]);

const ENTRIES: Entry[] = [
  e("grad", () => [sq, {}, x2()], (a) => grad(a[0] as never, a[1] as never)(a[2])),
  e("valueAndGrad", () => [sq, { argnums: 0 }, x2()], (a) => valueAndGrad(a[0] as never, a[1] as never)(a[2])),
  e("vjp", () => [(x: Tensor) => mul(x, 2), x2(), tensor([1, 1])], (a) => vjp(a[0] as never, a[1])[1](a[2] as never)),
  e("jvp", () => [sq, [x2()], [x2()]], (a) => jvp(a[0] as never, a[1] as never, a[2] as never)),
  e("jacobian", () => [(x: Tensor) => mul(x, x), { mode: "rev" }, x2()], (a) => jacobian(a[0] as never, a[1] as never)(a[2])),
  e("hessian", () => [sq, { argnums: 0 }, x2()], (a) => hessian(a[0] as never, a[1] as never)(a[2])),
  e("hvp", () => [sq, [x2()], [x2()]], (a) => hvp(a[0] as never, a[1] as never, a[2] as never)),
  e("customVjp", () => [(x: Tensor) => sin(x), (x: Tensor) => [sin(x), x], (_: unknown, ct: Tensor) => [mul(ct, 2)], x2()],
    (a) => grad((x: Tensor) => sum(customVjp(a[0] as never, a[1] as never, a[2] as never)(x)))(a[3] as never), { 3: ["grad"] }),
  e("customJvp", () => [(x: Tensor) => sin(x), ([p]: Tensor[], [t]: Tensor[]) => [sin(p), mul(t, p.cos())], x2()],
    (a) => jvp((x: Tensor) => customJvp(a[0] as never, a[1] as never)(x), [a[2]], [x2()]), { 2: ["jvp"] }),
  e("traceTape", () => [sq, x2()], (a) => traceTape(a[0] as never, a[1] as never)),
  e("traceToString", () => [sq, x2()], (a) => traceToString(a[0] as never, a[1] as never)),
  e("cg", () => [A(), b(), { tol: 1e-8 }], (a) => cg(a[0] as never, a[1] as never, a[2] as never)),
  e("gmres", () => [A(), b(), { restart: 2 }], (a) => gmres(a[0] as never, a[1] as never, a[2] as never)),
  e("bicgstab", () => [product, b(), { maxIter: 10 }], (a) => bicgstab(a[0] as never, a[1] as never, a[2] as never)),
  e("minres", () => [A(), b(), { M: (v: Tensor) => v }], (a) => minres(a[0] as never, a[1] as never, a[2] as never)),
  e("lsqr", () => [{ shape: [2, 2], matvec: product, rmatvec: product }, b(), { atol: 0 }], (a) => lsqr(a[0] as never, a[1] as never, a[2] as never)),
  e("luSolve", () => [A(), b(), { transpose: true }], (a) => luSolve(a[0] as never, a[1] as never, a[2] as never)),
  e("cholesky", () => [A()], (a) => cholesky(a[0] as never)),
  e("choleskySolve", () => [A(), b()], (a) => choleskySolve(a[0] as never, a[1] as never)),
  e("ImplicitFunction", () => [(x: Tensor) => mul(x, 0.5), (x: Tensor, y: Tensor) => sub(mul(y, 2), x), "auto", x2()],
    (a) => grad((x: Tensor) => sum(new ImplicitFunction({ forward: a[0] as never, conditions: a[1] as never, linearSolver: a[2] as never }).call(x)))(a[3] as never), { 3: ["grad", "ImplicitFunction"] }),
  // User code on plain numbers that never throws, so that only call() judges its inputs
  // (errors raised by the user's own conditions pass through unchanged, by design).
  e("ImplicitFunction", () => [x2(), 1.5], (a) => halfPlain().call(a[0] as never, a[1] as never)),
  e("stationarityConditions", () => [(w: Tensor) => sq(w), { positiveDefinite: true }, x2()], (a) => cond(stationarityConditions(a[0] as never, a[1] as never))(a[2])),
  e("fixedPointConditions", () => [(w: Tensor) => mul(w, 0.5), x2()], (a) => cond(fixedPointConditions(a[0] as never))(a[1])),
  e("proximalGradientConditions", () => [(w: Tensor) => sq(w), (v: Tensor) => v, 0.1, x2()], (a) => cond(proximalGradientConditions(a[0] as never, a[1] as never, a[2] as never))(a[3])),
  e("lassoConditions", () => [(_: Tensor, w: Tensor) => sq(w), 0.1, 0, tensor(0.2), x2()], (a) => cond(lassoConditions(a[0] as never, a[1] as never, a[2] as never))(a[3], a[4])),
  e("projectedGradientConditions", () => [(w: Tensor) => sq(w), (v: Tensor) => v, 0.1, x2()], (a) => cond(projectedGradientConditions(a[0] as never, a[1] as never, a[2] as never))(a[3])),
  e("kktConditions", () => [(w: Tensor) => sq(w), { primal: 2 }, x2()], (a) => cond(kktConditions({ objective: a[0] as never, sizes: a[1] as never }))(a[2])),
  e("packKKT", () => [x2(), tensor([1]), tensor([2])], (a) => packKKT(a[0] as never, a[1] as never, a[2] as never)),
  e("unpackKKT", () => [tensor([1, 2, 3]), { primal: 2, equality: 1 }], (a) => unpackKKT(a[0] as never, a[1] as never)),
  e("softThreshold", () => [x2(), 0.1], (a) => softThreshold(a[0] as never, a[1] as never)),
  e("projectNonNegative", () => [x2()], (a) => projectNonNegative(a[0] as never)),
  e("projectBox", () => [x2(), -0.5, 0.5], (a) => projectBox(a[0] as never, a[1] as never, a[2] as never)),
  e("projectL2Ball", () => [x2(), 0.5], (a) => projectL2Ball(a[0] as never, a[1] as never)),
  e("projectSimplex", () => [x2(), 1], (a) => projectSimplex(a[0] as never, a[1] as never)),
  e("checkGrad", () => [(x: Tensor) => sum(sin(x)), [x2()], { rtol: 1e-4 }], (a) => checkGrad(a[0] as never, a[1] as never, a[2] as never)),
  e("verifyImplicit", () => [half(), [tensorArbitrary([2])], { numRuns: 2 }], (a) => verifyImplicit(a[0] as never, a[1] as never, a[2] as never)),
  e("tensorArbitrary", () => [[2], { min: -1, max: 1 }], (a) => tensorArbitrary(a[0] as never, a[1] as never)),
  e("scalarArbitrary", () => [-1, 1], (a) => scalarArbitrary(a[0] as never, a[1] as never)),
];

function describeThrown(x: unknown): string {
  return x instanceof Error ? `${x.constructor.name}: ${x.message}` : typeof x === "symbol" ? "nothing" : `a non-Error ${String(x)}`;
}

/** One call with junk in one slot: success or a prefixed Error, quickly, with the other arguments untouched. */
function checkOne(entry: Entry, slot: number, junk: { name: string; make: () => unknown }): void {
  const args = entry.args();
  const check = snapshot(...args.filter((_, i) => i !== slot));
  args[slot] = junk.make();
  const t0 = performance.now();
  const got = thrown(() => entry.call(args));
  const dt = performance.now() - t0;
  const names = entry.via[slot] ?? [entry.name];
  const context = `${entry.name}, argument ${slot} = ${junk.name}`;
  if (typeof got !== "symbol" && !names.some((name) => isMisuseError(got, name))) expect.fail(`${context}: expected success or an Error starting with ${names.map((name) => `"${name}: "`).join(" or ")}, got ${describeThrown(got)}`);
  expect(dt, `${context} took ${dt.toFixed(0)} ms`).to.be.lessThan(3000);
  check();
}

describe("contract sweep: every export × every argument × every junk value", () => {
  it("the valid templates work", () => {
    for (const entry of ENTRIES) {
      const got = thrown(() => entry.call(entry.args()));
      expect(typeof got, `${entry.name}: ${describeThrown(got)}`).to.equal("symbol");
    }
  });

  for (const entry of ENTRIES) {
    it(`${entry.name} (${entry.args().length} argument positions × ${JUNK.length} values)`, () => {
      const n = entry.args().length;
      for (let slot = 0; slot < n; slot++) for (const junk of JUNK) checkOne(entry, slot, junk);
    });
  }

  it("property: junk in two positions at once", () => {
    fc.assert(fc.property(fc.constantFrom(...ENTRIES), fc.nat(), fc.nat(), fc.constantFrom(...JUNK), fc.constantFrom(...JUNK), (entry, i, j, ja, jb) => {
      const args = entry.args();
      const si = i % args.length;
      const sj = j % args.length;
      args[si] = ja.make();
      args[sj] = jb.make();
      const got = thrown(() => entry.call(args));
      const names = [entry.name, ...(entry.via[si] ?? []), ...(entry.via[sj] ?? [])];
      if (typeof got !== "symbol" && !names.some((n) => isMisuseError(got, n))) expect.fail(`${entry.name}, arguments ${si} = ${ja.name} and ${sj} = ${jb.name}: got ${describeThrown(got)}`);
    }), { ...FC, numRuns: 6000 });
  });
});
