// Builds the teaching page: bundles site/src/main.ts (with the library from lib/,
// ndarray included) into one IIFE and inlines it, with site/style.css, into
// site/index.html, writing the self-contained site/dist/index.html. A classic
// inline script runs from file:// (module scripts from file:// are blocked).
import { build } from "esbuild";
import { mkdir, readFile, writeFile } from "node:fs/promises";
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

const replaceOnce = (text, marker, replacement) => {
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error(`build-site: site/index.html must contain ${marker} exactly once`);
  return text.slice(0, at) + replacement + text.slice(at + marker.length);
};
let html = replaceOnce(template, "<!-- STYLE -->", `<style>\n${style}</style>`);
html = replaceOnce(html, "<!-- SCRIPT -->", `<script>\n${script}</script>`);

await mkdir(join(site, "dist"), { recursive: true });
await writeFile(join(site, "dist", "index.html"), html);
console.log(`build-site: wrote site/dist/index.html (${(html.length / 1024).toFixed(0)} kB)`);
