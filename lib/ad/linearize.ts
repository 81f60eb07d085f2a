/**
 * linearize and linearTranspose (JAX's `jax.linearize` and `jax.linear_transpose`).
 *
 * `linearize(f, x)` runs f once in forward mode with tangents that are not
 * numbers but *symbols*: every op a JVP rule applies to a tangent is recorded,
 * while every op on primal values (the coefficients: cos x in the rule of sin,
 * the weights of a Hessian) runs once, for real, and is kept as a constant. The
 * record is the linear program of J = ∂f/∂x at x:
 *
 *   lin(ẋ) = J ẋ     one pass over the program (each node's JVP rule);
 *   lt(ȳ)  = Jᵀ ȳ    the transposed program, recorded once from the backward
 *                     sweep of the first (each node's VJP rule applied to symbols).
 *
 * Neither touches f's primal computation again. A program whose constants are
 * plain values runs fused (lib/ad/fuse.ts: chains of elementwise steps become
 * single passes) with its intermediates in a `BufferPool` (lib/tensor/storage.ts):
 * planned on the first application, reused by every later one, so applying it a
 * thousand times allocates nothing after the first. Results are copied out of the
 * pool before they reach the caller. Under another transformation (a tangent or
 * a constant traced by an enclosing grad or jvp) the nodes' own rules run
 * instead, on fresh storage, so that the enclosing transformation records them.
 *
 * Recording is abstract: a symbol's value is a zero view (one shared 0 read
 * through stride-0 axes) whose shape comes from the primitive's `shape` rule, so
 * recording costs no pass over the data and no memory per symbol.
 */
import { fromData, shapeOnly, Tensor, type DType, type FloatArray } from "../tensor/tensor.js";
import { BufferPool, withOutputSource } from "../tensor/storage.js";
import { contiguousStrides, describe, sameShape, shapeToString, sizeOf } from "../tensor/shape.js";
import { bind, bindCustom, dropDead, nextLevel, runRule, shareResults, splitOperands, Trace, Tracer, withTrace, type CustomRule, type MaybeTensor, type Primitive } from "../primitives/core.js";
import { operand } from "../primitives/operands.js";
import { zerosLike } from "../primitives/util.js";
import { jvpWithName, type OpRecorder } from "./forward.js";
import { checkArity } from "./arity.js";
import { sweep } from "./reverse.js";
import { executableToString, fuse, readSlots, runInstruction, type Executable, type FusibleNode } from "./fuse.js";
import { DtypeMismatchError } from "../errors.js";

// ---------------------------------------------------------------------------
// Recording

/** One operation of a linear program. */
export interface ProgramNode extends FusibleNode {
  /** Position in recording order (#index in the printout). */
  readonly index: number;
  /** The primitive's name, "input" for a leaf, or a custom rule's name. */
  readonly name: string;
  readonly prim: Primitive<unknown> | null;
  readonly rule: CustomRule | null;
  readonly params: unknown;
  /** Operands at recording time: constants as they are; program values as zero views. */
  readonly primals: Tensor[];
  /** The value at recording time (a zero view of the output's shape and dtype). */
  readonly out: Tensor;
  /** The node each operand came from, or null for a constant. */
  readonly parents: (ProgramNode | null)[];
  /** For inputs: which input of the program. */
  readonly argIndex: number;
}

class LinearTracer extends Tracer {
  declare readonly _trace: LinearTrace;
  constructor(trace: LinearTrace, primal: Tensor, readonly node: ProgramNode) {
    super(trace, primal);
  }
}

function isPlain(x: Tensor): boolean {
  return dropDead(x)._trace === null;
}

/** The transformation that records a linear program: every op applied to a symbol. */
class LinearTrace extends Trace {
  readonly nodes: ProgramNode[] = [];
  /** Storage for values computed only for their shape (primitives without a shape rule). */
  private readonly scratch = new BufferPool();

