/**
 * Misuse of the transformations: each is an Error whose message begins with the
 * public name called and names the shapes or option involved.
 */
import { expect } from "chai";
import {
  Tensor, customJvp, customVjp, grad, hessian, hvp, jacobian, jvp, linearize, mul, sin, sum, tensor, valueAndGrad, vjp,
} from "../../lib/index.js";
import { declaredParameters } from "../../lib/ad/arity.js";
import { expectClose, expectError } from "../helpers.js";
import { vec } from "./fixtures.js";

/** A derived function called with values its types refuse (what these specs are about). */
type Untyped = (...args: unknown[]) => unknown;

const square = (x: Tensor): Tensor => sum(mul(x, x));

describe("errors: non-scalar functions under grad", () => {
  for (const name of ["grad", "valueAndGrad"] as const) {
    const transform = (name === "grad" ? grad : valueAndGrad) as (f: (x: Tensor) => Tensor) => (x: Tensor) => unknown;
    it(`${name} of a vector-valued function names the output shape`, () => {
      expectError(() => transform((x: Tensor) => mul(x, x))(vec([1, 2, 3])), `${name}:`, "scalar", "[3]");
    });
    it(`${name} of a size-1 function that is not rank 0 ([1], [1,1]) is an Error`, () => {
      expectError(() => transform((x: Tensor) => mul(x, x))(vec([2])), `${name}:`, "[1]");
      expectError(() => transform((x: Tensor) => mul(x, x))(tensor([[2]])), `${name}:`, "[1,1]");
    });
  }
});

describe("errors: f returning something other than a Tensor or number", () => {
  const bad: [string, unknown][] = [["a string", "1"], ["undefined", undefined], ["null", null], ["an object", { value: 1 }], ["a boolean", true], ["a nested array", [[1]]]];
  for (const [what, value] of bad) {
    it(`${what}`, () => {
      expectError(() => grad((_x: Tensor) => value as Tensor)(vec([1])), "grad:");
      expectError(() => valueAndGrad((_x: Tensor) => value as Tensor)(vec([1])), "valueAndGrad:");
      expectError(() => vjp((_x: Tensor) => value as Tensor, vec([1])), "vjp:");
      expectError(() => jvp((_x: Tensor) => value as Tensor, [vec([1])], [vec([1])]), "jvp:");
      expectError(() => jacobian((_x: Tensor) => value as Tensor, { mode: "rev" })(vec([1])), "jacobian:");
      expectError(() => jacobian((_x: Tensor) => value as Tensor, { mode: "fwd" })(vec([1])), "jacobian:");
    });
  }
  it("an array of outputs under grad and vjp (only jvp accepts several outputs)", () => {
    expectError(() => grad((x: Tensor) => [sum(x), sum(x)] as unknown as Tensor)(vec([1])), "grad:");
    expectError(() => vjp((x: Tensor) => [x, x] as unknown as Tensor, vec([1])), "vjp:");
  });
});

describe("errors: tangent and cotangent shapes must match exactly", () => {
  it("jvp: a tangent of another shape names both shapes, with no broadcasting", () => {
    expectError(() => jvp(square, [vec([1, 2])], [vec([1, 2, 3])]), "jvp:", "[3]", "[2]");
    expectError(() => jvp(square, [tensor([[1, 2]])], [vec([1, 2])]), "jvp:", "[2]", "[1,2]");
    expectError(() => jvp(square, [vec([1])], [tensor(1)]), "jvp:", "[]", "[1]");
  });

  it("jvp: a tangent that is not a tensor, and mismatched counts", () => {
    expectError(() => jvp(square, [vec([1, 2])], ["1" as unknown as Tensor]), "jvp:");
    expectError(() => jvp(square, [vec([1, 2])], []), "jvp:");
    expectError(() => jvp(square, vec([1, 2]) as unknown as Tensor[], [vec([1, 2])]), "jvp:");
  });

  it("jvp: a tangent of another dtype", () => {
    expectError(() => jvp(square, [vec([1, 2])], [tensor([1, 2], { dtype: "float32" })]), "jvp:", "float32");
  });

  it("vjp: a cotangent of another shape names both shapes", () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, 2), vec([1, 2]));
    expectError(() => pullback(vec([1, 2, 3])), "vjp:", "[3]", "[2]");
    expectError(() => pullback(tensor([[1, 2]])), "vjp:", "[1,2]", "[2]");
    expectError(() => pullback(1), "vjp:");
    expectError(() => pullback("1" as unknown as Tensor), "vjp:");
    // a rank-0 output takes a number, but not a [1] tensor
    const [, scalarPullback] = vjp(square, vec([1, 2]));
    expectError(() => scalarPullback(vec([1])), "vjp:", "[1]", "[]");
    // the failed calls left the pullback usable
    expectClose(pullback(vec([1, 1]))[0], [2, 2]);
  });

  it("hvp: a tangent of another shape names both shapes", () => {
    expectError(() => hvp(square, [vec([1, 2])], [vec([1, 2, 3])]), "hvp:", "[3]", "[2]");
  });
});

