/**
 * The op table (lib/primitives/ops.ts) against what users meet: every row is
 * exported by name from the package root (lib/index.ts and the built dist, ES
 * module and CommonJS), has a method form on Tensor exactly when the row says
 * so, and the method form computes what the function computes (arguments that
 * are not symmetric, so a method passing them in the wrong place fails).
 * Needs `npm run build` first for the dist (npm test does it).
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as lib from "../../lib/index.js";
import { OPS, type OpName } from "../../lib/primitives/ops.js";

type Library = typeof lib;
type Fn = (...args: unknown[]) => lib.Tensor;

const X = [[0.5, -1.25], [2, 3]];
const Y = [[0.25, 4], [-3, 1.5]];
const POSITIVE = [[0.5, 1.25], [2, 3]];

/**
 * One call per op: its arguments, made with the library given (the source or
 * the built bundle: their Tensor classes differ). The first is the tensor a
 * method form is called on. Every row of the table needs one.
 */
const EXAMPLES: Record<OpName, (L: Library) => unknown[]> = {
  add: (L) => [L.tensor(X), Y],
  sub: (L) => [L.tensor(X), Y],
  mul: (L) => [L.tensor(X), [2, -3]],
  div: (L) => [L.tensor(X), Y],
  pow: (L) => [L.tensor(X), 3],
  maximum: (L) => [L.tensor(X), Y],
  minimum: (L) => [L.tensor(X), Y],
  neg: (L) => [L.tensor(X)],
  exp: (L) => [L.tensor(X)],
  log: (L) => [L.tensor(POSITIVE)],
  sqrt: (L) => [L.tensor(POSITIVE)],
  abs: (L) => [L.tensor(X)],
  sign: (L) => [L.tensor(X)],
  sin: (L) => [L.tensor(X)],
  cos: (L) => [L.tensor(X)],
  tanh: (L) => [L.tensor(X)],
  sigmoid: (L) => [L.tensor(X)],
  softplus: (L) => [L.tensor(X)],
  relu: (L) => [L.tensor(X)],
  stopGradient: (L) => [L.tensor(X)],
  where: (L) => [L.tensor([[1, 0], [0, 1]]), X, Y],
  greater: (L) => [L.tensor(X), Y],
  greaterEqual: (L) => [L.tensor(X), [[0.5, 4], [2, 1]]],
  less: (L) => [L.tensor(X), Y],
  lessEqual: (L) => [L.tensor(X), [[0.5, 4], [2, 1]]],
  equal: (L) => [L.tensor(X), [[0.5, 4], [2, 1]]],
  sum: (L) => [L.tensor(X), 0, true],
  mean: (L) => [L.tensor(X), 1],
  max: (L) => [L.tensor(X), 0],
  min: (L) => [L.tensor(X), -1, true],
  logsumexp: (L) => [L.tensor(X), 1],
  softmax: (L) => [L.tensor(X), 0],
  norm: (L) => [L.tensor(X), 1, 1, true],
  reshape: (L) => [L.tensor(X), [4]],
  transpose: (L) => [L.tensor(X), [1, 0]],
  broadcastTo: (L) => [L.tensor(X), [3, 2, 2]],
  slice: (L) => [L.tensor(X), [0, 1], [2, 1]],
  concat: (L) => [[L.tensor(X), Y], 1],
  stack: (L) => [[L.tensor(X), Y], 0],
  matmul: (L) => [L.tensor(X), Y],
  dot: (L) => [L.tensor([0.5, -2]), [3, 1.25]],
  outer: (L) => [L.tensor([0.5, -2]), [3, 1.25, -1]],
  solve: (L) => [L.tensor([[4, 1], [1, 3]]), [1, 2]],
  diag: (L) => [L.tensor(X)],
  astype: (L) => [L.tensor(X), "float32"],
};

const names = Object.keys(OPS) as OpName[];
const root = resolve(import.meta.dirname, "../..");

/** What a result is, to compare two computations: shape, dtype and values. */
function summary(t: unknown): unknown {
  expect(t, "an op returns a Tensor").to.have.property("shape");
  const r = t as lib.Tensor;
  return { shape: r.shape, dtype: r.dtype, values: Array.from(r.toFloat64Array()) };
}

function byFunction(L: Library, name: OpName): unknown {
  return summary((L[name] as unknown as Fn)(...EXAMPLES[name](L)));
}

function byMethod(L: Library, name: OpName): unknown {
  const [self, ...rest] = EXAMPLES[name](L);
  return summary(((self as Record<string, unknown>)[name] as Fn).apply(self, rest));
}

describe("primitives/ops: the op table", () => {
  it("has one example per row here (a new op needs one)", () => {
    expect(Object.keys(EXAMPLES).sort()).to.deep.equal([...names].sort());
  });

  it("every row is exported by name from lib/index.ts, as the row's function", () => {
    for (const name of names) expect(lib[name], name).to.equal(OPS[name].fn);
  });

  it("Tensor has a method form exactly for the rows that declare one", () => {
    const x = lib.tensor(X) as unknown as Record<string, unknown>;
    for (const name of names) expect(typeof x[name], name).to.equal(OPS[name].method ? "function" : "undefined");
  });

  it("each method form computes what its function computes", () => {
    for (const name of names.filter((n) => OPS[n].method)) expect(byMethod(lib, name), name).to.deep.equal(byFunction(lib, name));
  });

  describe("the built dist", () => {
    let esm: Library;
    let cjs: Library;
    before(async () => {
      for (const f of ["dist/index.js", "dist/index.cjs"]) {
        if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run npm run build first (npm test does)`);
      }
      esm = (await import(pathToFileURL(join(root, "dist/index.js")).href)) as Library;
      cjs = createRequire(join(root, "package.json"))(join(root, "dist/index.cjs")) as Library;
    });

    it("exports every row by name, as ES module and as CommonJS, computing what the source computes", () => {
      for (const name of names) {
        const expected = byFunction(lib, name);
        for (const [kind, L] of [["ESM", esm], ["CJS", cjs]] as const) {
          expect(typeof L[name], `${kind} ${name}`).to.equal("function");
          expect(byFunction(L, name), `${kind} ${name}`).to.deep.equal(expected);
        }
      }
    });

    it("has the method forms the table declares, and only those", () => {
      for (const [kind, L] of [["ESM", esm], ["CJS", cjs]] as const) {
        const x = L.tensor(X) as unknown as Record<string, unknown>;
        for (const name of names) {
          expect(typeof x[name], `${kind} ${name}`).to.equal(OPS[name].method ? "function" : "undefined");
          if (OPS[name].method) expect(byMethod(L, name), `${kind} ${name}`).to.deep.equal(byFunction(lib, name));
        }
      }
    });
  });
});
