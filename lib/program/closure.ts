/**
 * Closure conversion (JAX's `closure_convert`): a function recorded as a
 * program of its arguments in which every value a live transformation traces
 * that the function captured, rather than received, becomes a further input.
 * The program can then be evaluated at the same point on the values as any
 * transformation sees them, and each captured value is differentiated through
 * its input like an argument: no rule has to close over a traced value.
 *
 * The recording rides on a forward-mode pass the caller runs anyway (customRoot's
 * linearisation, lib/ad/linearize.ts): the JVP trace reports each op it
 * processes (`OpRecorder`, lib/ad/forward.ts), so the function runs once, for
 * real, and no tracer of a new kind is made. Ops on constants alone run at once
 * and stay constants; ops on captured traced values alone are computed by their
 * own transformation (their result is what is captured); an op whose derivative
 * is identically zero (a comparison) leaves its value as a constant. The
 * program is therefore a record of one point, valid for the values it was
 * recorded at (data-dependent choices, such as an active set, are fixed there).
 */
import { Tensor } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { dropDead, type CustomRule, type Primitive } from "../primitives/core.js";
import type { OpRecorder } from "../ad/forward.js";
import type { Atom, Equation, Program, Var } from "./program.js";

/** f closure-converted at a point: `program` takes f's arguments and then `captured`. */
export interface ClosedProgram {
  readonly program: Program;
  /** The traced values f captured, as the live transformations see them: the program's inputs after f's arguments. */
  readonly captured: readonly Tensor[];
}

/** Variable ids of recorded programs (distinct from one another; only printouts read them). */
let nextId = 0;

/**
 * Records the ops of one forward-mode pass over f: `inputs` receives f's
 * arguments as the trace made them, `op` each op, `finish` f's result. Values
 * the trace follows are variables; everything else is a constant, and a
 * constant a live transformation traces becomes an input (once per value).
 */
export class ClosureRecorder implements OpRecorder {
  /** The variable of each value the trace follows (weakly: a value no later op reads is freed as the pass goes on). */
  private readonly vars = new WeakMap<Tensor, Var>();
  private readonly args: Var[] = [];
  private readonly equations: Equation[] = [];

  constructor(private readonly name: string) {}

  private newVar(t: Tensor): Var {
    return { kind: "var", id: nextId++, shape: t.shape.slice(), dtype: t.dtype };
  }

  inputs(args: readonly Tensor[]): void {
    for (const a of args) {
      const v = this.newVar(a);
      this.args.push(v);
      if (a._trace !== null) this.vars.set(a, v);
    }
  }

  private atom(x: Tensor): Atom {
    return this.vars.get(dropDead(x)) ?? { kind: "const", value: x };
  }

  op(prim: Primitive<unknown> | null, rule: CustomRule | null, params: unknown, inputs: readonly Tensor[], out: Tensor): void {
    // A result the trace does not follow (a zero derivative) is a constant of this point.
    if (out._trace === null || this.vars.has(out)) return;
    const v = this.newVar(out);
    this.equations.push({ prim, rule, params, inputs: inputs.map((x) => this.atom(x)), out: v });
    this.vars.set(out, v);
  }

  /** The program, given f's result (checked to be a Tensor: errors name the recorder's name). */
  finish(result: unknown): ClosedProgram {
    if (!(result instanceof Tensor)) throw new Error(`${this.name}: F must return a single Tensor, got ${describe(result)}`);
    const captured: Tensor[] = [];
    const capturedVars: Var[] = [];
    const byValue = new Map<Tensor, Var>();
    const convert = (a: Atom): Atom => {
      if (a.kind === "var") return a;
      const v = dropDead(a.value);
      if (v._trace === null) return a;
      let input = byValue.get(v);
      if (input === undefined) {
        input = this.newVar(v);
        byValue.set(v, input);
        captured.push(v);
        capturedVars.push(input);
      }
      return input;
    };
    const equations = this.equations.map((eq) => ({ ...eq, inputs: eq.inputs.map(convert) }));
    const output = convert(this.atom(result));
    return { program: { inputs: [...this.args, ...capturedVars], equations, outputs: [output] }, captured };
  }
}
