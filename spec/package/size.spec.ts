/**
 * The package's size (issue 25, item 7), measured by scripts/package-size.mjs
 * after `npm run build` (npm test does it): the tarball ≤ 600 kB and ≤ 2 MB
 * unpacked, holding the bundles and declarations and not the sources, source
 * maps or pictures; the browser bundle minified; an app that bundles itself
 * importing only `grad` and `tensor` ≤ 60 kB gzipped. Sizes, not timings.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

interface Sizes {
  tarball: number;
  unpacked: number;
  files: string[];
  browserBundle: number;
  browserBundleGzip: number;
  treeShaken: number;
  treeShakenGzip: number;
  treeShakenPrints: string;
  treeShakenHasFastCheck: boolean;
  targets: { tarball: number; unpacked: number; treeShakenGzip: number };
}

describe("the package's size", function () {
  this.timeout(60000);
  let sizes: Sizes;
  before(function () {
    if (!existsSync(join(root, "dist/browser.js"))) throw new Error("dist is missing: run npm run build first (npm test does)");
    sizes = JSON.parse(execFileSync(process.execPath, [join(root, "scripts/package-size.mjs"), "--json"], { cwd: root, encoding: "utf8" })) as Sizes;
  });

  it("packs to at most 600 kB, 2 MB unpacked", () => {
    expect(sizes.targets).to.deep.equal({ tarball: 600_000, unpacked: 2_000_000, treeShakenGzip: 60_000 });
    expect(sizes.tarball).to.be.at.most(sizes.targets.tarball);
    expect(sizes.unpacked).to.be.at.most(sizes.targets.unpacked);
  });

  it("ships the bundles, the declarations and the docs, and no sources, source maps or pictures", () => {
    expect(sizes.files).to.include.members(["package.json", "README.md", "CHANGELOG.md", "dist/index.js", "dist/index.cjs", "dist/browser.js", "dist/index.d.ts", "dist/index.d.cts", "dist/fast-check.cjs"]);
    const unexpected = sizes.files.filter((f) => !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/(index\.(js|cjs|d\.ts|d\.cts)|browser\.js|fast-check\.cjs|types\/.+\.d\.ts|types\/package\.json))$/.test(f));
    expect(unexpected).to.deep.equal([]);
  });

  it("ships a minified browser bundle", () => {
    const text = readFileSync(join(root, "dist/browser.js"), "utf8");
    // Minified: few, long lines (an unminified bundle has one statement a line, ~40 characters on average).
    expect(text.length / text.split("\n").length).to.be.above(1000);
    expect(sizes.browserBundle).to.equal(Buffer.byteLength(text));
  });

  it("leaves an app that imports only grad and tensor at most 60 kB gzipped", () => {
    expect(sizes.treeShakenPrints, "the bundled app runs: grad of x·x at [1, 2]").to.equal("[2,4]");
    expect(sizes.treeShakenGzip).to.be.at.most(sizes.targets.treeShakenGzip);
    // and without fast-check, which only verifyImplicit needs
    expect(sizes.treeShakenHasFastCheck).to.equal(false);
    expect(readFileSync(join(root, "dist/fast-check.cjs"), "utf8")).to.contain("Property failed after");
  });
});
