/**
 * Contract: ImplicitFunction, the stock conditions and the projections under
 * bad input. Options are validated at construction; `call` names both shapes
 * when forward's y and the conditions disagree; a singular system is solved
 * correctly when consistent and is an Error otherwise, for every solver; user
 * code's errors pass through; inputs are never mutated.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ImplicitFunction, Tensor, add, concat, fixedPointConditions, grad, hessian, jacobian, jvp, kktConditions, lassoConditions,
  matmul, mul, packKKT, projectBox, projectL2Ball, projectNonNegative, projectSimplex, projectedGradientConditions,
  proximalGradientConditions, reshape, slice, softThreshold, stationarityConditions, sub, sum, tensor, unpackKKT, vjp,
} from "../../lib/index.js";
import type { SolverName } from "../../lib/index.js";
import {
  BAD_NUMBERS, COERCIBLE, FC, FUNCTIONS, JUNK, NOT_DATA, NOT_FUNCTIONS, OBJECTS, TENSORS, TOKENS, expectAllMisuse,
  expectAllOkOrMisuse, expectMisuse, expectOkOrMisuse, expectPassesThrough, filled, junkArb, quickly, shapeArb, shapeText, snapshot,
} from "./helpers.js";

const SOLVERS: SolverName[] = ["auto", "direct", "cg", "gmres", "bicgstab", "minres", "lsqr"];
const forward = (x: Tensor) => mul(x, 0.5);
const conditions = (x: Tensor, y: Tensor) => sub(mul(y, 2), x);
const make = (extra: Record<string, unknown> = {}) => new ImplicitFunction({ forward, conditions, ...extra } as never);
const v2 = () => tensor([1, 2]);
const near = (t: Tensor, expected: number[], tol = 1e-8) => {
  const got = Array.from(t.toFloat64Array());
  expect(got.length).to.equal(expected.length);
  got.forEach((g, i) => expect(Math.abs(g - expected[i]), `entry ${i}: ${g} vs ${expected[i]}`).to.be.lessThan(tol));
};

describe("contract: ImplicitFunction options are validated at construction", () => {
  it("the options argument itself", () => {
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS, ...FUNCTIONS, { name: "undefined", make: () => undefined }, { name: "Map", make: () => new Map() }], "ImplicitFunction", (o) => new ImplicitFunction(o as never), "options");
  });

  it("forward and conditions must be functions", () => {
    expectAllMisuse(NOT_FUNCTIONS, "ImplicitFunction", (f) => make({ forward: f }), "forward");
    expectAllMisuse(NOT_FUNCTIONS, "ImplicitFunction", (f) => make({ conditions: f }), "conditions");
  });

  it("an unknown option (a misspelling) is an Error naming it", () => {
    for (const key of ["solver", "linearsolver", "maxiter", "tolerance", "symmetry", "foo"]) {
      expectMisuse(() => make({ [key]: 1 }), "ImplicitFunction", key);
    }
  });

  it("linearSolver: one of the names or a function; null and junk are Errors", () => {
    expectAllMisuse([...JUNK.filter((x) => typeof x.make() !== "function" && x.make() !== undefined), { name: '"CG"', make: () => "CG" }, { name: '"lu"', make: () => "lu" }], "ImplicitFunction", (s) => make({ linearSolver: s }), "linearSolver");
    for (const s of SOLVERS) make({ linearSolver: s });
  });

  it("numeric options: never coerced; non-positive, non-finite or fractional (where integers) values", () => {
    const numeric: [string, string[]][] = [
      ["tol", ["1.5", "1e20", "2**53+2"]], ["strictTol", ["1.5", "1e20", "2**53+2"]], ["atol", ["0", "1.5", "1e20", "2**53+2"]],
      ["maxIter", ["1e20", "2**53+2"]], ["directMaxSize", ["1e20", "2**53+2"]],
    ];
    for (const [key, valid] of numeric) {
      expectAllMisuse([...COERCIBLE, ...OBJECTS.filter((x) => x.make() !== undefined), ...TENSORS, ...FUNCTIONS, ...BAD_NUMBERS.filter((x) => !valid.includes(x.name))], "ImplicitFunction", (v) => make({ [key]: v }), key);
    }
  });

  it("boolean options, name and preconditioner", () => {
    for (const key of ["symmetric", "positiveDefinite", "strict", "passByproduct"]) {
      expectAllMisuse(JUNK.filter((x) => typeof x.make() !== "boolean" && x.make() !== undefined), "ImplicitFunction", (v) => make({ [key]: v }), key);
    }
    expectAllMisuse([...JUNK.filter((x) => typeof x.make() !== "string" && x.make() !== undefined), { name: '""', make: () => "" }], "ImplicitFunction", (v) => make({ name: v }), "name");
    expectAllMisuse(NOT_FUNCTIONS.filter((x) => x.make() !== undefined), "ImplicitFunction", (v) => make({ preconditioner: v }), "preconditioner");
  });

  it("property: any junk as any option either constructs or is an ImplicitFunction Error", () => {
    const keys = ["forward", "conditions", "linearSolver", "tol", "atol", "maxIter", "preconditioner", "symmetric", "positiveDefinite", "strict", "strictTol", "directMaxSize", "name", "passByproduct"];
    fc.assert(fc.property(fc.constantFrom(...keys), junkArb, (key, junk) => {
      expectOkOrMisuse(() => make({ [key]: junk.make() }), "ImplicitFunction", `${key} = ${junk.name}`);
    }), { ...FC, numRuns: 600 });
  });
});

describe("contract: ImplicitFunction.call", () => {
  it("inputs that are not Tensors or numbers", () => {
    const f = make();
    expectAllMisuse(NOT_DATA.concat(FUNCTIONS), "ImplicitFunction", (x) => f.call(x as never), "input 0");
    expectAllMisuse(NOT_DATA.concat(FUNCTIONS), "ImplicitFunction", (x) => grad((v: Tensor) => sum(f.call(v, x as never)))(v2()), "input 1");
  });

  it("forward returning something that is not y (a Tensor, a number, tensor data) or { y, byproduct }", () => {
    const isData = (v: unknown) => {
      try {
        tensor(v as never);
        return true;
      } catch {
        return false;
      }
    };
    const bad = JUNK.filter((x) => !isData(x.make()));
    expect(bad.length).to.be.greaterThan(20);
    for (const traced of [false, true]) {
      expectAllMisuse(bad, "ImplicitFunction", (out) => {
        const f = make({ forward: () => out });
        return traced ? grad((v: Tensor) => sum(f.call(v)))(v2()) : f.call(v2());
      }, "forward");
    }
  });

  it("conditions returning something that is not a Tensor or a number", () => {
    const bad = JUNK.filter((x) => !(x.make() instanceof Tensor) && typeof x.make() !== "number");
    for (const run of [
      (f: ImplicitFunction) => grad((v: Tensor) => sum(f.call(v)))(v2()),
      (f: ImplicitFunction) => jvp((v: Tensor) => f.call(v), [v2()], [v2()]),
      (f: ImplicitFunction) => f.call(v2()),
    ]) {
      expectAllMisuse(bad, "ImplicitFunction", (out) => run(make({ conditions: () => out, strict: true })), "conditions");
    }
  });

  it("property: conditions of another size than y name both shapes, in every mode", () => {
    fc.assert(fc.property(shapeArb, shapeArb, fc.constantFrom("plain-strict", "grad", "jvp", "vjp"), (yShape, fShape, mode) => {
      const ySize = yShape.reduce((a, b) => a * b, 1);
      const fSize = fShape.reduce((a, b) => a * b, 1);
      if (ySize === fSize) return;
      const f = new ImplicitFunction({ forward: () => filled(yShape), conditions: (x: Tensor, y: Tensor) => add(filled(fShape, 0), mul(sum(y), sum(x))), strict: mode === "plain-strict", strictTol: 1e300 });
      const run = {
        "plain-strict": () => f.call(v2()),
        grad: () => grad((v: Tensor) => sum(f.call(v)))(v2()),
        jvp: () => jvp((v: Tensor) => f.call(v), [v2()], [v2()]),
        vjp: () => vjp((v: Tensor) => f.call(v), v2()),
      }[mode];
      expectMisuse(run, "ImplicitFunction", shapeText(fShape), shapeText(yShape));
    }), FC);
  });

  it("property: a tangent or cotangent of the wrong shape for f.call names both shapes", () => {
    fc.assert(fc.property(shapeArb, shapeArb, (xShape, tShape) => {
      if (xShape.length === tShape.length && xShape.every((d, i) => d === tShape[i])) return;
      const f = make();
      expectMisuse(() => jvp((v: Tensor) => f.call(v), [filled(xShape)], [filled(tShape)]), "jvp", shapeText(tShape), shapeText(xShape));
      const [, pullback] = vjp((v: Tensor) => f.call(v), filled(xShape));
      expectMisuse(() => pullback(filled(tShape)), "vjp", shapeText(tShape), shapeText(xShape));
    }), FC);
  });

  it("a preconditioner or user linear solver returning junk is an ImplicitFunction Error", () => {
    const junkOut = JUNK.filter((x) => !(x.make() instanceof Tensor && (x.make() as Tensor).ndim === 1 && (x.make() as Tensor).size === 2));
    for (const linearSolver of ["cg", "gmres", "bicgstab", "minres"]) {
      expectAllMisuse(junkOut, "ImplicitFunction", (out) => grad((v: Tensor) => sum(make({ linearSolver, preconditioner: () => out }).call(v)))(v2()), "preconditioner");
    }
    const notSolutions = JUNK.filter((x) => !(x.make() instanceof Tensor && (x.make() as Tensor).size === 2));
    expectAllMisuse(notSolutions, "ImplicitFunction", (out) => grad((v: Tensor) => sum(make({ linearSolver: () => out }).call(v)))(v2()), "linear solver");
    // a user solver returning a wrong x of the right size: not converged, an Error naming the residual
    expectMisuse(() => grad((v: Tensor) => sum(make({ linearSolver: () => tensor([5, 5]) }).call(v)))(v2()), "ImplicitFunction", "residual");
  });

  it("float32 inputs are differentiated in float32 with every solver", () => {
    const x = tensor([1, 2], { dtype: "float32" });
    for (const linearSolver of SOLVERS) {
      const f = make({ linearSolver, tol: 1e-6 });
      const g = grad((v: Tensor) => sum(f.call(v)))(x);
      expect(g.dtype, linearSolver).to.equal("float32");
      near(g, [0.5, 0.5], 1e-6);
      const [, t] = jvp((v: Tensor) => f.call(v), [x], [tensor([1, -1], { dtype: "float32" })]);
      near(t, [0.5, -0.5], 1e-6);
      near(vjp((v: Tensor) => f.call(v), x)[1](tensor([2, 4], { dtype: "float32" }))[0], [1, 2], 1e-6);
      near(hessian((v: Tensor) => sum(mul(f.call(v), f.call(v))))(x), [0.5, 0, 0, 0.5], 1e-5);
    }
  });
});

describe("contract: singular ∂F/∂y is solved correctly when consistent and is an Error otherwise", () => {
  // A = [[1,1],[1,1]]: forward y = (Σx/2)·1; consistent for the quantities the derivative needs.
  const consistent = (extra: Record<string, unknown>) => new ImplicitFunction({
    forward: (x: Tensor) => mul(sum(x), tensor([0.5, 0.5])),
    conditions: (x: Tensor, y: Tensor) => sub(mul(sum(y), tensor([1, 1])), sum(x)),
    ...extra,
  } as never);
  // F = [y₀ − x₀, 0·y₁]: A = diag(1, 0); the adjoint system for ȳ = 1 is inconsistent.
  const inconsistent = (extra: Record<string, unknown>) => new ImplicitFunction({
    forward: (x: Tensor) => mul(x, tensor([1, 0])),
    conditions: (x: Tensor, y: Tensor) => mul(sub(y, x), tensor([1, 0])),
    ...extra,
  } as never);

  for (const linearSolver of SOLVERS) {
    for (const directMaxSize of linearSolver === "auto" ? [100, 1] : [100]) {
      const label = `${linearSolver}${directMaxSize === 1 ? " (Krylov path)" : ""}`;
      it(`${label}: the right derivative of a consistent singular system`, () => {
        const f = consistent({ linearSolver, directMaxSize });
        near(grad((x: Tensor) => sum(f.call(x)))(v2()), [1, 1], 1e-7);
        near(jvp((x: Tensor) => f.call(x), [v2()], [tensor([1, 0])])[1], [0.5, 0.5], 1e-7);
      });

      it(`${label}: an inconsistent singular system throws, never a silently wrong derivative`, () => {
        const f = inconsistent({ linearSolver, directMaxSize, maxIter: 200 });
        const e = expectMisuse(() => grad((x: Tensor) => sum(f.call(x)))(v2()), "ImplicitFunction");
        expect(e.message).to.match(/singular|did not converge/);
        const zero = new ImplicitFunction({ forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => mul(sub(y, x), 0), linearSolver, directMaxSize, maxIter: 200 } as never);
        expectMisuse(() => grad((x: Tensor) => sum(zero.call(x)))(v2()), "ImplicitFunction");
        expectMisuse(() => jacobian((x: Tensor) => zero.call(x), { mode: "rev" })(v2()), "ImplicitFunction");
      });

      it(`${label}: NaN or ∞ in forward's y, in a cotangent or a tangent: an ImplicitFunction Error, quickly`, () => {
        const nanY = new ImplicitFunction({ forward: () => tensor([NaN, 1]), conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x), linearSolver, directMaxSize, maxIter: 1e9 } as never);
        quickly(2000, "NaN y", () => expectMisuse(() => grad((x: Tensor) => sum(nanY.call(x)))(v2()), "ImplicitFunction"));
        const f = make({ linearSolver, directMaxSize, maxIter: 1e9 });
        quickly(2000, "NaN cotangent", () => expectMisuse(() => grad((x: Tensor) => sum(mul(f.call(x), NaN)))(v2()), "ImplicitFunction"));
        quickly(2000, "∞ tangent", () => expectMisuse(() => jvp((x: Tensor) => f.call(x), [v2()], [tensor([Infinity, 0])]), "ImplicitFunction"));
      });
    }
  }

  it("lastSolve never reports a failed solve as converged", () => {
    for (const linearSolver of SOLVERS) {
      const f = inconsistent({ linearSolver, maxIter: 50 });
      const ok = make({ linearSolver });
      grad((x: Tensor) => sum(ok.call(x)))(v2());
      expect(ok.lastSolve?.converged, linearSolver).to.equal(true);
      expectMisuse(() => grad((x: Tensor) => sum(f.call(x)))(v2()), "ImplicitFunction");
      // (whether a failed solve is recorded, or lastSolve keeps the last successful one of this function, is open)
      if (f.lastSolve !== null) expect(f.lastSolve.converged, `${linearSolver}: ${JSON.stringify(f.lastSolve)}`).to.equal(false);
      const nan = make({ linearSolver });
      expectMisuse(() => grad((x: Tensor) => sum(mul(nan.call(x), NaN)))(v2()), "ImplicitFunction");
      if (nan.lastSolve !== null) expect(nan.lastSolve.converged, `${linearSolver} NaN`).to.equal(false);
    }
  });
});

describe("contract: ImplicitFunction and user code", () => {
  it("what forward, conditions, the preconditioner or a user solver throw reaches the caller unchanged, at any depth", () => {
    for (const { name, make: token } of TOKENS) {
      const t = token();
      const boom = () => { throw t; };
      const late = (after: number) => {
        let n = 0;
        return (x: Tensor, y: Tensor) => {
          if (++n > after) boom();
          return sub(mul(y, 2), x);
        };
      };
      // A solver of the system handed over (here K = 2I: x = b/2) that throws after `after` solves.
      const lateSolver = (after: number) => {
        let n = 0;
        return (_A: unknown, b: Tensor) => {
          if (++n > after) boom();
          return mul(b, 0.5);
        };
      };
      const sites: [string, () => unknown][] = [
        ["forward, plain", () => make({ forward: boom }).call(v2())],
        ["forward, under grad", () => grad((x: Tensor) => sum(make({ forward: boom }).call(x)))(v2())],
        ["conditions, strict", () => make({ conditions: boom, strict: true }).call(v2())],
        ["conditions, under grad", () => grad((x: Tensor) => sum(make({ conditions: boom }).call(x)))(v2())],
        // The conditions run once per call at every order (recorded into a program, lib/program/root.ts);
        // what runs later, in the sweeps of nested transformations, is the user's linear solver.
        ["conditions, under grad∘grad", () => grad((x: Tensor) => sum(grad((z: Tensor) => sum(mul(make({ conditions: late(0) }).call(z), z)))(x)))(v2())],
        ["conditions, under hessian", () => hessian((x: Tensor) => sum(mul(make({ conditions: late(0) }).call(x), x)))(v2())],
        ["conditions, under jvp of grad", () => jvp((x: Tensor) => grad((z: Tensor) => sum(mul(make({ conditions: late(0), linearSolver: "minres", symmetric: true }).call(z), z)))(x), [v2()], [v2()])],
        ["a user linear solver, later in the backward sweep of grad∘grad", () => grad((x: Tensor) => sum(grad((z: Tensor) => sum(mul(make({ linearSolver: lateSolver(1) }).call(z), z)))(x)))(v2())],
        ["a user linear solver, at its third solve under hessian", () => hessian((x: Tensor) => sum(mul(make({ linearSolver: lateSolver(2) }).call(x), x)))(v2())],
        ["preconditioner", () => grad((x: Tensor) => sum(make({ linearSolver: "gmres", preconditioner: boom }).call(x)))(v2())],
        ["user linear solver", () => grad((x: Tensor) => sum(make({ linearSolver: boom }).call(x)))(v2())],
        ["a matvec inside a user linear solver", () => grad((x: Tensor) => sum(make({ linearSolver: (A: { matvec: (v: Tensor) => Tensor }, b: Tensor) => { A.matvec(b); return boom(); } }).call(x)))(v2())],
        ["stock stationarity objective", () => grad((x: Tensor) => sum(new ImplicitFunction({ forward: (z: Tensor) => z, ...stationarityConditions(boom) }).call(x)))(v2())],
      ];
      for (const [site, run] of sites) expectPassesThrough(run, t, `${site} throws ${name}`);
    }
  });

  it("property: a throw at the k-th call of the conditions, under nested transformations, passes through and leaves no state", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.constantFrom(...SOLVERS), fc.constantFrom("grad", "jvp", "hessian", "grad∘grad", "jacobian"), (k, linearSolver, outer) => {
      const token = new Error(`boom ${k}`);
      let calls = 0;
      const f = new ImplicitFunction({
        forward: (x: Tensor) => mul(x, 0.5),
        conditions: (x: Tensor, y: Tensor) => {
          if (++calls === k) throw token;
          return sub(mul(y, 2), x);
        },
        linearSolver,
        symmetric: true,
        positiveDefinite: true,
      });
      const g = (x: Tensor) => sum(mul(f.call(x), x));
      const run = {
        grad: () => grad(g)(v2()),
        jvp: () => jvp((x: Tensor) => grad(g)(x), [v2()], [v2()]),
        hessian: () => hessian(g)(v2()),
        "grad∘grad": () => grad((x: Tensor) => sum(grad(g)(x)))(v2()),
        jacobian: () => jacobian((x: Tensor) => f.call(x), { mode: "rev" })(v2()),
      }[outer];
      let caught: unknown = null;
      try {
        run();
      } catch (e) {
        caught = e;
      }
      // k may exceed the number of calls the run makes; otherwise the same object comes back.
      if (caught !== null) expect(caught).to.equal(token);
      expectPassesThrough(() => { throw token; }, token, `${outer} with ${linearSolver}, throw at call ${k}`);
    }), { ...FC, numRuns: 40 });
  });

  it("no input is mutated, for any solver and mode", () => {
    const x = tensor([[1, 2], [3, 4]]).transpose();
    const t = tensor([1, 0, 0, 1]).reshape([2, 2]);
    const check = snapshot(x, t);
    for (const linearSolver of SOLVERS) {
      const f = make({ linearSolver });
      f.call(x);
      grad((v: Tensor) => sum(f.call(v)))(x);
      jvp((v: Tensor) => f.call(v), [x], [t]);
      vjp((v: Tensor) => f.call(v), x)[1](t);
    }
    check();
  });
});

/** A stock spec's conditions as a plain callable. */
const cond = (spec: { conditions: unknown }) => spec.conditions as (...args: unknown[]) => Tensor;

