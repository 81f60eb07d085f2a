/**
 * Code generation: fused kernels as JavaScript, through `new Function`.
 *
 * A kernel's loop nest walks its shape in row-major order; each distinct read
 * (a leaf at an index map) gets its index built up one loop level at a time,
 * reads that do not move (scalars, broadcast constants) are hoisted out of the
 * loops, and the kernel's expression is the primitives' scalar forms
 * (`elementwise.expr`) nested into one statement, with subexpressions that
 * occur twice computed once (common subexpressions: the difference u[i+1] − u[i]
 * a gradient uses three times). A program whose steps are all kernels becomes a
 * few straight functions (`programSource`): no call, lookup or allocation
 * between its kernels. Where a page forbids code generation (a
 * content-security policy without 'unsafe-eval', `node
 * --disallow-code-generation-from-strings`) lib/program/interpret.ts runs the
 * same kernels instead.
 */
import type { FloatArray, Tensor } from "../tensor/tensor.js";
import type { Kernel, Node } from "./fuse.js";
import { baseOf, coefficients, initialValue, outputCoefficients, readsOf, type Read } from "./layout.js";

/** A compiled kernel: writes (or accumulates into) `out`, reading `data[slot]` at the bases given. */
export type KernelFunction = (out: FloatArray, data: readonly FloatArray[], bases: Float64Array) => void;

let allowed: boolean | null = null;

/** Whether this environment lets `new Function` compile code (checked once). */
export function codeGenerationAllowed(): boolean {
  if (allowed === null) {
    try {
      allowed = new Function("return 1")() === 1;
    } catch {
      allowed = false;
    }
  }
  return allowed;
}

/** How a kernel's body names what it touches. */
interface Naming {
  /** The array holding leaf `slot`. */
  data(slot: number): string;
  /** The index of read r at loop position 0 (an expression). */
  base(r: number, read: Read): string;
  /** The output array. */
  out: string;
  /** Scalar functions called by name (ops without a JavaScript expression). */
  scalar(f: (...xs: number[]) => number): string;
}

/** A key for a read: the same leaf at the same index map is the same value. */
function readKey(read: Read): string {
  return `${read.slot}:${read.node.map.dims.map((d) => `${d.axis},${d.offset}`).join(";")}`;
}

