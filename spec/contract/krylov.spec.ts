/**
 * Contract: the Krylov solvers and the dense direct solvers under bad input and
 * numerical trouble. Misuse throws an Error prefixed with the solver's name;
 * numerical trouble (maxIter, breakdown, NaN/∞ in b, A, x0, a matvec, the
 * preconditioner or the residual) never throws and is never reported converged.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, cholesky, choleskySolve, grad, jvp, luSolve, mul, sum, tensor, zeros } from "../../lib/index.js";
import type { KrylovResult, LinearOperator } from "../../lib/index.js";
import { SOLVERS as SOLVER_TABLE } from "../../lib/krylov/solvers.js";
import {
  BAD_NUMBERS, COERCIBLE, FC, JUNK, NOT_DATA, OBJECTS, TENSORS, TOKENS, expectAllMisuse, expectAllOkOrMisuse,
  expectMisuse, expectOkOrMisuse, expectPassesThrough, hugeView, junkArb, quickly, snapshot,
} from "./helpers.js";

type Solver = (A: unknown, b: unknown, opts?: unknown) => KrylovResult;
/** Every solver of the table (lib/krylov/solvers.ts), with its row: what it needs decides which misuse applies. */
const SOLVERS = Object.entries(SOLVER_TABLE).map(([name, row]) => [name, row.solve as Solver, row] as const);

const A2 = () => tensor([[4, 1], [1, 3]]);
const b2 = () => tensor([1, 2]);

/** A 2×2 operator object around [[4,1],[1,3]] whose products can be spoilt after `after` calls. */
function spoilt(after: number, spoil: (y: number[]) => unknown): LinearOperator {
  let calls = 0;
  const product = (v: Tensor): Tensor => {
    const x = v.toFloat64Array();
    const y = [4 * x[0] + x[1], x[0] + 3 * x[1]];
    return (++calls > after ? spoil(y) : tensor(y)) as Tensor;
  };
  return { shape: [2, 2], matvec: product, rmatvec: product };
}

/** Random well-conditioned symmetric positive definite n×n matrices as nested arrays. */
const spdArb = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.tuple(
    fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
    fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
  ).map(([B, b]) => {
    const A = B.map((_, i) => B.map((__, j) => B[i].reduce((s, v, k) => s + v * B[j][k], 0) + (i === j ? n : 0)));
    return { n, A, b };
  }));

function residualOf(A: number[][], x: Tensor, b: number[]): number {
  const xs = x.toFloat64Array();
  return Math.hypot(...A.map((row, i) => b[i] - row.reduce((s, a, j) => s + a * xs[j], 0)));
}

/** The contract on a result: converged exactly when status is "converged", and then x is finite. */
function expectHonest(r: KrylovResult, context: string): void {
  expect(r.converged, `${context}: converged vs status ${r.status}`).to.equal(r.status === "converged");
  expect(["converged", "maxIter", "breakdown", "nonFinite"], context).to.include(r.status);
  expect(Number.isInteger(r.iterations) && r.iterations >= 0, `${context}: iterations ${r.iterations}`).to.equal(true);
  if (r.converged) {
    expect(Number.isFinite(r.residualNorm), `${context}: residualNorm`).to.equal(true);
    expect(Array.from(r.x.toFloat64Array()).every(Number.isFinite), `${context}: x`).to.equal(true);
  }
}