describe("contract: stock conditions", () => {
  const objective = (w: Tensor) => sum(mul(w, w));
  const objectiveOfLambda = (_: unknown, w: Tensor) => sum(mul(w, w));
  const y = v2();
  const dispatch: [string, (x: unknown) => unknown][] = [
    ["stationarityConditions", (x) => stationarityConditions(x as never)],
    ["stationarityConditions", (x) => stationarityConditions(objective, x as never)],
    ["stationarityConditions", (x) => stationarityConditions(objective, { positiveDefinite: x } as never)],
    ["fixedPointConditions", (x) => fixedPointConditions(x as never)],
    ["proximalGradientConditions", (x) => proximalGradientConditions(x as never, (v: Tensor) => v, 0.1)],
    ["proximalGradientConditions", (x) => proximalGradientConditions(objective, x as never, 0.1)],
    ["proximalGradientConditions", (x) => proximalGradientConditions(objective, (v: Tensor) => v, x as never)],
    ["lassoConditions", (x) => lassoConditions(x as never, 0.1)],
    ["lassoConditions", (x) => lassoConditions(objective, x as never)],
    ["lassoConditions", (x) => lassoConditions(objective, 0.1, x as never)],
    ["projectedGradientConditions", (x) => projectedGradientConditions(x as never, (v: Tensor) => v, 0.1)],
    ["projectedGradientConditions", (x) => projectedGradientConditions(objective, x as never, 0.1)],
    ["projectedGradientConditions", (x) => projectedGradientConditions(objective, (v: Tensor) => v, x as never)],
    ["kktConditions", (x) => kktConditions(x as never)],
    ["kktConditions", (x) => kktConditions({ objective, sizes: x } as never)],
    ["kktConditions", (x) => kktConditions({ objective, sizes: { primal: x } } as never)],
    ["kktConditions", (x) => kktConditions({ objective, sizes: { primal: 2, inequality: x }, inequality: (w: Tensor) => w } as never)],
  ];

  it("builders: any junk argument either builds or is an Error prefixed with the builder", () => {
    for (const [name, call] of dispatch) expectAllOkOrMisuse(JUNK, name, call);
    expectAllMisuse(NOT_FUNCTIONS, "stationarityConditions", (f) => stationarityConditions(f as never), "objective");
    expectAllMisuse(NOT_FUNCTIONS, "lassoConditions", (f) => lassoConditions(f as never, 0.1), "smoothObjective");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS.filter((x) => !["1.5", "1e20", "2**53+2"].includes(x.name))], "lassoConditions", (s) => lassoConditions(objective, s as never), "stepSize");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS.filter((x) => !["0", "1e20", "2**53+2"].includes(x.name))], "lassoConditions", (k) => lassoConditions(objective, 0.1, k as never), "lambdaIndex");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS.filter((x) => !["1.5", "1e20", "2**53+2"].includes(x.name))], "projectedGradientConditions", (s) => projectedGradientConditions(objective, (v: Tensor) => v, s as never), "stepSize");
    expectAllMisuse(JUNK.filter((x) => typeof x.make() !== "boolean" && x.make() !== undefined), "stationarityConditions", (p) => stationarityConditions(objective, { positiveDefinite: p } as never), "positiveDefinite");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS.filter((x) => !["1e20", "2**53+2"].includes(x.name))], "kktConditions", (p) => kktConditions({ objective, sizes: { primal: p } } as never), "sizes.primal");
  });

  it("conditions: user maps returning junk or the wrong shape are Errors prefixed with the builder, naming the shapes", () => {
    const notScalar = JUNK.filter((x) => typeof x.make() !== "number" && !(x.make() instanceof Tensor && (x.make() as Tensor).ndim === 0));
    expectAllMisuse(notScalar, "stationarityConditions", (out) => cond(stationarityConditions(() => out as never))(y), "objective");
    expectAllMisuse(notScalar, "lassoConditions", (out) => cond(lassoConditions(() => out as never, 0.1))(tensor(0.1), y), "objective");
    expectAllMisuse(notScalar, "projectedGradientConditions", (out) => cond(projectedGradientConditions(() => out as never, (v: Tensor) => v, 0.1))(y), "objective");
    const notPoint = JUNK.filter((x) => !(x.make() instanceof Tensor && (x.make() as Tensor).ndim === 1 && (x.make() as Tensor).size === 2 && (x.make() as Tensor).dtype === "float64"));
    expectAllMisuse(notPoint, "fixedPointConditions", (out) => cond(fixedPointConditions(() => out as never))(y), "T");
    expectAllMisuse(notPoint, "proximalGradientConditions", (out) => cond(proximalGradientConditions(objective, () => out as never, 0.1))(y), "prox");
    expectAllMisuse(notPoint, "projectedGradientConditions", (out) => cond(projectedGradientConditions(objective, () => out as never, 0.1))(y), "projection");
    expectMisuse(() => cond(fixedPointConditions(() => tensor([1, 2, 3])))(y), "fixedPointConditions", "[3]", "[2]");
    expectMisuse(() => cond(lassoConditions(objective, 0.1, 3))(tensor(0.1), y), "lassoConditions", "lambdaIndex");
    expectMisuse(() => cond(lassoConditions(objective, 0.1, 0))(tensor([0.1, 0.2]), y), "lassoConditions", "[2]");
    expectAllMisuse(NOT_DATA, "lassoConditions", (lambda) => cond(lassoConditions(objectiveOfLambda, 0.1, 0))(lambda, y));
  });

  it("conditions: y missing, junk, or of the wrong size for KKT", () => {
    const kkt = kktConditions({ objective, sizes: { primal: 2, equality: 1 }, equality: (w: Tensor) => reshape(sum(w), [1]) });
    for (const [name, c] of [
      ["stationarityConditions", stationarityConditions(objective).conditions],
      ["fixedPointConditions", fixedPointConditions((w: Tensor) => w).conditions],
      ["kktConditions", kkt.conditions],
    ] as const) {
      expectMisuse(() => (c as (...a: unknown[]) => unknown)(), name, "y");
      expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS, ...FUNCTIONS], name, (yy) => (c as (...a: unknown[]) => unknown)(yy), "y");
    }
    expectMisuse(() => cond(kkt)(tensor([1, 2])), "kktConditions", "3", "[2]");
    const badConstraint = kktConditions({ objective, sizes: { primal: 2, equality: 1 }, equality: (w: Tensor) => w });
    expectMisuse(() => cond(badConstraint)(tensor([1, 2, 3])), "kktConditions", "equality", "[2]");
  });

  it("packKKT and unpackKKT", () => {
    expectAllMisuse([...NOT_DATA.filter((x) => x.make() !== null)], "packKKT", (p) => packKKT(p as never));
    expectMisuse(() => packKKT(null as never), "packKKT", "primal");
    expectMisuse(() => packKKT(tensor([1]), tensor([1], { dtype: "float32" })), "packKKT", "float32");
    expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS, ...FUNCTIONS], "unpackKKT", (yy) => unpackKKT(yy as never, { primal: 2 }), "y");
    expectAllMisuse([...JUNK.filter((x) => !(x.make() !== null && typeof x.make() === "object" && Object.getPrototypeOf(x.make()) === null))], "unpackKKT", (s) => unpackKKT(tensor([1, 2]), s as never), "sizes");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS.filter((x) => !["1e20", "2**53+2"].includes(x.name))], "unpackKKT", (p) => unpackKKT(tensor([1, 2]), { primal: p } as never), "sizes.primal");
    expectMisuse(() => unpackKKT(tensor([1, 2]), { primal: 1, equality: 2 }), "unpackKKT", "3", "[2]");
  });

  it("a stock conditions spec round-trips through an ImplicitFunction", () => {
    const A = tensor([[3, 1], [1, 2]]);
    const f = new ImplicitFunction({
      forward: (b: Tensor) => tensor([(2 * b.toFloat64Array()[0] - b.toFloat64Array()[1]) / 5, (3 * b.toFloat64Array()[1] - b.toFloat64Array()[0]) / 5]),
      ...stationarityConditions((b: Tensor, w: Tensor) => sub(mul(0.5, sum(mul(w, matmul(A, w)))), sum(mul(b, w))), { positiveDefinite: true }),
    });
    near(jacobian((b: Tensor) => f.call(b))(v2()), [0.4, -0.2, -0.2, 0.6], 1e-8);
  });
});

