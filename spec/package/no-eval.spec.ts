/**
 * The built package where code generation from strings is refused (issue 25,
 * item 6): Node with --disallow-code-generation-from-strings loads the ESM and
 * CommonJS builds and the browser bundle and computes what it computes without
 * the flag, digit for digit; without WebAssembly as well (--jitless), the same
 * up to the order of additions. In headless Chromium, dist/browser.js on a page
 * whose content security policy is `script-src 'self'` (no eval, no
 * WebAssembly), `script-src 'self' 'wasm-unsafe-eval'` (WebAssembly, no eval)
 * and no policy computes the same numbers with no console error. The program is
 * ./no-eval-program.ts; its closed forms are the independent truth. Needs
 * `npm run build` first (npm test does it) and Debian's chromium.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { PROGRAM, closeEverywhere, closedFormProblems, type Computed } from "./no-eval-program.js";

const root = resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const NO_EVAL = "--disallow-code-generation-from-strings";
/** An expression, true where code generation from strings is refused (so that the policy is known to be in force). */
const EVAL_REFUSED = '(() => { try { return new Function("return false")(); } catch { return true; } })()';

describe("the built package where code generation from strings is refused", function () {
  this.timeout(120000);
  let scratch = "";
  let reference: Computed;

  before(function () {
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/browser.js"]) {
      if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run npm run build first (npm test does)`);
    }
    scratch = mkdtempSync(join(tmpdir(), "implicit-diff-no-eval-"));
    mkdirSync(join(scratch, "node_modules"));
    symlinkSync(root, join(scratch, "node_modules", "implicit-diff"), "dir");
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    const print = `console.log(JSON.stringify({ evalRefused: ${EVAL_REFUSED}, result: compute(lib) }));`;
    writeFileSync(join(scratch, "esm.mjs"), `import * as lib from "implicit-diff";\n${PROGRAM}\n${print}\n`);
    writeFileSync(join(scratch, "cjs.cjs"), `const lib = require("implicit-diff");\n${PROGRAM}\n${print}\n`);
    writeFileSync(join(scratch, "browser.mjs"), `import * as lib from ${JSON.stringify(join(root, "dist/browser.js"))};\n${PROGRAM}\n${print}\n`);
    reference = run("esm.mjs", [], false);
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs a scratch program in a fresh Node with `flags`, where code generation is refused or not as `refused` says; its result. */
  function run(file: string, flags: string[], refused = true): Computed {
    const out = execFileSync(process.execPath, [...flags, join(scratch, file)], { cwd: scratch, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const { evalRefused, result } = JSON.parse(out) as { evalRefused: boolean; result: Computed };
    expect(evalRefused, "code generation refused").to.equal(refused);
    return result;
  }

  it("computes the closed forms without any policy (the reference)", () => {
    expect(closedFormProblems(reference)).to.deep.equal([]);
    expect(reference.kernels).to.deep.equal({ choice: "auto", wasm: true });
  });

  for (const [what, file] of [["the ES module", "esm.mjs"], ["the CommonJS build", "cjs.cjs"], ["the browser bundle", "browser.mjs"]]) {
    it(`${what} loads and computes the same numbers under node ${NO_EVAL}`, () => {
      expect(run(file, [NO_EVAL])).to.deep.equal(reference);
    });
  }

  it(`computes the same numbers up to rounding without WebAssembly either (node --jitless ${NO_EVAL})`, () => {
    const result = run("esm.mjs", ["--jitless", NO_EVAL]);
    expect(result.kernels).to.deep.equal({ choice: "auto", wasm: false });
    expect(closeEverywhere({ ...result, kernels: null }, { ...reference, kernels: null }, 1e-12)).to.deep.equal([]);
  });

  describe("dist/browser.js in Chromium on a page with a content security policy", function () {
    let browser: Browser | null = null;
    before(async function () {
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (the page test needs it too)`);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
    });
    after(async () => {
      await browser?.close();
    });

    // The page's own script only imports the bundle and runs the program; the result goes into an attribute.
    const app = [
      "try {",
      '  const lib = await import("./browser.js");',
      PROGRAM,
      `  document.documentElement.setAttribute("data-result", JSON.stringify({ evalRefused: ${EVAL_REFUSED}, result: compute(lib) }));`,
      '  document.documentElement.setAttribute("data-state", "done");',
      "} catch (e) {",
      '  document.documentElement.setAttribute("data-result", String(e && e.stack || e));',
      '  document.documentElement.setAttribute("data-state", "failed");',
      "}",
    ].join("\n");

    const policies: [string, string | null, boolean][] = [
      ["script-src 'self' (no eval, no WebAssembly)", "script-src 'self'", false],
      ["script-src 'self' 'wasm-unsafe-eval' (WebAssembly, no eval)", "script-src 'self' 'wasm-unsafe-eval'", true],
      ["no policy", null, true],
    ];
    for (const [name, policy, wasm] of policies) {
      it(`computes the same numbers with ${name}, with no console error`, async () => {
        const page = await browser!.newPage();
        const problems: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") problems.push(`console error: ${m.text()}`);
        });
        page.on("pageerror", (e) => problems.push(`uncaught exception: ${e.message}`));
        const files: Record<string, [string, string]> = {
          "/": ["text/html", '<!doctype html><meta charset="utf-8"><title>no eval</title><script type="module" src="/app.js"></script>'],
          "/app.js": ["text/javascript", app],
          "/browser.js": ["text/javascript", readFileSync(join(root, "dist/browser.js"), "utf8")],
        };
        await page.route("http://implicit-diff.test/**", (route) => {
          const file = files[new URL(route.request().url()).pathname];
          const headers: Record<string, string> = { "content-type": file ? `${file[0]}; charset=utf-8` : "text/plain" };
          if (policy) headers["content-security-policy"] = policy;
          return route.fulfill({ status: file ? 200 : 404, headers, body: file ? file[1] : "" });
        });
        await page.goto("http://implicit-diff.test/");
        await page.waitForSelector("html[data-state]", { timeout: 60000 });
        const state = await page.getAttribute("html", "data-state");
        const text = (await page.getAttribute("html", "data-result")) ?? "";
        await page.close();
        expect(state, text).to.equal("done");
        const { evalRefused, result } = JSON.parse(text) as { evalRefused: boolean; result: Computed };
        expect(evalRefused, "code generation refused").to.equal(policy !== null);
        expect(result.kernels).to.deep.equal({ choice: "auto", wasm });
        expect(closeEverywhere({ ...result, kernels: null }, { ...reference, kernels: null }, 1e-12)).to.deep.equal([]);
        expect(problems).to.deep.equal([]);
      });
    }
  });
});
