// Writes the type entry points next to the bundles, after `tsc -p tsconfig.build.json`
// has emitted the declarations into dist/types (ES modules, as package.json says).
//   dist/index.d.ts   for `import` (and for implicit-diff/browser);
//   dist/index.d.cts  for `require`: the same declarations as a CommonJS tree
//                     (dist/cjs-types, marked by its own package.json), so that a
//                     CommonJS TypeScript project can require the package.
import { cpSync, rmSync, writeFileSync } from "node:fs";

rmSync("dist/cjs-types", { recursive: true, force: true });
cpSync("dist/types", "dist/cjs-types", { recursive: true });
writeFileSync("dist/cjs-types/package.json", `${JSON.stringify({ type: "commonjs" })}\n`);
writeFileSync("dist/index.d.ts", 'export * from "./types/index.js";\n');
writeFileSync("dist/index.d.cts", 'export * from "./cjs-types/index.js";\n');