describe("contract: projections", () => {
  const dispatch: [string, (x: unknown) => unknown][] = [
    ["softThreshold", (x) => softThreshold(x as never, 0.5)],
    ["softThreshold", (x) => softThreshold(v2(), x as never)],
    ["projectNonNegative", (x) => projectNonNegative(x as never)],
    ["projectBox", (x) => projectBox(x as never, 0, 1)],
    ["projectBox", (x) => projectBox(v2(), x as never, 1)],
    ["projectBox", (x) => projectBox(v2(), 0, x as never)],
    ["projectL2Ball", (x) => projectL2Ball(x as never, 1)],
    ["projectL2Ball", (x) => projectL2Ball(v2(), x as never)],
    ["projectSimplex", (x) => projectSimplex(x as never)],
    ["projectSimplex", (x) => projectSimplex(v2(), x as never)],
  ];

  it("junk in any argument: a result or an Error prefixed with the projection (never an op inside it)", () => {
    for (const [name, call] of dispatch) {
      expectAllOkOrMisuse(JUNK, name, call);
    }
    for (const [name, call] of dispatch) {
      expectAllMisuse(NOT_DATA.filter((x) => !(name === "projectL2Ball" || name === "projectSimplex") || x.make() !== undefined || call === dispatch[6][1] || call === dispatch[8][1]), name, call);
    }
  });

  it("shapes that do not broadcast name both shapes; the radius is a non-negative scalar", () => {
    expectMisuse(() => projectBox(v2(), tensor([0, 0, 0]), 1), "projectBox", "[2]", "[3]");
    expectMisuse(() => softThreshold(v2(), tensor([1, 2, 3])), "softThreshold", "[2]", "[3]");
    expectMisuse(() => projectL2Ball(v2(), tensor([1, 2])), "projectL2Ball", "[2]");
    expectMisuse(() => projectL2Ball(v2(), -1), "projectL2Ball", "-1");
    expectMisuse(() => projectBox(v2(), tensor([0, 0], { dtype: "float32" }), 1), "projectBox", "float32");
    expectMisuse(() => projectSimplex(tensor([[1, 2]])), "projectSimplex", "[1,2]");
    expectMisuse(() => projectSimplex(v2(), -1), "projectSimplex");
  });

  it("projections are differentiable and do not mutate their inputs", () => {
    const v = tensor([0.3, 0.9, -0.2]);
    const check = snapshot(v);
    const g = grad((x: Tensor) => sum(mul(projectSimplex(x), tensor([1, 2, 3]))))(v);
    expect(Array.from(g.toFloat64Array()).every(Number.isFinite)).to.equal(true);
    grad((x: Tensor) => sum(projectL2Ball(x, 0.5)))(v);
    grad((x: Tensor) => sum(softThreshold(x, 0.1)))(v);
    grad((x: Tensor) => sum(projectBox(x, -0.1, 0.5)))(v);
    check();
    // a kkt-packed vector splits back into its parts
    const packed = packKKT(tensor([1, 2]), tensor([3]));
    const parts = unpackKKT(packed, { primal: 2, equality: 1 });
    near(concat([parts.primal, parts.equality!]), [1, 2, 3]);
    near(slice(packed, [2], [1]), [3]);
  });
});
