// The package's sizes as a user meets them (issue 25, item 7), after `npm run build`:
// the tarball `npm pack` writes and its unpacked size, the browser bundle, and an
// app that bundles itself importing only `grad` and `tensor` (esbuild, minified,
// for the browser). `node scripts/package-size.mjs` prints them against the
// targets and exits 1 when one is over (`--json`: prints them as JSON, for
// spec/package/size.spec.ts, which checks them).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const root = resolve(import.meta.dirname, "..");

/** Upper bounds in bytes (the README's Install section quotes the measured sizes). */
export const TARGETS = { tarball: 600_000, unpacked: 2_000_000, treeShakenGzip: 60_000 };

const gzipped = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** The sizes in bytes, and the files of the tarball. */
export async function measure() {
  const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  const browser = readFileSync(join(root, "dist/browser.js"));
  const app = mkdtempSync(join(tmpdir(), "implicit-diff-app-"));
  try {
    mkdirSync(join(app, "node_modules"));
    symlinkSync(root, join(app, "node_modules", "implicit-diff"), "dir");
    writeFileSync(join(app, "app.js"), 'import { grad, tensor } from "implicit-diff";\nconsole.log(JSON.stringify(grad((x) => x.mul(x).sum())(tensor([1, 2])).toArray()));\n');
    const out = await build({ entryPoints: [join(app, "app.js")], bundle: true, minify: true, format: "esm", platform: "browser", write: false, absWorkingDir: app, logLevel: "error" });
    const shaken = out.outputFiles[0].contents;
    // The bundled app must still run: tree-shaking may not drop what the library needs at load (its Tensor methods).
    writeFileSync(join(app, "bundled.mjs"), shaken);
    const printed = execFileSync(process.execPath, [join(app, "bundled.mjs")], { encoding: "utf8" }).trim();
    return {
      tarball: pack.size,
      unpacked: pack.unpackedSize,
      files: pack.files.map((f) => f.path),
      browserBundle: browser.length,
      browserBundleGzip: gzipped(browser),
      treeShaken: shaken.length,
      treeShakenGzip: gzipped(shaken),
      treeShakenPrints: printed,
      // A message only fast-check writes: is any of it in the app?
      treeShakenHasFastCheck: Buffer.from(shaken).includes("Property failed after"),
    };
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const sizes = await measure();
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify({ ...sizes, targets: TARGETS }));
    process.exit(0);
  }
  const kB = (n) => `${(n / 1000).toFixed(0)} kB`;
  console.log(`tarball ${kB(sizes.tarball)} (target ≤ ${kB(TARGETS.tarball)}), unpacked ${kB(sizes.unpacked)} (≤ ${kB(TARGETS.unpacked)}), ${sizes.files.length} files`);
  console.log(`dist/browser.js ${kB(sizes.browserBundle)}, ${kB(sizes.browserBundleGzip)} gzipped`);
  console.log(`an app importing grad and tensor: ${kB(sizes.treeShaken)} minified, ${kB(sizes.treeShakenGzip)} gzipped (≤ ${kB(TARGETS.treeShakenGzip)})`);
  const over = Object.entries(TARGETS).filter(([k, limit]) => sizes[k] > limit);
  if (over.length > 0) {
    console.error(`package-size: over target: ${over.map(([k]) => k).join(", ")}`);
    process.exit(1);
  }
}
