/**
 * The WebAssembly kernels in the bundles: every bundle (ESM, CommonJS, the
 * browser bundle, the teaching page) carries the module bytes and none carries
 * the encoder that wrote them; in headless Chromium the browser bundle compiles
 * the module from those bytes and its products agree with a plain-JS reference
 * with either kernel choice. Needs `npm run build` first (npm test does it) and
 * Debian's chromium, like the page test.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { MODULE_BASE64 } from "../../lib/tensor/wasm/module.generated.js";

const root = resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";

describe("tensor/wasm: the module in the bundles and in Chromium", function () {
  this.timeout(60000);

  before(function () {
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/browser.js"]) {
      if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run npm run build first (npm test does)`);
    }
  });

  it("every bundle embeds the module bytes, and none the encoder", () => {
    execFileSync(process.execPath, [join(root, "scripts", "build-site.mjs")], { cwd: root, stdio: "pipe" });
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/browser.js", "site/dist/index.html"]) {
      const text = readFileSync(join(root, f), "utf8");
      expect(text.includes(MODULE_BASE64.slice(0, 200)), `${f} embeds the module`).to.equal(true);
      expect(text.includes("ModuleBuilder"), `${f} leaves the encoder out`).to.equal(false);
    }
  });

  it("the browser bundle compiles the embedded module in Chromium, and its products match a reference either way", async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (the page test needs it too)`);
    const bundle = readFileSync(join(root, "dist", "browser.js"), "utf8");
    const [m, k, n] = [37, 45, 29];
    const a = Array.from({ length: m * k }, (_, i) => Math.sin(0.3 * i));
    const b = Array.from({ length: k * n }, (_, i) => Math.cos(0.7 * i));
    let browser: Browser | null = null;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
      const page = await browser.newPage();
      // A string, not a function: the test runner's transform would add helpers the page does not have.
      const script = `(async () => {
        const url = URL.createObjectURL(new Blob([${JSON.stringify(bundle)}], { type: "text/javascript" }));
        const lib = await import(url);
        const A = lib.tensor(Float64Array.from(${JSON.stringify(a)}), { shape: [${m}, ${k}] });
        const B = lib.tensor(Float64Array.from(${JSON.stringify(b)}), { shape: [${k}, ${n}] });
        const x = lib.tensor(Float64Array.from(${JSON.stringify(b.slice(0, k))}));
        const start = lib.denseKernels();
        const results = {};
        for (const choice of ["wasm", "js"]) {
          lib.denseKernels(choice);
          results[choice] = {
            C: Array.from(lib.matmul(A, B).toFloat64Array()),
            Ct: Array.from(lib.matmul(lib.transpose(B), lib.transpose(A)).toFloat64Array()),
            y: Array.from(lib.matmul(A, x).toFloat64Array()),
          };
        }
        return { start, ...results };
      })()`;
      type Products = { C: number[]; Ct: number[]; y: number[] };
      const result = (await page.evaluate(script)) as { start: unknown; wasm: Products; js: Products };
      expect(result.start).to.deep.equal({ choice: "auto", wasm: true });
      const C = Array.from({ length: m * n }, (_, q) => {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[Math.floor(q / n) * k + p] * b[p * n + (q % n)];
        return s;
      });
      const y = Array.from({ length: m }, (_, i) => a.slice(i * k, i * k + k).reduce((s, v, p) => s + v * b[p], 0));
      for (const choice of ["wasm", "js"] as const) {
        const got = result[choice];
        got.C.forEach((v, q) => expect(v).to.be.closeTo(C[q], 1e-12));
        got.Ct.forEach((v, q) => expect(v).to.be.closeTo(C[(q % m) * n + Math.floor(q / m)], 1e-12));
        got.y.forEach((v, i) => expect(v).to.be.closeTo(y[i], 1e-12));
      }
    } finally {
      await browser?.close();
    }
  });
});
