/**
 * The built package as a user meets it: a scratch project outside the repo
 * imports it (ESM) and requires it (CommonJS) by name, and computes with it.
 * Needs `npm run build` first (npm test does it).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

describe("the built package", function () {
  let scratch = "";
  before(function () {
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/browser.js"]) {
      if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run npm run build first (npm test does)`);
    }
    scratch = mkdtempSync(join(tmpdir(), "implicit-diff-scratch-"));
    mkdirSync(join(scratch, "node_modules"));
    symlinkSync(root, join(scratch, "node_modules", "implicit-diff"), "dir");
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const program = `
    const x = tensor([[1, 2], [3, 4]]);
    const g = grad((v) => sum(mul(v, v)))(tensor([1, 2]));
    console.log(JSON.stringify({ mm: matmul(x, x).toArray(), s: sum(x).item(), g: g.toArray() }));`;
  const expected = { mm: [[7, 10], [15, 22]], s: 10, g: [2, 4] };

  it("can be imported as an ES module by name", () => {
    writeFileSync(join(scratch, "esm.mjs"), `import { tensor, matmul, sum, mul, grad } from "implicit-diff";${program}`);
    const out = execFileSync(process.execPath, [join(scratch, "esm.mjs")], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(out)).to.deep.equal(expected);
  });

  it("can be required as CommonJS by name", () => {
    writeFileSync(join(scratch, "cjs.cjs"), `const { tensor, matmul, sum, mul, grad } = require("implicit-diff");${program}`);
    const out = execFileSync(process.execPath, [join(scratch, "cjs.cjs")], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(out)).to.deep.equal(expected);
  });

  it("ships a browser bundle that needs no other package (ndarray inlined)", () => {
    // Copy-free check: the bundle imports nothing, so it loads from a folder with no node_modules.
    const dir = mkdtempSync(join(tmpdir(), "implicit-diff-browser-"));
    try {
      writeFileSync(join(dir, "page.mjs"), `import { tensor, matmul, sum, mul, grad } from ${JSON.stringify(join(root, "dist/browser.js"))};${program}`);
      const out = execFileSync(process.execPath, [join(dir, "page.mjs")], { cwd: dir, encoding: "utf8" });
      expect(JSON.parse(out)).to.deep.equal(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