describe("errors: hessian and hvp name themselves, not the grad or jacobian they are built on", () => {
  it("a non-scalar function", () => {
    expectError(() => hessian((x: Tensor) => mul(x, x))(vec([1, 2])), "hessian:", "scalar", "[2]");
    expectError(() => hvp((x: Tensor) => mul(x, x), [vec([1, 2])], [vec([1, 1])]), "hvp:", "scalar", "[2]");
  });
  it("a function returning a non-Tensor", () => {
    expectError(() => hessian((_x: Tensor) => "s" as unknown as Tensor)(vec([1, 2])), "hessian:");
    expectError(() => hvp((_x: Tensor) => "s" as unknown as Tensor, [vec([1, 2])], [vec([1, 1])]), "hvp:");
  });
  it("an argument that cannot be differentiated", () => {
    expectError(() => hessian(square)("s" as never), "hessian:", "argument 0");
    expectError(() => hvp(square, ["s"], [vec([1])]), "hvp:");
    expectError(() => hvp(square, [vec([1])], []), "hvp:");
  });
});

describe("errors: argnums", () => {
  const f = (a: Tensor, b: Tensor): Tensor => sum(mul(a, b));
  const args = [vec([1, 2]), vec([3, 4])];
  const cases: [string, unknown, string[]][] = [
    ["negative", -1, ["-1"]],
    ["out of range", 2, ["2"]],
    ["out of range inside an array", [0, 5], ["5"]],
    ["repeated", [1, 1], ["1"]],
    ["non-integer", 0.5, ["0.5"]],
    ["NaN", NaN, ["NaN"]],
    ["a string", "0", ["string"]],
    ["a boolean", true, ["boolean"]],
    ["empty", [], []],
  ];
  for (const [what, argnums, parts] of cases) {
    it(`${what}: grad, valueAndGrad and jacobian each name themselves`, () => {
      expectError(() => (grad(f, { argnums: argnums as number }) as Untyped)(...args), "grad:", "argnums", ...parts);
      expectError(() => (valueAndGrad(f, { argnums: argnums as number }) as Untyped)(...args), "valueAndGrad:", "argnums", ...parts);
      expectError(() => (jacobian(f, { argnums: argnums as number }) as Untyped)(...args), "jacobian:", "argnums", ...parts);
    });
  }

  it("an argument that is not a Tensor or number cannot be differentiated", () => {
    expectError(() => grad((s: string, x: Tensor) => sum(x), { argnums: 0 })("text", vec([1])), "grad:", "argument 0");
    expectError(() => grad((x: Tensor) => sum(x))({ a: 1 } as never), "grad:", "argument 0");
    expectError(() => (grad((x: Tensor) => sum(x)) as Untyped)(), "grad:");
  });

  it("hessian takes a single argnums, and names itself for bad ones", () => {
    expectError(() => hessian(f, { argnums: [0, 1] as unknown as number }), "hessian:", "argnums");
    expectError(() => (hessian(f, { argnums: -1 }) as Untyped)(...args), "hessian:", "argnums", "-1");
    expectError(() => (hessian(f, { argnums: 2 }) as Untyped)(...args), "hessian:", "argnums", "2");
    expectError(() => (hessian(f, { argnums: 0.5 }) as Untyped)(...args), "hessian:", "argnums");
  });

  it("null is not a default: argnums null and mode null are Errors", () => {
    expectError(() => (grad(f, { argnums: null as unknown as number }) as Untyped)(...args), "grad:", "argnums", "null");
    expectError(() => (jacobian(f, { argnums: null as unknown as number }) as Untyped)(...args), "jacobian:", "argnums", "null");
    expectError(() => jacobian(square, { mode: null as unknown as "fwd" })(vec([1])), "jacobian:", "mode", "null");
  });
});

