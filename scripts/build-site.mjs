// Builds the teaching page: bundles site/src/main.ts (with the library from lib/,
// ndarray included) into one IIFE and inlines it, with site/style.css, into
// site/index.html, writing the self-contained site/dist/index.html. A classic
// inline script runs from file:// (module scripts from file:// are blocked).
//
// The code the page shows is cut from the page's own sources at build time: a
// <pre data-snippet="a b"> gets the regions marked `// #region snippet a` …
// `// #endregion` in site/src/*.ts, so what it shows is the code that runs; a
// <pre data-lib="lib/ad/reverse.ts#sweep"> gets a declaration of the library itself.
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

/**
 * The text of one declaration in a library file, for a <pre data-lib="lib/ad/reverse.ts#sweep">: `#name` is a
 * function, class or method; `#Outer.name` looks for `name` inside `Outer` (a class). The declaration runs from
 * its doc comment to the closing brace at its own indentation, dedented. The page shows the library's code as it is.
 */
async function readLibDeclaration(spec) {
  const [file, path] = spec.split("#");
  if (!file.startsWith("lib/") || !path) throw new Error(`build-site: data-lib wants lib/FILE.ts#name, got ${spec}`);
  const lines = (await readFile(join(root, file), "utf8")).split("\n");
  let from = 0;
  let found = -1;
  for (const name of path.split(".")) {
    const decl = new RegExp(`^\\s*(export\\s+)?(default\\s+)?(abstract\\s+)?(private\\s+|public\\s+|protected\\s+)?(static\\s+)?(async\\s+)?(function\\s+|class\\s+)?${name}\\b\\s*[<({]|^\\s*(export\\s+)?const\\s+${name}\\s*=`);
    const classDecl = new RegExp(`^\\s*(export\\s+)?(abstract\\s+)?class\\s+${name}\\b`);
    found = lines.findIndex((l, i) => i >= from && (decl.test(l) || classDecl.test(l)));
    if (found < 0) throw new Error(`build-site: no declaration ${path} in ${file} (data-lib="${spec}")`);
    from = found + 1;
  }
  const indent = lines[found].length - lines[found].trimStart().length;
  // A function, class or method ends at a brace at its own indentation; a constant at the line ending its statement.
  const isConst = /^\s*(export\s+)?const\s/.test(lines[found]);
  const end = isConst
    ? lines.findIndex((l, i) => i >= found && /\);\s*$/.test(l) && (i === lines.length - 1 || lines[i + 1].trim() === ""))
    : lines.findIndex((l, i) => i > found && l === `${" ".repeat(indent)}}`);
  if (end < 0) throw new Error(`build-site: ${spec}: no closing brace at the declaration's indentation`);
  let start = found;
  if (/^\s*\*\/\s*$/.test(lines[start - 1] ?? "")) {
    while (start > 0 && !/^\s*\/\*\*/.test(lines[start - 1])) start--;
    start--;
  }
  return lines.slice(start, end + 1).map((l) => l.slice(indent)).join("\n");
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
const libParts = [];
for (const m of withCode.matchAll(/<pre[^>]*data-lib="([^"]+)"[^>]*><code><!-- LIB --><\/code><\/pre>/g)) {
  libParts.push(await Promise.all(m[1].split(/\s+/).map(readLibDeclaration)));
}
let libIndex = 0;
const withLib = withCode.replace(/(<pre[^>]*data-lib="[^"]+"[^>]*><code>)<!-- LIB -->(<\/code><\/pre>)/g, (_, open, close) => `${open}${escapeHtml(libParts[libIndex++].join("\n\n"))}${close}`);
if (withLib.includes("<!-- LIB -->")) throw new Error("build-site: a <!-- LIB --> placeholder sits outside <pre data-lib=…><code>");
if (withCode.includes("<!-- SNIPPET -->")) throw new Error("build-site: a <!-- SNIPPET --> placeholder sits outside <pre data-snippet=…><code>");
let html = replaceOnce(withLib, "<!-- STYLE -->", `<style>\n${style}</style>`);
html = replaceOnce(html, "<!-- SCRIPT -->", `<script>\n${script}</script>`);

await mkdir(join(site, "dist"), { recursive: true });
await writeFile(join(site, "dist", "index.html"), html);
console.log(`build-site: wrote site/dist/index.html (${(html.length / 1024).toFixed(0)} kB)`);
