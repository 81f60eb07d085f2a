/**
 * The teaching page (site/), end to end: builds site/dist/index.html, opens it
 * from file:// in Debian's Chromium through playwright-core, drives it the way a
 * reader would (menu, typing, keyboard stepping, sliders) at 1366 px and at
 * 390 px, and checks what it shows against closed forms and against the
 * library run here in Node. Any console error or uncaught exception in the page
 * fails the suite. With SITE_SCREENSHOTS=1 it also saves screenshots to
 * .screenshots/ (site-*.png), from which the README's pictures in docs/ are copied.
 */
import { expect } from "chai";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import * as lib from "../../lib/index.js";
import {
  Tensor, add, sub, mul, div, pow, sin, log, relu, sqrt, exp, matmul, transpose, tensor, eye, solve, sum, zeros,
  grad, jvp, traceTape, jit, neg, cos, where, greater,
} from "../../lib/index.js";
import { makeRidgeData } from "../../site/src/ridge-data.js";
import { implicitSqrt } from "../../site/src/sqrt-newton.js";
import { RidgeProblem } from "../../site/src/ridge.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const PAGE_URL = pathToFileURL(join(ROOT, "site", "dist", "index.html")).href;
const SHOTS = join(ROOT, ".screenshots");

function close(actual: number, expected: number, rtol: number, what: string): void {
  if (!Number.isFinite(expected)) {
    expect(Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected)), `${what}: page shows ${actual}, expected ${expected}`).to.equal(true);
    return;
  }
  const tolerance = rtol * Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected), `${what}: page shows ${actual}, expected ${expected}`).to.be.at.most(tolerance);
}

/** The `// #region snippet NAME` … `// #endregion` blocks of site/src, dedented (read here, not by the build script). */
function sourceSnippets(): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(ROOT, "site", "src");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/^[ \t]*\/\/ #region snippet (\S+)[ \t]*\n([\s\S]*?)^[ \t]*\/\/ #endregion/gm)) {
      const lines = m[2].replace(/\n$/, "").split("\n");
      const indent = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length));
      out.set(m[1], lines.map((l) => l.slice(indent)).join("\n").trimEnd());
    }
  }
  return out;
}

/**
 * Where drawn edges cross boxes they do not join, in one graph of the page, from the rendered SVG:
 * each path sampled every 2 px with getPointAtLength, each box from its group's translation and its
 * rect (less a pixel each side). Also every edge label whose box leaves the drawing. Read in Chromium.
 */
async function graphFaults(p: Page, prefix: string): Promise<{ edges: number; crossings: string[]; labelsOutside: string[] }> {
  return p.evaluate((pre) => {
    const svg = document.querySelector(`[data-testid="${pre}graph"]`) as SVGSVGElement;
    const boxes = [...svg.querySelectorAll<SVGGElement>(`g[data-testid^="${pre}graph-node-"]`)].map((g) => {
      const m = g.transform.baseVal.consolidate()!.matrix;
      const r = g.querySelector("rect")!;
      const w = r.width.baseVal.value;
      const h = r.height.baseVal.value;
      return { index: Number(g.dataset.testid!.slice(`${pre}graph-node-`.length)), x0: m.e + 1, y0: m.f + 1, x1: m.e + w - 1, y1: m.f + h - 1 };
    });
    const crossings: string[] = [];
    const paths = [...svg.querySelectorAll<SVGPathElement>(`path[data-testid^="${pre}graph-edge-"]`)];
    for (const path of paths) {
      const [from, to] = path.dataset.testid!.slice(`${pre}graph-edge-`.length).split("-").map(Number);
      const length = path.getTotalLength();
      for (let s = 0; s <= length; s += 2) {
        const q = path.getPointAtLength(s);
        const hit = boxes.find((b) => b.index !== from && b.index !== to && q.x > b.x0 && q.x < b.x1 && q.y > b.y0 && q.y < b.y1);
        if (hit !== undefined) {
          crossings.push(`edge #${from}→#${to} passes through #${hit.index} at (${q.x.toFixed(0)}, ${q.y.toFixed(0)})`);
          break;
        }
      }
    }
    const width = svg.viewBox.baseVal.width;
    const height = svg.viewBox.baseVal.height;
    const labelsOutside = [...svg.querySelectorAll<SVGTextElement>(".edge-label")].filter((t) => t.textContent !== "").flatMap((t) => {
      const b = t.getBBox();
      return b.x < -0.5 || b.y < -0.5 || b.x + b.width > width + 0.5 || b.y + b.height > height + 0.5 ? [`"${t.textContent}" at x ${b.x.toFixed(0)}–${(b.x + b.width).toFixed(0)} of ${width}`] : [];
    });
    return { edges: paths.length, crossings, labelsOutside };
  }, prefix);
}

