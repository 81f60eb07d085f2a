/**
 * A linear program planned for repeated application, in one pure pass over
 * the recorded program (lib/ad/linearize.ts): the caller names the products it
 * will apply (of the program or of its transpose, each a pattern of non-zero
 * inputs and wanted outputs) and receives immutable data: their fused
 * executables, the constant matrices they multiply by, and application
 * functions whose results are the caller's own. The order a LinearProgram asks
 * of its users (transpose and productConstants before release, prepare before,
 * detach then finish after each apply) is kept here, once, and nowhere else.
 */
import { shapeOnly, type Tensor } from "../tensor/tensor.js";
import type { MaybeTensor } from "../primitives/core.js";
import { zerosLike } from "../primitives/util.js";
import type { LinearProgram } from "./linearize.js";

/** One product a plan serves. */
export interface PlannedProduct {
  /** Of the program's transpose (cotangents of its outputs in, of its inputs out) rather than the program. */
  readonly transposed: boolean;
  /** Which inputs are non-zero (the others are read as zero). */
  readonly active: readonly boolean[];
  /** Which outputs are computed (the others come back null). */
  readonly wanted: readonly boolean[];
}

export interface LinearPlan {
  readonly products: readonly PlannedProduct[];
  /** The plain constant matrices the products multiply by: what a solve may keep in the WebAssembly memory. */
  readonly constants: readonly Tensor[];
  /** Product i on `tangents` (one per input; null, or an inactive input: zero): its outputs, null where zero or not wanted. */
  apply(i: number, tangents: readonly MaybeTensor[]): MaybeTensor[];
  /** Product i restricted to input `from` and output `to`, on flat float64 vectors (`from` its only active input, `to` wanted). */
  into(i: number, from: number, x: Float64Array, to: number, out: Float64Array): void;
}

/**
 * Plans `products` of `program`: builds every executable now and lets the
 * recorded programs go, so that only the executables and their folded
 * coefficients stay alive (the program can no longer be transposed, printed or
 * applied in another pattern: the plan is what remains of it). With
 * `release: false` the programs stay, for a later plan of more products; a
 * plan's products keep working after a later plan released the programs.
 */
export function planLinear(program: LinearProgram, products: readonly PlannedProduct[], opts: { release?: boolean } = {}): LinearPlan {
  const transposed = products.some((p) => p.transposed) ? program.transpose() : null;
  const of = (p: PlannedProduct): LinearProgram => (p.transposed ? transposed! : program);
  for (const p of products) of(p).prepare({ active: [...p.active], wanted: [...p.wanted] });
  const constants = [...program.productConstants(), ...(transposed?.productConstants() ?? [])];
  // `release: false` keeps the recorded programs for a later, larger plan (whose products include these).
  if (opts.release !== false) {
    transposed?.release();
    program.release();
  }
  return {
    products,
    constants,
    apply(i, tangents) {
      const p = products[i];
      const target = of(p);
      // The executable is the pattern's: an active input without a tangent is a zero of its shape.
      const full = target.inputs.map((sig, j) => (p.active[j] ? tangents[j] ?? zerosLike(shapeOnly(sig.shape, sig.dtype)) : null));
      try {
        return target.apply(full, [...p.wanted]).map((r) => (r === null ? null : target.detach(r)));
      } finally {
        target.finish();
      }
    },
    into(i, from, x, to, out) {
      of(products[i]).applyFlat(from, x, to, out);
    },
  };
}