/** The kernel as lines of JavaScript (a block of its own), for leaves of these strides. */
function kernelLines(kernel: Kernel, leaves: readonly Pick<Tensor, "strides" | "offset">[], naming: Naming): string[] {
  const allReads = readsOf(kernel);
  const rank = kernel.shape.length;
  // Distinct reads: one index computation each.
  const readOf = new Map<Node, number>();
  const distinct: Read[] = [];
  const byKey = new Map<string, number>();
  for (const read of allReads) {
    const key = readKey(read);
    let r = byKey.get(key);
    if (r === undefined) {
      r = distinct.length;
      distinct.push(read);
      byKey.set(key, r);
    }
    readOf.set(read.node, r);
  }
  const coefs = distinct.map((r) => coefficients(r, leaves[r.slot] as Tensor, rank));
  const hoisted = coefs.map((c) => c.every((x) => x === 0));
  const lines: string[] = ["{"];
  const indexName = distinct.map((read, r) => {
    lines.push(`  const b${r} = ${naming.base(r, read)};`);
    return `b${r}`;
  });
  distinct.forEach((read, r) => {
    if (hoisted[r]) lines.push(`  const h${r} = ${naming.data(read.slot)}[b${r}];`);
  });

  // Canonical text of each node, to find repeated subexpressions.
  const canon = new Map<Node, string>();
  const count = new Map<string, number>();
  const canonical = (n: Node): string => {
    let s = canon.get(n);
    if (s !== undefined) return s;
    if (n.kind === "zero") s = "0";
    else if (n.kind === "read") s = `r${readOf.get(n)}`;
    else if (n.kind === "guard") s = `g(${n.bounds.map((b) => `${b.axis},${b.lo},${b.hi}`).join(";")}|${canonical(n.inner)})`;
    else s = `${n.prim.name}(${n.args.map(canonical).join(",")})`;
    canon.set(n, s);
    if (n.kind === "op") count.set(s, (count.get(s) ?? 0) + 1);
    return s;
  };
  canonical(kernel.root);

  const outCoef = outputCoefficients(kernel);
  const fullReduce = kernel.kind === "reduce" && kernel.axes.length === rank;
  const init = initialValue(kernel);
  if (kernel.kind === "reduce") lines.push(fullReduce ? `  let acc = ${init};` : `  ${naming.out}.fill(${init});`);
  else lines.push("  let o = 0;");
  let outIndex = "0";
  let indent = "  ";
  const headers = (d: number): void => {
    distinct.forEach((_, r) => {
      const c = coefs[r][d];
      if (c === 0 || hoisted[r]) return;
      lines.push(`${indent}const q${r}_${d} = ${indexName[r]} + ${c === 1 ? "" : `${c} * `}i${d};`);
      indexName[r] = `q${r}_${d}`;
    });
    if (kernel.kind === "reduce" && !fullReduce && outCoef[d] !== 0) {
      lines.push(`${indent}const p${d} = ${outIndex} + ${outCoef[d]} * i${d};`);
      outIndex = `p${d}`;
    }
  };
  for (let d = 0; d < rank - 1; d++) {
    lines.push(`${indent}for (let i${d} = 0; i${d} < ${kernel.shape[d]}; i${d}++) {`);
    indent += "  ";
    headers(d);
  }
  // The innermost loop is split where a guard's box begins or ends on its axis (loop peeling):
  // inside each piece every such guard is known to hold or not, so the hot loop has no branch for it.
  const last = rank - 1;
  const cuts = new Set<number>([0, rank === 0 ? 1 : kernel.shape[last]]);
  const visit = (n: Node): void => {
    if (n.kind === "guard") {
      for (const b of n.bounds) if (b.axis === last) for (const c of [b.lo, b.hi]) if (c > 0 && c < kernel.shape[last]) cuts.add(c);
      visit(n.inner);
    } else if (n.kind === "op") n.args.forEach(visit);
  };
  if (rank > 0) visit(kernel.root);
  const pieces = [...cuts].sort((a, b) => a - b);
  const outerIndexNames = indexName.slice();
  const outerOutIndex = outIndex;
  for (let piece = 0; piece + 1 < pieces.length; piece++) {
    const [from, to] = [pieces[piece], pieces[piece + 1]];
    indexName.splice(0, indexName.length, ...outerIndexNames);
    outIndex = outerOutIndex;
    const pieceIndent = indent;
    if (rank > 0) {
      lines.push(`${indent}for (let i${last} = ${from}; i${last} < ${to}; i${last}++) {`);
      indent += "  ";
      headers(last);
    }
    // The expression, built after the loop headers (each read's index has its final name).
    const temps = new Map<string, string>();
    const emit = (n: Node): string => {
      if (n.kind === "zero") return "0";
      if (n.kind === "read") {
        const r = readOf.get(n)!;
        return hoisted[r] ? `h${r}` : `${naming.data(distinct[r].slot)}[${indexName[r]}]`;
      }
      if (n.kind === "guard") {
        const conds: string[] = [];
        for (const b of n.bounds) {
          if (b.axis === last && rank > 0) {
            if (to <= b.lo || from >= b.hi) return "0";
            continue; // holds on the whole piece
          }
          if (b.lo > 0) conds.push(`i${b.axis} >= ${b.lo}`);
          if (b.hi < kernel.shape[b.axis]) conds.push(`i${b.axis} < ${b.hi}`);
        }
        return conds.length === 0 ? emit(n.inner) : `((${conds.join(" && ")}) ? ${emit(n.inner)} : 0)`;
      }
      const key = canon.get(n)!;
      const known = temps.get(key);
      if (known !== undefined) return known;
      const args = n.args.map(emit);
      const e = n.prim.elementwise!;
      const exact = e.expr !== undefined ? e.expr(...args) : `${naming.scalar(e.scalar)}(${args.join(", ")})`;
      // float32: each op's result rounded, as the eager kernel stores it in a Float32Array.
      const text = kernel.out.dtype === "float32" ? `Math.fround(${exact})` : exact;
      if ((count.get(key) ?? 0) < 2) return text;
      const name = `e${temps.size}`;
      lines.push(`${indent}const ${name} = ${text};`);
      temps.set(key, name);
      return name;
    };
    const value = emit(kernel.root);
    const accumulate = (target: string): string => {
      if (kernel.reduction === "sum") return `${target} += ${value};`;
      const cmp = kernel.reduction === "max" ? ">" : "<";
      return `{ const v = ${value}; if (v !== v) ${target} = NaN; else if (v ${cmp} ${target}) ${target} = v; }`;
    };
    if (kernel.kind === "map") lines.push(`${indent}${naming.out}[o++] = ${value};`);
    else lines.push(`${indent}${accumulate(fullReduce ? "acc" : `${naming.out}[${outIndex}]`)}`);
    if (rank > 0) {
      indent = pieceIndent;
      lines.push(`${indent}}`);
    }
  }
  for (let d = rank - 2; d >= 0; d--) {
    indent = indent.slice(2);
    lines.push(`${indent}}`);
  }
  if (fullReduce) lines.push(`  ${naming.out}[0] = acc;`);
  lines.push("}");
  return lines;
}

/** Scalar functions a source calls, by name F0, F1, … */
class Scalars {
  readonly list: ((...xs: number[]) => number)[] = [];
  name = (f: (...xs: number[]) => number): string => {
    let i = this.list.indexOf(f);
    if (i < 0) i = this.list.push(f) - 1;
    return `F${i}`;
  };
}

