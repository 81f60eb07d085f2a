/**
 * Projections at infinite values (issue 15, item 8): ±∞ entries act as their
 * limits, and derivatives stay finite where the limit is smooth. Truth: the
 * closed forms of each projection on the finite entries, and of its limit.
 */
import { expect } from "chai";
import { Tensor, grad, jacobian, mul, projectBox, projectL2Ball, projectSimplex, softmax, sum, tensor } from "../../lib/index.js";
import { expectClose } from "../helpers.js";

const inf = Infinity;

describe("projections with infinite entries", () => {
  it("projectSimplex: a −∞ score gets no mass and no derivative, as in softmax", () => {
    // The finite scores [0.5, 0.2] alone: τ = (0.7 − 1)/2 = −0.15, p = [0.65, 0.35]; Jacobian I − 11ᵀ/2.
    expectClose(projectSimplex(tensor([0.5, -inf, 0.2])), [0.65, 0, 0.35], 1e-15, 0);
    expect(softmax(tensor([0.5, -inf, 0.2])).toArray()).to.have.property("1", 0);
    expectClose(jacobian((v: Tensor) => projectSimplex(v))(tensor([0.5, -inf, 0.2])), [0.5, 0, -0.5, 0, 0, 0, -0.5, 0, 0.5], 1e-15, 0);
    // a finite score far below the support gives the same, as the limit should
    expectClose(projectSimplex(tensor([0.5, -1e6, 0.2])), [0.65, 0, 0.35], 1e-15, 0);
    const w = tensor([1, 2, 3]);
    expectClose(grad((s: Tensor) => sum(mul(projectSimplex(tensor([0.5, -inf, 0.2]), s), w)))(tensor(2)), 2, 1e-15, 0);
  });

  it("projectSimplex: the +∞ scores share the mass; every score −∞, or a NaN, gives NaN", () => {
    expectClose(projectSimplex(tensor([0.5, inf, 0.2])), [0, 1, 0], 0, 0);
    expectClose(projectSimplex(tensor([inf, 0, inf]), 2), [1, 0, 1], 0, 0);
    expectClose(jacobian((v: Tensor) => projectSimplex(v))(tensor([0.5, inf, 0.2])), new Array(9).fill(0), 0, 0);
    // ∂/∂s Σ wᵢ pᵢ = (w₀ + w₂)/2 when entries 0 and 2 are +∞
    expectClose(grad((s: Tensor) => sum(mul(projectSimplex(tensor([inf, 0, inf]), s), tensor([1, 5, 3]))))(tensor(2)), 2, 0, 0);
    expectClose(projectSimplex(tensor([-inf, -inf])), [NaN, NaN]);
    expectClose(projectSimplex(tensor([0.5, NaN])), [NaN, NaN]);
  });

  it("projectL2Ball: infinite entries point the way, with zero derivative in v", () => {
    expectClose(projectL2Ball(tensor([inf, 1]), 2), [2, 0], 0, 0);
    expectClose(projectL2Ball(tensor([inf, -inf, 3])), [Math.SQRT1_2, -Math.SQRT1_2, 0], 1e-15, 0);
    expectClose(jacobian((v: Tensor) => projectL2Ball(v, 2))(tensor([inf, 1])), [0, 0, 0, 0], 0, 0);
    expectClose(grad((r: Tensor) => sum(mul(projectL2Ball(tensor([inf, 1]), r), tensor([3, 7]))))(tensor(2)), 3, 0, 0);
    // far but finite: the same point in the limit
    expectClose(projectL2Ball(tensor([1e100, 1]), 2), [2, 2e-100], 1e-15, 0);
    // an infinite radius leaves v (and its derivative) unchanged
    expectClose(projectL2Ball(tensor([3, 4]), inf), [3, 4], 0, 0);
    expectClose(jacobian((v: Tensor) => projectL2Ball(v, inf))(tensor([3, 4])), [1, 0, 0, 1], 0, 0);
  });

  it("projectBox: an infinite bound is no bound; an infinite entry is clipped with zero derivative", () => {
    expectClose(projectBox(tensor([0.5, 3, -2]), -inf, inf), [0.5, 3, -2], 0, 0);
    expectClose(jacobian((v: Tensor) => projectBox(v, tensor([-inf, 0, -inf]), tensor([1, inf, inf])))(tensor([0.5, 3, -2])), [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 0);
    expectClose(projectBox(tensor([inf, -inf]), 0, 1), [1, 0], 0, 0);
    expectClose(jacobian((v: Tensor) => projectBox(v, 0, 1))(tensor([inf, -inf])), [0, 0, 0, 0], 0, 0);
    // the clipped entries follow their bounds
    expectClose(grad((hi: Tensor) => sum(projectBox(tensor([inf, 0.5]), 0, hi)))(tensor(1)), 1, 0, 0);
  });
});