describe("contract: Krylov misuse", () => {
  for (const [name, solve, row] of SOLVERS) {
    describe(name, () => {
      it("A that is not an operator; b that is not a vector", () => {
        expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS].filter((x) => x.make() !== undefined || true), name, (A) => solve(A, b2()));
        expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS], name, (b) => solve(A2(), b));
        expectAllOkOrMisuse(JUNK, name, (A) => solve(A, b2()));
        expectAllOkOrMisuse(JUNK, name, (b) => solve(A2(), b));
        expectMisuse(() => solve(A2(), tensor([[1, 2]])), name, "b", "[1,2]");
        expectMisuse(() => solve(A2(), ["1", "2"]), name);
        expectMisuse(() => solve([["4", 1], [1, 3]], b2()), name);
      });

      it("an operator whose shape is incompatible with b names both shapes", () => {
        expectMisuse(() => solve(tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), b2()), name, "[3,3]", "[2]");
        expectMisuse(() => solve({ shape: [3, 3], matvec: (v: Tensor) => v, rmatvec: (v: Tensor) => v }, b2()), name, "[3,3]", "[2]");
        expectMisuse(() => solve(tensor([1, 2]), b2()), name, "[2]");
      });

      it("a LinearOperator with a malformed shape, matvec or flags", () => {
        for (const shape of [[2, "2"], [-2, 2], [1.5, 2], [2, 2, 2], [2], "2", null, [NaN, 2], [true, 2], [Infinity, 2]]) {
          expectMisuse(() => solve({ shape, matvec: (v: Tensor) => v, rmatvec: (v: Tensor) => v }, b2()), name, "shape");
        }
        expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...OBJECTS].filter((x) => x.make() !== undefined), name, (m) => solve({ shape: [2, 2], matvec: m }, b2()), "matvec");
        expectMisuse(() => solve({ shape: [2, 2], matvec: (v: Tensor) => v, rmatvec: "x" }, b2()), name, "rmatvec");
        expectMisuse(() => solve({ shape: [2, 2], matvec: (v: Tensor) => v, rmatvec: (v: Tensor) => v, symmetric: "yes" }, b2()), name, "symmetric");
      });

      it("a wrong-length or junk x0", () => {
        expectMisuse(() => solve(A2(), b2(), { x0: [0, 0, 0] }), name, "x0", "[3]", "[2]");
        expectMisuse(() => solve(A2(), b2(), { x0: tensor([[0, 0]]) }), name, "x0");
        expectAllMisuse(NOT_DATA.filter((x) => x.make() !== undefined), name, (x0) => solve(A2(), b2(), { x0 }), "x0");
      });

      it("tol, atol and maxIter: never coerced; non-finite, negative or fractional values", () => {
        for (const key of ["tol", "atol", "maxIter"]) {
          expectAllMisuse([...COERCIBLE, ...OBJECTS.filter((x) => x.make() !== undefined), ...TENSORS], name, (v) => solve(A2(), b2(), { [key]: v }), key);
          expectAllMisuse(BAD_NUMBERS.filter((x) => !["0", "1e20", "2**53+2", ...(key === "maxIter" ? [] : ["1.5"])].includes(x.name)), name, (v) => solve(A2(), b2(), { [key]: v }), key);
        }
        expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS].filter((x) => typeof x.make() !== "boolean"), name, (v) => solve(A2(), b2(), { history: v }), "history");
        expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS], name, (v) => solve(A2(), b2(), { callback: v }), "callback");
      });

      it("options that are not a plain object, or an unknown option", () => {
        expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS, { name: "Map", make: () => new Map() }, { name: "fn", make: () => () => 1 }], name, (o) => solve(A2(), b2(), o), "option");
        expectMisuse(() => solve(A2(), b2(), { maxiter: 3 }), name, "maxiter");
        expectMisuse(() => solve(A2(), b2(), { tolerance: 1e-3 }), name, "tolerance");
      });

      if (row.restart) {
        it("restart < 1, fractional or non-numeric", () => {
          expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS.filter((x) => !["1e20", "2**53+2"].includes(x.name)), ...TENSORS], name, (restart) => solve(A2(), b2(), { restart }), "restart");
        });
      } else {
        it("restart is gmres's option", () => {
          expectMisuse(() => solve(A2(), b2(), { restart: 5 }), name, "restart");
        });
      }

      if (row.square) {
        it("a non-square operator", () => {
          expectMisuse(() => solve(tensor([[1, 2, 3], [4, 5, 6]]), b2()), name, "square", "[2,3]");
          expectMisuse(() => solve({ shape: [2, 3], matvec: () => b2() }, b2()), name, "square", "[2,3]");
        });
      } else {
        it("a rectangular operator is fine", () => {
          const r = solve(tensor([[1, 0], [0, 1], [1, 1]]), tensor([1, 2, 3]));
          expectHonest(r, `${name} 3×2`);
          expect(r.converged).to.equal(true);
        });
      }

      if (row.transpose) {
        it("a function, or an operator without rmatvec, is misuse", () => {
          expectMisuse(() => solve((v: Tensor) => v, b2()), name, "rmatvec");
          expectMisuse(() => solve({ shape: [2, 2], matvec: (v: Tensor) => v }, b2()), name, "rmatvec");
        });
      }

      if (row.preconditioner) {
        it("a preconditioner that is junk, of the wrong shape, or returning junk", () => {
          expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS.filter((x) => !(x.make() instanceof Tensor && (x.make() as Tensor).ndim === 2))], name, (M) => solve(A2(), b2(), { M }), "M");
          expectMisuse(() => solve(A2(), b2(), { M: tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) }), name, "M", "[3,3]");
          expectAllMisuse([...COERCIBLE, ...OBJECTS, ...BAD_NUMBERS, { name: "[3]", make: () => tensor([1, 2, 3]) }, { name: "[2,1]", make: () => tensor([[1], [2]]) }], name, (out) => solve(A2(), b2(), { M: () => out }), "M");
        });
      } else {
        it("a preconditioner is misuse", () => {
          expectMisuse(() => solve(A2(), b2(), { M: (v: Tensor) => v }), name, "M");
        });
      }

      it("a matvec (or rmatvec) returning junk or the wrong shape, at any iteration, names the shapes", () => {
        // A 2×2 solve makes at least three products (two iterations and the final check).
        fc.assert(fc.property(fc.integer({ min: 0, max: 2 }), junkArb, (after, junk) => {
          const out = junk.make();
          const isGood = out instanceof Tensor && out.ndim === 1 && out.shape[0] === 2;
          if (isGood) return;
          const e = expectMisuse(() => solve(spoilt(after, () => out), b2(), { tol: 1e-14 }), name);
          if (out instanceof Tensor) expect(e.message).to.contain(`[${out.shape.join(",")}]`);
        }), { ...FC, numRuns: 40 });
      });

      it("a huge broadcast view as A or b is an Error, not an engine RangeError", () => {
        expectMisuse(() => solve(hugeView([70000, 70000]), hugeView([70000])), name);
        expectMisuse(() => solve(hugeView([70000, 70000]), b2()), name);
      });
    });
  }
});

