/**
 * Contract: bad input to the transformations (grad, valueAndGrad, vjp, jvp,
 * jacobian, hessian, hvp, customVjp, customJvp, traceTape, traceToString).
 * Misuse is an Error prefixed with the public name, naming the option or the
 * shapes; nothing is coerced; tangents and cotangents must match exactly.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Tensor, customJvp, customVjp, grad, hessian, hvp, jacobian, jvp, mul, sin, sum, tensor, traceTape, traceToString,
  valueAndGrad, vjp,
} from "../../lib/index.js";
import {
  COERCIBLE, FC, NOT_DATA, FUNCTIONS, JUNK, NOT_FUNCTIONS, OBJECTS, TENSORS, expectAllMisuse, expectAllOkOrMisuse, expectMisuse,
  expectOkOrMisuse, filled, hugeView, junkArb, junkExcept, shapeArb, shapePairArb, shapeText, snapshot,
} from "./helpers.js";

const sq = (x: Tensor) => sum(mul(x, x));
const v2 = () => tensor([1, 2]);
const dot2 = (a: Tensor, b: Tensor) => sum(mul(a, b));

/** Results f may not return for a scalar-output transformation: junk except numbers and rank-0 tensors. */
const NOT_SCALARS = JUNK.filter((x) => {
  const v = x.make();
  return typeof v !== "number" && !(v instanceof Tensor && v.ndim === 0);
});
/** Results no transformation accepts from f (not a Tensor or a number). */
const NOT_TENSORS = JUNK.filter((x) => {
  const v = x.make();
  return typeof v !== "number" && !(v instanceof Tensor);
});

type Transform = { name: string; make: (f: never, opts?: never) => (...args: unknown[]) => unknown };
const GRADS: Transform[] = [
  { name: "grad", make: grad as never },
  { name: "valueAndGrad", make: valueAndGrad as never },
];

describe("contract: grad and valueAndGrad", () => {
  for (const { name, make } of GRADS) {
    describe(name, () => {
      it("f that is not a function", () => {
        expectAllMisuse(NOT_FUNCTIONS, name, (f) => make(f as never)(v2()), "f must be a function");
      });

      it("options that are not a plain object, or carry an unknown key", () => {
        const bad = [...COERCIBLE, ...FUNCTIONS, ...TENSORS, { name: "number", make: () => 3 }, { name: "Map", make: () => new Map() }];
        expectAllMisuse(bad.filter((x) => x.make() !== undefined), name, (o) => make(sq as never, o as never)(v2()), "option");
        expectMisuse(() => make(sq as never, { argnum: 0 } as never)(v2()), name, "argnum");
        expectMisuse(() => make(sq as never, { mode: "rev" } as never)(v2()), name, "mode");
      });

      it("argnums: never coerced, non-negative integers in range, distinct, non-empty", () => {
        expectAllMisuse(junkExcept("0", "undefined"), name, (a) => make(sq as never, { argnums: a } as never)(v2()), "argnums");
        expectMisuse(() => make(dot2 as never, { argnums: [0, 0] } as never)(v2(), v2()), name, "argnums", "repeat");
        expectMisuse(() => make(dot2 as never, { argnums: [0, 2] } as never)(v2(), v2()), name, "argnums", "2");
        expectMisuse(() => make(dot2 as never, { argnums: [0, "1"] } as never)(v2(), v2()), name, "argnums");
      });

      it("arguments: strings, booleans, null and objects are not differentiated", () => {
        expectAllMisuse(NOT_DATA, name, (x) => make(sq as never)(x));
        // anything else either works (numbers, nested arrays, Tensors) or is a prefixed Error
        expectAllOkOrMisuse(JUNK, name, (x) => make(sq as never)(x));
      });

      it("f returning anything but a scalar names what it got", () => {
        expectAllMisuse(NOT_SCALARS, name, (out) => make((() => out) as never)(v2()));
        expectMisuse(() => make(((x: Tensor) => mul(x, x)) as never)(v2()), name, "scalar", "[2]");
        expectMisuse(() => make(((x: Tensor) => mul(x, x)) as never)(tensor([[2]])), name, "[1,1]");
      });

      it("a zero gradient of a huge broadcast view is an Error naming the shape, not a RangeError", () => {
        expectMisuse(() => make((() => 1) as never)(hugeView()), name, "[100000,100000]");
      });
    });
  }

  it("property: any junk in any slot either works or is a prefixed Error", () => {
    fc.assert(fc.property(junkArb, fc.integer({ min: 0, max: 3 }), (junk, slot) => {
      const x = junk.make();
      const calls = [
        () => grad(x as never)(v2()),
        () => grad(sq, x as never)(v2()),
        () => grad(sq)(x as never),
        () => grad((() => x) as never)(v2()),
      ];
      expectOkOrMisuse(calls[slot], "grad", `slot ${slot} with ${junk.name}`);
    }), { ...FC, numRuns: 400 });
  });
});

