/**
 * Tracing a function into a program. `ProgramTrace` is a transformation with
 * its own level, like reverse and forward mode, that computes nothing: each op
 * is recorded as an equation and its output's shape comes from the primitive's
 * `shape` rule (abstract evaluation, as `linearize` records its symbols). It is
 * a staging trace: ops on constants alone are recorded too (JAX's omnistaging),
 * so a captured array is read when the program runs, not when it was traced.
 * A value it traces is a zero placeholder underneath; reading it as numbers is
 * an Error naming jit (lib/primitives/core.ts).
 */
import { shapeOnly, Tensor, type DType } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { dropDead, nextLevel, Trace, Tracer, withTrace, type CustomRule, type Primitive } from "../primitives/core.js";
import type { Atom, Equation, Program, Var } from "./program.js";

export class ProgramTracer extends Tracer {
  declare readonly _trace: ProgramTrace;
  constructor(trace: ProgramTrace, primal: Tensor, readonly v: Var) {
    super(trace, primal);
  }
}

/** Variable ids are unique across programs, so that printouts of nested programs never mix them up. */
let nextId = 0;

export class ProgramTrace extends Trace {
  override readonly staged = true;
  readonly equations: Equation[] = [];

  newVar(shape: readonly number[], dtype: DType): Var {
    return { kind: "var", id: nextId++, shape: shape.slice(), dtype };
  }

  input(shape: readonly number[], dtype: DType): ProgramTracer {
    const v = this.newVar(shape, dtype);
    return new ProgramTracer(this, shapeOnly(shape, dtype), v);
  }

  /** The program's view of an operand: its variable, or a constant (a plain value, or one an outer transformation traces). */
  private atoms(inputs: Tensor[]): [Atom[], Tensor[]] {
    const atoms = new Array<Atom>(inputs.length);
    const primals = new Array<Tensor>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const v = dropDead(inputs[i]);
      if (v._trace === this) {
        atoms[i] = (v as ProgramTracer).v;
        primals[i] = (v as ProgramTracer).primal;
      } else {
        atoms[i] = { kind: "const", value: v };
        primals[i] = v;
      }
    }
    return [atoms, primals];
  }

  process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
    const [atoms, primals] = this.atoms(inputs);
    if (prim.shape === undefined) throw new Error(`jit: internal error: the primitive ${prim.name} has no shape rule, so it cannot be traced`);
    const shape = prim.shape(primals, params);
    const out = this.newVar(shape, primals[primals.length - 1].dtype);
    this.equations.push({ prim: prim as Primitive<unknown>, rule: null, params, inputs: atoms, out });
    return new ProgramTracer(this, shapeOnly(shape, out.dtype), out);
  }

  processCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
    const [atoms, primals] = this.atoms(inputs);
    // The output's shape: declared by the rule, or its function traced abstractly in a program of its own.
    let sig = rule.signature;
    if (sig === undefined) {
      const inner = traceFunction((...xs: unknown[]) => rule.call(xs as Tensor[]), primals.map((p) => ({ shape: p.shape, dtype: p.dtype })), primals.map(() => null));
      const o = inner.program.outputs[0];
      sig = o.kind === "var" ? o : { shape: o.value.shape, dtype: o.value.dtype };
    }
    const out = this.newVar(sig.shape, sig.dtype);
    this.equations.push({ prim: null, rule, params: undefined, inputs: atoms, out });
    return new ProgramTracer(this, shapeOnly(out.shape, out.dtype), out);
  }
}

/** The structure of a function's result: tensors become the program's outputs (by index), numbers stay as they are. */
export type OutputTree = { kind: "tensor"; index: number } | { kind: "number"; value: number } | { kind: "array"; items: OutputTree[] };

export interface Traced {
  program: Program;
  tree: OutputTree;
  /** True when a constant is a value an outer transformation traces: the program is valid for this call only. */
  capturesTraced: boolean;
}

/**
 * Traces `f` with one placeholder per dynamic argument (`dynamic[i]` its shape
 * and dtype; `statics[i]` non-null: that argument passed as it is).
 */
export function traceFunction(f: (...args: unknown[]) => unknown, dynamic: readonly ({ shape: readonly number[]; dtype: DType } | null)[], statics: readonly unknown[] | null[]): Traced {
  const trace = new ProgramTrace(nextLevel());
  return withTrace(trace, () => {
    const inputs: Var[] = [];
    const args = dynamic.map((sig, i) => {
      if (sig === null) return statics[i];
      const t = trace.input(sig.shape, sig.dtype);
      inputs.push(t.v);
      return t;
    });
    const result = f(...args);
    const outputs: Atom[] = [];
    const build = (r: unknown, depth: number): OutputTree => {
      if (r instanceof Tensor) {
        const v = dropDead(r);
        outputs.push(v._trace === trace ? (v as ProgramTracer).v : { kind: "const", value: v });
        return { kind: "tensor", index: outputs.length - 1 };
      }
      if (typeof r === "number") return { kind: "number", value: r };
      if (Array.isArray(r) && depth < 16) return { kind: "array", items: r.map((x) => build(x, depth + 1)) };
      throw new Error(`jit: the function must return a Tensor, a number, or (nested) arrays of them, got ${describe(r)}`);
    };
    const tree = build(result, 0);
    const program: Program = { inputs, equations: trace.equations, outputs };
    let capturesTraced = false;
    for (const eq of program.equations) for (const a of eq.inputs) if (a.kind === "const" && dropDead(a.value)._trace !== null) capturesTraced = true;
    for (const a of outputs) if (a.kind === "const" && dropDead(a.value)._trace !== null) capturesTraced = true;
    return { program, tree, capturesTraced };
  });
}
