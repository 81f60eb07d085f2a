/**
 * A small, safe expression language for the page: numbers, the variables x and
 * y, the constants pi and e, + − * / ^ (right-associative, binding tighter than
 * unary minus, so -x^2 = −(x²)), parentheses, and one-argument functions.
 * User text is tokenised and parsed by recursive descent into a tree; it is
 * never handed to eval or Function. Evaluation maps each node to a library op.
 */
import {
  add, sub, mul, div, neg, pow, sin, cos, exp, log, sqrt, tanh, sigmoid, softplus, abs, relu, Tensor,
} from "../../lib/index.js";

export const FUNCTIONS = {
  sin, cos, exp, log, sqrt, tanh, sigmoid, softplus, abs, relu,
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

export type BinaryOp = "+" | "-" | "*" | "/" | "^";

export type Expr =
  | { kind: "number"; value: number; name?: string }
  | { kind: "variable"; name: "x" | "y" }
  | { kind: "negate"; arg: Expr }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr }
  | { kind: "call"; fn: FunctionName; arg: Expr };

/** A syntax error with the character position it was found at. */
export class ParseError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = "ParseError";
  }
}

type Token =
  | { type: "number"; value: number; pos: number }
  | { type: "name"; value: string; pos: number }
  | { type: "op"; value: BinaryOp; pos: number }
  | { type: "paren"; value: "(" | ")"; pos: number }
  | { type: "end"; pos: number };

/** Longest input accepted, and deepest nesting: bounds on work and on recursion. */
export const MAX_LENGTH = 400;
const MAX_DEPTH = 100;

const OPERATOR_CHARS: Record<string, BinaryOp> = {
  "+": "+", "-": "-", "−": "-", "*": "*", "×": "*", "·": "*", "/": "/", "÷": "/", "^": "^",
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const numberMatch = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (numberMatch) {
      tokens.push({ type: "number", value: Number(numberMatch[0]), pos: i });
      i += numberMatch[0].length;
      continue;
    }
    const nameMatch = /^[A-Za-z_][A-Za-z_0-9]*/.exec(text.slice(i));
    if (nameMatch) {
      tokens.push({ type: "name", value: nameMatch[0], pos: i });
      i += nameMatch[0].length;
      continue;
    }
    if (c === "*" && text[i + 1] === "*") {
      tokens.push({ type: "op", value: "^", pos: i });
      i += 2;
      continue;
    }
    if (c in OPERATOR_CHARS) {
      tokens.push({ type: "op", value: OPERATOR_CHARS[c], pos: i });
      i++;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ type: "paren", value: c, pos: i });
      i++;
      continue;
    }
    throw new ParseError(`unexpected character "${c}"`, i);
  }
  tokens.push({ type: "end", pos: text.length });
  return tokens;
}

function describeToken(t: Token): string {
  return t.type === "end" ? "the end of the expression" : `"${t.value}"`;
}