describe("contract: vjp", () => {
  it("f, primals and f's result", () => {
    expectAllMisuse(NOT_FUNCTIONS, "vjp", (f) => vjp(f as never, v2()), "f must be a function");
    expectAllMisuse(NOT_DATA, "vjp", (p) => vjp(sq, p as never));
    expectAllMisuse(NOT_TENSORS, "vjp", (out) => vjp((() => out) as never, v2()));
    expectMisuse(() => vjp((x: Tensor) => [x, x] as never, v2()), "vjp");
  });

  it("a cotangent that is not a Tensor (or a number for a scalar output)", () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, 2), v2());
    expectAllMisuse([...COERCIBLE, ...OBJECTS, ...FUNCTIONS, { name: "number", make: () => 1 }], "vjp", (ct) => pullback(ct as never), "[2]");
    const [, scalarPullback] = vjp(sq, v2());
    expect(Array.from(scalarPullback(2)[0].toFloat64Array())).to.deep.equal([4, 8]);
    expectAllMisuse(COERCIBLE, "vjp", (ct) => scalarPullback(ct as never));
  });

  it("property: a cotangent of another shape is an Error naming both shapes (no broadcasting)", () => {
    fc.assert(fc.property(shapePairArb, ([outShape, ctShape]) => {
      const [, pullback] = vjp((x: Tensor) => mul(x, 3), filled(outShape));
      expectMisuse(() => pullback(filled(ctShape)), "vjp", shapeText(ctShape), shapeText(outShape));
    }), FC);
  });

  it("a cotangent of another dtype", () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, 2), v2());
    expectMisuse(() => pullback(tensor([1, 1], { dtype: "float32" })), "vjp", "float32", "float64");
  });

  it("the pullback can be reused after a misuse", () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, 2), v2());
    expectMisuse(() => pullback(tensor([1, 2, 3])), "vjp");
    expect(Array.from(pullback(tensor([1, 1]))[0].toFloat64Array())).to.deep.equal([2, 2]);
  });
});

describe("contract: jvp", () => {
  it("f, primals and tangents that are not arrays, and counts that differ", () => {
    expectAllMisuse(NOT_FUNCTIONS, "jvp", (f) => jvp(f as never, [v2()], [v2()]), "f must be a function");
    const notArrays = JUNK.filter((x) => !Array.isArray(x.make()));
    expectAllMisuse(notArrays, "jvp", (p) => jvp(sq, p as never, [v2()]), "arrays");
    expectAllMisuse(notArrays, "jvp", (t) => jvp(sq, [v2()], t as never), "arrays");
    expectMisuse(() => jvp(sq, [v2()], [v2(), v2()]), "jvp", "1", "2");
    expectMisuse(() => jvp(sq, [v2(), v2()], [v2()]), "jvp", "2", "1");
  });

  it("a primal or a tangent that is junk", () => {
    expectAllMisuse(NOT_DATA, "jvp", (p) => jvp(sq, [p], [v2()]));
    // [2] is tensor data of shape [1], not [2]: the shape error names both.
    expectAllMisuse([...COERCIBLE, ...OBJECTS, ...FUNCTIONS, { name: "nested array [[1, 2]]", make: () => [[1, 2]] }], "jvp", (t) => jvp(sq, [v2()], [t]), "tangent 0", "[2]");
  });

  it("property: a tangent of another shape is an Error naming both shapes (no broadcasting)", () => {
    fc.assert(fc.property(shapePairArb, ([primalShape, tangentShape]) => {
      expectMisuse(() => jvp((x: Tensor) => sum(x), [filled(primalShape)], [filled(tangentShape)]), "jvp", shapeText(tangentShape), shapeText(primalShape));
    }), FC);
  });

  it("a tangent of another dtype, and f returning junk", () => {
    expectMisuse(() => jvp(sq, [v2()], [tensor([1, 1], { dtype: "float32" })]), "jvp", "float32");
    expectAllMisuse(NOT_TENSORS.filter((x) => !Array.isArray(x.make()) || (x.make() as unknown[]).length === 0 || (x.make() as unknown[]).some((e) => typeof e !== "number")), "jvp", (out) => jvp((() => out) as never, [v2()], [v2()]));
  });

  it("a constant output shaped like a huge broadcast view: an Error naming the shape, not a RangeError", () => {
    expectMisuse(() => jvp(() => hugeView(), [v2()], [v2()]), "jvp", "[100000,100000]");
  });
});

