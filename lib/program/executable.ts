/**
 * A compiled program: its fused steps (lib/program/fuse.ts), a memory plan,
 * and each kernel as generated code or, where code generation is forbidden,
 * interpreted.
 *
 * Memory: every intermediate, written by a kernel or by an equation that runs
 * on its own (a matrix product, a solve), comes from the executable's
 * `BufferPool`. A value's buffer is released after its last use (liveness from
 * the step list; a view shares and retains its base's buffer), so buffers are
 * reused within a call, and across calls the same sequence of takes finds the
 * same buffers: after the first call, a call allocates only the outputs it
 * hands back (their buffers are given away, and replaced on the next call).
 * Host steps (user code with custom rules) get fresh storage, since user code
 * may keep what it computes.
 */
import { fromData, type FloatArray, type Tensor } from "../tensor/tensor.js";
import { BufferPool, withOutputSource } from "../tensor/storage.js";
import { sizeOf } from "../tensor/shape.js";
import { bind, bindCustom } from "../primitives/core.js";
import { evaluate } from "./evaluate.js";
import { fuse, type Kernel, type Node, type Step } from "./fuse.js";
import { codeGenerationAllowed, generate, kernelSource } from "./codegen.js";
import { interpreter } from "./interpret.js";
import { baseOf, layoutKey, readsOf, type Read } from "./layout.js";
import { equationName, Names, programToString, typeToString, type Atom, type Program } from "./program.js";

export type Backend = "auto" | "codegen" | "interpret";

let backend: Backend = envBackend();

function envBackend(): Backend {
  const v = typeof process !== "undefined" ? process.env?.IMPLICIT_DIFF_JIT : undefined;
  return v === "codegen" || v === "interpret" ? v : "auto";
}

/**
 * @internal Which code path jitted functions use from now on: generated code,
 * the interpreter, or "auto" (generated code where allowed). Specs run both.
 * The environment variable IMPLICIT_DIFF_JIT=codegen|interpret sets the start value.
 */
export function setJitBackend(b: Backend): void {
  backend = b;
}

function useCodegen(): boolean {
  return backend === "codegen" || (backend === "auto" && codeGenerationAllowed());
}

type Runner = (out: FloatArray, data: readonly FloatArray[], bases: Float64Array) => void;

/** A kernel with its compiled forms, one per layout of its leaves. */
class CompiledKernel {
  readonly reads: Read[];
  private readonly forms = new Map<string, Runner>();
  readonly bases: Float64Array;
  readonly data: FloatArray[];
  constructor(readonly kernel: Kernel) {
    this.reads = readsOf(kernel);
    this.bases = new Float64Array(this.reads.length);
    this.data = new Array<FloatArray>(kernel.leaves.length);
  }
  run(out: FloatArray, leaves: readonly Tensor[]): void {
    const key = (useCodegen() ? "g" : "i") + layoutKey(leaves);
    let form = this.forms.get(key);
    if (form === undefined) {
      if (useCodegen()) form = generate(this.kernel, leaves);
      else {
        const p = interpreter(this.kernel, leaves);
        form = (o, d, b) => p.run(o, d, b);
      }
      this.forms.set(key, form);
    }
    for (let i = 0; i < leaves.length; i++) this.data[i] = leaves[i].data;
    for (let r = 0; r < this.reads.length; r++) this.bases[r] = baseOf(this.reads[r], leaves[this.reads[r].slot]);
    form(out, this.data, this.bases);
  }
}

export interface Executable {
  run(inputs: readonly Tensor[]): Tensor[];
  toString(): string;
}

