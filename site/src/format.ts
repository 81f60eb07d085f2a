/** Number formatting and small DOM helpers shared by the page's sections (no innerHTML: user text only ever becomes textContent). */

/** A number with `digits` significant digits, trailing zeros dropped; exponent form when very large or small. */
export function fmt(v: number, digits = 10): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  let s: string;
  // toPrecision itself turns to exponent form when the integer part has more digits than asked for.
  if (a >= 1e-4 && a < 1e7 && !v.toPrecision(digits).includes("e")) {
    s = v.toPrecision(digits);
    if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  } else {
    const [mantissa, exponent] = v.toExponential(digits - 1).split("e");
    const m = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
    s = `${m}e${exponent.replace("+", "")}`;
  }
  return s.replace(/^-/, "−");
}

/** An error magnitude: two significant digits. */
export function fmtError(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === 0) return "0";
  return fmt(v, 2);
}

/** Looks up an element by its data-testid (which the page's markup guarantees). */
export function byTestId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (el === null) throw new Error(`page: no element with data-testid="${id}"`);
  return el;
}

/** Shows a number in an element and keeps its full-precision value in data-value for readers and tests. */
export function showNumber(el: HTMLElement, v: number, digits = 10): void {
  el.textContent = fmt(v, digits);
  el.dataset.value = String(v);
}

export function showError(el: HTMLElement, v: number): void {
  el.textContent = fmtError(v);
  el.dataset.value = String(v);
}

type Child = Node | string | null | undefined | false;

/** document.createElement with attributes and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === "className") el.className = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A number cell: formatted text, full value in data-value. */
export function numberCell(v: number, testId?: string, digits = 10): HTMLTableCellElement {
  const td = h("td", { className: "num", "data-testid": testId, "data-value": String(v) }, fmt(v, digits));
  return td;
}

/** A matrix (rows of numbers) as a bracketed table, entries with data-value. */
export function matrixTable(rows: number[][], label: string, testId: string, digits = 6): HTMLTableElement {
  const table = h("table", { className: "matrix", "data-testid": testId, "aria-label": label });
  const body = h("tbody");
  rows.forEach((row, i) => {
    const tr = h("tr");
    row.forEach((v, j) => tr.append(numberCell(v, `${testId}-${i}-${j}`, digits)));
    body.append(tr);
  });
  table.append(body);
  return table;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}