describe("contract: jacobian, hessian and hvp", () => {
  it("jacobian: f, options, mode and argnums", () => {
    expectAllMisuse(NOT_FUNCTIONS, "jacobian", (f) => jacobian(f as never)(v2()), "f must be a function");
    expectAllMisuse([...COERCIBLE, ...TENSORS, ...FUNCTIONS].filter((x) => x.make() !== undefined), "jacobian", (o) => jacobian(sq, o as never)(v2()), "option");
    expectMisuse(() => jacobian(sq, { mode: "fwd", argnum: 1 } as never)(v2()), "jacobian", "argnum");
    expectAllMisuse([...junkExcept("undefined"), { name: '"forward"', make: () => "forward" }, { name: '"REV"', make: () => "REV" }], "jacobian", (m) => jacobian(sq, { mode: m } as never)(v2()), "mode");
    expectAllMisuse(junkExcept("0", "undefined"), "jacobian", (a) => jacobian(sq, { argnums: a } as never)(v2()), "argnums");
  });

  for (const mode of ["fwd", "rev", "auto"] as const) {
    it(`jacobian (${mode}): f returning junk, and arguments that are junk`, () => {
      expectAllMisuse(NOT_TENSORS.filter((x) => x.name !== "() => 1" && x.name !== '() => "x"'), "jacobian", (out) => jacobian((() => out) as never, { mode })(v2()));
      expectAllMisuse(NOT_DATA, "jacobian", (x) => jacobian((t: Tensor) => mul(t, 2), { mode })(x as never));
    });
  }

  it("jacobian: a Jacobian too large to build names the shapes instead of failing in the engine", () => {
    for (const mode of ["fwd", "rev", "auto"] as const) {
      expectMisuse(() => jacobian((x: Tensor) => sum(x), { mode })(hugeView()), "jacobian", "[100000,100000]");
    }
  });

  it("hessian: f, options, argnums and f's result", () => {
    expectAllMisuse(NOT_FUNCTIONS, "hessian", (f) => hessian(f as never)(v2()), "f must be a function");
    expectAllMisuse([...COERCIBLE, ...TENSORS, ...FUNCTIONS].filter((x) => x.make() !== undefined), "hessian", (o) => hessian(sq, o as never)(v2()), "option");
    expectMisuse(() => hessian(sq, { mode: "rev" } as never)(v2()), "hessian", "mode");
    expectAllMisuse(junkExcept("0", "undefined"), "hessian", (a) => hessian(sq, { argnums: a } as never)(v2()), "argnums");
    expectAllMisuse(NOT_SCALARS, "hessian", (out) => hessian((() => out) as never)(v2()));
    expectMisuse(() => hessian((x: Tensor) => mul(x, x))(v2()), "hessian", "scalar", "[2]");
  });

  it("hvp: f, primals, tangents (count, junk and shape)", () => {
    expectAllMisuse(NOT_FUNCTIONS, "hvp", (f) => hvp(f as never, [v2()], [v2()]), "f must be a function");
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make()) || (x.make() as unknown[]).length === 0), "hvp", (p) => hvp(sq, p as never, [v2()]));
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make())), "hvp", (t) => hvp(sq, [v2()], t as never));
    expectMisuse(() => hvp(sq, [v2()], [v2(), v2()]), "hvp");
    expectAllMisuse([...COERCIBLE, ...OBJECTS, ...FUNCTIONS], "hvp", (t) => hvp(sq, [v2()], [t]));
    expectMisuse(() => hvp(sq, [v2()], [tensor([1, 2, 3])]), "hvp", "[3]", "[2]");
    expectMisuse(() => hvp((x: Tensor) => mul(x, x), [v2()], [v2()]), "hvp", "scalar");
  });

  it("property: hvp and jacobian take any junk in any slot without an engine error", () => {
    fc.assert(fc.property(junkArb, fc.integer({ min: 0, max: 5 }), (junk, slot) => {
      const x = junk.make();
      const calls: [string, () => unknown][] = [
        ["hvp", () => hvp(sq, [x], [v2()])],
        ["hvp", () => hvp(sq, [v2()], [x])],
        ["hvp", () => hvp((() => x) as never, [v2()], [v2()])],
        ["jacobian", () => jacobian(sq)(x as never)],
        ["jacobian", () => jacobian((() => x) as never, { mode: "rev" })(v2())],
        ["hessian", () => hessian(sq)(x as never)],
      ];
      const [name, call] = calls[slot];
      expectOkOrMisuse(call, name, `slot ${slot} with ${junk.name}`);
    }), FC);
  });
});

