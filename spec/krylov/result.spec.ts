/**
 * Option parsing and argument checks shared by every solver (lib/krylov/result.ts):
 * each misuse throws an Error that begins with the solver's public name and
 * names the option or the shapes involved; nothing is coerced.
 */
import { expect } from "chai";
import { tensor, type Tensor } from "../../lib/index.js";
import { cg, gmres, type KrylovResult } from "../../lib/krylov/index.js";
import { SOLVERS } from "../../lib/krylov/solvers.js";
import { expectError } from "../helpers.js";

type Solver = (A: unknown, b: unknown, opts?: unknown) => KrylovResult;
/** Every solver of the table (lib/krylov/solvers.ts). */
const solvers = Object.entries(SOLVERS).map(([name, row]) => [name, row.solve as Solver, row] as const);
const A = tensor([[4, 1], [1, 3]]);
const b = tensor([1, 2]);

describe("krylov options and argument checks", () => {
  for (const [name, solve, row] of solvers) {
    describe(name, () => {
      it("rejects bad tol, atol and maxIter values, coercing nothing", () => {
        for (const tol of [NaN, -1, Infinity, "1e-3", null, true]) expectError(() => solve(A, b, { tol }), `${name}:`, "tol");
        for (const atol of [NaN, -1e-3, "0", null, false]) expectError(() => solve(A, b, { atol }), `${name}:`, "atol");
        for (const maxIter of [1.5, -1, NaN, Infinity, "10", null]) expectError(() => solve(A, b, { maxIter }), `${name}:`, "maxIter");
        expect(solve(A, b, { tol: undefined, maxIter: undefined }).converged).to.equal(true);
      });

      it("rejects a wrong-length or non-numeric x0", () => {
        expectError(() => solve(A, b, { x0: [1, 2, 3] }), `${name}:`, "x0", "[3]", "[2]");
        expectError(() => solve(A, b, { x0: tensor([[1, 2]]) }), `${name}:`, "x0", "[1,2]");
        expectError(() => solve(A, b, { x0: ["1", 2] }), `${name}:`, "x0");
        expectError(() => solve(A, b, { x0: null }), `${name}:`, "x0");
      });

      it("rejects unknown options, non-object options, and bad history/callback", () => {
        expectError(() => solve(A, b, { maxiter: 5 }), `${name}:`, "maxiter");
        expectError(() => solve(A, b, 5), `${name}:`, "options");
        expectError(() => solve(A, b, null), `${name}:`, "options");
        expectError(() => solve(A, b, { history: "yes" }), `${name}:`, "history");
        expectError(() => solve(A, b, { callback: 3 }), `${name}:`, "callback");
      });

      it("rejects A and b of incompatible shapes or kinds", () => {
        expectError(() => solve(A, [1, 2, 3]), `${name}:`, "[2,2]", "[3]");
        expectError(() => solve(A, tensor([[1], [2]])), `${name}:`, "b", "[2,1]");
        expectError(() => solve(A, ["1", "2"]), `${name}:`, "b");
        expectError(() => solve(A, undefined), `${name}:`, "b");
        expectError(() => solve("A", b), `${name}:`, "A");
        expectError(() => solve(tensor([1, 2]), b), `${name}:`, "2-D");
        expectError(() => solve({ shape: [2, 2], matvec: 3 }, b), `${name}:`, "matvec");
        expectError(() => solve({ shape: [2, "2"], matvec: (v: Tensor) => v, rmatvec: (v: Tensor) => v }, b), `${name}:`, "shape");
        expectError(() => solve({ shape: [3, 3], matvec: (v: Tensor) => v, rmatvec: (v: Tensor) => v }, b), `${name}:`, "[3,3]", "[2]");
      });

      it("rejects a product that returns the wrong shape or not a Tensor", () => {
        const op = (out: unknown) => ({ shape: [2, 2] as [number, number], matvec: () => out as Tensor, rmatvec: () => out as Tensor });
        expectError(() => solve(op(tensor([1, 2, 3])), b), `${name}:`, "[3]", "[2]");
        expectError(() => solve(op([1, 2]), b), `${name}:`, "Tensor");
        expectError(() => solve(op(tensor([[1, 2]])), b), `${name}:`, "[1,2]");
        if (!row.transpose) expectError(() => solve(() => 7, b), `${name}:`, "Tensor");
      });
    });
  }

  it("square methods reject rectangular operators", () => {
    for (const [name, solve] of solvers.filter(([, , row]) => row.square)) {
      expectError(() => solve(tensor([[1, 2, 3], [4, 5, 6]]), [1, 2]), `${name}:`, "square", "[2,3]");
    }
  });

  it("validates the preconditioner and gmres's restart", () => {
    for (const [name, solve] of solvers.filter(([, , row]) => row.preconditioner)) {
      expectError(() => solve(A, b, { M: "jacobi" }), `${name}:`, "M");
      expectError(() => solve(A, b, { M: null }), `${name}:`, "M");
      expectError(() => solve(A, b, { M: tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) }), `${name}:`, "M", "[3,3]");
      expectError(() => solve(A, b, { M: () => tensor([1]) }), `${name}:`, "M", "[1]");
    }
    for (const restart of [0, -2, 1.5, "3", null, NaN]) expectError(() => gmres(A, b, { restart } as never), "gmres:", "restart");
    expectError(() => cg(A, b, { restart: 3 } as never), "cg:", "restart");
    expect(gmres(A, b, { restart: 1 }).converged).to.equal(true);
    expect(gmres(A, b, { restart: 100 }).converged).to.equal(true);
  });
});