describe("errors: options and functions", () => {
  it("a bad jacobian mode names the option", () => {
    for (const mode of ["forward", "", 1, "FWD"]) {
      expectError(() => jacobian(square, { mode: mode as "fwd" })(vec([1])), "jacobian:", "mode");
    }
  });

  it("options that are not objects", () => {
    expectError(() => grad(square, 3 as unknown as object), "grad:");
    expectError(() => jacobian(square, "fwd" as unknown as object), "jacobian:");
  });

  it("f that is not a function, for every transformation", () => {
    const notFunctions: unknown[] = [undefined, null, 3, "f", {}, [square]];
    for (const f of notFunctions) {
      const g = f as (x: Tensor) => Tensor;
      expectError(() => grad(g)(vec([1])), "grad:", "function");
      expectError(() => valueAndGrad(g)(vec([1])), "valueAndGrad:", "function");
      expectError(() => vjp(g, vec([1])), "vjp:", "function");
      expectError(() => jvp(g, [vec([1])], [vec([1])]), "jvp:", "function");
      expectError(() => jacobian(g)(vec([1])), "jacobian:", "function");
      expectError(() => hessian(g)(vec([1])), "hessian:", "function");
      expectError(() => hvp(g, [vec([1])], [vec([1])]), "hvp:", "function");
      expectError(() => customVjp(g, (x: Tensor) => [x, null], (_r: null, ct: Tensor) => [ct]), "customVjp:", "function");
      expectError(() => customVjp(sin, g as unknown as (x: Tensor) => [Tensor, null], (_r: null, ct: Tensor) => [ct]), "customVjp:", "function");
      expectError(() => customJvp(g, ([x]: Tensor[], [t]: Tensor[]) => [x, t]), "customJvp:", "function");
      expectError(() => customJvp(sin, g as unknown as (p: Tensor[], t: Tensor[]) => [Tensor, Tensor]), "customJvp:", "function");
    }
  });

  it("errors are Errors, never JavaScript engine TypeErrors or RangeErrors", () => {
    const attempts: (() => unknown)[] = [
      () => grad(square)(undefined as never),
      () => jvp(square, [undefined], [undefined]),
      () => jvp(square, [vec([1])], [null]),
      () => vjp(square, "x" as unknown as Tensor),
      () => hvp(square, [], []),
      () => hvp(square, [vec([1])], [null]),
      () => jacobian(square, { argnums: {} as unknown as number })(vec([1])),
      () => vjp((x: Tensor) => x, vec([1]))[1](null as unknown as Tensor),
    ];
    for (const attempt of attempts) {
      let caught: unknown = null;
      try {
        attempt();
      } catch (e) {
        caught = e;
      }
      expect(caught, attempt.toString()).to.be.instanceOf(Error);
      expect((caught as Error).constructor, attempt.toString()).to.equal(Error);
      expect((caught as Error).message, attempt.toString()).to.match(/^(grad|jvp|vjp|hvp|jacobian):/);
    }
  });
});