describe("contract: customVjp and customJvp", () => {
  const id = (x: Tensor) => x;
  const fwd = (x: Tensor): [Tensor, null] => [x, null];
  const bwd = (_: null, ct: Tensor) => [ct];

  it("customVjp: f, fwd and bwd must be functions", () => {
    expectAllMisuse(NOT_FUNCTIONS, "customVjp", (f) => customVjp(f as never, fwd, bwd), "f must be a function");
    expectAllMisuse(NOT_FUNCTIONS, "customVjp", (g) => customVjp(id, g as never, bwd), "fwd must be a function");
    expectAllMisuse(NOT_FUNCTIONS, "customVjp", (g) => customVjp(id, fwd, g as never), "bwd must be a function");
  });

  it("customVjp: junk arguments, and rules returning junk", () => {
    const f = customVjp(id, fwd, bwd);
    expectAllMisuse(NOT_DATA, "customVjp", (x) => f(x as never));
    expectAllMisuse(NOT_TENSORS, "customVjp", (out) => customVjp((() => out) as never, fwd, bwd)(v2()));
    const underGrad = (g: (x: Tensor) => Tensor) => grad((x: Tensor) => sum(g(x)))(v2());
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make()) || (x.make() as unknown[]).length !== 2), "customVjp", (pair) => underGrad(customVjp(id, (() => pair) as never, bwd)), "fwd");
    expectAllMisuse(NOT_TENSORS, "customVjp", (out) => underGrad(customVjp(id, (() => [out, null]) as never, bwd)));
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make()) || (x.make() as unknown[]).length !== 1), "customVjp", (cts) => underGrad(customVjp(id, fwd, (() => cts) as never)));
    expectAllMisuse([...COERCIBLE, ...OBJECTS, ...FUNCTIONS].filter((x) => x.make() !== null && x.make() !== undefined), "customVjp", (ct) => underGrad(customVjp(id, fwd, (() => [ct]) as never)), "cotangent 0");
  });

  it("property: customVjp's cotangent of the wrong shape names both shapes", () => {
    fc.assert(fc.property(shapePairArb, ([argShape, ctShape]) => {
      const f = customVjp((x: Tensor) => sum(x), (x: Tensor) => [sum(x), null], () => [filled(ctShape)]);
      expectMisuse(() => grad(f)(filled(argShape)), "customVjp", shapeText(ctShape), shapeText(argShape));
    }), FC);
  });

  it("a rule's cotangent or tangent of another dtype is an Error naming both (numbers take the dtype)", () => {
    const f32 = (v: number[]) => tensor(v, { dtype: "float32" });
    expectMisuse(() => grad((x: Tensor) => sum(customVjp(id, fwd, () => [f32([1, 1])])(x)))(v2()), "customVjp", "float32", "float64");
    expectMisuse(() => jvp((x: Tensor) => customJvp(id, (p: Tensor[]) => [p[0], f32([1, 1])])(x), [v2()], [v2()]), "customJvp", "float32", "float64");
    const g = grad((x: Tensor) => customVjp((a: Tensor) => mul(a, a), (a: Tensor) => [mul(a, a), a], (a: Tensor) => [2 * a.item()])(x))(tensor(3, { dtype: "float32" }));
    expect(g.dtype).to.equal("float32");
    expect(g.item()).to.equal(6);
    const [, t] = jvp((x: Tensor) => customJvp((a: Tensor) => mul(a, a), ([a]: Tensor[], [da]: Tensor[]) => [mul(a, a), 2 * a.item() * da.item()])(x), [tensor(3, { dtype: "float32" })], [tensor(1, { dtype: "float32" })]);
    expect(t.dtype).to.equal("float32");
    expect(t.item()).to.equal(6);
  });

  it("customVjp under jvp with a rule that cannot be transposed is an Error saying so", () => {
    const opaque = customVjp(id, fwd, (_: null, ct: Tensor) => [tensor(Array.from(ct.toFloat64Array(), (c) => 2 * c))]);
    expectMisuse(() => jvp(opaque, [v2()], [v2()]), "customVjp", "transpose");
  });

  it("customJvp: f and rule must be functions; junk arguments; rules returning junk", () => {
    const rule = (p: Tensor[], t: Tensor[]): [Tensor, Tensor] => [p[0], t[0]];
    expectAllMisuse(NOT_FUNCTIONS, "customJvp", (f) => customJvp(f as never, rule), "f must be a function");
    expectAllMisuse(NOT_FUNCTIONS, "customJvp", (r) => customJvp(id, r as never), "rule must be a function");
    expectAllMisuse(NOT_DATA, "customJvp", (x) => customJvp(id, rule)(x as never));
    const underJvp = (g: (x: Tensor) => Tensor) => jvp(g, [v2()], [v2()]);
    expectAllMisuse(JUNK.filter((x) => !Array.isArray(x.make()) || (x.make() as unknown[]).length !== 2), "customJvp", (pair) => underJvp(customJvp(id, (() => pair) as never)), "rule");
    // the rule's tangent follows the input rule: data of the output's shape [2] is a tangent
    const tangentData = ["Float64Array", "[1, 2]"];
    expectAllMisuse(NOT_TENSORS.filter((x) => !tangentData.includes(x.name)), "customJvp", (t) => underJvp(customJvp(id, ((p: Tensor[]) => [p[0], t]) as never)));
    expectAllMisuse(NOT_TENSORS, "customJvp", (o) => underJvp(customJvp(id, ((_: Tensor[], t: Tensor[]) => [o, t[0]]) as never)));
  });

  it("property: customJvp's tangent of the wrong shape names both shapes", () => {
    fc.assert(fc.property(shapeArb, shapePairArb, (argShape, [outShape, tShape]) => {
      const f = customJvp(() => filled(outShape), () => [filled(outShape), filled(tShape)]);
      expectMisuse(() => jvp(f, [filled(argShape)], [filled(argShape)]), "customJvp", shapeText(tShape), shapeText(outShape));
    }), FC);
  });

  it("a custom rule on a huge broadcast view: an Error naming the shape, not a RangeError", () => {
    const viaJvp = customJvp(id, (p: Tensor[], t: Tensor[]) => [p[0], t[0]]);
    expectMisuse(() => grad((x: Tensor) => sum(viaJvp(x)))(hugeView()), "customJvp", "[100000,100000]");
  });

  it("customJvp under grad with a rule that cannot be transposed is an Error saying so", () => {
    const opaque = customJvp(id, (p: Tensor[], t: Tensor[]) => [p[0], tensor(Array.from(t[0].toFloat64Array(), (c) => 2 * c))]);
    expectMisuse(() => grad((x: Tensor) => sum(opaque(x)))(v2()), "customJvp", "transpose");
  });
});

