// Assembles the WebAssembly kernels written in lib/tensor/wasm/module.ts (with the
// encoder of lib/tensor/wasm/encoder.ts) and writes their bytes, base64, with the
// layout they were built for, to lib/tensor/wasm/module.generated.ts: the file the
// library loads, so that the bundles embed the module and nothing runs the encoder
// at load time. Run by `npm run build` (needs tsx to read the TypeScript source);
// spec/tensor/wasm.spec.ts fails when the committed file is out of date.
import { writeFile, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { buildModule, generatedSource, LAYOUT } from "../lib/tensor/wasm/module.ts";

const target = fileURLToPath(new URL("../lib/tensor/wasm/module.generated.ts", import.meta.url));
const text = generatedSource(buildModule(), LAYOUT);
const previous = await readFile(target, "utf8").catch(() => "");
if (previous !== text) {
  await writeFile(target, text);
  console.log(`build-wasm: wrote lib/tensor/wasm/module.generated.ts`);
}
