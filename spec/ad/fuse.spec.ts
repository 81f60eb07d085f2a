/**
 * Fusion (lib/ad/fuse.ts) against the unfused program. A function linear in
 * its argument is its own linear program: its tape's nodes, fused, must map a
 * tangent t to f(t) computed op by op, through the fused kernel and through
 * library ops alike (the path for traced values), on random linear programs;
 * and chains of elementwise steps must become single passes.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, add, concat, div, matmul, mul, neg, reshape, slice, sub, sum, tensor, transpose, vjp, where } from "../../lib/index.js";
import { record } from "../../lib/ad/reverse.js";
import { executableToString, fuse, readSlots, runInstruction, type Executable, type FusibleNode } from "../../lib/ad/fuse.js";
import { expectClose, tensorOf } from "../helpers.js";
import { runs } from "./fixtures.js";
import { programOf, stepsArb, type ProgramOp } from "./subjects.js";

/** f's tape as fusion sees it, fused. */
function fused(f: (t: Tensor) => Tensor, at: Tensor): Executable {
  const rec = record("spec", f, [at]);
  const tape = rec.trace.tape;
  return fuse(tape.filter((n) => n.argIndex < 0), tape.filter((n) => n.argIndex >= 0), [rec.outNode], 1);
}

/** Runs an executable on t; nodes left to their rules run their own JVP (which is the node itself: it is linear). */
function run(exe: Executable, t: Tensor, traced = false): Tensor {
  const values = new Array<Tensor | null>(exe.slots).fill(null);
  values[exe.inputSlots[0]] = t;
  const rule = (node: FusibleNode, tangents: (Tensor | null)[]): Tensor | null => node.prim!.jvp(node.primals, tangents, node.out, node.params);
  for (const ins of exe.instructions) values[ins.out] = runInstruction(ins, values, rule, traced);
  return values[exe.outputSlots[0]!]!;
}

const C = tensor([[0.5, -1, 0.25, 2], [1, 0.3, -0.7, 0.1], [-0.2, 0.9, 1.1, -0.4]]);
const C4 = tensor([[0.5, -1, 0.25, 2], [1, 0.3, -0.7, 0.1], [-0.2, 0.9, 1.1, -0.4], [0.6, 0.2, -1.3, 0.8]]);
const row = tensor([1.5, -0.5, 2, 0.25]);
const col = tensor([[0.7], [-1.2], [0.4]]);
const mask = tensor([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 1]]);
const positive = tensor([[1.5, 2, 0.5, 4], [3, 0.25, 1, 2], [0.75, 5, 1.25, 0.5]]);

/** The pullback of a difference along rows: its transpose, made of pads (a value placed twice). */
const differenceTranspose = (t: Tensor): Tensor =>
  vjp((x: Tensor) => sub(slice(x, [1, 0], [2, 4]), slice(x, [0, 0], [2, 4])), tensor(new Array(12).fill(0), { shape: [3, 4] }))[1](t)[0];

/** The ops of random linear programs: every value has shape [3,4], every op linear in its arguments. */
const LINEAR_OPS: ProgramOp[] = [
  (a) => neg(a),
  (a, b) => add(a, b),
  (a, b) => sub(a, mul(b, 0.5)),
  (a) => mul(a, C),
  (a) => mul(row, a),
  (a) => div(a, positive),
  (a, b) => add(mul(col, a), div(b, 4)),
  (a) => transpose(matmul(C4, transpose(a))),
  (a, b) => concat([sub(slice(a, [1, 0], [2, 4]), slice(a, [0, 0], [2, 4])), slice(b, [0, 0], [1, 4])], 0),
  (a, b) => where(mask, a, mul(b, -1.5)),
  (a) => reshape(transpose(reshape(a, [4, 3])), [3, 4]),
  (a) => mul(sum(a, 1, true), row),
  (a) => differenceTranspose(slice(mul(a, C), [0, 0], [2, 4])),
];