describe("contract: traceTape and traceToString", () => {
  for (const [name, run] of [["traceTape", traceTape], ["traceToString", traceToString]] as const) {
    it(`${name}: errors carry its own name`, () => {
      expectAllMisuse(NOT_FUNCTIONS, name, (f) => run(f as never, v2()), "f must be a function");
      expectAllMisuse(NOT_DATA, name, (x) => run(sq, x as never));
      expectAllMisuse(NOT_SCALARS, name, (out) => run((() => out) as never, v2()));
      expectMisuse(() => run((x: Tensor) => mul(x, x), v2()), name, "scalar", "[2]");
    });
  }
});

describe("contract: the transformations never mutate their inputs", () => {
  it("grad, jacobian, hessian, hvp, vjp, jvp and traceTape on contiguous and strided inputs", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const xt = x.transpose();
    const t = tensor([[1, 0, 2], [0, 1, 0]]);
    const inputs = [x, xt, t];
    const check = snapshot(...inputs);
    const f = (a: Tensor) => sum(sin(mul(a, a)));
    grad(f)(x);
    grad(f)(xt);
    jacobian((a: Tensor) => mul(a, a), { mode: "rev" })(xt);
    jacobian((a: Tensor) => mul(a, a), { mode: "fwd" })(x);
    hessian(f)(xt);
    hvp(f, [x], [t]);
    vjp((a: Tensor) => mul(a, 2), xt)[1](tensor([[1, 1], [1, 1], [1, 1]]));
    jvp(f, [x], [t]);
    traceToString(f, xt);
    check();
  });
});
