/**
 * Contract: checkGrad, verifyImplicit, tensorArbitrary and scalarArbitrary
 * under bad input. Options are validated (never coerced, unknown keys named);
 * float32 functions are checked in their own dtype; what user code throws
 * reaches the caller unchanged, Error or not.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ImplicitFunction, Tensor, checkGrad, mul, scalarArbitrary, sin, sub, sum, tensor, tensorArbitrary, verifyImplicit,
} from "../../lib/index.js";
import {
  BAD_NUMBERS, COERCIBLE, FC, FUNCTIONS, JUNK, NOT_DATA, NOT_FUNCTIONS, OBJECTS, TENSORS, TOKENS, expectAllMisuse,
  expectAllOkOrMisuse, expectMisuse, expectOkOrMisuse, expectPassesThrough, hugeView, junkArb, snapshot,
} from "./helpers.js";

const f1 = (x: Tensor) => sum(sin(x));
const v2 = () => tensor([0.3, -0.7]);
const half = () => new ImplicitFunction({ forward: (x: Tensor) => mul(x, 0.5), conditions: (x: Tensor, y: Tensor) => sub(mul(y, 2), x) });
const arb2 = () => tensorArbitrary([2]);

describe("contract: checkGrad", () => {
  it("f, args and the options argument", () => {
    expectAllMisuse(NOT_FUNCTIONS, "checkGrad", (f) => checkGrad(f as never, [v2()]), "f must be a function");
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make())), "checkGrad", (args) => checkGrad(f1, args as never), "args");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS, ...FUNCTIONS, { name: "Map", make: () => new Map() }].filter((x) => x.make() !== undefined), "checkGrad", (o) => checkGrad(f1, [v2()], o as never), "option");
    expectMisuse(() => checkGrad(f1, [v2()], { rtoll: 1 } as never), "checkGrad", "rtoll");
    expectMisuse(() => checkGrad(f1, [v2()], { eps: 1e-3 } as never), "checkGrad", "eps");
  });

  it("numeric options: never coerced; negative, NaN, fractional (where integers)", () => {
    const pools: [string, string[]][] = [
      ["rtol", ["Infinity", "1.5", "1e20", "2**53+2"]], ["atol", ["Infinity", "1.5", "0", "1e20", "2**53+2"]],
      ["maxEntries", ["Infinity", "1e20", "2**53+2"]], ["seed", ["0", "1e20"]], ["step", ["1.5", "1e20", "2**53+2"]], ["scale", ["1.5", "1e20", "2**53+2"]],
    ];
    for (const [key, valid] of pools) {
      expectAllMisuse([...COERCIBLE, ...OBJECTS.filter((x) => x.make() !== undefined), ...TENSORS, ...FUNCTIONS, ...BAD_NUMBERS.filter((x) => !valid.includes(x.name))], "checkGrad", (v) => checkGrad(f1, [v2()], { [key]: v } as never), key);
    }
    expectAllMisuse(JUNK.filter((x) => typeof x.make() !== "boolean" && x.make() !== undefined), "checkGrad", (v) => checkGrad(f1, [v2()], { richardson: v } as never), "richardson");
  });

  it("argnums and modes", () => {
    expectAllMisuse(JUNK.filter((x) => x.make() !== undefined && !(Array.isArray(x.make()) && (x.make() as unknown[]).length > 0 && (x.make() as unknown[]).every((v) => v === 0))), "checkGrad", (a) => checkGrad(f1, [v2()], { argnums: a } as never), "argnums");
    expectMisuse(() => checkGrad((a: Tensor, b: Tensor) => sum(mul(a, b)), [v2(), v2()], { argnums: [1, 1] }), "checkGrad", "argnums", "repeat");
    expectMisuse(() => checkGrad((a: Tensor, s: string) => sum(a), [v2(), "label"], { argnums: [1] }), "checkGrad", "argument 1");
    expectMisuse(() => checkGrad(() => 1, ["a", "b"]), "checkGrad", "nothing to check");
    expectAllMisuse([...JUNK.filter((x) => x.make() !== undefined), { name: '["rev","bwd"]', make: () => ["rev", "bwd"] }, { name: '["REV"]', make: () => ["REV"] }], "checkGrad", (m) => checkGrad(f1, [v2()], { modes: m } as never), "modes");
  });

  it("f returning junk, and arguments that are junk", () => {
    expectAllMisuse(JUNK.filter((x) => typeof x.make() !== "number" && !(x.make() instanceof Tensor)), "checkGrad", (out) => checkGrad(() => out, [v2()]));
    expectAllOkOrMisuse(JUNK, "checkGrad", (x) => checkGrad((a: Tensor) => sum(a), [x]));
  });

  it("a huge broadcast view as an argument is a checkGrad Error naming its shape", () => {
    expectMisuse(() => checkGrad(() => 1, [hugeView()]), "checkGrad", "[100000,100000]");
  });

  it("float32 functions are checked with float32 tangents and cotangents", () => {
    const x = tensor([0.3, -0.7], { dtype: "float32" });
    for (const g of [(a: Tensor) => sum(sin(a)), (a: Tensor) => sin(a)]) {
      const r = checkGrad(g, [x], { rtol: 1e-2, atol: 1e-3 });
      expect(r.ok, r.report).to.equal(true);
    }
  });

  it("property: junk in any slot either works or is a checkGrad Error", () => {
    fc.assert(fc.property(junkArb, fc.constantFrom("f", "args", "arg", "opts", "rtol", "argnums", "modes", "maxEntries", "step", "richardson", "out"), (junk, slot) => {
      const x = junk.make();
      const run = {
        f: () => checkGrad(x as never, [v2()]),
        args: () => checkGrad(f1, x as never),
        arg: () => checkGrad(f1, [x]),
        opts: () => checkGrad(f1, [v2()], x as never),
        rtol: () => checkGrad(f1, [v2()], { rtol: x } as never),
        argnums: () => checkGrad(f1, [v2()], { argnums: x } as never),
        modes: () => checkGrad(f1, [v2()], { modes: x } as never),
        maxEntries: () => checkGrad(f1, [v2()], { maxEntries: x } as never),
        step: () => checkGrad(f1, [v2()], { step: x } as never),
        richardson: () => checkGrad(f1, [v2()], { richardson: x } as never),
        out: () => checkGrad(() => x, [v2()]),
      }[slot];
      // f1 = sum(sin(x)) on a junk argument fails inside sin, user code: only the other slots are checked
      if (slot === "arg") return;
      expectOkOrMisuse(run, "checkGrad", `${slot} = ${junk.name}`);
    }), { ...FC, numRuns: 200 });
  });

  it("what f throws reaches the caller unchanged, on the first or a later call", () => {
    for (const { name, make } of TOKENS) {
      const token = make();
      expectPassesThrough(() => checkGrad(() => { throw token; }, [v2()]), token, `checkGrad f throws ${name}`);
      let calls = 0;
      expectPassesThrough(() => checkGrad((x: Tensor) => {
        if (++calls > 3) throw token;
        return f1(x);
      }, [v2()]), token, `checkGrad f throws ${name} later`);
    }
  });

  it("does not mutate its arguments", () => {
    const x = tensor([[0.1, 0.2], [0.3, 0.4]]).transpose();
    const y = [0.5, 0.6];
    const check = snapshot(x, y);
    checkGrad((a: Tensor, b: Tensor) => sum(mul(sin(a), b)), [x, tensor(y)]);
    checkGrad((a: Tensor, s: number) => mul(sin(a), s), [x, 2]);
    check();
  });
});

describe("contract: verifyImplicit", () => {
  it("f, arbitraries and the options argument", () => {
    expectAllMisuse([...JUNK, { name: "a plain object with call", make: () => ({ call: () => 1, forward: () => 1, conditions: () => 1 }) }], "verifyImplicit", (f) => verifyImplicit(f as never, [arb2()], { numRuns: 2 }), "ImplicitFunction");
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make()) || (x.make() as unknown[]).length === 0), "verifyImplicit", (a) => verifyImplicit(half(), a as never, { numRuns: 2 }), "arbitraries");
    expectAllMisuse(JUNK, "verifyImplicit", (a) => verifyImplicit(half(), [a] as never, { numRuns: 2 }), "arbitraries[0]");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS, ...FUNCTIONS, { name: "Map", make: () => new Map() }].filter((x) => x.make() !== undefined), "verifyImplicit", (o) => verifyImplicit(half(), [arb2()], o as never), "option");
    expectMisuse(() => verifyImplicit(half(), [arb2()], { runs: 3 } as never), "verifyImplicit", "runs");
  });

  it("numeric and boolean options: never coerced, positive, finite, integers where counted", () => {
    const pools: [string, string[]][] = [
      ["numRuns", []], ["seed", ["0", "-1", "1e20", "2**53+2"]], ["conditionsTol", ["1.5", "1e20", "2**53+2"]], ["fdTol", ["1.5", "1e20", "2**53+2"]],
      ["adjointTol", ["1.5", "1e20", "2**53+2"]], ["step", ["1.5", "1e20", "2**53+2"]],
    ];
    for (const [key, valid] of pools) {
      expectAllMisuse([...COERCIBLE, ...OBJECTS.filter((x) => x.make() !== undefined), ...TENSORS, ...FUNCTIONS, ...BAD_NUMBERS.filter((x) => !valid.includes(x.name))], "verifyImplicit", (v) => verifyImplicit(half(), [arb2()], { numRuns: 2, [key]: v } as never), key);
    }
    expectAllMisuse(JUNK.filter((x) => typeof x.make() !== "boolean" && x.make() !== undefined), "verifyImplicit", (v) => verifyImplicit(half(), [arb2()], { numRuns: 2, richardson: v } as never), "richardson");
  });

  it("arbitraries producing junk are a verifyImplicit Error naming the arbitrary", () => {
    expectAllMisuse(NOT_DATA.concat(FUNCTIONS), "verifyImplicit", (v) => verifyImplicit(half(), [fc.constant(v)], { numRuns: 2 }), "arbitrary 0");
  });

  it("float32 problems run in float32", () => {
    const f = new ImplicitFunction({ forward: (x: Tensor) => mul(x, 0.5), conditions: (x: Tensor, y: Tensor) => sub(mul(y, 2), x), tol: 1e-6 });
    const summary = verifyImplicit(f, [arb2().map((t) => tensor(t.toFloat64Array(), { dtype: "float32" }))], { numRuns: 5, fdTol: 1e-2, adjointTol: 1e-4, conditionsTol: 1e-5 });
    expect(summary.ok).to.equal(true);
  });

  it("what forward, conditions or an arbitrary throw reaches the caller unchanged, Error or not", () => {
    for (const { name, make } of TOKENS) {
      const token = make();
      const boom = () => { throw token; };
      expectPassesThrough(() => verifyImplicit(new ImplicitFunction({ forward: boom, conditions: (x: Tensor, y: Tensor) => sub(y, x) }), [arb2()], { numRuns: 3 }), token, `forward throws ${name}`);
      expectPassesThrough(() => verifyImplicit(new ImplicitFunction({ forward: (x: Tensor) => x, conditions: boom }), [arb2()], { numRuns: 3 }), token, `conditions throw ${name}`);
      expectPassesThrough(() => verifyImplicit(half(), [arb2().map(boom)], { numRuns: 3 }), token, `an arbitrary throws ${name}`);
      let calls = 0;
      const late = new ImplicitFunction({
        forward: (x: Tensor) => mul(x, 0.5),
        conditions: (x: Tensor, y: Tensor) => {
          if (++calls > 4) boom();
          return sub(mul(y, 2), x);
        },
      });
      expectPassesThrough(() => verifyImplicit(late, [arb2()], { numRuns: 3 }), token, `conditions throw ${name} under jvp/vjp`);
    }
  });

  it("a failed property is a verifyImplicit Error naming it (and the library's own solve failures are property 4)", () => {
    const wrong = new ImplicitFunction({ forward: (x: Tensor) => mul(x, 0.5), conditions: (x: Tensor, y: Tensor) => sub(mul(y, 3), x) });
    expectMisuse(() => verifyImplicit(wrong, [arb2()], { numRuns: 5 }), "verifyImplicit", "property");
    const singular = new ImplicitFunction({ forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => mul(sub(y, x), 0) });
    expectMisuse(() => verifyImplicit(singular, [arb2()], { numRuns: 5 }), "verifyImplicit", "(4)");
  });

  it("does not mutate what the arbitraries produce", () => {
    const seen: [Tensor, () => void][] = [];
    verifyImplicit(half(), [arb2().map((t) => {
      seen.push([t, snapshot(t)]);
      return t;
    })], { numRuns: 5 });
    expect(seen.length).to.be.greaterThan(0);
    for (const [, check] of seen) check();
  });
});

describe("contract: tensorArbitrary and scalarArbitrary", () => {
  it("tensorArbitrary: shape, options, min and max", () => {
    expectAllMisuse(JUNK.filter((x) => !(Array.isArray(x.make()) && (x.make() as unknown[]).every((d) => Number.isInteger(d) && (d as number) >= 0))), "tensorArbitrary", (s) => tensorArbitrary(s as never), "shape");
    for (const shape of [[-1], [1.5], ["2"], [NaN], [Infinity], [null], [true], [2, "3"]]) expectMisuse(() => tensorArbitrary(shape as never), "tensorArbitrary", "shape");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS, ...FUNCTIONS, { name: "Map", make: () => new Map() }].filter((x) => x.make() !== undefined), "tensorArbitrary", (o) => tensorArbitrary([2], o as never), "option");
    expectMisuse(() => tensorArbitrary([2], { minimum: 0 } as never), "tensorArbitrary", "minimum");
    for (const key of ["min", "max"]) {
      expectAllMisuse([...COERCIBLE, ...OBJECTS.filter((x) => x.make() !== undefined), ...TENSORS, ...FUNCTIONS, ...BAD_NUMBERS.filter((x) => !Number.isFinite(x.make()))], "tensorArbitrary", (v) => tensorArbitrary([2], { [key]: v } as never), "min");
    }
    expectMisuse(() => tensorArbitrary([2], { min: 2, max: 1 }), "tensorArbitrary", "min");
    expectMisuse(() => tensorArbitrary([100000, 100000]), "tensorArbitrary", "[100000,100000]");
    fc.assert(fc.property(tensorArbitrary([2, 3], { min: -2, max: 2 }), (t) => t.shape.join() === "2,3" && Array.from(t.toFloat64Array()).every((v) => v >= -2 && v <= 2)), { ...FC, numRuns: 20 });
  });

  it("scalarArbitrary: min and max never coerced, finite, ordered", () => {
    const bad = [...COERCIBLE, ...OBJECTS, ...TENSORS, ...FUNCTIONS, ...BAD_NUMBERS.filter((x) => !Number.isFinite(x.make()))];
    expectAllMisuse(bad, "scalarArbitrary", (v) => scalarArbitrary(v as never, 1), "min");
    expectAllMisuse(bad, "scalarArbitrary", (v) => scalarArbitrary(-1, v as never), "max");
    expectMisuse(() => scalarArbitrary(1, -1), "scalarArbitrary", "min");
    expectAllOkOrMisuse(JUNK, "scalarArbitrary", (v) => scalarArbitrary(v as never, v as never));
  });
});