describe("contract: Krylov numerics never throw and are never reported converged", () => {
  for (const [name, solve, row] of SOLVERS) {
    describe(name, () => {
      it("NaN or ±∞ in b, in A, in x0: status nonFinite at once", () => {
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const [what, run] of [
            ["b", () => solve(A2(), [bad, 1])],
            ["A", () => solve(tensor([[4, bad], [1, 3]]), b2())],
            ["x0", () => solve(A2(), b2(), { x0: [0, bad] })],
          ] as [string, () => KrylovResult][]) {
            const r = run();
            expectHonest(r, `${name}: ${bad} in ${what}`);
            expect(r.status, `${name}: ${bad} in ${what}`).to.equal("nonFinite");
            expect(r.converged).to.equal(false);
          }
        }
      });

      it("property: a NaN or ∞ from the k-th product stops the iteration with status nonFinite", () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), fc.constantFrom(NaN, Infinity, -Infinity), fc.integer({ min: 0, max: 1 }), (after, bad, entry) => {
          const r = solve(spoilt(after, (y) => tensor(y.map((v, i) => (i === entry ? bad : v)))), b2(), { tol: 1e-15, maxIter: 50 });
          expectHonest(r, `${name}: ${bad} after ${after} products`);
          // The iteration may have converged before the spoilt product was needed.
          if (!r.converged) expect(r.status, `${name}: ${bad} after ${after}`).to.equal("nonFinite");
        }), FC);
      });

      if (row.preconditioner) {
        it("property: a preconditioner producing NaN or ∞ gives nonFinite (or breakdown), never converged", () => {
          fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), fc.constantFrom(NaN, Infinity), (after, bad) => {
            let calls = 0;
            const r = solve(A2(), b2(), { M: (v: Tensor) => (++calls > after ? tensor([bad, 0]) : v), tol: 1e-15 });
            expectHonest(r, `${name}: M spoilt after ${after}`);
            if (!r.converged) expect(["nonFinite", "breakdown"]).to.include(r.status);
          }), FC);
        });
      }

      it("huge maxIter with a NaN operator returns at once", () => {
        for (const maxIter of [1e9, 2 ** 53, 1e20]) {
          const r = quickly(1000, `${name} maxIter ${maxIter}`, () => solve({ shape: [2, 2], matvec: () => tensor([NaN, NaN]), rmatvec: () => tensor([NaN, NaN]) }, b2(), { maxIter }));
          expect(r.status).to.equal("nonFinite");
          expect(r.converged).to.equal(false);
        }
      });

      if (row.restart) {
        it("a restart cycle that makes no progress is a breakdown, not a spin to a huge maxIter", () => {
          for (const [A, b] of [[[[0, -1], [1, 0]], [1, 0]], [[[0, 0, 1], [1, 0, 0], [0, 1, 0]], [1, 0, 0]]] as [number[][], number[]][]) {
            for (const restart of [1, 2]) {
              const r = quickly(1000, `gmres(${restart})`, () => solve(A, b, { restart, maxIter: 1e12 }));
              expectHonest(r, `gmres(${restart})`);
            }
          }
        });
      }

      it("maxIter reached: status maxIter, not converged, iterations bounded", () => {
        const n = 30;
        const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === j ? 2 + i : i === j + 1 || j === i + 1 ? -1 : 0)));
        const b = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
        for (const maxIter of [0, 1, 2]) {
          const r = solve(A, b, { maxIter, tol: 1e-14 });
          expectHonest(r, `${name} maxIter ${maxIter}`);
          expect(r.status).to.equal("maxIter");
          expect(r.iterations).to.be.at.most(maxIter);
          expect(r.residualNorm).to.be.closeTo(residualOf(A, r.x, b), 1e-9);
        }
      });

      it("singular and indefinite systems: breakdown or maxIter, never a false convergence", () => {
        const cases: [string, number[][], number[]][] = [
          ["zero matrix", [[0, 0], [0, 0]], [1, 1]],
          ["singular, inconsistent", [[1, 0], [0, 0]], [1, 1]],
          ["indefinite", [[1, 0], [0, -1]], [1, 1]],
          ["swap", [[0, 1], [1, 0]], [1, 0]],
          ["rotation", [[0, -1], [1, 0]], [1, 0]],
        ];
        for (const [what, A, b] of cases) {
          const r = quickly(2000, `${name}: ${what}`, () => solve(A, b, { maxIter: 1e5 }));
          expectHonest(r, `${name}: ${what}`);
          const res = residualOf(A, r.x, b);
          // A method for rectangular systems (lsqr) converges at a least-squares solution.
          if (r.converged && row.square) expect(res, `${name}: ${what} reported converged`).to.be.at.most(1e-8 * Math.hypot(...b) + 1e-12);
          if (!r.converged && r.status !== "nonFinite") expect(r.residualNorm, `${name}: ${what}: residualNorm describes x`).to.be.closeTo(res, 1e-9 * (1 + res));
        }
      });

      it("property: on random SPD systems, converged means the stopping rule holds for the returned x", () => {
        fc.assert(fc.property(spdArb, fc.constantFrom(1e-4, 1e-8, 1e-12), ({ A, b }, tol) => {
          const r = solve(A, b, { tol });
          expectHonest(r, name);
          const res = residualOf(A, r.x, b);
          const bn = Math.hypot(...b);
          if (r.converged) expect(res).to.be.at.most(Math.max(tol * bn, 0) * 1.000001 + 1e-13 * (1 + bn));
          if (r.status !== "nonFinite") expect(r.residualNorm).to.be.closeTo(res, 1e-9 * (1 + res));
        }), { ...FC, numRuns: 40 });
      });

      it("b = 0 gives x = 0, converged, whatever x0 (even NaN)", () => {
        const r = solve(A2(), [0, 0], { x0: [NaN, 5] });
        expect(r.converged).to.equal(true);
        expect(Array.from(r.x.toFloat64Array())).to.deep.equal([0, 0]);
      });

      it("an empty system is solved trivially", () => {
        const r = solve(zeros([0, 0]), zeros([0]));
        expectHonest(r, `${name} empty`);
      });
    });
  }
});

