/**
 * A small WebAssembly binary encoder: just enough of the format (WebAssembly
 * Core Specification 2.0, chapter 5 "Binary Format", and its fixed-width SIMD
 * instructions) to write the dense kernels of ./module.ts in TypeScript and
 * assemble them into module bytes (scripts/build-wasm.mjs, at build time), with
 * no text format to parse and no assembler to install. Instructions are
 * functions named after their text-format mnemonics (`i32.add`, `f64x2.mul`, …)
 * that take their operands as code and return the bytes of the whole
 * expression, so a kernel reads like the folded text format,
 * `(i32.add (local.get $a) (i32.const 8))`. Register blocks are unrolled by
 * ordinary TypeScript loops.
 */

/** Encoded instructions: a flat list of bytes. */
export type Code = number[];

/** Value types (§5.3.1): the byte that names each. */
export const ValType = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** A parameter or local of the function being built: its index in the function's local space. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** Unsigned LEB128 (§5.2.2). */
function uleb(value: number): Code {
  const out: Code = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(value: number): Code {
  const out: Code = [];
  value |= 0;
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(name: string): Code {
  const bytes = Array.from(new TextEncoder().encode(name));
  return seq(uleb(bytes.length), bytes);
}

/** A vector (§5.1.3): its length, then the items. */
function vec(items: Code[]): Code {
  return seq(uleb(items.length), ...items);
}

/** Concatenates pieces of code. */
export function seq(...parts: Code[]): Code {
  const out: Code = [];
  for (const part of parts) for (let i = 0; i < part.length; i++) out.push(part[i]);
  return out;
}

/** A memory argument (§5.4.6): alignment as log₂ of bytes, then a constant byte offset. */
function memarg(alignLog2: number, offset: number): Code {
  return seq(uleb(alignLog2), uleb(offset));
}

const SIMD = 0xfd;
const ZERO_BYTES: Code = new Array<number>(16).fill(0);
const simd = (opcode: number): Code => seq([SIMD], uleb(opcode));

// ---------------------------------------------------------------------------
// Instructions (§5.4), each taking its operands as code.

export const local = {
  get: (l: Local): Code => seq([0x20], uleb(l.index)),
  set: (l: Local, value: Code): Code => seq(value, [0x21], uleb(l.index)),
  tee: (l: Local, value: Code): Code => seq(value, [0x22], uleb(l.index)),
};

const binary = (opcode: number) => (a: Code, b: Code): Code => seq(a, b, [opcode]);
const binarySimd = (opcode: number) => (a: Code, b: Code): Code => seq(a, b, simd(opcode));

export const i32 = {
  const: (value: number): Code => seq([0x41], sleb(value)),
  store: (address: Code, value: Code, offset = 0): Code => seq(address, value, [0x36], memarg(2, offset)),
  eqz: (a: Code): Code => seq(a, [0x45]),
  eq: binary(0x46),
  ne: binary(0x47),
  lt_s: binary(0x48),
  gt_s: binary(0x4a),
  le_s: binary(0x4c),
  ge_s: binary(0x4e),
  add: binary(0x6a),
  sub: binary(0x6b),
  mul: binary(0x6c),
  and: binary(0x71),
  shl: binary(0x74),
};

export const f64 = {
  const: (value: number): Code => {
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    return seq([0x44], Array.from(bytes));
  },
  load: (address: Code, offset = 0): Code => seq(address, [0x2b], memarg(3, offset)),
  store: (address: Code, value: Code, offset = 0): Code => seq(address, value, [0x39], memarg(3, offset)),
  add: binary(0xa0),
  mul: binary(0xa2),
};

/** 128-bit vectors holding two float64 lanes. Loads and stores never need alignment in WebAssembly. */
export const f64x2 = {
  load: (address: Code, offset = 0): Code => seq(address, simd(0x00), memarg(4, offset)),
  /** Both lanes set to the float64 at `address` (v128.load64_splat). */
  loadSplat: (address: Code, offset = 0): Code => seq(address, simd(0x0a), memarg(3, offset)),
  store: (address: Code, value: Code, offset = 0): Code => seq(address, value, simd(0x0b), memarg(4, offset)),
  /** The all-zero vector (v128.const). */
  zero: (): Code => seq(simd(0x0c), ZERO_BYTES),
  splat: (a: Code): Code => seq(a, simd(0x14)),
  extractLane: (v: Code, lane: 0 | 1): Code => seq(v, simd(0x21), [lane]),
  add: binarySimd(0xf0),
  mul: binarySimd(0xf2),
};

// Control (§5.4.1). Labels are relative depths; the helpers below hide them.
const EMPTY_BLOCK = 0x40;
const END = 0x0b;

export function ifThen(condition: Code, then: Code, otherwise?: Code): Code {
  return otherwise === undefined
    ? seq(condition, [0x04, EMPTY_BLOCK], then, [END])
    : seq(condition, [0x04, EMPTY_BLOCK], then, [0x05], otherwise, [END]);
}

/** `condition ? then : otherwise` as an if-expression yielding one value of `type` (only the chosen branch runs). */
export function ifValue(type: ValType, condition: Code, then: Code, otherwise: Code): Code {
  return seq(condition, [0x04, type], then, [0x05], otherwise, [END]);
}

/** `while (condition) body`, as block { loop { br_if outer (!condition); body; br loop } }. The body must not branch. */
export function whileLoop(condition: Code, body: Code): Code {
  return seq([0x02, EMPTY_BLOCK, 0x03, EMPTY_BLOCK], i32.eqz(condition), [0x0d, 1], body, [0x0c, 0, END, END]);
}

/** `for (i = start; i < end; i += step) body`, with i an i32 local. */
export function forLoop(i: Local, start: Code, end: Code, step: number, body: Code): Code {
  return seq(local.set(i, start), whileLoop(i32.lt_s(local.get(i), end), seq(body, local.set(i, i32.add(local.get(i), i32.const(step))))));
}

/** `condition ? a : b` for two values of one type, both evaluated (select). */
export function select(a: Code, b: Code, condition: Code): Code {
  return seq(a, b, condition, [0x1b]);
}

/** min(a, b) of two i32 values. */
export function minI32(a: Local, b: Code): Code {
  return select(local.get(a), b, i32.lt_s(local.get(a), b));
}

export function call(functionIndex: number, ...args: Code[]): Code {
  return seq(...args, [0x10], uleb(functionIndex));
}

// ---------------------------------------------------------------------------
// Functions and the module (§5.5).

/** Builds one function: declare its locals, then give its body. */
export class FunctionBuilder {
  readonly index: number;
  private readonly params: ValType[];
  private readonly locals: ValType[] = [];
  body: Code = [];

  constructor(readonly name: string, index: number, params: ValType[], readonly exported: boolean) {
    this.index = index;
    this.params = params;
  }

  /** The i-th parameter. */
  param(i: number): Local {
    return { index: i, type: this.params[i] };
  }

  /** A fresh local of `type`. */
  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }

  /** The function's type (§5.3.5): parameters, no results. */
  typeBytes(): Code {
    return seq([0x60], vec(this.params.map((t) => [t])), vec([]));
  }

  /** The function's code entry (§5.5.13): its size, local declarations, body. */
  codeBytes(): Code {
    const declarations = vec(this.locals.map((t) => [1, t]));
    const code = seq(declarations, this.body, [END]);
    return seq(uleb(code.length), code);
  }
}

/**
 * A module of functions with no results, exported by name (or internal), over one memory of
 * `pages` 64 KiB pages whose maximum equals its minimum, so that it can never grow.
 */
export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];

  constructor(private readonly pages: number) {}

  /** Declares a function with the given parameter types, exported under `name` or internal; set its `body` afterwards. */
  func(name: string, params: ValType[], exported = true): FunctionBuilder {
    const f = new FunctionBuilder(name, this.functions.length, params, exported);
    this.functions.push(f);
    return f;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const section = (id: number, content: Code): Code => seq([id], uleb(content.length), content);
    const fs = this.functions;
    const module = seq(
      [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
      section(1, vec(fs.map((f) => f.typeBytes()))), // one type per function, for simplicity
      section(3, vec(fs.map((f) => uleb(f.index)))),
      section(5, vec([seq([0x01], uleb(this.pages), uleb(this.pages))])),
      section(7, vec([seq(utf8("memory"), [0x02, 0]), ...fs.filter((f) => f.exported).map((f) => seq(utf8(f.name), [0x00], uleb(f.index)))])),
      section(10, vec(fs.map((f) => f.codeBytes()))),
    );
    return Uint8Array.from(module);
  }
}