class Parser {
  private index = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    return this.tokens[this.index++];
  }

  private isOp(...ops: BinaryOp[]): boolean {
    const t = this.peek();
    return t.type === "op" && ops.includes(t.value);
  }

  /** Consumes the operator token that isOp just saw. */
  private takeOp(): BinaryOp {
    const t = this.next();
    if (t.type !== "op") throw new ParseError(`expected an operator but found ${describeToken(t)}`, t.pos);
    return t.value;
  }

  parse(): Expr {
    const e = this.sum();
    const t = this.peek();
    if (t.type !== "end") {
      const hint = t.type === "paren" && t.value === ")" ? "unbalanced \")\"" : `expected an operator before ${describeToken(t)}`;
      throw new ParseError(hint, t.pos);
    }
    return e;
  }

  private nested<T>(pos: number, f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ParseError(`nesting deeper than ${MAX_DEPTH} levels`, pos);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private sum(): Expr {
    let left = this.product();
    while (this.isOp("+", "-")) {
      left = { kind: "binary", op: this.takeOp(), left, right: this.product() };
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    while (this.isOp("*", "/")) {
      left = { kind: "binary", op: this.takeOp(), left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.isOp("-", "+")) {
      this.next();
      return this.nested(t.pos, () => {
        const arg = this.unary();
        return t.type === "op" && t.value === "-" ? { kind: "negate", arg } as Expr : arg;
      });
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.primary();
    if (this.isOp("^")) {
      const t = this.next();
      return this.nested(t.pos, () => ({ kind: "binary", op: "^", left: base, right: this.unary() }));
    }
    return base;
  }

  private primary(): Expr {
    const t = this.next();
    if (t.type === "number") return { kind: "number", value: t.value };
    if (t.type === "paren" && t.value === "(") {
      const inner = this.nested(t.pos, () => this.sum());
      this.expectClose(t.pos);
      return inner;
    }
    if (t.type === "name") {
      const name = t.value;
      if (name === "x" || name === "y") return { kind: "variable", name };
      if (Object.prototype.hasOwnProperty.call(CONSTANTS, name)) return { kind: "number", value: CONSTANTS[name], name };
      if (Object.prototype.hasOwnProperty.call(FUNCTIONS, name)) {
        const open = this.next();
        if (open.type !== "paren" || open.value !== "(") throw new ParseError(`${name} needs its argument in parentheses: ${name}(…)`, open.pos);
        const arg = this.nested(open.pos, () => this.sum());
        this.expectClose(open.pos);
        return { kind: "call", fn: name as FunctionName, arg };
      }
      throw new ParseError(`unknown name "${name}" (use x, y, pi, e or ${Object.keys(FUNCTIONS).join(", ")})`, t.pos);
    }
    throw new ParseError(`expected a number, x, y, a function or "(" but found ${describeToken(t)}`, t.pos);
  }

  private expectClose(openPos: number): void {
    const t = this.next();
    if (t.type !== "paren" || t.value !== ")") throw new ParseError(`the "(" at position ${openPos + 1} is not closed (found ${describeToken(t)})`, t.pos);
  }
}

/** Parses user text into an expression tree, or throws a ParseError. */
export function parse(text: string): Expr {
  if (text.length > MAX_LENGTH) throw new ParseError(`the expression is longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  if (text.trim() === "") throw new ParseError("the expression is empty", 0);
  return new Parser(tokenize(text)).parse();
}

const PRECEDENCE: Record<BinaryOp, number> = { "+": 1, "-": 1, "*": 2, "/": 2, "^": 4 };

/** The tree written back with only the parentheses it needs: shows how the text was read. */
export function format(e: Expr, parentPrecedence = 0, rightOperand = false): string {
  switch (e.kind) {
    case "number":
      if (e.name !== undefined) return e.name;
      return String(e.value);
    case "variable":
      return e.name;
    case "call":
      return `${e.fn}(${format(e.arg)})`;
    case "negate": {
      const s = `−${format(e.arg, 3)}`;
      return parentPrecedence >= 3 ? `(${s})` : s;
    }
    case "binary": {
      const p = PRECEDENCE[e.op];
      const rightAssoc = e.op === "^";
      const left = format(e.left, rightAssoc ? p + 1 : p);
      const right = format(e.right, rightAssoc ? p : p + 1, true);
      const symbol = e.op === "-" ? "−" : e.op === "*" ? "·" : e.op;
      const s = e.op === "^" ? `${left}^${right}` : `${left} ${symbol} ${right}`;
      const needs = p < parentPrecedence || (rightOperand && p === parentPrecedence && !rightAssoc);
      return needs ? `(${s})` : s;
    }
  }
}

/** Whether the expression mentions the variable. */
export function uses(e: Expr, name: "x" | "y"): boolean {
  switch (e.kind) {
    case "number": return false;
    case "variable": return e.name === name;
    case "negate":
    case "call": return uses(e.arg, name);
    case "binary": return uses(e.left, name) || uses(e.right, name);
  }
}

const BINARY = { "+": add, "-": sub, "*": mul, "/": div, "^": pow } as const;

/**
 * Evaluates the tree with library ops, so that under a transformation (traceTape,
 * jvp, grad) every operation is seen by the library. Numbers stay numbers until
 * an op combines them.
 */
export function evaluate(e: Expr, x: Tensor | number, y: Tensor | number): Tensor | number {
  switch (e.kind) {
    case "number": return e.value;
    case "variable": return e.name === "x" ? x : y;
    case "negate": return neg(evaluate(e.arg, x, y));
    case "call": return FUNCTIONS[e.fn](evaluate(e.arg, x, y));
    case "binary": return BINARY[e.op](evaluate(e.left, x, y), evaluate(e.right, x, y));
  }
}

/** f(x, y) as a plain number (no transformation active). */
export function evaluateNumber(e: Expr, x: number, y: number): number {
  const v = evaluate(e, x, y);
  return typeof v === "number" ? v : v.item();
}

const CALL_NAMES: Record<BinaryOp, string> = { "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow" };
const CONSTANT_CODE: Record<string, string> = { pi: "Math.PI", e: "Math.E" };

/**
 * The tree as the library calls `evaluate` makes, e.g. "x^2 + sin(y)" as
 * `add(pow(x, 2), sin(y))`: the body of the f the page hands to traceTape and jvp.
 */
export function toCode(e: Expr): string {
  switch (e.kind) {
    case "number": return e.name !== undefined ? CONSTANT_CODE[e.name] : String(e.value);
    case "variable": return e.name;
    case "negate": return `neg(${toCode(e.arg)})`;
    case "call": return `${e.fn}(${toCode(e.arg)})`;
    case "binary": return `${CALL_NAMES[e.op]}(${toCode(e.left)}, ${toCode(e.right)})`;
  }
}
