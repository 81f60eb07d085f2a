/**
 * The teaching page (site/), end to end: builds site/dist/index.html, opens it
 * from file:// in Debian's Chromium through playwright-core, drives it the way a
 * reader would (menu, typing, keyboard stepping, the λ slider) and checks the
 * derivatives it shows against closed forms and against the library run here in
 * Node. Any console error or uncaught exception in the page fails the suite.
 * Screenshots go to .screenshots/: site-page.png (the whole page) and
 * site-tape.png, site-sqrt.png, site-ridge.png (one per part).
 */
import { expect } from "chai";
import { existsSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import {
  Tensor, add, sub, mul, div, pow, sin, matmul, transpose, tensor, eye, solve, sum, zeros,
  grad, jvp, traceTape,
} from "../../lib/index.js";
import { makeRidgeData } from "../../site/src/ridge-data.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const PAGE_URL = pathToFileURL(join(ROOT, "site", "dist", "index.html")).href;
const SCREENSHOT = join(ROOT, ".screenshots", "site-page.png");

function close(actual: number, expected: number, rtol: number, what: string): void {
  const tolerance = rtol * Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected), `${what}: page shows ${actual}, expected ${expected}`).to.be.at.most(tolerance);
}

describe("teaching page (site/dist/index.html in Chromium)", function () {
  this.timeout(60000);
  let browser: Browser | null = null;
  let page: Page;
  const problems: string[] = [];

  const byId = (id: string): string => `[data-testid="${id}"]`;
  const value = async (id: string): Promise<number> => {
    const raw = await page.locator(byId(id)).getAttribute("data-value");
    expect(raw, `data-value of ${id}`).to.be.a("string");
    return Number(raw);
  };
  const waitForValue = (id: string, expected: number): Promise<unknown> =>
    page.waitForFunction(([sel, v]) => Number(document.querySelector(sel as string)?.getAttribute("data-value")) === v, [byId(id), expected] as const, { timeout: 10000 });

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing. This test drives Debian's chromium and never downloads a browser: install it with "apt-get install -y chromium" before running the tests.`);
    }
    execFileSync(process.execPath, [join(ROOT, "scripts", "build-site.mjs")], { cwd: ROOT, stdio: "pipe" });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`uncaught exception: ${e.message}`));
    page.on("dialog", (d) => {
      problems.push(`unexpected dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(PAGE_URL);
    await page.waitForSelector("body[data-ready='true']", { timeout: 15000 });
  });

  after(async function () {
    if (browser === null) return;
    try {
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.locator(byId("lambda-slider")).blur();
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      // One picture per part as well, at a size that stays readable.
      for (const part of ["tape", "sqrt", "ridge"]) {
        await page.locator(byId(`${part}-section`)).screenshot({ path: join(dirname(SCREENSHOT), `site-${part}.png`) });
      }
    } finally {
      await browser.close();
    }
  });

  it("shows the default function's value, tape and derivatives, matching Node", async function () {
    const [x, y] = [1.5, 2];
    expect(await page.inputValue(byId("expr-input"))).to.equal("sin(x) * y + x^2");
    const f = (a: Tensor, b: Tensor): Tensor => add(mul(sin(a), b), pow(a, 2));
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y) as Tensor[];
    const exact = [Math.cos(x) * y + 2 * x, Math.sin(x)];
    close(await value("f-value"), Math.sin(x) * y + x * x, 1e-14, "f");
    close(await value("rev-dx"), exact[0], 1e-13, "reverse ∂f/∂x");
    close(await value("rev-dy"), exact[1], 1e-13, "reverse ∂f/∂y");
    close(await value("rev-dx"), gx.item(), 1e-15, "reverse ∂f/∂x vs Node grad");
    close(await value("rev-dy"), gy.item(), 1e-15, "reverse ∂f/∂y vs Node grad");
    close(await value("fwd-dx"), exact[0], 1e-13, "forward ∂f/∂x");
    close(await value("fwd-dy"), exact[1], 1e-13, "forward ∂f/∂y");
    close(await value("fd-dx"), exact[0], 1e-7, "finite difference ∂f/∂x");
    expect(await value("err-rev-dx")).to.be.below(1e-7);
    expect(await value("tape-length")).to.equal(traceTape(f, x, y).entries.length);
    expect(await page.locator(`${byId("tape-body")} tr`).count()).to.equal(6);
  });

  it("follows a new function from the menu and a new point", async function () {
    await page.selectOption(byId("preset-select"), "x^y");
    expect(await page.inputValue(byId("expr-input"))).to.equal("x^y");
    await page.fill(byId("x-input"), "1.7");
    await page.fill(byId("y-input"), "0.6");
    await waitForValue("x-shown", 1.7);
    await waitForValue("y-shown", 0.6);
    const [x, y] = [1.7, 0.6];
    const exact = [y * x ** (y - 1), x ** y * Math.log(x)];
    const [, tx] = jvp((a: Tensor, b: Tensor) => pow(a, b), [x, y], [1, 0]);
    const [, ty] = jvp((a: Tensor, b: Tensor) => pow(a, b), [x, y], [0, 1]);
    close(await value("rev-dx"), exact[0], 1e-13, "reverse ∂(x^y)/∂x");
    close(await value("rev-dy"), exact[1], 1e-13, "reverse ∂(x^y)/∂y");
    close(await value("fwd-dx"), tx.item(), 1e-15, "forward ∂(x^y)/∂x vs Node jvp");
    close(await value("fwd-dy"), ty.item(), 1e-15, "forward ∂(x^y)/∂y vs Node jvp");
    close(await value("fd-dy"), exact[1], 1e-7, "finite difference ∂(x^y)/∂y");
  });

  it("reads a typed expression, and rejects bad text without running it", async function () {
    await page.fill(byId("expr-input"), "x^3 - 2*x*y + sin(y)/x");
    expect(await page.inputValue(byId("preset-select"))).to.equal("__custom__");
    const [x, y] = [1.7, 0.6];
    const exact = [3 * x * x - 2 * y - Math.sin(y) / (x * x), -2 * x + Math.cos(y) / x];
    close(await value("rev-dx"), exact[0], 1e-13, "typed ∂f/∂x");
    close(await value("rev-dy"), exact[1], 1e-13, "typed ∂f/∂y");
    close(await value("fwd-dx"), exact[0], 1e-13, "typed forward ∂f/∂x");
    expect(await page.textContent(byId("expr-error"))).to.equal("");

    for (const bad of ["x + * y", "alert(1)", "sin x", "(x + y"]) {
      await page.fill(byId("expr-input"), bad);
      expect(await page.textContent(byId("expr-error")), `error for ${bad}`).to.match(/Cannot read the expression/);
      expect(await page.getAttribute(byId("expr-input"), "aria-invalid")).to.equal("true");
      close(await value("rev-dx"), exact[0], 1e-13, `the last valid function stays shown after "${bad}"`);
    }
    await page.fill(byId("expr-input"), "x^3 - 2*x*y + sin(y)/x");
    expect(await page.textContent(byId("expr-error"))).to.equal("");
  });

  it("steps the backward sweep with the keyboard, cotangents matching Node's sweep", async function () {
    const [x, y] = [1.7, 0.6];
    const f = (a: Tensor, b: Tensor): Tensor => add(sub(pow(a, 3), mul(mul(2, a), b)), div(sin(b), a));
    const trace = traceTape(f, x, y);
    const total = trace.sweep.length;
    expect(await value("sweep-total")).to.equal(total);
    expect(await value("sweep-step")).to.equal(0);
    expect(await page.getAttribute(byId("ct-0"), "data-value")).to.equal(null);

    await page.focus(byId("step-button"));
    await page.keyboard.press("Enter");
    expect(await value("sweep-step")).to.equal(1);
    for (let k = 2; k <= total; k++) {
      await page.keyboard.press(k % 2 === 0 ? "n" : "ArrowRight");
      expect(await value("sweep-step")).to.equal(k);
      // The node just visited holds exactly the cotangent the library's sweep gave it.
      const visit = trace.sweep[k - 1];
      close(await value(`ct-${visit.index}`), visit.cotangent as number, 1e-14, `cotangent of #${visit.index} at step ${k}`);
    }
    await page.keyboard.press("ArrowRight");
    expect(await value("sweep-step"), "stepping stops at the end").to.equal(total);
    close(await value("ct-0"), trace.gradients[0] as number, 1e-14, "x's cotangent is ∂f/∂x");
    close(await value("ct-1"), trace.gradients[1] as number, 1e-14, "y's cotangent is ∂f/∂y");
    expect(await page.textContent(byId("sweep-announce"))).to.match(/✓ same as the library's sweep/);

    await page.keyboard.press("ArrowLeft");
    expect(await value("sweep-step")).to.equal(total - 1);
    await page.keyboard.press("Home");
    expect(await value("sweep-step")).to.equal(0);
    await page.keyboard.press("End");
    expect(await value("sweep-step")).to.equal(total);
  });

  it("differentiates √a by Newton implicitly, and unrolled on a tape", async function () {
    const a = 5;
    const T = 4;
    await page.fill(byId("sqrt-a"), String(a));
    await waitForValue("sqrt-exact", 1 / (2 * Math.sqrt(a)));
    close(await value("sqrt-y"), Math.sqrt(a), 1e-15, "Newton's √5");
    close(await value("sqrt-implicit"), 1 / (2 * Math.sqrt(a)), 1e-14, "implicit dy/da");
    close(await value("sqrt-A"), 2 * Math.sqrt(a), 1e-14, "A = 2y");
    close(await value("sqrt-B"), -1, 0, "B = −1");
    close(await value("sqrt-fd"), 1 / (2 * Math.sqrt(a)), 1e-8, "finite difference dy/da");
    const unrolled = (aa: Tensor): Tensor => {
      let y: Tensor | number = Math.max(1, a);
      for (let k = 0; k < T; k++) y = mul(0.5, add(y, div(aa, y)));
      return y as Tensor;
    };
    close(await value("sqrt-unrolled"), (grad(unrolled)(a) as Tensor).item(), 1e-14, "unrolled dy/da vs Node");
    expect(Number(await page.getAttribute(byId("sqrt-unrolled-cost"), "data-tape-length"))).to.equal(traceTape(unrolled, a).entries.length);
  });

  it("moves λ with the keyboard and shows dw/dλ and dL/dλ that match Node", async function () {
    const slider = page.locator(byId("lambda-slider"));
    await slider.focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press("ArrowRight");
    expect(Number(await slider.inputValue())).to.be.closeTo(0.3, 1e-12);
    const lam = 10 ** Number(await slider.inputValue());
    await waitForValue("lambda-value", lam);

    const data = makeRidgeData();
    const X = tensor(data.X);
    const Xt = transpose(X);
    const t = tensor(data.t);
    const Xval = tensor(data.Xval);
    const tval = tensor(data.tval);
    // Closed forms: w = (XᵀX + λI)⁻¹Xᵀt, dw/dλ = −(XᵀX + λI)⁻¹ w, dL/dλ = ∇L(w)·dw/dλ.
    const A = add(matmul(Xt, X), mul(lam, eye(3)));
    const w = solve(A, matmul(Xt, t));
    const dw = Array.from(solve(A, w).toFloat64Array(), (v) => -v);
    const lossGrad = Array.from(matmul(transpose(Xval), sub(matmul(Xval, w), tval)).toFloat64Array());
    const dL = lossGrad.reduce((s, g, i) => s + g * dw[i], 0);
    const wValues = Array.from(w.toFloat64Array());
    for (let i = 0; i < 3; i++) {
      close(await value(`ridge-w-${i}`), wValues[i], 1e-11, `w${i}`);
      close(await value(`ridge-dw-${i}`), dw[i], 1e-10, `implicit dw${i}/dλ`);
      close(await value(`ridge-dw-fd-${i}`), dw[i], 1e-6, `finite-difference dw${i}/dλ`);
      close(await value(`ridge-A-${i}-${i}`), A.toFloat64Array()[4 * i], 1e-12, `A[${i}][${i}]`);
    }
    close(await value("ridge-dL-implicit"), dL, 1e-10, "implicit dL/dλ");
    close(await value("ridge-dL-cg"), dL, 1e-10, "−Bᵀu from the page's CG");
    const tangentIterations = Number(await page.getAttribute(byId("ridge-tangent-solve"), "data-iterations"));
    expect(tangentIterations).to.be.within(1, 6);
    expect(await page.locator(`${byId("cg-table")} tbody tr`).count()).to.be.within(2, 8);

    // The unrolled derivative: T steps of w ← w − η F(λ, w) from 0, with the page's η, on a tape here.
    const eta = await value("ridge-eta");
    const T = Number(await page.inputValue(byId("ridge-T")));
    const unrolledLoss = (l: Tensor): Tensor => {
      let ww = zeros([3]);
      for (let k = 0; k < T; k++) ww = sub(ww, mul(eta, add(matmul(Xt, sub(matmul(X, ww), t)), mul(l, ww))));
      return mul(0.5, sum(pow(sub(matmul(Xval, ww), tval), 2)));
    };
    const tape = traceTape(unrolledLoss, lam);
    close(await value("ridge-dL-unrolled"), tape.gradients[0] as number, 1e-9, "unrolled dL/dλ vs Node");
    expect(await value("ridge-unrolled-tape")).to.equal(tape.entries.length);
    expect(await value("ridge-implicit-tape")).to.be.below(tape.entries.length / 10);
  });

  it("keeps the page free of console errors and uncaught exceptions", function () {
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
