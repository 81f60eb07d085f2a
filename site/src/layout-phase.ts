/**
 * Drawing that measures the page (graphs and plots size themselves to their
 * box) waits while the page is first built: the sections write all their
 * content, then `release` runs the queued drawings after a single layout,
 * instead of one full-page layout per drawing.
 */
let holding = false;
const queue = new Map<object, () => void>();

/** From now on, `whenMeasurable` queues its work (the latest per target). */
export function hold(): void {
  holding = true;
}

/** Runs the queued work, in order, and stops queueing. */
export function release(): void {
  holding = false;
  const work = [...queue.values()];
  queue.clear();
  for (const f of work) f();
}

/** Runs `draw` now, or once the page is built if it is still being built. */
export function whenMeasurable(target: object, draw: () => void): void {
  if (holding) queue.set(target, draw);
  else draw();
}
