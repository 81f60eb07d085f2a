import { expect } from "chai";
import { traceTape, traceToString, tensor, sin, mul, add, sum, matmul, Tensor, ImplicitFunction, sub, customVjp } from "../../lib/index.js";
import { expectClose, expectError } from "../helpers.js";

describe("traceTape / traceToString", () => {
  // f(x, y) = Σ sin(x)·(y + 2): ∂f/∂x = cos(x)(y + 2), ∂f/∂y = Σ sin(x).
  const f = (x: Tensor, y: Tensor) => sum(mul(sin(x), add(y, 2)));
  const x = [0.5, 1];
  const y = 3;

  it("records each primitive with its operands, shapes and values, in order", () => {
    const t = traceTape(f, tensor(x), y);
    expect(t.entries.map((e) => e.op)).to.deep.equal(["input", "input", "sin", "add", "mul", "sum"]);
    expect(t.entries[3].inputs).to.deep.equal([1, null]);
    expect(t.entries[3].constants).to.deep.equal([null, 2]);
    expect(t.entries[4].inputShapes).to.deep.equal([[2], []]);
    expectClose(t.entries[2].value as number[], x.map(Math.sin));
    expect(t.output).to.equal(5);
    expectClose(t.value as number, (Math.sin(0.5) + Math.sin(1)) * 5);
  });

  it("shows the backward sweep: each node's cotangent is the sum of what its consumers sent", () => {
    const t = traceTape(f, tensor(x), y);
    expect(t.sweep.map((s) => s.index)).to.deep.equal([5, 4, 3, 2, 1, 0]);
    const received = new Map<number, number[]>();
    for (const step of t.sweep) {
      const ct = ([] as number[]).concat(step.cotangent as number[]);
      if (step.index !== t.output) expectClose(ct, received.get(step.index)!, 1e-15);
      for (const m of step.sent) {
        const add = ([] as number[]).concat(m.cotangent as number[]);
        const prev = received.get(m.to);
        received.set(m.to, prev ? prev.map((v, i) => v + add[i]) : add);
      }
    }
    expectClose(t.gradients[0] as number[], x.map((v) => Math.cos(v) * (y + 2)), 1e-14);
    expectClose(t.gradients[1] as number, Math.sin(0.5) + Math.sin(1), 1e-14);
  });

  it("records a matrix-vector product as one node", () => {
    const t = traceTape((w: Tensor) => sum(matmul(tensor([[1, 2], [3, 4]]), w)), tensor([1, 1]));
    expect(t.entries.map((e) => e.op)).to.deep.equal(["input", "matmul", "sum"]);
    expectClose(t.gradients[0] as number[], [4, 6]);
  });

  it("prints the tape and the sweep as text", () => {
    const text = traceToString(f, tensor(x), y);
    expect(text).to.contain("#2 sin(#0) -> [2]");
    expect(text).to.contain("#3 add(#1, const 2) -> [] 5");
    expect(text).to.match(/#4 mul: cotangent \[1,1\] {2}→ {2}#2 \+= \[5,5\], #3 \+= 1\.3209/);
    expect(text).to.match(/gradient of argument 1: 1\.3209/);
  });

  it("marks the nodes of custom rules, whatever they are named, and only those", () => {
    const square = customVjp((v: Tensor) => mul(v, v), (v: Tensor) => [mul(v, v), v], (v: Tensor, ct: Tensor) => [mul(mul(2, v), ct)]);
    const t = traceTape((v: Tensor) => add(sin(square(v)), v), 0.5);
    expect(t.entries.map((e) => [e.op, e.custom])).to.deep.equal([["input", false], ["customVjp", true], ["sin", false], ["add", false]]);
    expectClose(t.gradients[0] as number, Math.cos(0.25) * 2 * 0.5 + 1, 1e-15);
    const root = new ImplicitFunction({ name: "cubeRoot", forward: (a: Tensor | number) => Math.cbrt(typeof a === "number" ? a : a.item()), conditions: (a: Tensor | number, r: Tensor) => sub(mul(r, mul(r, r)), a) });
    const implicit = traceTape((a: Tensor) => root.call(a), 8);
    expect(implicit.entries.filter((e) => e.custom).map((e) => e.op)).to.deep.equal(["cubeRoot"]);
    expect(implicit.entries.filter((e) => !e.custom).map((e) => e.op)).to.not.include("cubeRoot");
    expectClose(implicit.gradients[0] as number, 1 / 12, 1e-12);
  });

  it("rejects non-scalar functions and non-functions, naming traceTape", () => {
    expectError(() => traceTape((v: Tensor) => mul(v, 2), tensor([1, 2])), "traceTape:", "[2]");
    expectError(() => traceTape(3 as never), "traceTape:", "function");
  });
});