describe("errors: as many primals as f declares parameters (issue 25)", () => {
  const dot3 = (x: Tensor): Tensor => sum(mul(x, tensor([1, 2, 3])));

  it("a vector written out as several primals is an Error showing the call meant, for jvp, vjp, hvp and linearize", () => {
    expectError(() => jvp(dot3, [1, 2, 3], [1, 0, 0]), "jvp:", "1 parameter (x)", "3 primals", "jvp(f, [[1, 2, 3]], [[1, 0, 0]])");
    expectError(() => vjp(dot3 as (...xs: Tensor[]) => Tensor, 1, 2, 3), "vjp:", "1 parameter (x)", "3 primals", "vjp(f, [1, 2, 3])");
    expectError(() => hvp(square, [1, 2, 3], [1, 0, 0]), "hvp:", "1 parameter (x)", "hvp(f, [[1, 2, 3]], [[1, 0, 0]])");
    expectError(() => linearize(dot3, 1, 2, 3), "linearize:", "1 parameter (x)", "linearize(f, [1, 2, 3])");
    // What was meant works, and is what the message shows.
    expectClose(jvp(dot3, [[1, 2, 3]], [[1, 0, 0]])[1], 1, 0, 0, "jvp as meant");
  });

  it("too few or too many primals for a function of several parameters names them", () => {
    const f = (x: Tensor, y: Tensor): Tensor => sum(mul(x, y));
    expectError(() => jvp(f, [vec([1])], [vec([1])]), "jvp:", "2 parameters (x, y)", "1 primal was given", "jvp(f, [x, y], [xTangent, yTangent])");
    expectError(() => vjp(f as (...xs: Tensor[]) => Tensor, vec([1]), vec([2]), vec([3])), "vjp:", "2 parameters (x, y)", "3 primals", "vjp(f, x, y)");
    expectError(() => hvp(f, [vec([1])], [vec([1])]), "hvp:", "2 parameters");
    expectError(() => linearize(function named(a: Tensor, b: Tensor) { return mul(a, b); }, vec([1])), "linearize:", "2 parameters (a, b)");
  });

  it("functions whose parameter count is not known for sure are never refused: defaults, rest parameters, wrappers, bound functions", () => {
    const withDefault = (x: Tensor, y: Tensor = tensor(2)): Tensor => mul(x, y);
    expectClose(jvp(withDefault, [1, 3], [1, 0])[1], 3, 0, 0, "default given");
    expectClose(jvp(withDefault, [1], [1])[1], 2, 0, 0, "default used");
    const withRest = (x: Tensor, ...rest: Tensor[]): Tensor => mul(x, rest[0]);
    expectClose(vjp(withRest, vec([1]), vec([5]))[1](vec([1]))[0], [5], 0, 0, "rest");
    const variadic = (...xs: Tensor[]): Tensor => sum(mul(xs[0], xs[1]));
    expectClose(hvp(variadic, [vec([1]), vec([2])], [vec([1]), vec([0])])[1], [1], 0, 0, "variadic");
    // grad(f) is a wrapper of f's arguments; a bound function's source is not readable.
    expectClose(jvp(grad(square), [vec([1, 2])], [vec([1, 0])])[1], [2, 0], 0, 0, "jvp of grad");
    const bound = function (this: unknown, x: Tensor) { return mul(x, x); }.bind(null);
    expectClose(jvp(bound, [vec([3])], [vec([1])])[1], [6], 0, 0, "bound");
    // A destructured parameter is one parameter.
    const pair = ([a, b]: Tensor[]): Tensor => mul(a, b);
    expectError(() => linearize(pair as unknown as (x: Tensor) => Tensor, vec([1]), vec([2])), "linearize:", "1 parameter but 2 primals");
  });

  it("the count is read exactly from plain parameter lists and not from anything else", () => {
    expect(declaredParameters((x: number, y: number) => x + y)).to.deep.equal({ count: 2, names: ["x", "y"], mayTakeFewer: false });
    expect(declaredParameters(function f(a: number) { return a; })).to.deep.equal({ count: 1, names: ["a"], mayTakeFewer: false });
    expect(declaredParameters(async (a: number, { b }: { b: number }) => a + b)).to.deep.equal({ count: 2, names: null, mayTakeFewer: false });
    expect(declaredParameters(((x: number) => x) as (x: number) => number)).to.deep.equal({ count: 1, names: ["x"], mayTakeFewer: false });
    // TypeScript's ES5 output for (x, y = 2): the count is right, but fewer arguments are meant to work.
    // eslint-disable-next-line no-void
    const es5Default = function (x: Tensor, y: Tensor | number) { if (y === void 0) { y = 2; } return mul(x, y); } as (x: Tensor, y?: Tensor) => Tensor;
    expect(declaredParameters(es5Default)).to.include({ count: 2, mayTakeFewer: true });
    expectClose(jvp(es5Default as (x: Tensor) => Tensor, [3], [1])[1], 2, 0, 0, "an ES5 default");
    expectError(() => jvp(es5Default as (x: Tensor) => Tensor, [1, 2, 3], [1, 1, 1]), "jvp:", "2 parameters (x, y)");
    expect(declaredParameters((x: number, y = 1) => x + y)).to.equal(null);
    expect(declaredParameters((x: number, ...ys: number[]) => x + ys.length)).to.equal(null);
    expect(declaredParameters(() => 1)).to.equal(null);
    expect(declaredParameters(Math.max)).to.equal(null);
    // Down-levelled defaults and rest parameters read `arguments`.
    // eslint-disable-next-line prefer-rest-params
    expect(declaredParameters(function (x: number) { return x + (arguments.length > 1 ? 1 : 0); })).to.equal(null);
    expect(declaredParameters(class { constructor(readonly x: number) {} } as unknown as () => number)).to.equal(null);
    expect(declaredParameters(((x: number, y: number) => x + y).bind(null))).to.equal(null);
  });
});
