/**
 * The built package as a user meets it: a scratch project outside the repo
 * imports it (ESM) and requires it (CommonJS) by name, and computes with it.
 * Needs `npm run build` first (npm test does it).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

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

/**
 * The packed tarball as a user installs it (issue 15, items 11 and 12; issue 25,
 * item 4): its declarations type-check with `skipLibCheck: false` for both entry
 * points, with only the packed package.json's dependencies installed and theirs in
 * turn (from the repository's node_modules; no fast-check, no @types added by
 * hand, no network), as an ES module and as CommonJS; its README links only what ships.
 */
describe("the packed tarball", function () {
  this.timeout(120000);
  let project = "";
  let installed: string[] = [];
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  before(function () {
    if (!existsSync(join(root, "dist/index.d.ts"))) throw new Error("dist is missing: run npm run build first (npm test does)");
    project = mkdtempSync(join(tmpdir(), "implicit-diff-types-"));
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", project], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as { filename: string }[];
    const modules = join(project, "node_modules");
    mkdirSync(join(modules, "@types"), { recursive: true });
    execFileSync("tar", ["-xzf", join(project, packed[0].filename), "-C", project]);
    renameSync(join(project, "package"), join(modules, "implicit-diff"));
    installed = installDependencies(join(modules, "implicit-diff"), modules);
  });
  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  /**
   * What `npm install implicit-diff` would add: the dependencies of the package at
   * `dir`, and theirs, linked from the repository's node_modules. Returns their names.
   */
  function installDependencies(dir: string, modules: string): string[] {
    const names: string[] = [];
    const visit = (pkgDir: string): void => {
      const { dependencies = {} } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
      for (const dep of Object.keys(dependencies)) {
        if (names.includes(dep)) continue;
        names.push(dep);
        mkdirSync(dirname(join(modules, dep)), { recursive: true });
        symlinkSync(join(root, "node_modules", dep), join(modules, dep), "dir");
        visit(join(root, "node_modules", dep));
      }
    };
    visit(dir);
    return names.sort();
  }

  it("needs no install beyond its dependencies for TypeScript: @types/ndarray is one (issue 25, item 4)", () => {
    expect(installed).to.include.members(["ndarray", "@types/ndarray"]);
    expect(installed.filter((name) => /fast-check|ndarray-ops/.test(name))).to.deep.equal([]);
  });

  /** Runs tsc on `files` in a fresh folder of the project; returns its output and exit status. */
  function typecheck(name: string, compilerOptions: Record<string, unknown>, files: Record<string, string>, packageType?: string): { status: number; output: string } {
    const dir = join(project, name);
    mkdirSync(dir);
    if (packageType) writeFileSync(join(dir, "package.json"), JSON.stringify({ type: packageType }));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: "es2022", lib: ["es2022"], types: [], ...compilerOptions },
      files: Object.keys(files),
    }));
    try {
      return { status: 0, output: execFileSync(process.execPath, [tsc, "-p", "."], { cwd: dir, encoding: "utf8" }) };
    } catch (e) {
      const err = e as { status: number; stdout: string };
      return { status: err.status, output: err.stdout };
    }
  }

  const program = (from: string) => `
    import { ImplicitFunction, cg, grad, sub, sum, mul, tensor, tensorArbitrary, verifyImplicit, type Tensor } from ${JSON.stringify(from)};
    const f = new ImplicitFunction({ forward: (x: Tensor) => x, conditions: (x: Tensor, y: Tensor) => sub(y, x) });
    verifyImplicit(f, [tensorArbitrary([2]).map((t) => t)], { numRuns: 1 });
    const g: Tensor = grad((x: Tensor) => sum(mul(x, x)))([1, 2]);
    const shape: number[] = g.toNdarray().shape;
    const converged: boolean = cg(tensor([[2, 0], [0, 2]]), [1, 1]).converged;
    export const checked = [shape, converged];
  `;
  // A deliberate type error: the declarations are real types, not `any`.
  const wrong = (from: string) => `import { tensor } from ${JSON.stringify(from)};\nexport const n: number = tensor(1);\n`;

  it("ships no declaration that imports fast-check", () => {
    const dist = join(project, "node_modules/implicit-diff/dist");
    const declarations = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((f) => /\.d\.c?ts$/.test(f));
    const offenders = declarations.filter((f) => /from ["']fast-check["']|import\(["']fast-check["']\)/.test(readFileSync(join(dist, f), "utf8")));
    expect(offenders).to.deep.equal([]);
    expect(declarations).to.include.members(["index.d.ts", "index.d.cts", join("types", "check", "verify-implicit.d.ts")]);
  });

  for (const entry of ["implicit-diff", "implicit-diff/browser"]) {
    it(`${entry} type-checks as an ES module (moduleResolution bundler and node16)`, () => {
      const bundler = typecheck(`bundler-${entry.replace("/", "-")}`, { module: "esnext", moduleResolution: "bundler" }, { "index.ts": program(entry), "wrong.ts": wrong(entry) });
      expect(bundler.output.trim().split("\n"), bundler.output).to.have.length(1);
      expect(bundler.output).to.match(/^wrong\.ts\(2,14\): error TS2322: Type 'Tensor' is not assignable to type 'number'/);
      const node16 = typecheck(`node16-${entry.replace("/", "-")}`, { module: "node16", moduleResolution: "node16" }, { "index.ts": program(entry) }, "module");
      expect(node16.status, node16.output).to.equal(0);
    });
  }

  it("ships a README that is right for someone who installed the package (issue 15, item 12)", () => {
    const pkg = join(project, "node_modules/implicit-diff");
    const readme = readFileSync(join(pkg, "README.md"), "utf8");
    // every relative link and image points at a file the package ships; anchors at a heading
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)|<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1] ?? m[2]).filter((t) => !/^[a-z]+:/.test(t));
    for (const t of targets) {
      if (t.startsWith("#")) {
        const headings = [...readme.matchAll(/^#+ (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-"));
        expect(headings, `anchor ${t}`).to.include(t.slice(1));
      } else {
        expect(existsSync(join(pkg, t)), `${t} is linked from the README but not in the package`).to.equal(true);
      }
    }
    // nothing that does not ship: the API contract lives beside the repository
    expect(readme).not.to.match(/API\.md|\.\.\/shared/);
    // the first command a reader meets installs the package by name
    expect(/```sh\n([^\n]*)/.exec(readme)![1]).to.match(/^npm install implicit-diff\b/);
    // repository commands are named where they live, and exist there
    expect(readme).to.contain("## From the repository");
    const scripts = Object.keys((JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    for (const [, name] of readme.matchAll(/npm run ([\w:-]+)/g)) expect(scripts, `npm run ${name}`).to.include(name);
  });

  it("implicit-diff type-checks when required from CommonJS (node16)", () => {
    const cjs = typecheck("node16-cjs", { module: "node16", moduleResolution: "node16" }, { "index.cts": program("implicit-diff") }, "commonjs");
    expect(cjs.status, cjs.output).to.equal(0);
  });
});
