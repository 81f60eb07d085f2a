// Holds the built package against ../shared/API.md with the shared checker,
// when the checkout sits beside ../shared (as in CI); otherwise says it skipped.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
const tool = new URL("../../shared/tools/api-surface.mjs", import.meta.url);
if (!existsSync(tool)) {
  console.log("api-surface: ../shared/tools/api-surface.mjs not found; skipped");
  process.exit(0);
}
const r = spawnSync(process.execPath, [tool.pathname, "."], { stdio: "inherit" });
process.exit(r.status ?? 1);
