/**
 * How many arguments a user function declares, when that can be known for
 * sure: the check behind `jvp(f, [1, 2, 3], [1, 0, 0])` on a one-argument f,
 * which would otherwise differentiate f(1) and drop 2 and 3 without a word.
 *
 * `f.length` alone cannot decide: it stops counting at the first default or
 * rest parameter, so `(x, y = 2) => …` and `(x, ...rest) => …` have length 1
 * and take more. The count is trusted only when the source shows a parameter
 * list with neither (no `=`, no `...`) and a body that does not read
 * `arguments` (down-levelled defaults and rest parameters do); fewer
 * arguments than declared are also accepted from a body that compares with
 * undefined (TypeScript's ES5 defaults: `if (y === void 0) y = 2`). Anything else
 * (length 0, a bound or native function, a class, a comment in the list) is
 * unknown, and unknown is never an error.
 */
/** The parameters f declares, when known for sure: their count and, when all are plain identifiers, their names. */
export interface DeclaredParameters {
  count: number;
  names: string[] | null;
  /**
   * The body compares with undefined (`y === void 0`, as TypeScript's ES5
   * output writes a default): it may be meant to run with fewer arguments.
   */
  mayTakeFewer: boolean;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Each function's answer, read once (a derivative taken in a loop would otherwise re-read its source every time). */
const known = new WeakMap<object, DeclaredParameters | null>();

/** f's declared parameters, or null when they cannot be known (see the module comment). */
export function declaredParameters(f: (...args: never[]) => unknown): DeclaredParameters | null {
  if (known.has(f)) return known.get(f)!;
  const params = readParameters(f);
  known.set(f, params);
  return params;
}

function readParameters(f: (...args: never[]) => unknown): DeclaredParameters | null {
  const count = f.length;
  if (typeof count !== "number" || count <= 0) return null;
  let source: string;
  try {
    source = Function.prototype.toString.call(f);
  } catch {
    return null;
  }
  if (/\[native code\]/.test(source) || /^\s*class\b/.test(source) || /\barguments\b/.test(source)) return null;
  const list = parameterList(source);
  if (list === null) return null;
  const parts = splitTopLevel(list);
  if (parts === null || parts.length !== count) return null;
  return { count, names: parts.every((p) => IDENTIFIER.test(p)) ? parts : null, mayTakeFewer: /\bvoid 0\b|\bundefined\b/.test(source) };
}

/** The text between the parentheses of the parameter list (or the lone parameter of `x => …`), or null. */
function parameterList(source: string): string | null {
  const lone = /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (lone !== null && lone[1] !== "async") return lone[1];
  const open = source.indexOf("(");
  // A computed method name (`[key](x) {}`) would put brackets before the list.
  if (open < 0 || /[[\]{}'"`=/]/.test(source.slice(0, open))) return null;
  let depth = 0;
  for (let i = open + 1; i < source.length; i++) {
    const c = source[i];
    // A default, a rest parameter, a comment or a string: the count cannot be trusted.
    if (c === "=" || c === "." || c === "/" || c === "'" || c === '"' || c === "`") return null;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (depth === 0) return c === ")" ? source.slice(open + 1, i) : null;
      depth--;
    }
  }
  return null;
}

/** The parameters of a list, split at top-level commas (destructuring patterns stay whole). */
function splitTopLevel(list: string): string[] | null {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if ((c === "," && depth === 0) || i === list.length) {
      parts.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  // A trailing comma (`(x, y,) => …`) leaves an empty last part.
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.every((p) => p !== "") ? parts : null;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "1 parameter (x)" or "2 parameters (x, y)", or without names. */
export function parametersText(params: DeclaredParameters): string {
  return `${plural(params.count, "parameter")}${params.names === null ? "" : ` (${params.names.join(", ")})`}`;
}

/** A value shown in a suggested call: numbers as written, anything else by a placeholder. */
function shown(v: unknown, placeholder: string): string {
  if (typeof v === "number") return String(v);
  if (Array.isArray(v) && v.length <= 8 && v.every((e) => typeof e === "number")) return `[${v.join(", ")}]`;
  return placeholder;
}

/**
 * Throws when f's declared parameters are known and their number differs from
 * the number of primals. `tangents` is null for the functions that take their
 * primals spread (`vjp(f, ...primals)`) rather than as arrays beside tangents
 * (`jvp(f, primals, tangents)`); the message shows the call most likely meant.
 */
export function checkArity(op: string, f: (...args: never[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[] | null): void {
  const params = declaredParameters(f);
  if (params === null || params.count === primals.length || (params.mayTakeFewer && primals.length < params.count)) return;
  const head = `${op}: f declares ${parametersText(params)} but ${plural(primals.length, "primal")} ${primals.length === 1 ? "was" : "were"} given; each primal is one argument of f`;
  if (params.count === 1 && primals.length > 1 && primals.every((p) => typeof p === "number")) {
    // The commonest slip: one vector argument written out as several primals.
    const values = `[${primals.map((p, i) => shown(p, `x${i}`)).join(", ")}]`;
    const suggestion = tangents === null
      ? `${op}(f, ${values})`
      : `${op}(f, [${values}], [[${tangents.map((t, i) => shown(t, `t${i}`)).join(", ")}]])`;
    throw new Error(`${head}. If the ${primals.length} values are one argument, pass them as one array: ${suggestion}`);
  }
  const names = params.names ?? Array.from({ length: params.count }, (_, i) => `x${i}`);
  const suggestion = tangents === null
    ? `${op}(f, ${names.join(", ")})`
    : `${op}(f, [${names.join(", ")}], [${names.map((n) => `${n}Tangent`).join(", ")}])`;
  throw new Error(`${head}; pass one per parameter: ${suggestion}`);
}
