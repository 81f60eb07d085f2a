// Builds the three bundles: ESM and CommonJS for Node (ndarray external, installed
// as dependencies) and a self-contained browser ESM bundle (ndarray inlined).
import { build } from "esbuild";

const common = { entryPoints: ["lib/index.ts"], bundle: true, sourcemap: true, target: "es2022", logLevel: "warning" };
const external = ["ndarray", "ndarray-ops"];

await Promise.all([
  build({ ...common, format: "esm", platform: "node", external, outfile: "dist/index.js" }),
  build({ ...common, format: "cjs", platform: "node", external, outfile: "dist/index.cjs" }),
  build({ ...common, format: "esm", platform: "browser", outfile: "dist/browser.js", minify: false }),
]);