describe("teaching page (site/dist/index.html in Chromium)", function () {
  this.timeout(60000);
  let browser: Browser | null = null;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const byId = (id: string): string => `[data-testid="${id}"]`;
  const valueOn = async (p: Page, id: string): Promise<number> => {
    const raw = await p.locator(byId(id)).first().getAttribute("data-value");
    expect(raw, `data-value of ${id}`).to.be.a("string");
    return Number(raw);
  };
  const value = (id: string): Promise<number> => valueOn(page, id);
  const waitForValue = (id: string, expected: number): Promise<unknown> =>
    page.waitForFunction(([sel, v]) => Number(document.querySelector(sel as string)?.getAttribute("data-value")) === v, [byId(id), expected] as const, { timeout: 10000 });
  const watch = (p: Page, where: string): void => {
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(`${where}: console error: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`${where}: uncaught exception: ${e.message}`));
    p.on("dialog", (d) => {
      problems.push(`${where}: unexpected dialog: ${d.message()}`);
      void d.dismiss();
    });
  };
  const setRange = (p: Page, id: string, v: number): Promise<void> =>
    p.locator(byId(id)).evaluate((el, val) => {
      (el as HTMLInputElement).value = String(val);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, v);
  /** Back to step 0 the way a keyboard user does it: Home on the player's buttons (a disabled-looking Reset takes no clicks). */
  const reset = async (p: Page, prefix: string): Promise<void> => {
    await p.focus(byId(`${prefix}step-button`));
    await p.keyboard.press("Home");
  };
  /** Sets the function and the point by the menu's "your own" path: typing. */
  const setFunction = async (expression: string, x: number, y: number): Promise<void> => {
    await page.fill(byId("x-input"), String(x));
    await page.fill(byId("y-input"), String(y));
    await page.fill(byId("expr-input"), expression);
    await waitForValue("x-shown", x);
    await waitForValue("y-shown", y);
  };

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing. This test drives Debian's chromium and never downloads a browser: install it with "apt-get install -y chromium" before running the tests.`);
    }
    execFileSync(process.execPath, [join(ROOT, "scripts", "build-site.mjs")], { cwd: ROOT, stdio: "pipe" });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
    watch(page, "1366 px");
    await page.goto(PAGE_URL);
    await page.waitForSelector("body[data-ready='true']", { timeout: 15000 });
  });

  after(async function () {
    if (browser === null) return;
    try {
      if (process.env.SITE_SCREENSHOTS === "1") await saveScreenshots(page);
    } finally {
      await browser.close();
    }
  });

  /** The README's pictures, each a crop of one state of the page at 1366 px. */
  async function saveScreenshots(p: Page): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    /** The page from the top of `from` to the bottom of `to` (page coordinates, as a full-page clip wants them). */
    const clip = async (from: string, to: string, file: string): Promise<void> => {
      const [top, bottom] = await p.evaluate(([a, b]) => [
        document.querySelector(a)!.getBoundingClientRect().top + window.scrollY - 8,
        document.querySelector(b)!.getBoundingClientRect().bottom + window.scrollY + 8,
      ], [from, to] as const);
      await p.screenshot({ path: join(SHOTS, file), fullPage: true, clip: { x: 0, y: Math.max(0, top), width: 1366, height: bottom - Math.max(0, top) } });
    };
    await p.selectOption(byId("preset-select"), "sin-mul");
    await p.fill(byId("x-input"), "1.5");
    await p.fill(byId("y-input"), "2");
    await reset(p, "");
    for (let k = 0; k < 3; k++) await p.keyboard.press("ArrowRight");
    await clip("#sweep-heading", byId("tape-wrap"), "site-tape.png");
    await clip("#jit-heading", byId("jit-table"), "site-jit.png");
    await p.selectOption(byId("preset-select"), "pole-x");
    await clip(".result-line", byId("graph-wrap"), "site-why.png");
    await setRange(p, "modes-n", 6);
    await p.selectOption(byId("modes-mode"), "2");
    for (let k = 0; k < 3; k++) await p.click(byId("modes-step-button"));
    await clip("#modes-heading", byId("modes-graph-wrap"), "site-modes.png");
    await reset(p, "sqrt-tape-");
    for (let k = 0; k < 2; k++) await p.keyboard.press("ArrowRight");
    await clip("#sqrt-tape-heading", byId("sqrt-tape-tape-wrap"), "site-implicit.png");
    await p.fill(byId("sqrt-K"), "2");
    await clip("#sqrt-caveats-heading", byId("plot-sqrt-errors"), "site-caveats.png");
    await p.fill(byId("sqrt-K"), "60");
    await p.locator(byId("lambda-slider")).blur();
    await clip("#ridge-heading", "#ridge .grid-2", "site-ridge.png");
    await p.screenshot({ path: join(SHOTS, "site-page.png"), fullPage: true });
  }

  it("shows the default function's value, tape, graph and derivatives, matching Node", async function () {
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
    const trace = traceTape(f, x, y);
    expect(await value("tape-length")).to.equal(trace.entries.length);
    expect(await page.locator(`${byId("tape-body")} tr`).count()).to.equal(trace.entries.length);
    // One graph node per tape entry, one edge per operand on the tape, each carrying the local derivative.
    expect(await page.locator(`${byId("graph")} [data-testid^="graph-node-"]`).count()).to.equal(trace.entries.length);
    const operands = trace.entries.reduce((s, e) => s + e.inputs.filter((i) => i !== null).length, 0);
    expect(await page.locator(`${byId("graph")} [data-testid^="graph-edge-"]`).count()).to.equal(operands);
    const sinNode = trace.entries.find((e) => e.op === "sin")!;
    expect(await page.getAttribute(byId(`graph-edge-0-${sinNode.index}-0`), "data-local")).to.equal(`∂ ${Math.cos(x).toPrecision(4)}`);
    expect(await page.getAttribute(byId("findings"), "data-count")).to.equal("0");
    // The finite-difference row names each coordinate's own step, the one its quotient used.
    const [hx, hy] = [Math.cbrt(Number.EPSILON) * 1.5, Math.cbrt(Number.EPSILON) * 2];
    close(await value("fd-hx"), hx, 1e-15, "h along x");
    close(await value("fd-hy"), hy, 1e-15, "h along y");
    const plain = (a: number, b: number): number => Math.sin(a) * b + a ** 2;
    close(await value("fd-dx"), (plain(x + hx, y) - plain(x - hx, y)) / (2 * hx), 1e-12, "∂f/∂x's quotient with hx");
    close(await value("fd-dy"), (plain(x, y + hy) - plain(x, y - hy)) / (2 * hy), 1e-12, "∂f/∂y's quotient with hy");
    // The legend names every state the graph draws, the dashed next node included.
    expect(await page.textContent("#graph-caption")).to.contain("dashed outline");
    expect(await page.getAttribute(byId(`graph-node-${trace.output}`), "data-state")).to.equal("next");
  });

  it("defines v̄, v̇, pullback and pushforward before using them, and sums local-derivative products over the paths", async function () {
    expect(await page.textContent(byId("def-cotangent"))).to.equal("v̄ᵢ = ∂f/∂vᵢ");
    expect(await page.textContent(byId("def-tangent"))).to.equal("v̇ᵢ = ∂vᵢ/∂x");
    // The first time the page says "pullback" or "pushforward", it is where the word is defined.
    const firstUse = await page.evaluate(() => ["pullback", "pushforward"].map((word) => {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
        if (n.parentElement?.closest("script, style") || !n.textContent!.toLowerCase().includes(word)) continue;
        return n.parentElement!.closest("dfn")?.textContent ?? `undefined at "${n.textContent!.trim().slice(0, 60)}"`;
      }
      return "never used";
    }));
    expect(firstUse).to.deep.equal(["pullback", "pushforward"]);
    // sin(x)·y + x² at (1.5, 2): x → sin → mul → add and x → pow → add; y → mul → add.
    const [x, y] = [1.5, 2];
    expect(await page.getAttribute(byId("paths-x"), "data-count")).to.equal("2");
    const products = (await page.locator(`${byId("paths-x")} li`).evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-product"))))).sort((p, q) => p - q);
    close(products[0], Math.cos(x) * y, 1e-14, "path x → sin → mul → add");
    close(products[1], 2 * x, 1e-14, "path x → pow → add");
    close(await value("paths-x-sum"), Math.cos(x) * y + 2 * x, 1e-14, "the sum over paths is ∂f/∂x");
    close(await value("paths-y-sum"), Math.sin(x), 1e-14, "one path from y");
    // x·x·x: three paths from x (two into the first mul, one into the second), each worth x².
    await page.selectOption(byId("preset-select"), "cube");
    expect(await page.getAttribute(byId("paths-x"), "data-count")).to.equal("3");
    close(await value("paths-x-sum"), 3 * x * x, 1e-14, "3x² from three paths");
    expect(await page.getAttribute(byId("paths-y"), "data-count")).to.equal("0");
  });

  it("follows a new function from the menu and a new point", async function () {
    await page.selectOption(byId("preset-select"), "pow");
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

  it("reads a typed expression, and says so when bad text or a bad point leaves the tables stale", async function () {
    await page.fill(byId("expr-input"), "x^3 - 2*x*y + sin(y)/x");
    expect(await page.inputValue(byId("preset-select"))).to.equal("__custom__");
    const [x, y] = [1.7, 0.6];
    const exact = [3 * x * x - 2 * y - Math.sin(y) / (x * x), -2 * x + Math.cos(y) / x];
    close(await value("rev-dx"), exact[0], 1e-13, "typed ∂f/∂x");
    close(await value("rev-dy"), exact[1], 1e-13, "typed ∂f/∂y");
    close(await value("fwd-dx"), exact[0], 1e-13, "typed forward ∂f/∂x");
    expect(await page.textContent(byId("expr-error"))).to.equal("");
    expect(await page.getAttribute(byId("tape-section"), "data-stale")).to.equal(null);

    for (const bad of ["x + * y", "alert(1)", "sin x", "(x + y"]) {
      await page.fill(byId("expr-input"), bad);
      const message = await page.textContent(byId("expr-error"));
      expect(message, `error for ${bad}`).to.match(/Cannot read the expression/);
      expect(message).to.contain("still shows f = x^3");
      expect(await page.getAttribute(byId("expr-input"), "aria-invalid")).to.equal("true");
      expect(await page.getAttribute(byId("tape-section"), "data-stale")).to.equal("true");
      close(await value("rev-dx"), exact[0], 1e-13, `the last valid function stays shown after "${bad}"`);
    }
    await page.fill(byId("expr-input"), "x^3 - 2*x*y + sin(y)/x");
    expect(await page.textContent(byId("expr-error"))).to.equal("");
    await page.fill(byId("x-input"), "");
    expect(await page.textContent(byId("expr-error"))).to.match(/Enter a number for x\. .*still shows .* x = 1\.7, y = 0\.6/);
    expect(await page.getAttribute(byId("tape-section"), "data-stale")).to.equal("true");
    await page.fill(byId("x-input"), "1.7");
    expect(await page.getAttribute(byId("tape-section"), "data-stale")).to.equal(null);
  });

  it("steps the backward sweep with the keyboard: table, graph highlight and sends match Node's sweep", async function () {
    const [x, y] = [1.7, 0.6];
    const f = (a: Tensor, b: Tensor): Tensor => add(sub(pow(a, 3), mul(mul(2, a), b)), div(sin(b), a));
    const trace = traceTape(f, x, y);
    const total = trace.sweep.length;
    expect(await value("sweep-total")).to.equal(total);
    expect(await value("sweep-step")).to.equal(0);
    expect(await page.getAttribute(byId("ct-0"), "data-value")).to.equal(null);
    expect(await page.getAttribute(byId(`graph-node-${trace.output}`), "data-state")).to.equal("next");

    /** What the page shows after a step, read in one round trip. */
    const seen = (): Promise<{ step: number; cotangent: number; current: string[]; graphCotangent: number; rowCurrent: string | null; sends: [string, number][] }> =>
      page.evaluate(() => {
        const d = document;
        const current = [...document.querySelectorAll("[data-testid='graph'] [data-state='current']")].map((e) => e.getAttribute("data-testid")!);
        const index = current.length === 1 ? current[0].replace("graph-node-", "") : "";
        return {
          step: Number(d.querySelector("[data-testid='sweep-step']")!.getAttribute("data-value")),
          cotangent: Number(d.querySelector(`[data-testid='ct-${index}']`)?.getAttribute("data-value")),
          current,
          graphCotangent: Number(d.querySelector(`[data-testid='graph-node-${index}']`)?.getAttribute("data-cotangent")),
          rowCurrent: d.querySelector(`[data-testid='tape-row-${index}']`)?.getAttribute("aria-current") ?? null,
          sends: [...document.querySelectorAll("[data-testid='graph'] path[data-direction='back']")].map((e) => [e.getAttribute("data-testid")!, Number(e.getAttribute("data-amount"))] as [string, number]),
        };
      });
    await page.focus(byId("step-button"));
    for (let k = 1; k <= total; k++) {
      await page.keyboard.press(k === 1 ? "Enter" : k % 2 === 0 ? "n" : "ArrowRight");
      const visit = trace.sweep[k - 1];
      const s = await seen();
      expect(s.step).to.equal(k);
      // The node just visited holds exactly the cotangent the library's sweep gave it, in the table and in the graph...
      expect(s.current, `the highlighted node at step ${k}`).to.deep.equal([`graph-node-${visit.index}`]);
      close(s.cotangent, visit.cotangent as number, 1e-14, `cotangent of #${visit.index} at step ${k}`);
      close(s.graphCotangent, visit.cotangent as number, 1e-14, "graph node's v̄");
      expect(s.rowCurrent).to.equal("step");
      // ...and its highlighted edges carry what the library sent along them (two edges between the same nodes share one send).
      expect(s.sends.length).to.equal(visit.sent.length);
      for (const sent of visit.sent) {
        const edges = s.sends.filter(([id]) => id.startsWith(`graph-edge-${sent.to}-${visit.index}-`));
        expect(edges.length, `edge #${sent.to} ← #${visit.index}`).to.be.above(0);
        const library = visit.sent.filter((m) => m.to === sent.to).reduce((sum, m) => sum + (m.cotangent as number), 0);
        close(edges.reduce((sum, [, v]) => sum + v, 0), library, 1e-14, `what #${visit.index} sends to #${sent.to}`);
      }
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
    // Arrow keys on the table scroll it; they do not step the sweep.
    await page.focus(byId("tape-wrap"));
    await page.keyboard.press("ArrowLeft");
    expect(await value("sweep-step")).to.equal(total);
  });

  it("steps forward mode on the typed function: the tangent column fills node by node with local × tangent terms", async function () {
    const [x, y] = [1.7, 0.6];
    const f = (a: Tensor, b: Tensor): Tensor => add(sub(pow(a, 3), mul(mul(2, a), b)), div(sin(b), a));
    const trace = traceTape(f, x, y);
    await page.selectOption(byId("mode"), "0");
    // The nodes downstream of x, in tape order; before any step their tangents are not shown.
    const downstream = new Set<number>([0]);
    for (const e of trace.entries) if (e.inputs.some((s) => s !== null && downstream.has(s))) downstream.add(e.index);
    const order = trace.entries.filter((e) => e.op !== "input" && downstream.has(e.index)).map((e) => e.index);
    expect(await value("sweep-total")).to.equal(order.length);
    expect(await page.getAttribute(byId(`tan-x-${order[0]}`), "data-value"), "not computed yet").to.equal(null);
    expect(await page.textContent(byId(`tan-x-${order[0]}`))).to.equal("…");
    // Each step's tangent against a jvp of the tape prefix that ends at that node, run here.
    await page.focus(byId("step-button"));
    for (let k = 1; k <= order.length; k++) {
      await page.keyboard.press("ArrowRight");
      const index = order[k - 1];
      const prefix = (a: Tensor, b: Tensor): Tensor => {
        const v: Tensor[] = [a, b];
        for (const e of trace.entries.slice(2, index + 1)) {
          const args = e.inputs.map((src, j) => (src === null ? (e.constants[j] as number) : v[src]));
          v.push((lib as unknown as Record<string, (...o: unknown[]) => Tensor>)[e.op](...args));
        }
        return v[index];
      };
      const truth = jvp(prefix, [x, y], [1, 0])[1].item();
      close(await value(`tan-x-${index}`), truth, 1e-13, `v̇ of #${index} at step ${k}`);
      expect(await page.getAttribute(byId(`tape-row-${index}`), "aria-current")).to.equal("step");
      const cell = (await page.textContent(byId(`tan-x-${index}`)))!;
      expect(cell, "the terms local × tangent").to.match(/= .*×.*\(from #\d+\)/);
      expect(await page.textContent(byId("sweep-announce"))).to.contain(`#${index}`).and.to.contain("×");
      if (k < order.length) expect(await page.getAttribute(byId(`tan-x-${order[k]}`), "data-value"), "the next node waits").to.equal(null);
    }
    close(await value(`tan-x-${trace.output}`), jvp(f, [x, y], [1, 0])[1].item(), 1e-14, "the output's v̇ is ∂f/∂x");
    expect(await page.textContent(byId("sweep-announce"))).to.contain("∂f/∂x");
    await page.selectOption(byId("mode"), "reverse");
    expect(await value("sweep-total")).to.equal(trace.sweep.length);
  });

  it("asks for the next v̄ before revealing it, when asked to", async function () {
    const [x, y] = [1.7, 0.6];
    const f = (a: Tensor, b: Tensor): Tensor => add(sub(pow(a, 3), mul(mul(2, a), b)), div(sin(b), a));
    const trace = traceTape(f, x, y);
    await reset(page, "");
    await page.check(byId("predict-toggle"));
    await page.click(byId("step-button"));
    expect(await value("sweep-step"), "a question, not a step").to.equal(0);
    expect(await page.isVisible(byId("predict-form"))).to.equal(true);
    expect(await page.textContent(byId("predict-question"))).to.contain(`#${trace.sweep[0].index}`);
    await page.fill(byId("predict-input"), "1");
    await page.keyboard.press("Enter");
    expect(await value("sweep-step")).to.equal(1);
    const second = trace.sweep[1];
    await page.click(byId("step-button"));
    await page.fill(byId("predict-input"), String((second.cotangent as number) + 1));
    await page.click(byId("predict-check"));
    expect(await page.textContent(byId("predict-feedback"))).to.match(/^✗ Not/);
    expect(await value("sweep-step")).to.equal(1);
    // While asked, the answer shows nowhere: not in the graph, the table, the edge labels or the announcement.
    const shown = (second.cotangent as number).toPrecision(4).replace(/0+$/, "").replace(/\.$/, "");
    expect(await page.getAttribute(byId(`graph-node-${second.index}`), "data-cotangent")).to.equal("?");
    expect(await page.textContent(byId(`graph-node-${second.index}`))).to.contain("v̄ = ?");
    expect(await page.getAttribute(byId(`ct-${second.index}`), "data-hidden")).to.equal("true");
    expect(await page.getAttribute(byId(`ct-${second.index}`), "data-value")).to.equal(null);
    expect(await page.textContent(byId("sweep-announce"))).to.contain("Your turn").and.not.contain(shown);
    expect(await page.locator(`${byId("graph")} .edge-label`).allTextContents(), "the last step's send to it").to.include("sends ?");
    await page.fill(byId("predict-input"), (second.cotangent as number).toPrecision(6));
    await page.click(byId("predict-check"));
    expect(await page.textContent(byId("predict-feedback"))).to.match(/^✓ Right/);
    expect(await value("sweep-step")).to.equal(2);
    await page.click(byId("step-button"));
    await page.click(byId("predict-reveal"));
    expect(await value("sweep-step")).to.equal(3);
    await page.uncheck(byId("predict-toggle"));
    await page.click(byId("step-button"));
    expect(await value("sweep-step")).to.equal(4);

    // x·x·x at x = 1/2: the sweep asks for v̄ = 1, then x = 1/2 at #2, then 3x² = 3/4 at x; fractions are answers.
    await setFunction("x*x*x", 0.5, 2);
    await page.check(byId("predict-toggle"));
    await page.focus(byId("step-button"));
    for (const [answer, node] of [["1", 3], ["1/2", 2], ["−3/4 + 6/4", 0]] as const) {
      await page.click(byId("step-button"));
      expect(await page.textContent(byId("predict-question"))).to.contain(`#${node}`);
      await page.fill(byId("predict-input"), answer);
      await page.keyboard.press("Enter");
      expect(await page.textContent(byId("predict-feedback")), `answer ${answer}`).to.match(/^✓ Right/);
    }
    expect(await value("sweep-step")).to.equal(3);
    await page.uncheck(byId("predict-toggle"));
  });

  it("keeps the visited row in view on a long tape, near the Step button", async function () {
    const expression = Array.from({ length: 12 }, (_, i) => `sin(x*${i + 1} + y)`).join(" + ");
    await setFunction(expression, 0.3, 0.2);
    const length = await value("tape-length");
    expect(length).to.be.above(40);
    expect(await page.locator(`${byId("graph")} [data-testid^="graph-node-"]`).count()).to.equal(length);
    await page.click(byId("step-button"));
    const output = length - 1;
    const inView = async (row: string, wrap: string): Promise<boolean> => page.evaluate(([r, w]) => {
      const a = document.querySelector(r)!.getBoundingClientRect();
      const b = document.querySelector(w)!.getBoundingClientRect();
      return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
    }, [row, wrap] as const);
    expect(await inView(byId(`tape-row-${output}`), byId("tape-wrap")), "the first visited row shows in the table's box").to.equal(true);
    expect(await inView(byId(`graph-node-${output}`), byId("graph-wrap")), "the first visited node shows in the graph's box").to.equal(true);
    const gap = await page.evaluate(([b, r]) => document.querySelector(r)!.getBoundingClientRect().top - document.querySelector(b)!.getBoundingClientRect().top, [byId("step-button"), byId(`tape-row-${output}`)] as const);
    expect(gap, "px from the Step button to the visited row").to.be.below(1800);
    await page.focus(byId("step-button"));
    for (let k = 0; k < 12; k++) await page.keyboard.press("ArrowRight");
    const st = traceTape((a: Tensor, b: Tensor) => {
      let s: Tensor | number = 0;
      for (let i = 0; i < 12; i++) s = i === 0 ? sin(add(mul(a, i + 1), b)) : add(s, sin(add(mul(a, i + 1), b)));
      return s as Tensor;
    }, 0.3, 0.2);
    const current = st.sweep[12].index;
    expect(await inView(byId(`tape-row-${current}`), byId("tape-wrap")), `row #${current} after 13 steps`).to.equal(true);
  });

  describe("where the numbers break", function () {
    const findings = async (): Promise<{ kind: string; node: string; coordinate: string; text: string }[]> =>
      page.locator(`${byId("findings-list")} li`).evaluateAll((els) => els.map((e) => ({
        kind: e.getAttribute("data-kind")!, node: e.getAttribute("data-node")!, coordinate: e.getAttribute("data-coordinate")!, text: e.textContent!,
      })));
    const nodeOf = (f: (a: Tensor, b: Tensor) => Tensor, x: number, y: number, op: string): string =>
      String(traceTape(f, x, y).entries.find((e) => e.op === op)!.index);
    const pick = async (id: string, x: number, y: number): Promise<void> => {
      await page.selectOption(byId("preset-select"), id);
      await waitForValue("x-shown", x);
      await waitForValue("y-shown", y);
    };

    it("log(x) + y at x = −1: NaN from log outside its domain, yet both modes print −1", async function () {
      await pick("log-negative", -1, 2);
      const logNode = nodeOf((a, b) => add(log(a), b), -1, 2, "log");
      expect(Number.isNaN(await value("f-value"))).to.equal(true);
      close(await value("rev-dx"), 1 / -1, 0, "reverse: log's rule 1/u at u = −1");
      close(await value("fwd-dx"), -1, 0, "forward");
      close(await value("rev-dy"), 1, 0, "∂f/∂y");
      expect(Number.isNaN(await value("fd-dx"))).to.equal(true);
      const list = await findings();
      const domain = list.find((f) => f.kind === "domain")!;
      expect(domain.node).to.equal(logNode);
      expect(domain.text).to.contain(`#${logNode} log is the first node with NaN`).and.to.contain("outside its domain");
      expect(list.find((f) => f.kind === "no-value")!.text).to.contain("log|u|");
      expect(list.filter((f) => f.kind === "fd-nonfinite").map((f) => f.coordinate)).to.deep.equal(["x", "y"]);
      // The error plot has nothing finite to draw, and says so.
      expect(await page.getAttribute(byId("plot-fd"), "data-points")).to.equal("0");
      expect(await page.textContent(`${byId("plot-fd")} .empty-message`)).to.contain("No finite points");
      expect(await page.getAttribute(byId(`graph-node-${logNode}`), "class")).to.contain("origin");
      expect(await page.getAttribute(byId(`tape-row-${logNode}`), "class")).to.contain("origin");
    });

    it("xʸ at (−1.5, 2): ∂f/∂x = −3 in both modes, ∂f/∂y NaN from ln of a negative base", async function () {
      await pick("pow-negative", -1.5, 2);
      const powNode = nodeOf((a, b) => pow(a, b), -1.5, 2, "pow");
      close(await value("rev-dx"), 2 * -1.5, 1e-15, "reverse y·x^(y−1)");
      close(await value("fwd-dx"), 2 * -1.5, 1e-15, "forward: y's tangent is a symbolic zero");
      expect(Number.isNaN(await value("rev-dy"))).to.equal(true);
      expect(Number.isNaN(await value("fwd-dy"))).to.equal(true);
      const list = await findings();
      const rule = list.find((f) => f.kind === "rule-domain")!;
      expect(rule.node).to.equal(powNode);
      expect(rule.text).to.contain("ln(−1.5)").and.to.contain("no derivative along the exponent");
      const zero = list.find((f) => f.kind === "symbolic-zero")!;
      expect(zero.coordinate).to.equal("x");
      expect(zero.text).to.contain("symbolic zero");
      expect(await page.getAttribute(byId(`tan-x-1`), "data-value"), "y has no tangent along x").to.equal("none");
    });

    it("1/x + y at x = 0: a pole; ∂f/∂y = 1 in both modes; the finite difference along x is not a derivative", async function () {
      await pick("pole-x", 0, 1);
      const divNode = nodeOf((a, b) => add(div(1, a), b), 0, 1, "div");
      expect(await value("f-value")).to.equal(Infinity);
      close(await value("rev-dy"), 1, 0, "reverse ∂f/∂y");
      close(await value("fwd-dy"), 1, 0, "forward ∂f/∂y");
      expect(await value("rev-dx")).to.equal(-Infinity);
      const h = Math.cbrt(Number.EPSILON);
      close(await value("fd-dx"), 1 / (h * h), 1e-6, "(1/h − (−1/h))/2h = 1/h²");
      const list = await findings();
      expect(list.find((f) => f.kind === "pole")!.node).to.equal(divNode);
      expect(list.find((f) => f.kind === "symbolic-zero")!.coordinate).to.equal("y");
      const fdPole = list.find((f) => f.kind === "fd-pole")!;
      expect(fdPole.coordinate).to.equal("x");
      expect(fdPole.text).to.contain("is not a derivative");
      expect(list.find((f) => f.kind === "fd-nonfinite" && f.coordinate === "y")!.text).to.contain("∞ − ∞");
    });

    it("x/(y − 2) at y = 2: the finite difference of 6.8e9 is called what it is", async function () {
      await pick("pole-y", 1, 2);
      const divNode = nodeOf((a, b) => div(a, sub(b, 2)), 1, 2, "div");
      const h = Math.cbrt(Number.EPSILON) * 2;
      close(await value("fd-dy"), ((1 / h) - (-1 / h)) / (2 * h), 1e-6, "central difference across the pole");
      expect(await value("fd-dy")).to.be.above(1e9);
      const list = await findings();
      expect(list.find((f) => f.kind === "pole")!.node).to.equal(divNode);
      expect(list.find((f) => f.kind === "pole")!.text).to.contain("b = 0");
      const fdPole = list.find((f) => f.kind === "fd-pole")!;
      expect(fdPole.coordinate).to.equal("y");
      expect(fdPole.text).to.contain("6.82e9").and.to.contain("not a derivative");
    });

    it("relu(x)·y at x = 0: the kink, the library's convention, and the averaging finite difference", async function () {
      await pick("kink", 0, 1);
      const reluNode = nodeOf((a, b) => mul(relu(a), b), 0, 1, "relu");
      close(await value("rev-dx"), 0, 0, "reverse uses relu′(0) = 0");
      close(await value("fwd-dx"), 0, 0, "forward uses relu′(0) = 0");
      close(await value("fd-dx"), 0.5, 1e-9, "the central difference averages the slopes 0 and 1");
      const kink = (await findings()).find((f) => f.kind === "kink")!;
      expect(kink.node).to.equal(reluNode);
      expect(kink.text).to.contain("relu′(0) = 0").and.to.contain("averages them: 0.5");
    });

    it("flags a central difference across a kink as not a derivative: √(x² + y²) at the origin, √(x²) and relu at 0", async function () {
      for (const [id, x, y, flagged] of [["cone", 0, 0, ["x", "y"]], ["sqrt-square", 0, 1, ["x"]], ["kink", 0, 1, ["x"]]] as const) {
        await pick(id, x, y);
        const list = await findings();
        expect(list.filter((f) => f.kind === "fd-not-derivative").map((f) => f.coordinate), id).to.deep.equal([...flagged]);
        for (const c of ["x", "y"]) {
          const flag = await page.getAttribute(byId(`fd-d${c}`), "data-flag");
          expect(flag, `${id}: the FD cell along ${c}`).to.equal((flagged as readonly string[]).includes(c) ? "not-a-derivative" : null);
        }
      }
      await pick("cone", 0, 0);
      expect(await page.textContent(byId("fd-dx"))).to.contain("not a derivative");
      expect((await findings()).find((f) => f.kind === "fd-not-derivative")!.text).to.contain("−1 from the left and 1 from the right");
    });

    it("abs(x)·y at (0, 0) is differentiable: the kink of abs is not blamed, and the finite difference stands", async function () {
      await pick("abs-product", 0, 0);
      const list = await findings();
      expect(list.map((f) => f.kind)).to.deep.equal(["kink-harmless"]);
      expect(list[0].text).to.contain("f has no kink here").and.to.contain("v̄").and.not.to.contain("no single derivative");
      expect(await page.getAttribute(byId("fd-dx"), "data-flag")).to.equal(null);
      close(await value("rev-dx"), 0, 0, "∂f/∂x = 0");
      close(await value("rev-dy"), 0, 0, "∂f/∂y = 0");
    });

    it("calls a concave kink's slopes supergradients, a convex kink's subgradients", async function () {
      await pick("concave-kink", 0, -1);
      const concave = (await findings()).find((f) => f.kind === "kink")!.text;
      expect(concave).to.contain("supergradient").and.to.contain("concave").and.not.to.contain("is a subgradient");
      await pick("kink", 0, 1);
      expect((await findings()).find((f) => f.kind === "kink")!.text).to.contain("is a subgradient (f is convex");
    });

    it("xʸ at (0, 0): 0⁰ = 1, and the rules' cells state the conventions their formulas need", async function () {
      await pick("pow-zero", 0, 0);
      close(await value("f-value"), 1, 0, "0⁰ = 1");
      const powNode = nodeOf((a, b) => pow(a, b), 0, 0, "pow");
      expect(await page.textContent(byId(`rule-${powNode}-0`))).to.equal("∂/∂a: b·a^(b−1), taken as 0 where b = 0 = 0");
      expect(await page.textContent(byId(`rule-${powNode}-1`))).to.equal("∂/∂b: a^b·ln a, taken as 0 where a = 0 = 0");
      const convention = (await findings()).find((f) => f.kind === "convention")!;
      expect(convention.node).to.equal(powNode);
      expect(convention.text).to.contain("0⁰ = 1").and.to.contain("0·∞").and.to.contain("no derivative");
      expect(await page.getAttribute(byId("fd-dy"), "data-flag")).to.equal("not-a-derivative");
    });

    it("√(x² + y²) at the origin: an infinite slope times a zero makes NaN, and the page names the node", async function () {
      await pick("cone", 0, 0);
      const sqrtNode = nodeOf((a, b) => sqrt(add(pow(a, 2), pow(b, 2))), 0, 0, "sqrt");
      expect(Number.isNaN(await value("rev-dx"))).to.equal(true);
      const list = await findings();
      expect(list.find((f) => f.kind === "vertical")!.node).to.equal(sqrtNode);
      expect(list.some((f) => f.kind === "propagation" && f.text.includes("∞·0"))).to.equal(true);
    });
  });

  it("counts the cost of each mode for n inputs, and steps a forward pass", async function () {
    const counts = async (): Promise<number[]> => Promise.all(["modes-rev-evals", "modes-rev-products", "modes-fwd-evals", "modes-fwd-products", "modes-rev-passes", "modes-fwd-passes"].map(value));
    for (const n of [6, 9]) {
      await setRange(page, "modes-n", n);
      await waitForValue("modes-n-value", n);
      // log(e^x₁ + … + e^xₙ): n exps, n − 1 adds and one log; every node has one operand on the tape but the adds (two).
      const primitives = 2 * n;
      const reverseProducts = n + 2 * (n - 1) + 1;
      // The pass along xᵢ touches exp(xᵢ), the adds from the one xᵢ enters, and log: one product each.
      let forwardProducts = 0;
      for (let i = 0; i < n; i++) forwardProducts += 1 + (n - Math.max(i, 1)) + 1;
      expect(await counts()).to.deep.equal([primitives, reverseProducts, n * primitives, forwardProducts, 1, n]);
      const point = Array.from({ length: n }, (_, i) => Math.round(100 * Math.cos(i + 1)) / 100);
      const weights = point.map(Math.exp);
      const total = weights.reduce((s, v) => s + v, 0);
      for (let i = 0; i < n; i++) {
        close(await value(`modes-rev-${i}`), weights[i] / total, 1e-14, `reverse ∂f/∂x${i + 1} = softmax`);
        close(await value(`modes-fwd-${i}`), weights[i] / total, 1e-14, `forward ∂f/∂x${i + 1} = softmax`);
      }
      expect(await page.locator(`${byId("modes-graph")} [data-testid^="modes-graph-node-"]`).count()).to.equal(3 * n);
      // linearize runs f once (2n primitives) and gets the same partials; the tape reverse mode keeps holds 3n entries.
      expect(await value("modes-lin-evals")).to.equal(primitives);
      expect(await page.getAttribute(byId("modes-lin-ms"), "data-agrees")).to.equal("true");
      expect(await value("modes-tape-kept")).to.equal(3 * n);
      // One input, n outputs: forward mode needs 1 pass, reverse mode n, and both get the column cᵢ cos t e^{sin t}.
      expect(await value("fanout-fwd-passes")).to.equal(1);
      expect(await value("fanout-rev-passes")).to.equal(n);
      expect(await value("fanout-fwd-err")).to.be.below(1e-13);
      expect(await value("fanout-rev-err")).to.be.below(1e-13);
    }
    expect(await page.textContent(byId("def-jvp"))).to.equal("JVP");
    expect(await page.textContent(byId("def-vjp"))).to.equal("VJP");
    expect(await page.textContent("#modes")).to.contain("m × n").and.to.contain("n forward passes or m backward sweeps");
    // The forward pass along x₃ visits the nodes downstream of x₃, one per step, and ends on ∂f/∂x₃.
    const n = 9;
    await page.selectOption(byId("modes-mode"), "2");
    const steps = 1 + (n - 2) + 1;
    expect(await value("modes-sweep-total")).to.equal(steps);
    const point = Array.from({ length: n }, (_, i) => Math.round(100 * Math.cos(i + 1)) / 100);
    const f = (...x: Tensor[]): Tensor => {
      let s = exp(x[0]);
      for (let i = 1; i < x.length; i++) s = add(s, exp(x[i]));
      return log(s);
    };
    const trace = traceTape(f, ...point);
    const untouched = await page.locator(`${byId("modes-graph")} [data-state="inactive"]`).count();
    expect(untouched, "nodes the pass along x₃ never touches").to.equal(trace.entries.length - steps - 1);
    await page.focus(byId("modes-step-button"));
    for (let k = 1; k <= steps; k++) await page.keyboard.press("ArrowRight");
    expect(await page.locator(`${byId("modes-graph")} [data-state="current"]`).count()).to.equal(1);
    expect(await value("modes-sweep-step")).to.equal(steps);
    const [, column] = jvp(f, point, point.map((_, j) => (j === 2 ? 1 : 0)));
    const out = trace.output!;
    close(Number(await page.getAttribute(byId(`modes-graph-node-${out}`), "data-tangent")), column.item(), 1e-14, "the output's tangent is ∂f/∂x₃");
    expect(await page.textContent(byId("modes-sweep-announce"))).to.contain("∂f/∂x₃");
    await page.selectOption(byId("modes-mode"), "reverse");
    expect(await value("modes-sweep-total")).to.equal(trace.sweep.length);
  });

  it("shows the code that ran: the snippets are the page's own source, and f is the expression's library calls", async function () {
    const snippets = sourceSnippets();
    const boxes = await page.locator("pre[data-snippet]").evaluateAll((els) => els.map((e) => [e.getAttribute("data-snippet")!, e.textContent!] as [string, string]));
    expect(boxes.map(([names]) => names)).to.deep.equal(["part1-modes part1-local", "part1-jit-where", "part1-jit", "modes-f modes-calls modes-linearize modes-fanout modes-fanout-calls", "sqrt-define sqrt-calls sqrt-calls-tape sqrt-early", "ridge-define ridge-calls ridge-calls-tape"]);
    for (const [names, text] of boxes) {
      const expected = names.split(" ").map((n) => {
        expect(snippets.has(n), `snippet ${n} in site/src`).to.equal(true);
        return snippets.get(n)!;
      }).join("\n\n");
      expect(text, `code box ${names}`).to.equal(expected);
    }
    const all = boxes.map(([, t]) => t).join("\n");
    for (const call of ["traceTape(f, x, y)", "jvp(f, [x, y], [1, 0])", "grad(op, { argnums })", "grad(logSumExp, { argnums })", "jvp(logSumExp, point", "new ImplicitFunction({", "forward:", "conditions:", "implicitSqrt.call(a)", "this.implicitW.call(l)"]) {
      expect(all, call).to.contain(call);
    }

    // The f shown is the library calls the page made: run it here and compare with what the page shows.
    await setFunction("exp(-x^2) * cos(3*y) + x/y", 0.7, -1.3);
    const code = (await page.textContent(byId("code-part1-f")))!;
    expect(code).to.equal("const f = (x, y) => add(mul(exp(neg(pow(x, 2))), cos(mul(3, y))), div(x, y));");
    const names = Object.keys(lib).filter((k) => /^[a-z]\w*$/.test(k) && typeof (lib as Record<string, unknown>)[k] === "function");
    const body = /^const f = \(x, y\) => (.*);$/.exec(code)![1];
    const f = new Function(...names, "x", "y", `return ${body};`) as (...a: unknown[]) => Tensor;
    const ops = names.map((k) => (lib as Record<string, unknown>)[k]);
    const x = Number(await page.textContent(byId("code-part1-x")));
    const y = Number(await page.textContent(byId("code-part1-y")));
    expect([x, y]).to.deep.equal([0.7, -1.3]);
    const trace = traceTape((a: Tensor, b: Tensor) => f(...ops, a, b), x, y);
    expect(await value("tape-length")).to.equal(trace.entries.length);
    close(await value("f-value"), trace.value as number, 0, "f");
    close(await value("rev-dx"), trace.gradients[0] as number, 0, "∂f/∂x");
    close(await value("rev-dy"), trace.gradients[1] as number, 0, "∂f/∂y");
    const ops2 = await page.locator(`${byId("tape-body")} tr td:nth-child(2)`).allTextContents();
    expect(ops2).to.deep.equal(trace.entries.map((e) => e.op));
  });

  it("shows the engine's own recording and backward loop, cut from lib/ as it stands", async function () {
    /** Where `shown` sits in the file as consecutive lines (each one indented alike), or −1. */
    const locate = (file: string, shown: string): number => {
      const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
      const want = shown.split("\n");
      return lines.findIndex((l, i) => {
        const indent = l.length - l.trimStart().length;
        if (l.trimStart() !== want[0]) return false;
        return want.every((w, k) => lines[i + k] === (w === "" ? "" : " ".repeat(indent) + w) || (w === "" && lines[i + k].trim() === ""));
      });
    };
    const boxes: [string, string, string[]][] = [
      ["code-engine-sweep", "lib/ad/reverse.ts", ["export function sweep<", "for (let i = last; i >= 0; i--) {", "node.prim.vjp(ct, node.primals, node.out, node.params, needs)", "add(prev, g)"]],
      ["code-engine-record", "lib/ad/reverse.ts", ["process<P>(prim: Primitive<P>", "const out = bind(prim, primals, params);", "this.tape.push(node);"]],
      ["code-engine-mul", "lib/primitives/elementwise.ts", ["const mulPrim = binaryPrimitive(\"mul\""]],
    ];
    for (const [id, file, must] of boxes) {
      const text = (await page.textContent(byId(id)))!;
      for (const piece of must) expect(text, `${id} shows ${piece}`).to.contain(piece);
      // Each declaration shown (they are separated by a blank line) is a run of consecutive lines of the file.
      for (const block of text.split(/\n\n(?=\S)/)) expect(locate(file, block), `${id}: a block of ${file} as it stands`).to.be.at.least(0);
    }
  });

  it("shows f and its gradient under jit as the library prints them in Node, and the compiled gradient equals the tape's", async function () {
    /** The panel against jit run here on f written with the library's ops (not the page's parser). */
    const check = async (f: (a: Tensor, b: Tensor) => Tensor, x: number, y: number, counts: string | null): Promise<void> => {
      const [tx, ty] = [tensor(x), tensor(y)];
      expect(await page.textContent(byId("jit-program")), "jit(f).lower(x, y)").to.equal(jit(f).lower(tx, ty).toString());
      const df = jit(grad(f, { argnums: [0, 1] }));
      expect(await page.textContent(byId("jit-grad-program")), "jit(grad(f)).lower(x, y)").to.equal(df.lower(tx, ty).toString());
      if (counts !== null) expect(await page.textContent(byId("jit-count"))).to.equal(counts);
      // The compiled gradient shown is grad's, and sits beside the tape's own.
      const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y) as Tensor[];
      close(await value("jit-dx"), gx.item(), 1e-15, "jit(grad(f)) ∂f/∂x vs Node grad");
      close(await value("jit-dy"), gy.item(), 1e-15, "jit(grad(f)) ∂f/∂y vs Node grad");
      close(await value("jit-dx"), await value("rev-dx"), 1e-15, "jit(grad(f)) ∂f/∂x vs the tape");
      close(await value("jit-dy"), await value("rev-dy"), 1e-15, "jit(grad(f)) ∂f/∂y vs the tape");
      expect(await value("jit-rev-dx")).to.equal(await value("rev-dx"));
      expect(await value("jit-err-dx")).to.be.at.most(1e-15 * Math.max(1, Math.abs(gx.item())));
      // Reading a value inside jit: the library's own Error, and where as the way out.
      let message = "";
      try {
        jit((a: Tensor, b: Tensor) => {
          const v = f(a, b);
          return v.item() >= 0 ? v : neg(v);
        })(tx, ty);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).to.match(/^item: jit is tracing/);
      expect(await page.textContent(byId("jit-branch-error"))).to.equal(message);
      const fx = f(tx, ty).item();
      close(await value("jit-where-value"), Math.abs(fx), 1e-15, "|f| by where");
      const absWhere = jit((a: Tensor, b: Tensor) => where(greater(f(a, b), 0), f(a, b), neg(f(a, b))));
      close(await value("jit-where-value"), absWhere(tx, ty).item(), 1e-15, "|f| by where, jitted here");
      expect(await page.textContent(byId("jit-where-program"))).to.contain(" = where ");
    };
    await page.selectOption(byId("preset-select"), "sin-mul");
    await setFunction("sin(x) * y + x^2", 1.5, 2);
    await check((a, b) => add(mul(sin(a), b), pow(a, 2)), 1.5, 2, "4 equations, run as 1 fused kernel");
    // The gradient program holds the backward pass: cos x (∂ sin) appears, and the forward sin x is reused.
    const gradText = (await page.textContent(byId("jit-grad-program")))!;
    expect(gradText).to.contain("= cos x0").and.to.contain("= sin x0");
    await setFunction("exp(-x^2) * cos(3*y) + x/y", 0.7, -1.3);
    expect(await page.textContent(byId("jit-expr"))).to.equal(await page.textContent(byId("expr-parsed")));
    await check((a, b) => add(mul(exp(neg(pow(a, 2))), cos(mul(3, b))), div(a, b)), 0.7, -1.3, null);
    // A long printout scrolls in its own box: the gradient program is taller than its box, and the page no wider.
    const box = await page.locator(byId("jit-grad-program")).evaluate((e) => ({ scroll: e.scrollHeight, client: e.clientHeight, overflow: getComputedStyle(e).overflowY }));
    expect(box.scroll, "the gradient program scrolls in its box").to.be.above(box.client);
    expect(box.overflow).to.equal("auto");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(1366);
  });

  it("differentiates √a by Newton implicitly, shows its tape with the one solve node, and unrolled", async function () {
    const a = 5;
    const T = 4;
    await page.fill(byId("sqrt-a"), String(a));
    await waitForValue("sqrt-exact", 1 / (2 * Math.sqrt(a)));
    close(await value("sqrt-y"), Math.sqrt(a), 1e-15, "Newton's √5");
    close(await value("sqrt-implicit"), 1 / (2 * Math.sqrt(a)), 1e-14, "implicit dy/da");
    close(await value("sqrt-A"), 2 * Math.sqrt(a), 1e-14, "A = 2y");
    close(await value("sqrt-B"), -1, 0, "B = −1");
    close(await value("sqrt-fd"), 1 / (2 * Math.sqrt(a)), 1e-8, "finite difference dy/da");
    expect(await page.textContent(byId("sqrt-solve-info"))).to.not.match(/0 iterations/);
    const unrolled = (aa: Tensor): Tensor => {
      let y: Tensor | number = Math.max(1, a);
      for (let k = 0; k < T; k++) y = mul(0.5, add(y, div(aa, y)));
      return y as Tensor;
    };
    close(await value("sqrt-unrolled"), (grad(unrolled)(a) as Tensor).item(), 1e-14, "unrolled dy/da vs Node");
    expect(Number(await page.getAttribute(byId("sqrt-unrolled-cost"), "data-tape-length"))).to.equal(traceTape(unrolled, a).entries.length);

    // Its tape in part 1's format: the same entries as traceTape here, and the custom (solve) node marked as such.
    const trace = traceTape((aa: Tensor) => implicitSqrt.call(aa), a);
    const solveNodes = trace.entries.filter((e) => e.custom).map((e) => e.index);
    expect(solveNodes.length, "one solve node").to.equal(1);
    const solve = solveNodes[0];
    expect(await page.getAttribute(byId("sqrt-tape-story"), "data-solve-nodes")).to.equal(String(solve));
    expect(await page.textContent(byId("sqrt-tape-story"))).to.contain(`#${solve} ${trace.entries[solve].op}`);
    expect(await page.locator(`${byId("sqrt-tape-graph")} [data-testid^="sqrt-tape-graph-node-"]`).count()).to.equal(trace.entries.length);
    expect(await page.getAttribute(byId(`sqrt-tape-graph-node-${solve}`), "class")).to.contain("custom");
    expect(await page.locator(`${byId("sqrt-tape-tape-body")} tr td:nth-child(2)`).allTextContents()).to.deep.equal(trace.entries.map((e) => e.op));
    // Step the sweep up to the solve node: it sends −B·v̄/A (B = ∂F/∂a = −1), exactly what the library's sweep sent.
    await reset(page, "sqrt-tape-");
    const at = trace.sweep.findIndex((s) => s.index === solve);
    for (let k = 0; k <= at; k++) await page.keyboard.press("ArrowRight");
    const visit = trace.sweep[at];
    const sentHere = await page.locator(`${byId("sqrt-tape-graph")} path[data-direction="back"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-amount"))));
    expect(sentHere.length).to.equal(1);
    close(sentHere[0], visit.sent[0].cotangent as number, 1e-15, "what the solve node sends");
    close(sentHere[0], (visit.cotangent as number) / (2 * Math.sqrt(a)), 1e-14, "−B·v̄/A with A = 2√a, B = −1");
    expect(await page.textContent(byId("sqrt-tape-sweep-announce"))).to.contain("adjoint solve");
    await page.click(byId("sqrt-tape-end-button"));
    close(await value("sqrt-tape-ct-0"), 1 / (2 * Math.sqrt(a)), 1e-14, "a's cotangent is dy/da");

    await page.fill(byId("sqrt-a"), "-3");
    expect(await page.textContent(byId("sqrt-error"))).to.match(/positive .* still shows a = 5, T = 4/);
    expect(await page.getAttribute(byId("sqrt-section"), "data-stale")).to.equal("true");
    await page.fill(byId("sqrt-a"), String(a));
    expect(await page.getAttribute(byId("sqrt-section"), "data-stale")).to.equal(null);
  });

  it("shows what the implicit derivative needs: A invertible, and forward converged (error bounded by the solution's), with warmed-up times", async function () {
    const a = 2;
    await page.fill(byId("sqrt-a"), String(a));
    await waitForValue("sqrt-exact", 1 / (2 * Math.sqrt(a)));
    expect(await page.textContent(byId("sqrt-invertible"))).to.contain("∂F/∂y must be invertible").and.to.contain("a = 0");
    expect(await page.textContent(byId("sqrt-warmup"))).to.contain("warm-up");
    expect(await page.textContent(byId("sqrt-implicit-cost"))).to.contain("ms per call");
    const early = async (): Promise<Record<string, number>> => page.locator(byId("sqrt-early")).evaluate((e) => {
      const d = (e as HTMLElement).dataset;
      return { y: Number(d.y), solutionError: Number(d.solutionError), derivative: Number(d.derivative), derivativeError: Number(d.derivativeError) };
    });
    // K = 1: y₁ = (2 + 2/2)/2 = 1.5, so the derivative taken there is 1/(2·1.5) = 1/3, not 1/(2√2).
    await page.fill(byId("sqrt-K"), "1");
    let e = await early();
    close(e.y, 1.5, 0, "y after one Newton step from y₀ = 2");
    close(e.derivative, 1 / 3, 1e-15, "the implicit derivative at y₁");
    close(e.derivativeError, Math.abs(1 / 3 - 1 / (2 * Math.sqrt(2))), 1e-15, "its error");
    expect(e.derivativeError, "Theorem 1: bounded by C·|y − y*|, C = 1/(2y√a)").to.be.at.most(e.solutionError / (2 * 1.5 * Math.sqrt(2)) * (1 + 1e-12));
    expect(await page.textContent(byId("sqrt-early-refusal"))).to.contain("refuses").and.to.contain("residualTol");
    // The error curves: the implicit error never exceeds the bound; the unrolled one needs more steps for the same accuracy.
    const curve = async (name: string): Promise<number[]> => ((await page.getAttribute(byId("plot-sqrt-errors"), `data-${name}`)) ?? "").split(" ").map(Number);
    const [solution, implicit, unrolled] = [await curve("solution"), await curve("implicit"), await curve("unrolled")];
    expect(solution.length).to.be.at.least(9);
    let y = 2;
    for (let k = 0; k < solution.length; k++) {
      close(solution[k], Math.abs(y - Math.sqrt(2)), 1e-15, `|y_${k} − √2|`);
      expect(implicit[k], `implicit error at k = ${k}`).to.be.at.most(solution[k] / (2 * y * Math.sqrt(2)) + 1e-16);
      y = y - (y * y - 2) / (2 * y) === y ? y : 0.5 * (y + 2 / y);
    }
    for (const k of [1, 2, 3]) expect(unrolled[k], `unrolled error after T = ${k}`).to.be.above(implicit[k]);
    // Converged: exact to rounding, and the default check accepts it.
    await page.fill(byId("sqrt-K"), "60");
    e = await early();
    expect(e.derivativeError).to.be.below(1e-15);
    expect(await page.textContent(byId("sqrt-early-refusal"))).to.contain("accepts");
    // A tiny a: the central difference's step is relative to a, so forward never runs at a negative a.
    await page.fill(byId("sqrt-a"), "1e-8");
    await waitForValue("sqrt-exact", 1 / (2 * Math.sqrt(1e-8)));
    expect(await value("sqrt-h")).to.be.below(1e-8);
    close(await value("sqrt-fd"), 5000, 1e-5, "the central difference at a = 1e-8 (5000, not 485)");
    await page.fill(byId("sqrt-a"), String(a));
  });

  it("moves λ with the keyboard and shows dw/dλ, dL/dλ and the implicit tape that match Node", async function () {
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

    // The unrolled row follows once the slider rests, and the status line says when it has.
    await page.waitForFunction(([sel, l]) => document.querySelector(sel as string)?.getAttribute("data-lambda") === String(l), [byId("ridge-status"), lam] as const, { timeout: 10000 });
    expect(await page.textContent(byId("ridge-status"))).to.match(/updated in .* ms; the unrolled row \(T = 100, \d+ tape entries\) in/);
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

    // The implicit tape as traceTape gives it here, with its custom node shown as the solve.
    const problem = new RidgeProblem(data);
    const implicit = traceTape((l: Tensor) => problem.validationLoss(problem.implicitW.call(l)), lam);
    expect(await page.locator(`${byId("ridge-tape-table")} tbody tr`).count()).to.equal(implicit.entries.length);
    const roles = await page.locator(`${byId("ridge-tape-table")} tbody tr`).evaluateAll((els) => els.map((e) => [e.getAttribute("data-op"), e.getAttribute("data-role")]));
    expect(roles.map(([op]) => op)).to.deep.equal(implicit.entries.map((e) => e.op));
    expect(roles.filter(([, role]) => role === "solve").map(([op]) => op)).to.deep.equal(implicit.entries.filter((e) => e.custom).map((e) => e.op));
    // The note under the table counts what the table lists, and the difference costs the two runs it makes.
    expect(Number(await page.getAttribute(byId("ridge-tape-story"), "data-entries"))).to.equal(implicit.entries.length);
    const conditionRows = roles.filter(([, role]) => role === "conditions").length;
    expect(Number(await page.getAttribute(byId("ridge-tape-story"), "data-conditions"))).to.equal(conditionRows);
    if (conditionRows === 0) expect(await page.textContent(byId("ridge-tape-story"))).to.contain("The conditions are not on it");
    expect(await page.textContent(byId("ridge-fd-cost"))).to.match(/^2 runs of forward/);
    // A and B in square brackets: no side bars on the table (a determinant's), corners drawn by its holder.
    expect(await page.locator(byId("ridge-A")).evaluate((t) => getComputedStyle(t).borderLeftWidth)).to.equal("0px");
    expect(await page.locator(byId("ridge-A-holder")).evaluate((t) => getComputedStyle(t, "::before").borderTopWidth)).to.equal("2px");

    // A bad T says the tables are stale; the two T fields have distinct labels.
    await page.fill(byId("ridge-T"), "0");
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute("data-stale") === "true", byId("ridge-section"));
    expect(await page.textContent(byId("ridge-error"))).to.match(/T must be .* still shows λ = .*, T = 100/);
    await page.fill(byId("ridge-T"), "100");
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute("data-stale") === null, byId("ridge-section"));
    const labels = await page.locator("label").allTextContents();
    expect(new Set(labels).size, `labels: ${labels.join(" | ")}`).to.equal(labels.length);
  });

  /** Every preset's graph, the 1b graph at a few n and 2a's graph: no edge through a box it does not join, no label cut. */
  const checkEveryGraph = async (p: Page, where: string): Promise<void> => {
    const ids = await p.locator(`${byId("preset-select")} optgroup option`).evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    expect(ids.length).to.equal(19);
    const faults: string[] = [];
    let edges = 0;
    for (const id of ids) {
      await p.selectOption(byId("preset-select"), id);
      const g = await graphFaults(p, "");
      edges += g.edges;
      faults.push(...[...g.crossings, ...g.labelsOutside].map((c) => `${where}, preset ${id}: ${c}`));
    }
    for (const n of [1, 6, 16]) {
      await setRange(p, "modes-n", n);
      await p.waitForFunction((v) => document.querySelector("[data-testid='modes-n-value']")?.getAttribute("data-value") === String(v), n);
      const g = await graphFaults(p, "modes-");
      edges += g.edges;
      faults.push(...[...g.crossings, ...g.labelsOutside].map((c) => `${where}, part 1b at n = ${n}: ${c}`));
    }
    const g = await graphFaults(p, "sqrt-tape-");
    edges += g.edges;
    faults.push(...[...g.crossings, ...g.labelsOutside].map((c) => `${where}, part 2a: ${c}`));
    expect(edges, "edges checked").to.be.above(100);
    expect(faults, faults.join("\n")).to.deep.equal([]);
    await p.selectOption(byId("preset-select"), "sin-mul");
    await p.fill(byId("x-input"), "1.5");
    await p.fill(byId("y-input"), "2");
    await setRange(p, "modes-n", 6);
  };

  it("draws no edge through a box it does not join, in any preset, part 1b or 2a (rendered geometry)", async function () {
    await checkEveryGraph(page, "1366 px");
  });

  it("fits part 1b's graph in its box at the default n = 6, without scrolling", async function () {
    await setRange(page, "modes-n", 6);
    await waitForValue("modes-n-value", 6);
    const box = await page.locator(byId("modes-graph-wrap")).evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth, height: e.scrollHeight, clientHeight: e.clientHeight }));
    expect(box.scroll, "graph width against its box").to.be.at.most(box.client);
    expect(box.height, "graph height against its box").to.be.at.most(box.clientHeight);
  });

  it("fits 1366 px without horizontal overflow", async function () {
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(1366);
  });

  describe("on a 390 px phone", function () {
    // The same page, narrowed: graphs and plots redraw for the new width as they would on a phone.
    let phone: Page;
    before(async function () {
      phone = page;
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.selectOption(byId("preset-select"), "sin-mul");
      await phone.fill(byId("x-input"), "1.5");
      await phone.fill(byId("y-input"), "2");
      await phone.waitForFunction(() => document.querySelector("[data-testid='graph']")?.getAttribute("data-orientation") === "tb");
    });
    after(async function () {
      if (process.env.SITE_SCREENSHOTS === "1") {
        mkdirSync(SHOTS, { recursive: true });
        await reset(phone, "");
        for (let k = 0; k < 2; k++) await phone.keyboard.press("ArrowRight");
        // The announcement and the graph, under the step bar that sticks to the top while the part scrolls.
        await phone.evaluate(() => window.scrollBy(0, document.querySelector("[data-testid='sweep-announce']")!.getBoundingClientRect().top - document.querySelector("[data-testid='sweep-controls']")!.getBoundingClientRect().height - 12));
        await phone.screenshot({ path: join(SHOTS, "site-phone.png") });
      }
      await phone.setViewportSize({ width: 1366, height: 900 });
    });

    it("keeps every part within the width: no horizontal overflow, captions not cut", async function () {
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(390);
      const cut = await phone.evaluate(() => [...document.querySelectorAll("caption, figcaption, .table-caption, p, h1, h2, h3, label")]
        .filter((e) => {
          const r = e.getBoundingClientRect();
          return r.width > 0 && (r.right > 390.5 || r.left < -0.5 || e.scrollWidth > e.clientWidth + 1);
        })
        .map((e) => `${e.tagName}: ${e.textContent!.slice(0, 40)}`));
      expect(cut).to.deep.equal([]);
    });

    it("keeps the jit panel's printouts inside the width, each scrolling in its own box", async function () {
      const boxes = await phone.locator("[data-testid='jit-panel'] pre").evaluateAll((els) => els.map((e) => {
        const r = e.getBoundingClientRect();
        return { id: e.getAttribute("data-testid"), left: r.left, right: r.right, overflow: getComputedStyle(e).overflowX };
      }));
      expect(boxes.length).to.equal(5);
      for (const b of boxes) {
        if (b.right === 0) continue; // the closed <details>
        expect(b.right, `${b.id} within 390 px`).to.be.at.most(390.5);
        expect(b.left, `${b.id} within 390 px`).to.be.at.least(-0.5);
        expect(b.overflow, `${b.id} scrolls`).to.equal("auto");
      }
    });

    it("draws no edge through a box it does not join, and cuts no edge label, at 390 px", async function () {
      await checkEveryGraph(phone, "390 px");
    });

    it("fits 1b's cost tables in their boxes, and keeps 2a's tape rows short", async function () {
      for (const id of ["modes-counts", "fanout-table"]) {
        const fit = await phone.locator(byId(id)).evaluate((t) => ({ table: t.getBoundingClientRect().width, box: t.parentElement!.clientWidth }));
        expect(fit.table, `${id} against its box`).to.be.at.most(fit.box + 0.5);
      }
      const heights = await phone.locator(`${byId("sqrt-tape-tape-body")} tr`).evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
      expect(Math.max(...heights), "tallest row of 2a's tape, px").to.be.below(220);
    });

    it("draws plot text at 12 px or more", async function () {
      const sizes = await phone.evaluate(() => [...document.querySelectorAll("figure.plot svg")].flatMap((s) => {
        const svg = s as SVGSVGElement;
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll("text")].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
      }));
      expect(sizes.length).to.be.above(20);
      expect(Math.min(...sizes)).to.be.at.least(12);
      const legend = await phone.evaluate(() => Math.min(...[...document.querySelectorAll(".plot-legend li")].map((e) => parseFloat(getComputedStyle(e).fontSize))));
      expect(legend).to.be.at.least(12);
    });

    it("keeps the cotangent column and the stepped node in view while stepping, and lets arrows scroll the table", async function () {
      const total = await valueOn(phone, "sweep-total");
      await reset(phone, "");
      for (let k = 1; k <= total; k++) {
        await phone.keyboard.press("ArrowRight");
        const shown = await phone.evaluate(() => {
          const row = document.querySelector("tr[aria-current='step']")!;
          const cell = row.querySelector("td.cotangent")!.getBoundingClientRect();
          const wrap = document.querySelector("[data-testid='tape-wrap']")!.getBoundingClientRect();
          const node = document.querySelector("[data-testid='graph'] [data-state='current']")!.getBoundingClientRect();
          const graph = document.querySelector("[data-testid='graph-wrap']")!.getBoundingClientRect();
          return {
            cell: cell.left >= wrap.left - 1 && cell.right <= Math.min(wrap.right, 390) + 1 && cell.top >= wrap.top - 1 && cell.bottom <= wrap.bottom + 1,
            node: node.left >= graph.left - 1 && node.right <= graph.right + 1 && node.top >= graph.top - 1 && node.bottom <= graph.bottom + 1,
          };
        });
        expect(shown, `step ${k}`).to.deep.equal({ cell: true, node: true });
      }
      const wrap = phone.locator(byId("tape-wrap"));
      expect(await wrap.evaluate((e) => e.scrollWidth > e.clientWidth), "the tape is wider than a phone").to.equal(true);
      await wrap.focus();
      const before = await wrap.evaluate((e) => e.scrollLeft);
      await phone.keyboard.press("ArrowRight");
      await phone.waitForFunction(([sel, b]) => document.querySelector(sel as string)!.scrollLeft > (b as number), [byId("tape-wrap"), before] as const, { timeout: 2000 });
      expect(await valueOn(phone, "sweep-step"), "arrows on the table do not step").to.equal(total);
    });
  });

  describe("at the end", function () {
    it("kept the page free of console errors and uncaught exceptions, at both widths", function () {
      expect(problems, problems.join("\n")).to.deep.equal([]);
    });
  });
});