/** Compiles a program: fusion, memory plan; kernels are generated on their first run (they depend on the strides of what they read). */
export function compile(program: Program): Executable {
  const steps = fuse(program);
  const kernels = steps.map((s) => (s.kind === "kernel" ? new CompiledKernel(s.kernel) : null));
  // Liveness: the step after which each variable is no longer read.
  const lastUse = new Map<number, number>();
  steps.forEach((s, i) => {
    const atoms = s.kind === "kernel" ? s.kernel.leaves : s.eq.inputs;
    for (const a of atoms) if (a.kind === "var") lastUse.set(a.id, i);
  });
  for (const a of program.outputs) if (a.kind === "var") lastUse.set(a.id, steps.length);
  const releaseAfter: number[][] = steps.map(() => []);
  for (const [id, i] of lastUse) if (i < steps.length) releaseAfter[i].push(id);
  const outId = steps.map((s) => (s.kind === "kernel" ? s.kernel.out.id : s.eq.out.id));
  const pool = new BufferPool();
  const env = new Map<number, Tensor>();
  let busy = false;
  const leafBuffer: Tensor[][] = kernels.map((k) => new Array<Tensor>(k === null ? 0 : k.kernel.leaves.length));

  const read = (a: Atom): Tensor => (a.kind === "const" ? a.value : env.get(a.id)!);

  function run(inputs: readonly Tensor[]): Tensor[] {
    // A host step may call this same function again: that call evaluates without the plan.
    if (busy) return withOutputSource(null, () => evaluate(program, inputs));
    busy = true;
    try {
      program.inputs.forEach((v, i) => env.set(v.id, inputs[i]));
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i];
        let out: Tensor;
        if (s.kind === "kernel") {
          const k = s.kernel;
          const leaves = leafBuffer[i];
          for (let j = 0; j < k.leaves.length; j++) leaves[j] = read(k.leaves[j]);
          const data = pool.take("float64", sizeOf(k.out.shape), false);
          kernels[i]!.run(data, leaves);
          out = fromData(data, k.out.shape as number[]);
        } else {
          const xs = s.eq.inputs.map(read);
          out = s.eq.prim !== null
            ? withOutputSource(pool, () => bind(s.eq.prim!, xs, s.eq.params))
            : withOutputSource(null, () => bindCustom(s.eq.rule!, xs));
        }
        pool.retain(out.data);
        env.set(outId[i], out);
        for (const id of releaseAfter[i]) {
          const t = env.get(id);
          if (t !== undefined) pool.release(t.data);
          env.delete(id);
        }
      }
      const outs = program.outputs.map(read);
      for (const t of outs) pool.disown(t.data);
      return outs;
    } finally {
      pool.releaseAll();
      env.clear();
      for (const l of leafBuffer) l.fill(undefined as unknown as Tensor);
      busy = false;
    }
  }

  function toString(): string {
    const names = new Names(program);
    const lines = [programToString(program, names), "", `steps (${useCodegen() ? "generated code" : "interpreter"}):`];
    steps.forEach((s, i) => lines.push(stepToString(s, i, names)));
    return lines.join("\n");
  }

  return { run, toString };
}

function nodeToString(n: Node, k: Kernel, names: Names): string {
  if (n.kind === "zero") return "0";
  if (n.kind === "read") {
    const idx = n.map.dims.map((d) => (d.axis < 0 ? String(d.offset) : `i${d.axis}${d.offset > 0 ? `+${d.offset}` : d.offset < 0 ? `${d.offset}` : ""}`));
    return `${names.of(k.leaves[n.slot])}[${idx.join(",")}]`;
  }
  if (n.kind === "guard") {
    const conds = n.bounds.map((b) => `${b.lo}≤i${b.axis}<${b.hi}`).join(" ∧ ");
    return `(${conds} ? ${nodeToString(n.inner, k, names)} : 0)`;
  }
  return `${n.prim.name}(${n.args.map((a) => nodeToString(a, k, names)).join(", ")})`;
}

function stepToString(s: Step, i: number, names: Names): string {
  if (s.kind === "equation") return `  [${i}] ${names.of(s.eq.out)}: ${typeToString(s.eq.out)} = ${equationName(s.eq)} ${s.eq.inputs.map((a) => names.of(a)).join(" ")}   (runs on its own)`;
  const k = s.kernel;
  const loop = k.shape.map((d, a) => `i${a}<${d}`).join(", ");
  const body = nodeToString(k.root, k, names);
  const what = k.kind === "map" ? `${names.of(k.out)}[${k.shape.map((_, a) => `i${a}`).join(",")}] = ${body}`
    : `${names.of(k.out)} ${k.reduction === "sum" ? "+=" : `${k.reduction}=`} ${body}   (over axes [${k.axes.join(",")}])`;
  return `  [${i}] kernel, ${k.equations.length} op(s), loop (${loop}):\n        ${what}`;
}

/** @internal The generated source of each kernel for these inputs (for specs and printouts). */
export function kernelSources(program: Program, inputs: readonly Tensor[]): string[] {
  return fuse(program).flatMap((s) => {
    if (s.kind !== "kernel") return [];
    const env = new Map<number, Tensor>();
    program.inputs.forEach((v, i) => env.set(v.id, inputs[i]));
    const leaves = s.kernel.leaves.map((a) => (a.kind === "const" ? a.value : env.get(a.id) ?? fromData(new Float64Array(sizeOf(a.shape)), a.shape as number[])));
    return [kernelSource(s.kernel, leaves).source];
  });
}
