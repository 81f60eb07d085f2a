/**
 * The layout the README describes, checked from the sources' imports: layers
 * depend one way (errors ← tensor ← primitives ← ad ← program ← krylov, implicit, check), and the
 * transformations in lib/ad import each other without cycles.
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const lib = resolve(dirname(fileURLToPath(import.meta.url)), "..", "lib");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Each source file's relative imports (type-only ones included), as paths relative to lib/. */
const graph = new Map<string, string[]>();
for (const file of sources(lib)) {
  const text = readFileSync(file, "utf8");
  const targets = [...text.matchAll(/^import\s[^;]*?from\s+"(\.[^"]+)"/gm), ...text.matchAll(/^import\s+"(\.[^"]+)"/gm)]
    .map((m) => relative(lib, resolve(dirname(file), m[1])).replace(/\.js$/, ".ts"));
  graph.set(relative(lib, file), targets);
}

/** Bottom first: errors.ts (the error classes and statuses) imports nothing from lib. */
const LAYERS = ["errors.ts", "tensor", "primitives", "ad", "program", "krylov", "implicit", "check"];
const layerOf = (path: string): number => LAYERS.indexOf(path.split("/")[0]);

function cycles(files: string[]): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (!files.includes(t)) continue;
      if (state.get(t) === "open") found.push(stack.slice(stack.indexOf(t)).concat(t));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe("architecture: imports run one way", () => {
  it("a layer imports only itself and the layers below it (krylov, implicit and check may use each other as listed)", () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      if (from < 0) continue;
      for (const t of targets) {
        const to = layerOf(t);
        // The top layers: implicit builds on krylov; check builds on implicit and krylov.
        if (to > from && !(file.startsWith("implicit/") && t.startsWith("krylov/")) && !(file.startsWith("check/") && (t.startsWith("implicit/") || t.startsWith("krylov/")))) wrong.push(`${file} → ${t}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it("lib/errors.ts imports nothing from lib, so every layer can throw its classes", () => {
    expect(graph.get("errors.ts")).to.deep.equal([]);
  });

  it("lib/ad has no import cycle (shared helpers live below it, custom rules carry both their rules)", () => {
    const ad = [...graph.keys()].filter((f) => f.startsWith("ad/"));
    expect(cycles(ad).map((c) => c.join(" → "))).to.deep.equal([]);
  });

  it("the only cycle in lib/primitives is the documented broadcast ⟷ sum duality (elementwise, shape, reduce)", () => {
    const prims = [...graph.keys()].filter((f) => f.startsWith("primitives/"));
    for (const c of cycles(prims)) {
      expect(c.every((f) => ["primitives/elementwise.ts", "primitives/shape.ts", "primitives/reduce.ts"].includes(f)), c.join(" → ")).to.equal(true);
    }
  });
});