describe("contract: Krylov and user code", () => {
  for (const [name, solve, row] of SOLVERS) {
    it(`${name}: what matvec, rmatvec, M or callback throw reaches the caller unchanged, and all still works`, () => {
      for (const { name: kind, make } of TOKENS) {
        const token = make();
        const boom = () => { throw token; };
        expectPassesThrough(() => solve({ shape: [2, 2], matvec: boom, rmatvec: (v: Tensor) => v }, b2()), token, `${name} matvec throws ${kind}`);
        expectPassesThrough(() => solve(spoilt(2, boom), b2(), { tol: 1e-15 }), token, `${name} a later matvec throws ${kind}`);
        if (row.transpose) expectPassesThrough(() => solve({ shape: [2, 2], matvec: (v: Tensor) => v, rmatvec: boom }, b2()), token, `${name} rmatvec throws ${kind}`);
        else expectPassesThrough(() => solve(boom, b2()), token, `${name} function operator throws ${kind}`);
        if (row.preconditioner) expectPassesThrough(() => solve(A2(), b2(), { M: boom }), token, `${name} M throws ${kind}`);
        expectPassesThrough(() => solve(A2(), b2(), { callback: boom, tol: 1e-15 }), token, `${name} callback throws ${kind}`);
      }
    });
  }

  it("property: any junk in any slot of any solver either works or is an Error prefixed with the solver", () => {
    fc.assert(fc.property(fc.constantFrom(...SOLVERS), junkArb, fc.integer({ min: 0, max: 9 }), ([name, solve], junk, slot) => {
      const x = junk.make();
      const calls = [
        () => solve(x, b2()), () => solve(A2(), x), () => solve(A2(), b2(), x), () => solve(A2(), b2(), { x0: x }),
        () => solve(A2(), b2(), { tol: x }), () => solve(A2(), b2(), { maxIter: x }), () => solve(A2(), b2(), { atol: x }),
        () => solve({ shape: x, matvec: (v: Tensor) => v, rmatvec: (v: Tensor) => v }, b2()),
        () => solve({ shape: [2, 2], matvec: () => x, rmatvec: () => x }, b2()),
        () => solve(A2(), b2(), { callback: () => x }),
      ];
      expectOkOrMisuse(calls[slot], name, `${name} slot ${slot} with ${junk.name}`);
    }), { ...FC, numRuns: 2000 });
  });

  it("no solver mutates A, b or x0, dense, nested, typed or strided", () => {
    const A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]];
    const At = tensor(A).transpose();
    const b = new Float64Array([1, 2, 3]);
    const bt = tensor([[1, 0], [2, 0], [3, 0]]).transpose();
    const x0 = [0.5, 0.5, 0.5];
    const check = snapshot(A, At, b, bt, x0);
    for (const [, solve] of SOLVERS) {
      solve(A, b, { x0 });
      solve(At, b, { x0: tensor(x0) });
      solve(At, bt.reshape([6]).slice([0], [3]), { x0 });
      solve({ shape: [3, 3], matvec: (v: Tensor) => tensor(A).matmul(v), rmatvec: (v: Tensor) => tensor(A).matmul(v) }, b);
    }
    check();
  });
});

