// Builds the teaching page: bundles site/src/main.ts (with the library from lib/,
// ndarray included) into one IIFE and inlines it, with site/style.css, into
// site/index.html, writing the self-contained site/dist/index.html. A classic
// inline script runs from file:// (module scripts from file:// are blocked).
//
// The code the page shows is cut from the page's own sources at build time: a
// <pre data-snippet="a b"> gets the regions marked `// #region snippet a` …
// `// #endregion` in site/src/*.ts, so what it shows is the code that runs.
import { build } from "esbuild";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const site = join(root, "site");

const result = await build({
  entryPoints: [join(site, "src", "main.ts")],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["chrome110", "firefox110", "safari16"],
  minify: true,
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
// "</script" inside the bundle would end the inline script early; "<\/script" means the same in JS strings.
const script = result.outputFiles[0].text.replace(/<\/(script)/gi, "<\\/$1");
const style = await readFile(join(site, "style.css"), "utf8");
const template = await readFile(join(site, "index.html"), "utf8");

/** Every `// #region snippet NAME` … `// #endregion` block of site/src, dedented, by name. */
async function readSnippets() {
  const dir = join(site, "src");
  const snippets = new Map();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts")).sort()) {
    const lines = (await readFile(join(dir, file), "utf8")).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const open = /^\s*\/\/ #region snippet (\S+)\s*$/.exec(lines[i]);
      if (!open) continue;
      const end = lines.findIndex((l, j) => j > i && /^\s*\/\/ #endregion\s*$/.test(l));
      if (end < 0) throw new Error(`build-site: snippet ${open[1]} in site/src/${file} has no // #endregion`);
      if (snippets.has(open[1])) throw new Error(`build-site: snippet ${open[1]} is defined twice`);
      const body = lines.slice(i + 1, end);
      const indent = Math.min(...body.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length));
      snippets.set(open[1], body.map((l) => l.slice(indent)).join("\n").trimEnd());
    }
  }
  return snippets;
}

const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const replaceOnce = (text, marker, replacement) => {
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error(`build-site: site/index.html must contain ${marker} exactly once`);
  return text.slice(0, at) + replacement + text.slice(at + marker.length);
};
const snippets = await readSnippets();
const withCode = template.replace(/(<pre[^>]*data-snippet="([^"]+)"[^>]*><code>)<!-- SNIPPET -->(<\/code><\/pre>)/g, (_, open, names, close) => {
  const text = names.split(/\s+/).map((name) => {
    if (!snippets.has(name)) throw new Error(`build-site: site/index.html asks for snippet ${name}, which no site/src file marks`);
    return snippets.get(name);
  }).join("\n\n");
  return `${open}${escapeHtml(text)}${close}`;
});
if (withCode.includes("<!-- SNIPPET -->")) throw new Error("build-site: a <!-- SNIPPET --> placeholder sits outside <pre data-snippet=…><code>");
let html = replaceOnce(withCode, "<!-- STYLE -->", `<style>\n${style}</style>`);
html = replaceOnce(html, "<!-- SCRIPT -->", `<script>\n${script}</script>`);

await mkdir(join(site, "dist"), { recursive: true });
await writeFile(join(site, "dist", "index.html"), html);
console.log(`build-site: wrote site/dist/index.html (${(html.length / 1024).toFixed(0)} kB)`);
