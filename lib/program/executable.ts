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
import { allocate, fromData, type DType, type FloatArray, type Tensor } from "../tensor/tensor.js";
import { BufferPool, withOutputSource } from "../tensor/storage.js";
import { contiguousStrides, sizeOf } from "../tensor/shape.js";
import { bind, bindCustom } from "../primitives/core.js";
import { keepingResident } from "../tensor/wasm/dense.js";
import { evaluate } from "./evaluate.js";
import { fuse, type Kernel, type Node, type Step } from "./fuse.js";
import { codeGenerationAllowed, generate, kernelSource, programFunction, type Place, type ProgramFunction } from "./codegen.js";
import { interpreter } from "./interpret.js";
import { baseOf, layoutKey, readsOf, type Read } from "./layout.js";
import { equationName, Names, programToString, typeToString, type Atom, type Program } from "./program.js";

export type Backend = "auto" | "codegen" | "interpret";

let backend: Backend = envBackend();

function envBackend(): Backend {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.IMPLICIT_DIFF_JIT;
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

const EMPTY = new Float64Array(0);

/**
 * A kernel with its compiled forms, one per layout of its leaves (the last one
 * used is checked first). It keeps the strides and offsets of the leaves it last
 * ran on, never the tensors: a leaf laid out as before needs no new form and no
 * new read bases.
 */
class CompiledKernel {
  readonly reads: Read[];
  private readonly forms = new Map<string, Runner>();
  private last: Runner | null = null;
  private lastCodegen = false;
  private readonly lastStrides: number[][];
  private readonly lastOffsets: number[];
  private readonly moved: boolean[];
  readonly bases: Float64Array;
  readonly data: FloatArray[];
  constructor(readonly kernel: Kernel) {
    this.reads = readsOf(kernel);
    this.bases = new Float64Array(this.reads.length);
    this.data = new Array<FloatArray>(kernel.leaves.length).fill(EMPTY);
    this.lastStrides = kernel.leaves.map(() => []);
    this.lastOffsets = kernel.leaves.map(() => -1);
    this.moved = kernel.leaves.map(() => true);
  }
  run(out: FloatArray, leaves: readonly Tensor[]): void {
    const codegen = useCodegen();
    let relayout = this.last === null || codegen !== this.lastCodegen;
    for (let i = 0; i < leaves.length; i++) {
      const t = leaves[i];
      const before = this.lastStrides[i];
      let same = t.strides.length === before.length;
      for (let d = 0; same && d < before.length; d++) same = t.strides[d] === before[d];
      if (!same) {
        relayout = true;
        this.lastStrides[i] = t.strides.slice();
      }
      this.moved[i] = !same || t.offset !== this.lastOffsets[i];
      this.lastOffsets[i] = t.offset;
    }
    if (relayout) {
      const key = (codegen ? "g" : "i") + layoutKey(leaves);
      let form = this.forms.get(key);
      if (form === undefined) {
        if (codegen) form = generate(this.kernel, leaves);
        else {
          const p = interpreter(this.kernel, leaves);
          form = (o, d, b) => p.run(o, d, b);
        }
        this.forms.set(key, form);
      }
      this.last = form;
      this.lastCodegen = codegen;
    }
    for (let i = 0; i < leaves.length; i++) this.data[i] = leaves[i].data;
    for (let r = 0; r < this.reads.length; r++) {
      const slot = this.reads[r].slot;
      if (this.moved[slot]) this.bases[r] = baseOf(this.reads[r], leaves[slot]);
    }
    try {
      this.last!(out, this.data, this.bases);
    } finally {
      this.data.fill(EMPTY);
    }
  }
}

export interface Executable {
  run(inputs: readonly Tensor[]): Tensor[];
  toString(): string;
}

/**
 * Compiles a program: fusion, then the memory plan. Kernel outputs live in an
 * arena laid out here, once: a buffer per value, reused by a later value of the
 * same size once every reader of the first is done (linear scan over the steps;
 * a value an equation reads may come back as a view, so its buffer stays taken
 * while that equation's output is live). Kernels are generated on their first
 * run (they depend on the strides of what they read).
 */
export function compile(program: Program): Executable {
  const steps = fuse(program);
  const kernels = steps.map((s) => (s.kind === "kernel" ? new CompiledKernel(s.kernel) : null));
  const outId = steps.map((s) => (s.kind === "kernel" ? s.kernel.out.id : s.eq.out.id));
  // Dense slots for the values: inputs first, then each step's output.
  const slot = new Map<number, number>();
  program.inputs.forEach((v) => slot.set(v.id, slot.size));
  for (const id of outId) if (!slot.has(id)) slot.set(id, slot.size);
  const env = new Array<Tensor | undefined>(slot.size);
  type Source = { slot: number; value: null } | { slot: -1; value: Tensor };
  const source = (a: Atom): Source => (a.kind === "const" ? { slot: -1, value: a.value } : { slot: slot.get(a.id)!, value: null });
  const stepSources = steps.map((s) => (s.kind === "kernel" ? s.kernel.leaves : s.eq.inputs).map(source));
  const outputSources = program.outputs.map(source);
  const isOutput = new Set<number>();
  for (const a of program.outputs) if (a.kind === "var") isOutput.add(a.id);

  // Liveness: the last step reading each value; an equation's output may view its inputs, which then live as long.
  const lastUse = new Map<number, number>();
  steps.forEach((s, i) => {
    for (const a of s.kind === "kernel" ? s.kernel.leaves : s.eq.inputs) if (a.kind === "var") lastUse.set(a.id, i);
  });
  for (const id of isOutput) lastUse.set(id, steps.length);
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (s.kind !== "equation") continue;
    const end = lastUse.get(s.eq.out.id) ?? i;
    for (const a of s.eq.inputs) if (a.kind === "var") lastUse.set(a.id, Math.max(lastUse.get(a.id) ?? i, end));
  }
  // The arena: kernel outputs that are not program outputs, by linear scan.
  const arena: { size: number; dtype: DType; freeAfter: number }[] = [];
  const arenaIndex = steps.map(() => -1);
  steps.forEach((s, i) => {
    if (s.kind !== "kernel" || isOutput.has(s.kernel.out.id)) return;
    const size = sizeOf(s.kernel.out.shape);
    const end = lastUse.get(s.kernel.out.id) ?? i;
    const dtype = s.kernel.out.dtype;
    let b = arena.findIndex((a) => a.size === size && a.dtype === dtype && a.freeAfter < i);
    if (b < 0) {
      arena.push({ size, dtype, freeAfter: end });
      b = arena.length - 1;
    } else arena[b].freeAfter = end;
    arenaIndex[i] = b;
  });
  let buffers: FloatArray[] | null = null;
  /** One tensor per kernel step over its arena buffer, made once (tensors are immutable; the buffer's contents change). */
  const arenaTensors = new Array<Tensor | null>(steps.length).fill(null);
  const arenaSet = new Set<FloatArray>();
  const pool = new BufferPool();
  let busy = false;
  const leafBuffer: Tensor[][] = kernels.map((k) => new Array<Tensor>(k === null ? 0 : k.kernel.leaves.length));
  const read = (src: Source): Tensor => (src.slot < 0 ? src.value! : env[src.slot]!);

  // A program of kernels only runs as straight generated functions (see programFunction).
  const straight = steps.every((s) => s.kind === "kernel") ? straightProgram(program, steps.map((s) => (s as { kernel: Kernel }).kernel), arenaIndex) : null;
  const straightForms = new Map<string, ProgramFunction>();
  let lastForm: ProgramFunction | null = null;
  let lastInputStrides: number[][] = [];

  function runStraight(inputs: readonly Tensor[]): Tensor[] {
    let same = lastForm !== null && inputs.length === lastInputStrides.length;
    for (let i = 0; same && i < inputs.length; i++) {
      const a = inputs[i].strides, b = lastInputStrides[i];
      if (a.length !== b.length) same = false;
      for (let d = 0; same && d < a.length; d++) if (a[d] !== b[d]) same = false;
    }
    if (!same) {
      const key = inputs.map((t) => t.strides.join(",")).join(";");
      let form = straightForms.get(key);
      if (form === undefined) straightForms.set(key, (form = straight!.compile(inputs, buffers!)));
      lastForm = form;
      lastInputStrides = inputs.map((t) => t.strides.slice());
    }
    const X = inputs.map((t) => t.data);
    const XO = inputs.map((t) => t.offset);
    const O = straight!.outputs.map((v) => allocate(v.dtype, sizeOf(v.shape)));
    lastForm!(X, XO, O);
    return program.outputs.map((a) => {
      if (a.kind === "const") return a.value;
      const k = straight!.outputs.indexOf(a);
      return k >= 0 ? fromData(O[k], a.shape.slice()) : inputs[program.inputs.indexOf(a)];
    });
  }

  // Constants several dense products read (X in X w and Xᵀ r) may stay in the WebAssembly memory
  // for one call, as in a backward sweep; never across calls (the user may write into them).
  const denseReads = new Map<Tensor, number>();
  for (const s of steps) {
    if (s.kind !== "equation" || s.eq.prim?.dense !== true) continue;
    for (const a of s.eq.inputs) if (a.kind === "const") denseReads.set(a.value, (denseReads.get(a.value) ?? 0) + 1);
  }
  const resident = [...denseReads].filter(([, n]) => n > 1).map(([t]) => t);
  const hasHostSteps = steps.some((s) => s.kind === "equation" && s.eq.rule !== null);

  function run(inputs: readonly Tensor[]): Tensor[] {
    // Not with host steps: user code could write into a constant's array while the call runs.
    if (resident.length > 0 && !hasHostSteps && !busy) return keepingResident(resident, () => runPlanned(inputs));
    return runPlanned(inputs);
  }

  function runPlanned(inputs: readonly Tensor[]): Tensor[] {
    // A host step may call this same function again: that call evaluates without the plan.
    if (busy) return withOutputSource(null, () => evaluate(program, inputs));
    busy = true;
    try {
      if (buffers === null) {
        buffers = arena.map((a) => allocate(a.dtype, a.size));
        for (const b of buffers) arenaSet.add(b);
      }
      if (straight !== null && useCodegen()) return runStraight(inputs);
      for (let i = 0; i < inputs.length; i++) env[i] = inputs[i];
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i];
        const srcs = stepSources[i];
        let out: Tensor;
        if (s.kind === "kernel") {
          const leaves = leafBuffer[i];
          for (let j = 0; j < srcs.length; j++) leaves[j] = read(srcs[j]);
          const b = arenaIndex[i];
          if (b >= 0) {
            out = arenaTensors[i] ?? (arenaTensors[i] = fromData(buffers[b], s.kernel.out.shape as number[]));
          } else out = fromData(allocate(s.kernel.out.dtype, sizeOf(s.kernel.out.shape)), s.kernel.out.shape as number[]);
          kernels[i]!.run(out.data, leaves);
        } else {
          const xs = srcs.map(read);
          out = s.eq.prim !== null
            ? withOutputSource(pool, () => bind(s.eq.prim!, xs, s.eq.params))
            : withOutputSource(null, () => bindCustom(s.eq.rule!, xs));
        }
        env[slot.get(outId[i])!] = out;
      }
      const outs = outputSources.map(read);
      return outs.map((t) => {
        if (arenaSet.has(t.data)) return fromData(t.data.slice(), t.shape.slice());
        pool.disown(t.data);
        return t;
      });
    } finally {
      pool.releaseAll();
      env.fill(undefined);
      for (const l of leafBuffer) l.fill(undefined as unknown as Tensor);
      busy = false;
    }
  }

  function toString(): string {
    const names = new Names(program);
    const lines = [programToString(program, names), "", `steps (${useCodegen() ? "generated code" : "interpreter"}; arena of ${arena.length} buffer(s), ${arena.reduce((n, a) => n + (a.dtype === "float32" ? 4 : 8) * a.size, 0)} bytes):`];
    steps.forEach((s, i) => lines.push(stepToString(s, i, names)));
    return lines.join("\n");
  }

  return { run, toString };
}

