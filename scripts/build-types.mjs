// Writes the type entry points next to the bundles, after `tsc -p tsconfig.build.json`
// has emitted the declarations into dist/types. One tree serves both entry points:
// marked CommonJS by its own package.json, it can be required from a CommonJS
// TypeScript project (a `.d.cts` may not re-export ES-module declarations), and an
// ES module may import a CommonJS module's named exports.
//   dist/index.d.ts   for `import` (and for implicit-diff/browser);
//   dist/index.d.cts  for `require`.
import { rmSync, writeFileSync } from "node:fs";

rmSync("dist/cjs-types", { recursive: true, force: true });
writeFileSync("dist/types/package.json", `${JSON.stringify({ type: "commonjs" })}\n`);
writeFileSync("dist/index.d.ts", 'export * from "./types/index.js";\n');
writeFileSync("dist/index.d.cts", 'export * from "./types/index.js";\n');
