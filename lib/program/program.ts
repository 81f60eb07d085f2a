/**
 * A program: the plain-data record of a traced computation (Autodidax's jaxpr).
 *
 *   program(x: f64[3], y: f64[3]) {
 *     v2: f64[3] = sin x
 *     v3: f64[3] = mul v2 c0
 *     v4: f64[] = sum{axes:[0]} v3
 *     return v4
 *   }
 *
 * Each equation applies a primitive (or a function with custom rules, run as a
 * host step) to variables and constants. Constants are references to the
 * tensors the traced function used (never copies), so a program reads them
 * when it runs. The passes over a program are plain functions: `evaluate`
 * (lib/program/evaluate.ts), `fuse` (lib/program/fuse.ts), the memory plan and
 * code generation (lib/program/executable.ts).
 */
import type { Tensor, DType } from "../tensor/tensor.js";
import { shapeToString } from "../tensor/shape.js";
import type { CustomRule, Primitive } from "../primitives/core.js";

/** A value of the program, known by shape and dtype only. */
export interface Var {
  readonly kind: "var";
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A value the program reads from outside: a tensor the traced function used. */
export interface Const {
  readonly kind: "const";
  readonly value: Tensor;
}

export type Atom = Var | Const;

/** out = prim(inputs; params), or out = rule(inputs) for a function with custom rules. */
export interface Equation {
  readonly prim: Primitive<unknown> | null;
  readonly rule: CustomRule | null;
  readonly params: unknown;
  readonly inputs: readonly Atom[];
  readonly out: Var;
}

export interface Program {
  readonly inputs: readonly Var[];
  readonly equations: readonly Equation[];
  readonly outputs: readonly Atom[];
}

/** The name an equation prints under. */
export function equationName(eq: Equation): string {
  return eq.prim !== null ? eq.prim.name : `${eq.rule!.name} (host step)`;
}

export function typeToString(v: { shape: readonly number[]; dtype: DType }): string {
  return `${v.dtype === "float64" ? "f64" : "f32"}${shapeToString(v.shape)}`;
}

/** Names for a program's atoms in printouts: x0, x1 … for inputs, v1, v2 … for variables, c0 … for constants. */
export class Names {
  private readonly consts = new Map<Tensor, string>();
  private readonly inputs = new Map<number, string>();
  readonly constList: Const[] = [];
  private vars = 0;
  constructor(program: Program) {
    program.inputs.forEach((v, i) => this.inputs.set(v.id, `x${i}`));
  }
  of(a: Atom): string {
    if (a.kind === "var") {
      // Variables numbered in order of appearance, from 1 (ids are global across programs).
      let name = this.inputs.get(a.id);
      if (name === undefined) this.inputs.set(a.id, (name = `v${++this.vars}`));
      return name;
    }
    let name = this.consts.get(a.value);
    if (name === undefined) {
      name = `c${this.consts.size}`;
      this.consts.set(a.value, name);
      this.constList.push(a);
    }
    return name;
  }
}

function paramsToString(params: unknown): string {
  if (params === undefined) return "";
  return `{${Object.entries(typeof params === "object" && params !== null && !Array.isArray(params) ? params : { p: params })
    .map(([k, v]) => `${k}:${JSON.stringify(v)}`).join(",")}}`;
}

/** The program as text, one equation per line; constants listed after it. */
export function programToString(program: Program, names = new Names(program)): string {
  const lines: string[] = [];
  lines.push(`program(${program.inputs.map((v) => `${names.of(v)}: ${typeToString(v)}`).join(", ")}) {`);
  for (const eq of program.equations) {
    lines.push(`  ${names.of(eq.out)}: ${typeToString(eq.out)} = ${equationName(eq)}${paramsToString(eq.params)} ${eq.inputs.map((a) => names.of(a)).join(" ")}`);
  }
  lines.push(`  return ${program.outputs.map((a) => names.of(a)).join(", ")}`);
  lines.push("}");
  for (const c of names.constList) {
    const t = c.value;
    const small = t.size <= 4 && t._trace === null ? ` = ${t.toString().replace(/^Tensor\([^)]*\) /, "")}` : "";
    lines.push(`${names.of(c)}: ${typeToString(t)}${t._trace !== null ? " (traced by an outer transformation)" : ""}${small}`);
  }
  return lines.join("\n");
}