describe("contract: solvers are not differentiable, and say so instead of dropping a derivative", () => {
  it("a traced b, A, x0 or matvec result under grad or jvp is an Error; a finished tracer is a constant", () => {
    for (const [name, solve] of SOLVERS) {
      expectMisuse(() => grad((b: Tensor) => sum(solve(A2(), b).x))(b2()), name, "differentiated");
      expectMisuse(() => jvp((b: Tensor) => solve(A2(), b).x, [b2()], [b2()]), name, "differentiated");
      expectMisuse(() => grad((a: Tensor) => sum(solve(mul(a, A2()), b2()).x))(tensor(1)), name, "differentiated");
      expectMisuse(() => grad((s: Tensor) => sum(solve(A2(), b2(), { x0: mul(s, b2()) }).x))(tensor(1)), name, "differentiated");
      expectMisuse(() => grad((s: Tensor) => sum(solve({ shape: [2, 2], matvec: (v: Tensor) => mul(s, v), rmatvec: (v: Tensor) => mul(s, v) }, b2()).x))(tensor(2)), name, "differentiated");
      let leaked: Tensor | null = null;
      grad((b: Tensor) => {
        leaked = b;
        return sum(b);
      })(b2());
      expectHonest(solve(A2(), leaked!), `${name} with a finished tracer`);
    }
    expectMisuse(() => grad((b: Tensor) => sum(luSolve(A2(), b)))(b2()), "luSolve", "differentiated");
    expectMisuse(() => grad((a: Tensor) => sum(choleskySolve(mul(a, A2()), b2())))(tensor(1)), "choleskySolve", "differentiated");
  });
});