/** The kernel as JavaScript source (also shown by specs), for leaves of these strides. */
export function kernelSource(kernel: Kernel, leaves: readonly Tensor[]): { source: string; scalars: ((...xs: number[]) => number)[] } {
  const scalars = new Scalars();
  const slots = new Set(readsOf(kernel).map((r) => r.slot));
  const lines = [...slots].map((s) => `const D${s} = data[${s}];`);
  const reads = readsOf(kernel);
  lines.push(...kernelLines(kernel, leaves, {
    data: (slot) => `D${slot}`,
    base: (_, read) => `bases[${reads.findIndex((x) => readKey(x) === readKey(read))}]`,
    out: "out",
    scalar: scalars.name,
  }));
  return { source: lines.join("\n"), scalars: scalars.list };
}

/** Compiles the kernel for leaves of these strides. */
export function generate(kernel: Kernel, leaves: readonly Tensor[]): KernelFunction {
  const { source, scalars } = kernelSource(kernel, leaves);
  const params = scalars.map((_, i) => `F${i}`);
  const factory = new Function(...params, `"use strict";\nreturn function kernel(out, data, bases) {\n${source}\n};`) as (...fs: unknown[]) => KernelFunction;
  return factory(...scalars);
}

/** Where a leaf of a whole-program function lives. */
export type Place =
  /** Argument `index` of the program (its data and offset are passed per call; its strides are baked in). */
  | { kind: "input"; index: number; leaf: Tensor }
  /** A constant (its storage is bound once: the tensor is immutable, its contents are read at each call). */
  | { kind: "const"; index: number; leaf: Tensor }
  /** Arena buffer `index`, or output buffer `index`: contiguous, offset 0. */
  | { kind: "arena" | "output"; index: number; strides: number[] };

/** A whole program's kernels in order, as functions of (X, XO, O): input data, input offsets, output buffers. */
export type ProgramFunction = (X: readonly FloatArray[], XO: readonly number[], O: readonly FloatArray[]) => void;

/** Kernels per generated function: small enough for the optimising compiler to take each. */
const KERNELS_PER_FUNCTION = 16;

/**
 * Compiles kernels that run back to back into straight functions: each kernel
 * a block, its leaves named by where they live, constants and the arena bound
 * once. `places[k][slot]` says where leaf `slot` of kernel k lives, `outs[k]` its output.
 */
export function programFunction(kernels: readonly Kernel[], places: readonly (readonly Place[])[], outs: readonly Place[], consts: readonly FloatArray[], arena: readonly FloatArray[]): ProgramFunction {
  const scalars = new Scalars();
  const name = (p: Place): string => (p.kind === "input" ? `X${p.index}` : p.kind === "const" ? `C${p.index}` : p.kind === "arena" ? `A${p.index}` : `O${p.index}`);
  const chunks: string[] = [];
  for (let start = 0; start < kernels.length; start += KERNELS_PER_FUNCTION) {
    const body: string[] = [];
    const used = new Set<string>();
    for (let k = start; k < Math.min(kernels.length, start + KERNELS_PER_FUNCTION); k++) {
      const kernel = kernels[k];
      const leafPlaces = places[k];
      const leaves = leafPlaces.map((p) => (p.kind === "input" || p.kind === "const" ? p.leaf : { strides: p.strides, offset: 0 }));
      for (const p of [...leafPlaces, outs[k]]) used.add(name(p));
      body.push(...kernelLines(kernel, leaves, {
        data: (slot) => name(leafPlaces[slot]),
        base: (_, read) => {
          const p = leafPlaces[read.slot];
          const fixed = baseOf(read, { strides: leaves[read.slot].strides, offset: 0 } as Tensor);
          if (p.kind === "input") return `XO[${p.index}] + ${fixed}`;
          return String(fixed + (p.kind === "const" ? p.leaf.offset : 0));
        },
        out: name(outs[k]),
        scalar: scalars.name,
      }));
    }
    const header = [...used].map((n) => (n[0] === "X" ? `const ${n} = X[${n.slice(1)}];` : n[0] === "O" ? `const ${n} = O[${n.slice(1)}];` : `const ${n} = ${n[0]}[${n.slice(1)}];`));
    chunks.push(`function (X, XO, O) {\n${header.join("\n")}\n${body.join("\n")}\n}`);
  }
  const params = scalars.list.map((_, i) => `F${i}`);
  const factory = new Function("C", "A", ...params, `"use strict";\nreturn [\n${chunks.join(",\n")}\n];`) as (...xs: unknown[]) => ProgramFunction[];
  const parts = factory(consts, arena, ...scalars.list);
  return (X, XO, O) => {
    for (let i = 0; i < parts.length; i++) parts[i](X, XO, O);
  };
}