/** Where each kernel's leaves and output live, for a program of kernels only. */
function straightProgram(program: Program, kernels: readonly Kernel[], arenaIndex: readonly number[]) {
  const producer = new Map<number, number>();
  kernels.forEach((k, i) => producer.set(k.out.id, i));
  const outputIds = new Set<number>();
  for (const a of program.outputs) if (a.kind === "var" && producer.has(a.id)) outputIds.add(a.id);
  const outputs = kernels.map((k) => k.out).filter((v) => outputIds.has(v.id));
  const consts: Tensor[] = [];
  const placeOf = (a: Atom, inputs: readonly Tensor[]): Place => {
    if (a.kind === "const") {
      let index = consts.indexOf(a.value);
      if (index < 0) index = consts.push(a.value) - 1;
      return { kind: "const", index, leaf: a.value };
    }
    const input = program.inputs.findIndex((v) => v.id === a.id);
    if (input >= 0) return { kind: "input", index: input, leaf: inputs[input] };
    const strides = contiguousStrides(a.shape as number[]);
    const o = outputs.findIndex((v) => v.id === a.id);
    return o >= 0 ? { kind: "output", index: o, strides } : { kind: "arena", index: arenaIndex[producer.get(a.id)!], strides };
  };
  return {
    outputs,
    compile(inputs: readonly Tensor[], arena: readonly FloatArray[]): ProgramFunction {
      consts.length = 0;
      const places = kernels.map((k) => k.leaves.map((a) => placeOf(a, inputs)));
      const outs = kernels.map((k) => placeOf(k.out, inputs));
      return programFunction(kernels, places, outs, consts.map((c) => c.data), arena);
    },
  };
}

function nodeToString(n: Node, k: Kernel, names: Names): string {
  if (n.kind === "zero") return "0";
  if (n.kind === "read") {
    const idx = n.map.dims.map((d) => (d.axis < 0 ? String(d.offset) : `i${d.axis}${d.offset > 0 ? `+${d.offset}` : d.offset < 0 ? `${d.offset}` : ""}`));
    return idx.length === 0 ? names.of(k.leaves[n.slot]) : `${names.of(k.leaves[n.slot])}[${idx.join(",")}]`;
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
    const leaves = s.kernel.leaves.map((a) => (a.kind === "const" ? a.value : env.get(a.id) ?? fromData(allocate(a.dtype, sizeOf(a.shape)), a.shape as number[])));
    return [kernelSource(s.kernel, leaves).source];
  });
}