describe("contract: dense direct solvers", () => {
  const SPD = () => tensor([[4, 1], [1, 3]]);
  for (const [name, solve] of [
    ["luSolve", (A: unknown, b: unknown) => luSolve(A as never, b as never)],
    ["choleskySolve", (A: unknown, b: unknown) => choleskySolve(A as never, b as never)],
  ] as const) {
    it(`${name}: A and b junk, non-square A, b of the wrong length (both shapes named)`, () => {
      expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS], name, (A) => solve(A, b2()));
      expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS], name, (b) => solve(SPD(), b));
      expectAllOkOrMisuse(JUNK, name, (A) => solve(A, b2()));
      expectAllOkOrMisuse(JUNK, name, (b) => solve(SPD(), b));
      expectMisuse(() => solve(tensor([[1, 2, 3], [4, 5, 6]]), b2()), name, "[2,3]");
      expectMisuse(() => solve(SPD(), tensor([1, 2, 3])), name, "[3]", "[2,2]");
      expectMisuse(() => solve(SPD(), tensor([[[1]]])), name, "[1,1,1]");
      expectMisuse(() => solve([["4", 1], [1, 3]], b2()), name);
    });

    it(`${name}: singular, non-finite or (for Cholesky) indefinite matrices are Errors naming the shape`, () => {
      expectMisuse(() => solve(tensor([[1, 2], [2, 4]]), b2()), name, "[2,2]");
      expectMisuse(() => solve(tensor([[NaN, 0], [0, 1]]), b2()), name, "[2,2]");
      expectMisuse(() => solve(tensor([[Infinity, 0], [0, 1]]), b2()), name, "[2,2]");
      if (name === "choleskySolve") {
        expectMisuse(() => solve(tensor([[1, 0], [0, -1]]), b2()), name, "positive definite");
        expectMisuse(() => solve(tensor([[1, 2], [0, 1]]), b2()), name, "symmetric");
      }
    });

    it(`${name}: a huge broadcast view is an Error, not an engine RangeError`, () => {
      expectMisuse(() => solve(hugeView([70000, 70000]), hugeView([70000])), name);
    });
  }

  it("luSolve options: not a plain object, unknown keys, non-boolean transpose", () => {
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS, ...TENSORS, { name: "Map", make: () => new Map() }].filter((x) => x.make() !== null || true), "luSolve", (o) => luSolve(SPD(), b2(), o as never), "option");
    expectMisuse(() => luSolve(SPD(), b2(), { transposed: true } as never), "luSolve", "transposed");
    expectAllMisuse([...COERCIBLE, ...BAD_NUMBERS].filter((x) => typeof x.make() !== "boolean"), "luSolve", (t) => luSolve(SPD(), b2(), { transpose: t } as never), "transpose");
  });

  it("cholesky and its factorisation's solve", () => {
    expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS], "cholesky", (A) => cholesky(A as never));
    const F = cholesky(SPD());
    expectAllMisuse([...NOT_DATA, ...BAD_NUMBERS], "CholeskyFactorization.solve", (b) => F.solve(b as never));
    expectMisuse(() => F.solve(tensor([1, 2, 3])), "CholeskyFactorization.solve", "[3]");
  });

  it("no direct solver mutates its inputs, and NaN in b propagates without an error", () => {
    const A = [[4, 1], [1, 3]];
    const b = new Float64Array([1, NaN]);
    const B = tensor([[1, 2], [3, 4]]).transpose();
    const check = snapshot(A, b, B);
    expect(Array.from(luSolve(A, b as never).toFloat64Array()).some(Number.isNaN)).to.equal(true);
    choleskySolve(A, B);
    luSolve(A, B, { transpose: true });
    check();
  });
});
