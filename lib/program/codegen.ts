/**
 * Code generation: one JavaScript function per fused kernel, through
 * `new Function`. The loop nest walks the kernel's shape in row-major order;
 * each read's index is built up one loop level at a time, reads that do not
 * move (scalars, broadcast constants) are hoisted out of the loops, and the
 * kernel's expression is the primitives' scalar forms (`elementwise.expr`)
 * nested into one statement. Where a page forbids code generation (a
 * content-security policy without 'unsafe-eval', `node
 * --disallow-code-generation-from-strings`) lib/program/interpret.ts runs the
 * same kernels instead.
 */
import type { FloatArray, Tensor } from "../tensor/tensor.js";
import type { Kernel, Node } from "./fuse.js";
import { coefficients, initialValue, outputCoefficients, readsOf, type Read } from "./layout.js";

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

/** The kernel as JavaScript source (also shown by `lower().toString()`), for leaves of these strides. */
export function kernelSource(kernel: Kernel, leaves: readonly Tensor[]): { source: string; scalars: ((...xs: number[]) => number)[] } {
  const reads = readsOf(kernel);
  const rank = kernel.shape.length;
  const coefs = reads.map((r) => coefficients(r, leaves[r.slot], rank));
  const scalars: ((...xs: number[]) => number)[] = [];
  const lines: string[] = [];
  const slots = new Set(reads.map((r) => r.slot));
  for (const s of slots) lines.push(`const D${s} = data[${s}];`);
  reads.forEach((_, r) => lines.push(`const b${r} = bases[${r}];`));
  // Hoisted reads: their position does not depend on the loop.
  const indexName = reads.map((_, r) => `b${r}`);
  const hoisted = reads.map((_, r) => coefs[r].every((c) => c === 0));
  reads.forEach((read, r) => {
    if (hoisted[r]) lines.push(`const h${r} = D${read.slot}[b${r}];`);
  });
  const readIndex = new Map<Read["node"], number>();
  reads.forEach((read, r) => readIndex.set(read.node, r));
  const expr = (n: Node): string => {
    if (n.kind === "zero") return "0";
    if (n.kind === "read") {
      const r = readIndex.get(n)!;
      return hoisted[r] ? `h${r}` : `D${n.slot}[${indexName[r]}]`;
    }
    if (n.kind === "guard") {
      const conds = n.bounds.flatMap((b) => {
        const c: string[] = [];
        if (b.lo > 0) c.push(`i${b.axis} >= ${b.lo}`);
        if (b.hi < kernel.shape[b.axis]) c.push(`i${b.axis} < ${b.hi}`);
        return c;
      });
      return conds.length === 0 ? expr(n.inner) : `((${conds.join(" && ")}) ? ${expr(n.inner)} : 0)`;
    }
    const args = n.args.map(expr);
    const e = n.prim.elementwise!;
    if (e.expr !== undefined) return e.expr(...args);
    scalars.push(e.scalar);
    return `F${scalars.length - 1}(${args.join(", ")})`;
  };
  const outCoef = outputCoefficients(kernel);
  const fullReduce = kernel.kind === "reduce" && kernel.axes.length === rank;
  const init = initialValue(kernel);
  const accumulate = (target: string, value: string): string => {
    if (kernel.reduction === "sum") return `${target} += ${value};`;
    const cmp = kernel.reduction === "max" ? ">" : "<";
    return `{ const v = ${value}; if (v !== v) ${target} = NaN; else if (v ${cmp} ${target}) ${target} = v; }`;
  };
  if (kernel.kind === "reduce") {
    if (fullReduce) lines.push(`let acc = ${init};`);
    else lines.push(`out.fill(${init});`);
  } else lines.push("let o = 0;");
  let outIndex = "0";
  let indent = "";
  for (let d = 0; d < rank; d++) {
    lines.push(`${indent}for (let i${d} = 0; i${d} < ${kernel.shape[d]}; i${d}++) {`);
    indent += "  ";
    reads.forEach((_, r) => {
      const c = coefs[r][d];
      if (c === 0 || hoisted[r]) return;
      lines.push(`${indent}const q${r}_${d} = ${indexName[r]} + ${c === 1 ? "" : `${c} * `}i${d};`);
      indexName[r] = `q${r}_${d}`;
    });
    if (kernel.kind === "reduce" && !fullReduce && outCoef[d] !== 0) {
      lines.push(`${indent}const p${d} = ${outIndex} + ${outCoef[d]} * i${d};`);
      outIndex = `p${d}`;
    }
  }
  // The expression is built after the loop headers, when each read's index has its final name.
  const value = expr(kernel.root);
  if (kernel.kind === "map") lines.push(`${indent}out[o++] = ${value};`);
  else if (fullReduce) lines.push(`${indent}${accumulate("acc", value)}`);
  else lines.push(`${indent}${accumulate(`out[${outIndex}]`, value)}`);
  for (let d = rank - 1; d >= 0; d--) {
    indent = indent.slice(2);
    lines.push(`${indent}}`);
  }
  if (fullReduce) lines.push("out[0] = acc;");
  return { source: lines.join("\n"), scalars };
}

/** Compiles the kernel for leaves of these strides. */
export function generate(kernel: Kernel, leaves: readonly Tensor[]): KernelFunction {
  const { source, scalars } = kernelSource(kernel, leaves);
  const params = scalars.map((_, i) => `F${i}`);
  const factory = new Function(...params, `"use strict";\nreturn function kernel(out, data, bases) {\n${source}\n};`) as (...fs: unknown[]) => KernelFunction;
  return factory(...scalars);
}