  private record(name: string, prim: Primitive<unknown> | null, rule: CustomRule | null, params: unknown, primals: Tensor[], out: Tensor, parents: (ProgramNode | null)[], argIndex = -1): LinearTracer {
    const node: ProgramNode = { index: this.nodes.length, name, prim, rule, params, primals, out, parents, argIndex };
    this.nodes.push(node);
    return new LinearTracer(this, out, node);
  }

  leaf(sig: Signature, argIndex: number): LinearTracer {
    return this.record("input", null, null, undefined, [], shapeOnly(sig.shape, sig.dtype), [], argIndex);
  }

  process<P>(prim: Primitive<P>, inputs: Tensor[], params: P): Tensor {
    const [primals, parents] = splitOperands<ProgramNode>(this, inputs);
    let out: Tensor;
    if (!primals.every(isPlain)) out = bind(prim, primals, params);
    else if (prim.shape) out = shapeOnly(prim.shape(primals, params), primals[primals.length - 1].dtype);
    else {
      // A kernel keeps nothing it computes: scratch storage is safe to reuse at once.
      out = withOutputSource(this.scratch, () => bind(prim, primals, params));
      this.scratch.releaseAll();
      out = shapeOnly(out.shape, out.dtype);
    }
    return this.record(prim.name, prim as Primitive<unknown>, null, params, primals, out, parents);
  }

  processCustom(rule: CustomRule, inputs: Tensor[]): Tensor {
    const [primals, parents] = splitOperands<ProgramNode>(this, inputs);
    if (parents.every((p) => p === null)) return bindCustom(rule, primals);
    // User code may keep what it computes, so it gets fresh storage.
    let out = runRule(this, rule, () => rule.call(primals));
    if (primals.every(isPlain) && isPlain(out)) out = shapeOnly(out.shape, out.dtype);
    return this.record(rule.name, null, rule, undefined, primals, out, parents);
  }
}

/** The shape and dtype of a program's input or output. */
export interface Signature { shape: number[]; dtype: DType }

/**
 * Records the linear program computed by `body` from one symbol per input.
 * `body` returns the program's outputs (tensors derived from the symbols, or
 * constants for outputs that do not depend on them, which count as zero).
 */
function recordProgram(name: string, inputs: readonly Signature[], body: (symbols: Tensor[]) => Tensor[]): LinearProgram {
  const trace = new LinearTrace(nextLevel());
  return withTrace(trace, () => {
    const outs = body(inputs.map((sig, i) => trace.leaf(sig, i)));
    const outputNodes = outs.map((o) => {
      const v = dropDead(o);
      return v._trace === trace ? (v as LinearTracer).node : null;
    });
    return new LinearProgram(name, trace.nodes, inputs, outputNodes, outs.map((o) => ({ shape: o.shape.slice(), dtype: o.dtype })));
  });
}

// ---------------------------------------------------------------------------
// The program

/**
 * A recorded linear program of a few inputs and outputs. `apply` maps input
 * tangents (null: zero) to output tangents; `transpose()` is the program of the
 * transposed map. Plain applications may return values that live in the pool:
 * callers copy what they keep (`detach`) and then call `finish()`.
 */
export class LinearProgram {
  private leaves: ProgramNode[];
  /** Pullbacks of custom nodes, made when the program is first transposed. */
  private readonly pullbacks = new Map<ProgramNode, (ct: Tensor) => MaybeTensor[]>();
  /** Storage reused across applications (only when every constant is a plain value). */
  private readonly pool: BufferPool | null;
  /** Fused executables, one per pattern of non-zero inputs and wanted outputs. */
  private readonly executables = new Map<string, Executable>();
  private transposed: LinearProgram | null = null;
  /** Set by `release()`: only the executables built before remain. */
  private released = false;

