import { expect } from "chai";
import { checkGrad, customVjp, tensor, mul, sum, exp, sin, matmul, Tensor, logsumexp, softmax, add, div } from "../../lib/index.js";

describe("checkGrad", () => {
  it("passes correct derivatives of scalar and tensor-valued functions", () => {
    const r1 = checkGrad((x: Tensor) => sum(exp(x)), [tensor([0.1, 0.2, -0.3])]);
    expect(r1.ok, r1.report).to.equal(true);
    expect(r1.maxError).to.be.below(1e-6);
    const A = tensor([[1, 2], [3, 4], [0.5, -1]]);
    const r2 = checkGrad((M: Tensor, x: Tensor) => softmax(matmul(M, sin(x))), [A, tensor([0.3, -0.7])]);
    expect(r2.ok, r2.report).to.equal(true);
    expect(r2.checked).to.be.greaterThan(10);
    const r3 = checkGrad((x: Tensor, s: number) => mul(logsumexp(x), s), [tensor([1, 2, 3]), 2.5], { richardson: true });
    expect(r3.ok, r3.report).to.equal(true);
  });

  it("catches a deliberately wrong customVjp rule and says where", () => {
    // f(x) = x³ with a pullback that forgets the factor 3.
    const cube = customVjp(
      (x: Tensor) => mul(x, mul(x, x)),
      (x: Tensor) => [mul(x, mul(x, x)), x],
      (x: Tensor, ct: Tensor) => [mul(ct, mul(x, x))],
    );
    const r = checkGrad((x: Tensor) => sum(cube(x)), [tensor([0.5, 2])], { modes: ["rev"] });
    expect(r.ok).to.equal(false);
    expect(r.failures.length).to.equal(2);
    expect(r.report).to.match(/reverse mode, argument 0, entry 1: reverse mode 4\.0+, finite differences 12\.0+\d* ± [\d.e+-]+; they differ by 8\.00e\+0, beyond FD's own error, so the reverse mode derivative is likely wrong/);
    expect(r.failures.every((m) => !m.fdUnreliable && m.fdError < 1e-6)).to.equal(true);
    expect(r.maxError).to.be.greaterThan(0.5);
  });

  it("catches a wrong rule in forward mode too (customVjp transposed under jvp)", () => {
    const cube = customVjp(
      (x: Tensor) => mul(x, mul(x, x)),
      (x: Tensor) => [mul(x, mul(x, x)), x],
      (x: Tensor, ct: Tensor) => [mul(ct, mul(2, mul(x, x)))],
    );
    const r = checkGrad((x: Tensor) => cube(x), [tensor([1.5])]);
    expect(r.ok).to.equal(false);
    expect(r.failures.map((m) => m.mode)).to.include.members(["rev", "fwd"]);
  });

  it("rejects misuse with errors that begin with checkGrad", () => {
    expect(() => checkGrad(3 as never, [])).to.throw(/^checkGrad: f must be a function/);
    expect(() => checkGrad((x: Tensor) => x, tensor(1) as never)).to.throw(/^checkGrad: args must be an array/);
    expect(() => checkGrad((x: Tensor) => x, [tensor(1)], { rtol: "big" as never })).to.throw(/^checkGrad: rtol/);
    expect(() => checkGrad((x: Tensor) => x, [tensor(1)], { argnums: [3] })).to.throw(/^checkGrad: argnums/);
  });
  describe("finite differences' own error (issue 15, item 10)", () => {
    // y(x): the root of y³ + y = x found by bisection to 1e-9, a black box whose output moves in
    // steps: its finite differences are off by ~1e-5, while the rule 1/(3y² + 1) is exact.
    const bisect = (x: number): number => {
      let lo = -10, hi = 10;
      while (hi - lo > 1e-9) {
        const m = 0.5 * (lo + hi);
        if (m * m * m + m > x) hi = m;
        else lo = m;
      }
      return 0.5 * (lo + hi);
    };
    const blackBox = (factor: number) => customVjp(
      (x: Tensor) => tensor(Array.from(x.toFloat64Array(), bisect)),
      (x: Tensor) => { const y = tensor(Array.from(x.toFloat64Array(), bisect)); return [y, y]; },
      (y: Tensor, ct: Tensor) => [mul(factor, div(ct, add(1, mul(3, mul(y, y)))))],
    );
    const xs = [0.3, 0.8, 1.4, 1.1, 0.55];
    const truth = xs.map((x) => 1 / (3 * bisect(x) ** 2 + 1));

    it("says FD, not the derivative, is the unreliable side when f is too inexact for the step", () => {
      const r = checkGrad((x: Tensor) => blackBox(1)(x), [tensor(xs)]);
      expect(r.ok, "nothing confirmed the derivative").to.equal(false);
      const fd = r.failures.filter((m) => m.mode === "fwd");
      expect(fd.length).to.be.greaterThan(0);
      for (const m of r.failures) {
        expect(m.fdUnreliable, r.report).to.equal(true);
        expect(Math.abs(m.got - m.expected)).to.be.at.most(m.fdError);
      }
      // against the closed form: the derivative is exact, and FD's estimate covers FD's true error
      for (const m of fd) {
        expect(Math.abs(m.got - truth[m.entry])).to.be.below(1e-12);
        expect(Math.abs(m.expected - truth[m.entry])).to.be.at.most(m.fdError);
      }
      expect(r.report).to.contain("FD, not the derivative, is the unreliable side, and forward and reverse mode agree with each other");
      expect(r.report).to.match(/finite differences [\d.]+ ± [\d.e+-]+; they differ by [\d.e+-]+, within FD's own error: FD unreliable/);
    });

    it("still calls a wrong derivative wrong when its error exceeds FD's own", () => {
      const r = checkGrad((x: Tensor) => blackBox(1.01)(x), [tensor(xs)]);
      expect(r.ok).to.equal(false);
      const fd = r.failures.filter((m) => m.mode !== "fwd-vs-rev");
      expect(fd.length).to.equal(2 * xs.length);
      for (const m of fd) expect(m.fdUnreliable, r.report).to.equal(false);
      expect(r.report).to.contain("the forward mode derivative is likely wrong").and.not.to.contain("FD, not the derivative");
    });

    it("estimates the truncation error of a smooth function at a large step", () => {
      // f = exp(sin 3x) at x = 1000: the step h = ε^{1/3}·1000 is large, so truncation dominates.
      const r = checkGrad((x: Tensor) => exp(sin(mul(3, x))), [tensor([1000])], { modes: ["fwd"], rtol: 1e-9, atol: 0 });
      const exact = 3 * Math.cos(3000) * Math.exp(Math.sin(3000));
      expect(r.failures.length).to.equal(1);
      const [m] = r.failures;
      expect(Math.abs(m.expected - exact)).to.be.at.most(m.fdError);
      expect(m.fdError).to.be.below(10 * Math.abs(m.expected - exact));
      expect(m.fdUnreliable).to.equal(true);
    });
  });
});
