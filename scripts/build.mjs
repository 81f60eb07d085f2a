// Builds the bundles: ESM and CommonJS for Node (ndarray external, installed as a
// dependency) and a self-contained, minified browser ESM bundle (ndarray inlined).
// fast-check is bundled, for `verifyImplicit` to need no install: inlined in the
// browser bundle, and for the Node bundles one minified CommonJS copy,
// dist/fast-check.cjs, that both load. package.json's "sideEffects" lists every
// file but that one (lib/** too: it is read for this build as well), so an app
// that bundles itself and never calls `verifyImplicit` drops it. No source maps
// and no sources in the package: spec/package/size.spec.ts checks the sizes.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// A clean dist/ each time: files an older build left (source maps, say) must not be packed.
rmSync("dist", { recursive: true, force: true });

const common = { entryPoints: ["lib/index.ts"], bundle: true, target: "es2022", logLevel: "warning" };
// The bundled packages are MIT-licensed; their copyright lines travel with them.
const fastCheckLegal = "fast-check (Copyright (c) 2017 Nicolas DUBIEN) and pure-rand (Copyright (c) 2018 Nicolas DUBIEN), MIT License";
const ndarrayLegal = "ndarray (Copyright (c) 2013-2016 Mikola Lysenko), iota-array (Copyright (c) 2013 Mikola Lysenko) and is-buffer (Copyright (c) Feross Aboukhadijeh), MIT License";
/** The Node bundles load fast-check from ./fast-check.cjs. */
const sharedFastCheck = {
  name: "shared-fast-check",
  setup(b) {
    b.onResolve({ filter: /^fast-check$/ }, () => ({ path: "./fast-check.cjs", external: true }));
  },
};
const node = { ...common, platform: "node", external: ["ndarray"], plugins: [sharedFastCheck] };

await Promise.all([
  build({
    stdin: { contents: 'module.exports = require("fast-check");', resolveDir: ".", loader: "js" },
    bundle: true, format: "cjs", platform: "node", target: "es2022", minify: true, logLevel: "warning",
    banner: { js: `/* Bundled by implicit-diff for verifyImplicit: ${fastCheckLegal}. */` },
    outfile: "dist/fast-check.cjs",
  }),
  build({ ...node, format: "esm", outfile: "dist/index.js" }),
  build({ ...node, format: "cjs", outfile: "dist/index.cjs" }),
  build({
    ...common, format: "esm", platform: "browser", minify: true, outfile: "dist/browser.js",
    banner: { js: `/* implicit-diff, MIT License. Bundles ${ndarrayLegal}; ${fastCheckLegal}. */` },
  }),
]);