describe("ad/fuse: fusion against the unfused program", () => {
  it("property: the fused executable maps t to f(t), through the fused kernel and through library ops", () => {
    fc.assert(fc.property(stepsArb(LINEAR_OPS, 8), tensorOf([3, 4]), tensorOf([3, 4]), (steps, at, t) => {
      const f = programOf(LINEAR_OPS, steps);
      const exe = fused(f, at);
      const expected = f(t);
      expectClose(run(exe, t), expected, 1e-12, 1e-12, "fused kernel");
      expectClose(run(exe, t, true), expected, 1e-12, 1e-12, "library ops");
      // Every slot read is written before, and read no later than its last use.
      const written = new Set<number>(exe.inputSlots);
      exe.instructions.forEach((ins, k) => {
        for (const s of readSlots(ins)) {
          expect(written.has(s), `slot ${s} read before it is written`).to.equal(true);
          expect(exe.lastUse[s]).to.be.at.least(k);
        }
        written.add(ins.out);
      });
    }), runs(60));
  });

  it("a chain of elementwise steps on views is one pass: −(c₁ ⊙ (c₂ ⊙ (x[1:] − x[:−1])))", () => {
    const c1 = tensor([[1, 2, 3, 4], [5, 6, 7, 8]]);
    const c2 = tensor([[0.5, 0.25, 2, 4], [1, 3, 0.5, 0.125]]);
    const f = (x: Tensor): Tensor => neg(mul(c1, mul(c2, sub(slice(x, [1, 0], [2, 4]), slice(x, [0, 0], [2, 4])))));
    const exe = fused(f, tensor(new Array(12).fill(0), { shape: [3, 4] }));
    expect(exe.instructions.map((i) => i.kind)).to.deep.equal(["combine"]);
    const t = tensor([[1, -2, 3, 0.5], [4, 0, -1, 2], [0.25, 3, 5, -4]]);
    expectClose(run(exe, t), f(t), 1e-15, 0);
  });

  it("sums merge: terms of one source and view add their scales, proportional term sets their coefficients", () => {
    const view = (x: Tensor): Tensor => reshape(transpose(reshape(x, [4, 3])), [3, 4]);
    // (x + v(x)) − ½x = ½x + v(x): one group, two terms; then c ⊙ (½x + v(x)) + 3·(½x + v(x)) = (c + 3) ⊙ (½x + v(x)).
    const f = (x: Tensor): Tensor => {
      const s = sub(add(x, view(x)), mul(x, 0.5));
      return add(mul(C, s), mul(s, 3));
    };
    const exe = fused(f, tensor(new Array(12).fill(0), { shape: [3, 4] }));
    expect(exe.instructions.map((i) => i.kind)).to.deep.equal(["combine"]);
    const combine = exe.instructions[0] as Extract<Executable["instructions"][number], { kind: "combine" }>;
    expect(combine.groups).to.have.length(1);
    expect(combine.groups[0].terms).to.have.length(2);
    const t = tensor([[1, -2, 3, 0.5], [4, 0, -1, 2], [0.25, 3, 5, -4]]);
    expectClose(run(exe, t), f(t), 1e-14, 0);
  });

  it("the transpose of a difference computes its values once and places them twice", () => {
    const c = tensor([[1, 2, 3, 4], [5, 6, 7, 8]]);
    const f = (x: Tensor): Tensor => differenceTranspose(mul(c, x));
    const exe = fused(f, tensor(new Array(8).fill(0), { shape: [2, 4] }));
    const combines = exe.instructions.filter((i) => i.kind === "combine");
    expect(combines).to.have.length(1);
    expect(executableToString(exe)).to.match(/→ .*@\[1,0\], .*@\[0,0\]|→ .*@\[0,0\], .*@\[1,0\]/);
    const t = tensor([[1, -2, 3, 0.5], [4, 0, -1, 2]]);
    expectClose(run(exe, t), f(t), 1e-15, 0);
  });

  it("operations that are not elementwise stay as their rules, with the combinations around them materialised", () => {
    const f = (x: Tensor): Tensor => mul(matmul(mul(x, 2), C4), 3);
    const exe = fused(f, tensor(new Array(12).fill(0), { shape: [3, 4] }));
    expect(exe.instructions.map((i) => i.kind)).to.deep.equal(["combine", "rule", "combine"]);
    const t = tensor([[1, -2, 3, 0.5], [4, 0, -1, 2], [0.25, 3, 5, -4]]);
    expectClose(run(exe, t), f(t), 1e-14, 0);
  });
});
