/**
 * The teaching page's entry point: builds the three parts once the document is
 * ready. An error while starting is shown on the page (and re-thrown, so that it
 * is never silent in the console either).
 */
import { TapeSection } from "./tape-section.js";
import { SqrtSection, RidgeSection } from "./implicit-section.js";
import { ModesSection } from "./modes-section.js";
import { byTestId } from "./format.js";
import { hold, release } from "./layout-phase.js";

function start(): void {
  const status = byTestId("page-status");
  try {
    for (const form of Array.from(document.querySelectorAll("form"))) form.addEventListener("submit", (ev) => ev.preventDefault());
    hold();
    try {
      new TapeSection();
      new ModesSection();
      new SqrtSection();
      new RidgeSection();
    } finally {
      release();
    }
    status.textContent = "Ready: all numbers below were computed in this page by implicit-diff.";
    document.body.dataset.ready = "true";
  } catch (err) {
    status.textContent = `The page failed to start: ${err instanceof Error ? err.message : String(err)}`;
    status.classList.add("failed");
    throw err;
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
