/**
 * The program's meaning: its equations applied in order with `bind`
 * (Autodidax's `eval_jaxpr`). With plain inputs the kernels run; with inputs an
 * outer transformation traces (grad(jit(f)), jvp, another jit), that
 * transformation records each equation as if f had run, which is how a jitted
 * function composes with every transformation: its derivative rules are those
 * of its equations.
 */
import type { Tensor } from "../tensor/tensor.js";
import { bind, bindCustom } from "../primitives/core.js";
import type { Atom, Program } from "./program.js";

export function evaluate(program: Program, inputs: readonly Tensor[]): Tensor[] {
  const env = new Map<number, Tensor>();
  program.inputs.forEach((v, i) => env.set(v.id, inputs[i]));
  const read = (a: Atom): Tensor => (a.kind === "const" ? a.value : env.get(a.id)!);
  for (const eq of program.equations) {
    const xs = eq.inputs.map(read);
    env.set(eq.out.id, eq.prim !== null ? bind(eq.prim, xs, eq.params) : bindCustom(eq.rule!, xs));
  }
  return program.outputs.map(read);
}