  constructor(
    /** The public name used in errors. */
    readonly name: string,
    private nodes: readonly ProgramNode[],
    readonly inputs: readonly Signature[],
    /** The node of each output, or null for an output that does not depend on the inputs. */
    private outputNodes: readonly (ProgramNode | null)[],
    readonly outputs: readonly Signature[],
  ) {
    this.leaves = nodes.filter((n) => n.argIndex >= 0);
    const constantsPlain = nodes.every((n) => n.primals.every((p, i) => n.parents[i] !== null || isPlain(p)));
    this.pool = constantsPlain ? new BufferPool() : null;
  }

  /** Bytes of storage the program keeps for reuse between applications. */
  get pooledBytes(): number {
    return this.pool === null ? 0 : this.pool.bytes;
  }

  /** The nodes needed for the wanted outputs, given which inputs are non-zero, in recording order. */
  private needed(active: readonly boolean[], wanted: readonly boolean[]): ProgramNode[] {
    const live = new Uint8Array(this.nodes.length);
    for (const leaf of this.leaves) if (active[leaf.argIndex]) live[leaf.index] = 1;
    for (const n of this.nodes) if (n.argIndex < 0 && n.parents.some((p) => p !== null && live[p.index])) live[n.index] = 1;
    const used = new Uint8Array(this.nodes.length);
    this.outputNodes.forEach((o, k) => {
      if (o !== null && wanted[k] && live[o.index]) used[o.index] = 1;
    });
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      if (!used[i]) continue;
      for (const p of this.nodes[i].parents) if (p !== null && live[p.index]) used[p.index] = 1;
    }
    return this.nodes.filter((n) => used[n.index] && n.argIndex < 0);
  }

  private executable(active: boolean[], wanted: boolean[]): Executable {
    const key = `${active.map(Number).join("")}/${wanted.map(Number).join("")}`;
    let exe = this.executables.get(key);
    if (exe === undefined) {
      if (this.released) throw new Error(`${this.name}: internal error: a released linear program has no executable for inputs ${key}`);
      const leaves = this.leaves.filter((l) => active[l.argIndex]);
      exe = fuse(this.needed(active, wanted), leaves, this.outputNodes.map((o, k) => (wanted[k] ? o : null)), this.inputs.length);
      this.executables.set(key, exe);
    }
    return exe;
  }

  /**
   * The program applied to `tangents` (one per input, null for zero); outputs
   * not `wanted` come back null. Plain inputs run the fused executable on pooled
   * storage (valid until `finish()`); traced ones run the nodes' rules, and so
   * do plain ones with `fused` false (for a program applied only a few times,
   * whose fusion would cost more than it saves).
   */
  apply(tangents: MaybeTensor[], wanted: boolean[] = this.outputs.map(() => true), fused = true): MaybeTensor[] {
    const active = tangents.map((t) => t !== null);
    const plain = tangents.every((t) => t === null || isPlain(t));
    if (this.pool !== null && plain && (fused || this.released)) return this.applyFused(this.pool, this.executable(active, wanted), tangents);
    if (this.released) return this.applyFused(null, this.executable(active, wanted), tangents);
    const values = new Array<MaybeTensor>(this.nodes.length).fill(null);
    for (const leaf of this.leaves) values[leaf.index] = tangents[leaf.argIndex];
    for (const node of this.needed(active, wanted)) {
      const tin = node.parents.map((p) => (p === null ? null : values[p.index]));
      if (tin.some((t) => t !== null)) values[node.index] = this.forwardRule(node, tin);
    }
    return this.outputNodes.map((o, k) => (o === null || !wanted[k] ? null : values[o.index]));
  }

  /**
   * Runs a fused executable with every intermediate in the pool, each freed after
   * its last use; without a pool (traced tangents of a released program) its
   * combinations run op by op, so that the enclosing transformation records them.
   */
  private applyFused(pool: BufferPool | null, exe: Executable, tangents: MaybeTensor[]): MaybeTensor[] {
    const values = new Array<MaybeTensor>(exe.slots).fill(null);
    exe.inputSlots.forEach((slot, i) => (values[slot] = tangents[i]));
    const rule = (node: FusibleNode, tin: MaybeTensor[]): MaybeTensor => (tin.every((t) => t === null) ? null : this.forwardRule(node as ProgramNode, tin));
    if (pool === null) {
      for (const ins of exe.instructions) values[ins.out] = runInstruction(ins, values, rule, true);
      return exe.outputSlots.map((s) => (s === null ? null : values[s]));
    }
    withOutputSource(pool, () => {
      for (let k = 0; k < exe.instructions.length; k++) {
        const ins = exe.instructions[k];
        pool.mark();
        const v = runInstruction(ins, values, rule);
        values[ins.out] = v;
        if (v !== null) pool.retain(v.data);
        for (const b of pool.takenSinceMark()) pool.freeIfUnused(b);
        for (const slot of readSlots(ins)) {
          if (exe.lastUse[slot] !== k) continue;
          const dead = values[slot];
          if (dead !== null) pool.release(dead.data);
          values[slot] = null;
        }
      }
    });
    return exe.outputSlots.map((s) => (s === null ? null : values[s]));
  }

  private forwardRule(node: ProgramNode, tangents: MaybeTensor[]): MaybeTensor {
    if (node.prim !== null) return node.prim.jvp(node.primals, tangents, node.out, node.params);
    const rule = node.rule!;
    // User rules may keep what they compute: they run on fresh storage, never the pool's.
    return withOutputSource(null, () => {
      const full = tangents.map((t, i) => t ?? zerosLike(node.primals[i], this.name));
      return rule.jvp(node.primals, full)[1];
    });
  }

  private pullbackOf(node: ProgramNode): (ct: Tensor) => MaybeTensor[] {
    let pb = this.pullbacks.get(node);
    if (pb === undefined) {
      const rule = node.rule!;
      pb = withOutputSource(null, () => rule.vjp(node.primals)[1]);
      this.pullbacks.set(node, pb);
    }
    return pb;
  }

  /**
   * The transposed program (inputs: this one's outputs; outputs: cotangents of
   * this one's inputs), recorded once from a backward sweep over this program
   * with symbolic cotangents, each node's VJP rule recorded as it runs.
   */
  transpose(): LinearProgram {
    if (this.released) throw new Error(`${this.name}: internal error: a released linear program cannot be transposed`);
    if (this.transposed === null) {
      this.transposed = recordProgram(this.name, this.outputs, (cts) => {
        const seeds: [ProgramNode, Tensor][] = [];
        this.outputNodes.forEach((o, k) => {
          if (o !== null) seeds.push([o, cts[k]]);
        });
        const leaves = sweep(this.nodes, seeds, (node) => this.pullbackOf(node));
        return this.inputs.map((sig, i) => leaves.get(i) ?? shapeOnly(sig.shape, sig.dtype));
      });
    }
    return this.transposed;
  }

  /**
   * The plain constants its matrix products multiply by (X in a program of
   * v ↦ Xᵀ(X v)): what a solve applying the program many times may keep in the
   * WebAssembly memory (`keepingResident`). Read before `release()`.
   */
  productConstants(): Tensor[] {
    const constants: Tensor[] = [];
    for (const node of this.nodes) {
      if (node.prim === null || node.prim.dense !== true) continue;
      node.primals.forEach((p, i) => {
        if (node.parents[i] === null && isPlain(p)) constants.push(p);
      });
    }
    return constants;
  }

  /** Builds the executables of these patterns of non-zero inputs and wanted outputs now. */
  prepare(...patterns: { active: boolean[]; wanted: boolean[] }[]): void {
    for (const p of patterns) this.executable(p.active, p.wanted);
  }

  /**
   * Lets go of the recorded nodes and the constants only they hold: what remains
   * is the executables built so far (with their folded coefficients), which run
   * plain and traced tangents alike. Transposing, printing the program and new
   * patterns are no longer possible. For engine-owned programs that know what
   * they will need (customRoot); a program whose constants are traced keeps its nodes.
   */
  release(): void {
    if (this.pool === null) return;
    this.released = true;
    this.nodes = [];
    this.outputNodes = this.outputNodes.map(() => null);
    this.leaves.length = 0;
    this.pullbacks.clear();
    this.transposed = null;
  }

  /** Copies a result out of the pool if it lives there (the next application would overwrite it). */
  detach(t: Tensor): Tensor {
    if (this.pool === null || !isPlain(t) || !this.pool.owns(t.data)) return t;
    // A result that is exactly a pool buffer leaves with it (the pool makes a new
    // one if it runs again): no copy, and no second buffer alive.
    if (t.offset === 0 && t.size === t.data.length && t.contiguous) {
      this.pool.disown(t.data);
      return t;
    }
    const out = t.dtype === "float32" ? new Float32Array(t.size) : new Float64Array(t.size);
    copyValues(t, out);
    return fromData(out, t.shape.slice());
  }

  /** Ends an application: every pooled buffer is free again. */
  finish(): void {
    this.pool?.releaseAll();
  }

  /**
   * out = (the program restricted to input `i` and output `k`) x, on flat float64
   * vectors in row-major order: the other inputs are zero. Reuses the pool.
   */
  applyFlat(i: number, x: Float64Array, k: number, out: Float64Array, op = this.name): void {
    const sig = this.inputs[i];
    const n = sizeOf(sig.shape);
    if (!(x instanceof Float64Array) || x.length !== n) throw new Error(`${op}: into expects a Float64Array of ${n} entries, got ${describe(x)}`);
    const m = sizeOf(this.outputs[k].shape);
    if (!(out instanceof Float64Array) || out.length !== m) throw new Error(`${op}: into expects an output Float64Array of ${m} entries, got ${describe(out)}`);
    const input = sig.dtype === "float64" ? new Tensor(x, sig.shape.slice(), contiguousStrides(sig.shape), 0) : new Tensor(Float32Array.from(x), sig.shape.slice(), contiguousStrides(sig.shape), 0);
    const tangents: MaybeTensor[] = this.inputs.map((_, j) => (j === i ? input : null));
    try {
      const r = this.apply(tangents, this.outputs.map((_, j) => j === k))[k];
      if (r === null) out.fill(0);
      else copyValues(r, out);
    } finally {
      this.finish();
    }
  }

  /** The program as text: one line per operation, constants summarised. */
  toString(): string {
    if (this.released) return `linear program (${plural(this.inputs.length, "input")}; released: only its fused executables remain)`;
    const order = this.needed(this.inputs.map(() => true), this.outputs.map(() => true));
    const lines = [`linear program (${plural(this.inputs.length, "input")}, ${plural(order.length, "operation")}):`];
    for (const leaf of this.leaves) lines.push(`  #${leaf.index} = input ${leaf.argIndex} ${shapeToString(leaf.out.shape)}`);
    for (const node of order) {
      const operands = node.primals.map((p, i) => (node.parents[i] !== null ? `#${node.parents[i]!.index}` : constantText(p)));
      lines.push(`  #${node.index} = ${node.name}(${operands.join(", ")})${paramsText(node.params)} -> ${shapeToString(node.out.shape)}`);
    }
    lines.push(`  ${this.outputs.length === 1 ? "output" : "outputs"}: ${this.outputNodes.map((o, k) => (o === null ? `zeros ${shapeToString(this.outputs[k].shape)}` : `#${o.index}`)).join(", ")}`);
    return lines.join("\n");
  }

  /** What the fusion made of the program (all inputs, all outputs), as text. */
  fusedToString(): string {
    const exe = this.executable(this.inputs.map(() => true), this.outputs.map(() => true));
    return `fused (${plural(exe.instructions.length, "instruction")}):\n${executableToString(exe)}`;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function copyValues(t: Tensor, out: FloatArray): void {
  const values = t.contiguous ? t.data.subarray(t.offset, t.offset + t.size) : t.toFloat64Array();
  out.set(values);
}

function constantText(t: Tensor): string {
  const c = dropDead(t);
  if (c._trace !== null) return `traced ${shapeToString(c.shape)}`;
  if (c.size <= 4) return `const ${JSON.stringify(c.toArray(), (_, v) => (typeof v === "number" ? Number(v.toPrecision(4)) : v))}`;
  return `const ${shapeToString(c.shape)}`;
}

function paramsText(params: unknown): string {
  if (params === undefined || params === null) return "";
  const text = JSON.stringify(params);
  return text.length > 48 ? ` {${text.slice(1, 45)}…}` : ` ${text}`;
}

// ---------------------------------------------------------------------------
// Public functions

/**
 * The linear part of f at a point, as returned by `linearize`. `Out` is what it
 * returns: `Tensor` when f returns one value (linearize's types say so when f's
 * do), `Tensor[]` when f returns an array.
 */
export interface LinearFunction<Out extends Tensor | Tensor[] = Tensor | Tensor[]> {
  /** J·tangents for tangents of the primals' shapes: a Tensor, or an array when f returns an array. */
  (...tangents: unknown[]): Out;
  /** The recorded program (`program.toString()` prints it). */
  readonly program: LinearProgram;
  /**
   * In-place product for solvers (Krylov.jl's `mul!`): `out = J x` on flat
   * float64 vectors in row-major order, for a function of one input and one
   * output. Reuses the program's storage: nothing is allocated per call after the first.
   */
  into(x: Float64Array, out: Float64Array): void;
  /** The linear program as text. */
  toString(): string;
}

/** The transpose of a linear function, as returned by `linearTranspose`. */
export interface LinearTransposeFunction {
  /** Jᵀ·cotangents: one cotangent per output of f in, one per primal of the linearisation out. */
  (...cotangents: unknown[]): Tensor[];
  /** The transposed program. */
  readonly program: LinearProgram;
  /** `out = Jᵀ y` on flat float64 vectors (one input, one output), reusing storage. */
  into(y: Float64Array, out: Float64Array): void;
  toString(): string;
}

function checkVector(op: string, what: string, sig: Signature, value: unknown, i: number): Tensor {
  const t = operand(op, value, sig.dtype, `${what} ${i}`);
  if (!sameShape(t.shape, sig.shape)) throw new Error(`${op}: ${what} ${i} has shape ${shapeToString(t.shape)} but must have shape ${shapeToString(sig.shape)}`);
  if (t.dtype !== sig.dtype) throw new DtypeMismatchError(`${op}: ${what} ${i} is ${t.dtype} but must be ${sig.dtype}`);
  return t;
}

function checkCount(op: string, what: string, expected: number, got: number): void {
  if (got !== expected) throw new Error(`${op}: expected ${plural(expected, what)}, got ${got}`);
}

/** A function running `program` on checked vectors, with `into` and `toString`. */
function asFunction<F>(op: string, program: LinearProgram, what: string, single: boolean, describeSelf: () => string): F {
  const run = (...vectors: unknown[]): Tensor | Tensor[] => {
    checkCount(op, what, program.inputs.length, vectors.length);
    const ts = vectors.map((v, i) => checkVector(op, what, program.inputs[i], v, i));
    try {
      const results = program.apply(ts).map((r, k) => (r === null ? zerosLike(shapeOnly(program.outputs[k].shape, program.outputs[k].dtype), op) : program.detach(r)));
      return single ? results[0] : results;
    } finally {
      program.finish();
    }
  };
  Object.defineProperties(run, {
    program: { value: program, enumerable: true },
    into: {
      value: (x: Float64Array, out: Float64Array): void => {
        if (program.inputs.length !== 1 || program.outputs.length !== 1) throw new Error(`${op}: into needs one input and one output (this function has ${program.inputs.length} and ${program.outputs.length})`);
        program.applyFlat(0, x, 0, out, op);
      },
    },
    toString: { value: describeSelf },
  });
  return run as F;
}

/**
 * Linearises f at `primals` (JAX's `linearize`): evaluates f once and returns
 * `[out, lin]`, where `lin(...tangents)` is J·tangents, the tangent `jvp(f,
 * primals, tangents)` would return, computed by replaying only the linear part
 * recorded while f ran: every coefficient that depends on the primals was
 * computed once. f may return a Tensor, a number or an array of them (then `out`
 * and `lin`'s results are arrays). Cost: about one `jvp` to linearise, then per
 * application only the tangent operations, fused, with storage reused between
 * applications. `lin.toString()` prints the linear program.
 */
export function linearize(f: (...args: never[]) => Tensor | number, ...primals: unknown[]): [Tensor, LinearFunction<Tensor>];
export function linearize(f: (...args: never[]) => (Tensor | number)[], ...primals: unknown[]): [Tensor[], LinearFunction<Tensor[]>];
export function linearize(f: (...args: never[]) => unknown, ...primals: unknown[]): [Tensor | Tensor[], LinearFunction];
export function linearize(f: (...args: never[]) => unknown, ...primals: unknown[]): [Tensor | Tensor[], LinearFunction] {
  const op = "linearize";
  if (typeof f !== "function") throw new Error(`${op}: f must be a function, got ${describe(f)}`);
  if (primals.length === 0) throw new Error(`${op}: needs at least one primal to linearise at`);
  checkArity(op, f, primals, null);
  const [out, program] = linearProgram(op, f, primals.map((p, i) => operand(op, p, undefined, `primal ${i}`)));
  const single = !Array.isArray(out);
  const lin = asFunction<LinearFunction>(op, program, "tangent", single, () => program.toString());
  return [out, lin];
}

/**
 * @internal f's value at `primals` and its linear program (the engine of
 * `linearize`, also used by `customRoot`, whose `recorder` records f's own ops
 * in the same pass: lib/program/closure.ts).
 */
export function linearProgram(op: string, f: (...args: never[]) => unknown, primals: Tensor[], recorder: OpRecorder | null = null): [Tensor | Tensor[], LinearProgram] {
  let out: Tensor | Tensor[] = [];
  const program = shareResults(() => recordProgram(op, primals.map((p) => ({ shape: p.shape.slice(), dtype: p.dtype })), (symbols) => {
    const [o, t] = jvpWithName(op, f, primals, symbols, false, recorder);
    out = o;
    return Array.isArray(t) ? t : [t];
  }));
  return [out, program];
}

/**
 * The transpose of a linear function from `linearize` (JAX's `linear_transpose`):
 * `lt(...cotangents)` = Jᵀ·cotangents, one cotangent per output of f in and one
 * per primal of the linearisation out (as `vjp`'s pullback returns). Its program
 * is recorded once from a backward sweep over `lin`'s: f's primal computation is
 * not repeated and no second tape of it is made. `lt.toString()` prints it.
 */
export function linearTranspose(lin: LinearFunction): LinearTransposeFunction {
  const op = "linearTranspose";
  const program = (typeof lin === "function" ? (lin as Partial<LinearFunction>).program : undefined) as unknown;
  if (!(program instanceof LinearProgram)) throw new Error(`${op}: expects a linear function returned by linearize, got ${describe(lin)}; to transpose f at x, use vjp(f, x)`);
  const transposed = program.transpose();
  return asFunction<LinearTransposeFunction>(op, transposed, "cotangent", false, () => `transposed ${transposed.toString()}`);
}
