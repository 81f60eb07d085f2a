/**
 * Part 1's last panel: the user's f under `jit`. `jit(f).lower(x, y)` traces f once on placeholders of
 * f's argument shapes and prints the program (its equations) and the fused kernels that will run it;
 * `jit(grad(f))` does the same for the gradient, whose program holds the forward and the backward pass.
 * Also what happens when f reads a value while traced (an Error), and `where`, which selects instead.
 */
import { jit, grad, where, greater, neg, tensor, Tensor } from "../../lib/index.js";
import { evaluate, type Expr } from "./expr.js";

export interface Compiled {
  /** What `jit(f).lower(x, y).toString()` prints. */
  program: string;
  /** What `jit(grad(f, { argnums: [0, 1] })).lower(x, y).toString()` prints. */
  gradientProgram: string;
  /** The compiled gradient program run at (x, y): ∂f/∂x, ∂f/∂y. */
  gradient: [number, number];
  /** The Error message of a jitted |f| that branches on `.item()`; null when f is a constant (nothing traced to read). */
  branchError: string | null;
  /** The same |f| selected by `where`: its value, and its program. */
  whereValue: number;
  whereProgram: string;
}

/** Equations of a printed program (lines `vN: type = …` inside `program(…) { … }`) and its fused kernels (`[k] kernel`). */
export function countProgram(text: string): { equations: number; kernels: number } {
  return {
    equations: text.split("\n").filter((l) => /^\s+v\d+: \S+ = /.test(l)).length,
    kernels: text.split("\n").filter((l) => /^\s+\[\d+\] kernel\b/.test(l)).length,
  };
}

/** f(x, y) as a function of two tensors (a constant expression becomes a constant tensor). */
export function asFunction(expr: Expr): (x: Tensor, y: Tensor) => Tensor {
  return (x, y) => {
    const v = evaluate(expr, x, y);
    return typeof v === "number" ? tensor(v) : v;
  };
}

/** The programs of f and of its gradient at the point (x, y), both scalars, and the gradient they compute. */
export function compile(expr: Expr, x0: number, y0: number): Compiled {
  const f = asFunction(expr);
  const [x, y] = [tensor(x0), tensor(y0)];
  // #region snippet part1-jit
  const program = jit(f).lower(x, y).toString();         // traces f once on x, y: shape [], float64
  const df = jit(grad(f, { argnums: [0, 1] }));          // the gradient, compiled
  const gradientProgram = df.lower(x, y).toString();     // forward and backward pass in one program
  const [dx, dy] = df(x, y);                             // runs the compiled program: same trace, no re-tracing
  // #endregion

  // #region snippet part1-jit-where
  // |f| by a JavaScript branch on f's value: jit cannot know the value while it traces, so this throws.
  const absBranch = jit((x: Tensor, y: Tensor) => {
    const v = f(x, y);
    return v.item() >= 0 ? v : neg(v);
  });
  // The way out: compute both sides and select elementwise, inside the program.
  const absWhere = jit((x: Tensor, y: Tensor) => {
    const v = f(x, y);
    return where(greater(v, 0), v, neg(v));
  });
  // #endregion
  let branchError: string | null = null;
  try {
    absBranch(x, y);
  } catch (err) {
    branchError = err instanceof Error ? err.message : String(err);
  }
  return {
    program,
    gradientProgram,
    gradient: [dx.item(), dy.item()],
    branchError,
    whereValue: absWhere(x, y).item(),
    whereProgram: absWhere.lower(x, y).toString(),
  };
}
