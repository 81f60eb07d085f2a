#!/usr/bin/env node
/**
 * Runs one of the examples: `npm run example -- NAME` runs examples/NAME.ts
 * with tsx in a child Node process. Without a name, or with an unknown one, it
 * lists the examples with the first line of each one's description.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "examples");

/** The example names (examples/*.ts, top level only) and their one-line summaries. */
function listExamples() {
  return readdirSync(examplesDir)
    .filter((file) => file.endsWith(".ts") && !file.startsWith("_"))
    .sort()
    .map((file) => {
      const name = file.slice(0, -3);
      const source = readFileSync(join(examplesDir, file), "utf8");
      // The summary is the doc comment's first line, without its "Example:" label.
      const firstLine = /\/\*\*\s*\n\s*\*\s*(.+)/.exec(source)?.[1] ?? "";
      return { name, summary: firstLine.replace(/^Example:\s*/, "").replace(/\.$/, "") };
    });
}

function printList(stream) {
  const examples = listExamples();
  const width = Math.max(...examples.map((e) => e.name.length));
  stream.write("Usage: npm run example -- NAME   (or: npx tsx examples/NAME.ts)\n\nExamples:\n");
  for (const e of examples) stream.write(`  ${e.name.padEnd(width)}  ${e.summary}\n`);
}

const name = process.argv[2];
const known = listExamples().map((e) => e.name);
if (name === undefined || name === "--help" || name === "-h") {
  printList(process.stdout);
  process.exit(0);
}
if (!known.includes(name)) {
  process.stderr.write(`run-example: unknown example "${name}"\n\n`);
  printList(process.stderr);
  process.exit(1);
}

const child = spawn(process.execPath, ["--import", "tsx", join(examplesDir, `${name}.ts`), ...process.argv.slice(3)], { stdio: "inherit" });
child.on("exit", (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
