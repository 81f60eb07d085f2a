/**
 * Closure conversion (JAX's `closure_convert`): a function recorded as a
 * program of its arguments in which every value a live transformation traces
 * that the function captured, rather than received, becomes a further input.
 * The program can then be evaluated at the same point on the values as any
 * transformation sees them, and each captured value is differentiated through
 * its input like an argument: no rule has to close over a traced value.
 *
 * Unlike jit's tracing (lib/program/trace.ts) the recording runs the function
 * for real, once, at the given point, on the values one level down (plain
 * values, or the tracers of a transformation run beneath it, such as the
 * linearisation customRoot records in the same pass): ops on constants alone
 * run at once and stay constants, ops on captured traced values alone are
 * computed by their own transformation (their result is what is captured), and
 * a nested ImplicitFunction's forward reads real values. The program is a
 * record of one point, valid for the values it was recorded at (data-dependent
 * choices, such as an active set, are fixed there).
 */
import { Tensor } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { bind, bindCustom, concrete, dropDead, nextLevel, runRule, withTrace, type CustomRule, type Primitive } from "../primitives/core.js";
import type { Atom, Const, Program, Var } from "./program.js";
import { ProgramTrace, ProgramTracer } from "./trace.js";

/** A ProgramTrace whose tracers carry the values of the point it records (not a staging trace: constants compute at once). */
class RecordTrace extends ProgramTrace {
  override readonly staged = false;

  /** The operands one level down: a tracer's primal, a constant's plain value (a captured traced value is an input of the program, not of the op). */
  private below(atoms: Atom[], primals: Tensor[]): Tensor[] {
    return primals.map((p, i) => (atoms[i].kind === "const" ? concrete(p) : p));
  }

  override process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
    const [atoms, primals] = this.atoms(inputs);
    const value = bind(prim, this.below(atoms, primals), params);
    // A derivative that is identically zero: the value itself, a constant of this point (it can be read, as under every transformation).
    if (prim.zeroDerivative === true) return value;
    const out = this.newVar(value.shape, value.dtype);
    this.equations.push({ prim: prim as Primitive<unknown>, rule: null, params, inputs: atoms, out });
    return new ProgramTracer(this, value, out);
  }

  override processCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
    const [atoms, primals] = this.atoms(inputs);
    const below = this.below(atoms, primals);
    const value = runRule(this, rule, () => bindCustom(rule, below));
    const out = this.newVar(value.shape, value.dtype);
    this.equations.push({ prim: null, rule, params: undefined, inputs: atoms, out });
    return new ProgramTracer(this, value, out);
  }
}

/** f closure-converted at a point: `program` takes f's arguments and then `captured`; `value` is f there. */
export interface ClosedProgram {
  readonly program: Program;
  /** The traced values f captured, as the live transformations see them: the program's inputs after f's arguments. */
  readonly captured: readonly Tensor[];
  /** f's result at the point, as the arguments' level sees it (plain for plain arguments). */
  readonly value: Tensor;
}

/**
 * Records `f(...args)` as a program with the traced values it captured as
 * further inputs. The arguments are plain values or tracers of a
 * transformation that follows the recording (and sees f's ops on them); f
 * must return one Tensor; errors name `name`.
 */
export function closureConvert(name: string, f: (...args: Tensor[]) => Tensor, args: readonly Tensor[]): ClosedProgram {
  const trace = new RecordTrace(nextLevel());
  const [inputs, result] = withTrace(trace, () => {
    const tracers = args.map((a) => new ProgramTracer(trace, a, trace.newVar(a.shape, a.dtype)));
    const r: unknown = f(...tracers);
    if (!(r instanceof Tensor)) throw new Error(`${name}: F must return a single Tensor, got ${describe(r)}`);
    return [tracers.map((t) => t.v), dropDead(r)] as const;
  });
  const captured: Tensor[] = [];
  const capturedVars: Var[] = [];
  const byValue = new Map<Tensor, Var>();
  // A constant a live transformation traces is captured: it becomes an input (once per value).
  const convert = (a: Atom): Atom => {
    if (a.kind === "var") return a;
    const v = dropDead(a.value);
    if (v._trace === null) return a;
    let input = byValue.get(v);
    if (input === undefined) {
      input = trace.newVar(v.shape, v.dtype);
      byValue.set(v, input);
      captured.push(v);
      capturedVars.push(input);
    }
    return input;
  };
  const equations = trace.equations.map((eq) => ({ ...eq, inputs: eq.inputs.map(convert) }));
  const output = result._trace === trace ? (result as ProgramTracer).v : convert({ kind: "const", value: result } satisfies Const);
  const value = result._trace === trace ? (result as ProgramTracer).primal : concrete(result);
  return { program: { inputs: [...inputs, ...capturedVars], equations, outputs: [output] }, captured, value };
}
