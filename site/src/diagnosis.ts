/**
 * Why the numbers of part 1 disagree or blow up, in words: the node where a
 * NaN or ∞ first appears and the reason (a rule outside its domain, a pole, an
 * overflow, ∞·0 or ∞ − ∞), a kink and the library's convention there, why a
 * derivative stays finite next to a NaN (symbolic zeros), and when a finite
 * difference is not a derivative. No DOM: the page renders the findings and
 * the test reads them.
 */
import { RULES, operandNames, operandValues, sweepState, type Analysis } from "./mechanics.js";
import { fmt } from "./format.js";

export type FindingKind =
  /** A NaN from finite operands: the primitive evaluated outside its domain. */
  | "domain"
  /** ±∞ from finite operands at a division by zero, log(0) or a negative power of 0. */
  | "pole"
  /** f itself is ±∞: no derivative exists there. */
  | "infinite-value"
  /** ±∞ from finite operands because the result exceeds the largest double. */
  | "overflow"
  /** A NaN from infinite operands: ∞ − ∞, ∞·0, ∞/∞. */
  | "indeterminate"
  /** f itself is NaN: there is no derivative, whatever the modes print. */
  | "no-value"
  /** A local derivative that is NaN where the node's value is finite. */
  | "rule-domain"
  /** A local derivative that is ±∞ where the node's value is finite: an infinite slope. */
  | "vertical"
  /** Where a cotangent (reverse) or a tangent (forward) first becomes NaN or ∞. */
  | "propagation"
  /** A derivative stays finite beside a non-finite local derivative, because of the path it takes. */
  | "symbolic-zero"
  /** relu or abs exactly at 0, and f has a kink there too. */
  | "kink"
  /** relu or abs exactly at 0, but f has no kink: the node's slope is multiplied by v̄ = 0. */
  | "kink-harmless"
  /** A rule whose formula has no value at the point, where the library uses a convention (pow at a = 0 or b = 0). */
  | "convention"
  /** f's one-sided slopes differ along a coordinate: no derivative exists, and the central difference is only their average. */
  | "fd-not-derivative"
  /** f is infinite at the point and the central difference is a large finite number. */
  | "fd-pole"
  /** The central difference itself is NaN or ∞. */
  | "fd-nonfinite"
  /** Finite everywhere, yet the central difference disagrees with both modes. */
  | "fd-mismatch"
  /** Reverse and forward mode report different numbers. */
  | "modes-differ";

export interface Finding {
  kind: FindingKind;
  /** The tape entry the finding is about (null when it is about f as a whole). */
  node: number | null;
  /** Which coordinate, when the finding concerns one partial derivative. */
  coordinate: "x" | "y" | null;
  text: string;
}

const COORDINATES = ["x", "y"] as const;

/** "∞", "−∞" or "NaN", for sentences. */
function nonFiniteName(v: number): string {
  return Number.isNaN(v) ? "NaN" : v > 0 ? "∞" : "−∞";
}

function call(op: string, args: number[]): string {
  return `${op}(${args.map((a) => fmt(a, 6)).join(", ")})`;
}

/** Why a primitive gave a non-finite value from finite operands. */
function explainOrigin(op: string, args: number[], value: number): { kind: FindingKind; why: string } {
  const [a, b] = args;
  const v = nonFiniteName(value);
  switch (op) {
    case "log":
      if (a < 0) return { kind: "domain", why: `log is defined only for u > 0, so log(${fmt(a, 6)}) is NaN: the node is outside its domain` };
      if (a === 0) return { kind: "pole", why: "log(0) = −∞: log falls without bound at 0, a pole" };
      break;
    case "sqrt":
      if (a < 0) return { kind: "domain", why: `a negative number has no real square root, so √(${fmt(a, 6)}) is NaN: the node is outside its domain` };
      break;
    case "div":
      if (b === 0 && a === 0) return { kind: "indeterminate", why: "0/0 has no value: NaN" };
      if (b === 0) return { kind: "pole", why: `it divides ${fmt(a, 6)} by b = 0, a pole: ${v}` };
      break;
    case "pow":
      if (a < 0 && !Number.isInteger(b)) return { kind: "domain", why: `a negative base (a = ${fmt(a, 6)}) has no real power for the non-integer exponent b = ${fmt(b, 6)}: NaN, outside the domain` };
      if (a === 0 && b < 0) return { kind: "pole", why: `0 raised to the negative power ${fmt(b, 6)} is a pole: ∞` };
      break;
  }
  if (!Number.isNaN(value)) return { kind: "overflow", why: `the result exceeds the largest double (about 1.8e308) and rounds to ${v}: an overflow, not a pole` };
  return { kind: "domain", why: `${call(op, args)} has no value: NaN` };
}

/** Why a primitive gave NaN from operands of which some are infinite. */
function explainIndeterminate(op: string, args: number[]): string {
  const [a, b] = args;
  const inf = (u: number): boolean => !Number.isNaN(u) && !Number.isFinite(u);
  if ((op === "add" || op === "sub") && inf(a) && inf(b)) return `it computes ${op === "add" ? `${nonFiniteName(a)} + ${nonFiniteName(b)}` : `${nonFiniteName(a)} − ${nonFiniteName(b)}`}, and ∞ − ∞ has no value: NaN`;
  if (op === "mul" && ((inf(a) && b === 0) || (a === 0 && inf(b)))) return "it computes ∞·0, which has no value: NaN";
  if (op === "div" && inf(a) && inf(b)) return "it computes ∞/∞, which has no value: NaN";
  return `${call(op, args)} has no value: NaN`;
}

/** Why a local derivative is NaN or ∞ where the node's value and operands are finite. */
function explainLocal(op: string, slot: number, args: number[], d: number): { kind: FindingKind; why: string } {
  const [a, b] = args;
  const name = operandNames(args.length)[slot];
  const rule = RULES[op]?.[slot];
  const ruleText = rule === undefined ? `its rule for ∂/∂${name}` : `its rule for ∂/∂${name}, ${rule},`;
  if (op === "pow" && slot === 1 && a < 0) {
    return {
      kind: "rule-domain",
      why: `${ruleText} needs ln a, and ln(${fmt(a, 6)}) has no real value: NaN. A negative base has a real power only at whole-number exponents, so the power is not defined for exponents near b = ${fmt(b, 6)}, and no derivative along the exponent exists`,
    };
  }
  if (Number.isNaN(d)) return { kind: "rule-domain", why: `${ruleText} is NaN at ${call(op, args)}: the rule is outside its domain` };
  if (op === "sqrt" && a === 0) return { kind: "vertical", why: `${ruleText} is ∞ at u = 0: √u rises with a vertical tangent there, an infinite slope` };
  if (op === "pow" && slot === 0 && a === 0) return { kind: "vertical", why: `${ruleText} is ${nonFiniteName(d)} at a = 0 with b = ${fmt(b, 6)} < 1: a vertical tangent, an infinite slope` };
  return { kind: "vertical", why: `${ruleText} is ${nonFiniteName(d)} at ${call(op, args)}: an infinite slope` };
}

/**
 * Whether f has a kink along coordinate `ci` at the point: its one-sided slopes
 * differ, by the same amount at steps h and h/16. A smooth function's slopes
 * differ by about f''·h, which shrinks with h; a kink's jump does not.
 */
export function hasKink(a: Analysis, ci: number): boolean {
  const [l, r, fl, fr] = [a.fd.left[ci], a.fd.right[ci], a.fd.fineLeft[ci], a.fd.fineRight[ci]];
  if (![l, r, fl, fr].every(Number.isFinite)) return false;
  const jump = r - l;
  const scale = Math.max(1, Math.abs(l), Math.abs(r));
  return Math.abs(jump) > 1e-3 * scale && Math.abs(fr - fl) > 0.5 * Math.abs(jump);
}

/** The partial derivative by reverse mode, as a sentence fragment. */
function partialName(c: "x" | "y"): string {
  return `∂f/∂${c}`;
}

/**
 * Every finding for the analysis, in reading order: where values break, where
 * local derivatives break, how that reaches the two modes, kinks, and what the
 * finite differences mean.
 */
export function diagnose(a: Analysis): Finding[] {
  const findings: Finding[] = [];
  const { trace, values, local } = a.tape;
  const entries = trace.entries;
  const live = new Set(trace.sweep.map((s) => s.index));
  const label = (i: number): string => `#${i} ${entries[i].op}`;

  // 1. Values: where a NaN or ∞ first appears, and where ∞ turns into NaN.
  let originReported = false;
  let indeterminateReported = false;
  for (const e of entries) {
    if (e.op === "input") continue;
    const v = values[e.index];
    if (Number.isFinite(v)) continue;
    const args = operandValues(e, values);
    if (args.every(Number.isFinite)) {
      if (originReported) continue;
      originReported = true;
      const { kind, why } = explainOrigin(e.op, args, v);
      const locals = e.inputs.flatMap((src, j) => (src === null ? [] : [`∂/∂${operandNames(e.inputs.length)[j]} = ${RULES[e.op]?.[j] ?? "?"} = ${fmt(local[e.index][j] ?? NaN, 6)}`]));
      const rest = locals.length > 0 ? ` Its local derivatives there: ${locals.join(", ")}.` : "";
      findings.push({ kind, node: e.index, coordinate: null, text: `${label(e.index)} is the first node with ${nonFiniteName(v)}: ${why}.${rest}` });
    } else if (Number.isNaN(v) && !args.some(Number.isNaN) && !indeterminateReported) {
      indeterminateReported = true;
      findings.push({ kind: "indeterminate", node: e.index, coordinate: null, text: `${label(e.index)} turns ∞ into NaN: ${explainIndeterminate(e.op, args)}.` });
    }
  }
  if (Number.isNaN(a.value)) {
    const logOrigin = findings.find((f) => f.kind === "domain" && f.node !== null && entries[f.node].op === "log");
    const modulus = logOrigin === undefined ? "" : " (log's rule 1/u is also the derivative of log|u|, which is defined at a negative u: that is the function whose derivative they print)";
    findings.push({
      kind: "no-value", node: trace.output, coordinate: null,
      text: `f(${fmt(a.x, 6)}, ${fmt(a.y, 6)}) is NaN: f has no value here, so it has no derivative either. The two modes still print numbers, because each rule only looks at the numbers it is given${modulus}. They agree with each other, yet there is nothing to check them against: the central difference is NaN too.`,
    });
  } else if (!Number.isFinite(a.value)) {
    const overflow = findings.some((f) => f.kind === "overflow");
    findings.push({
      kind: "infinite-value", node: trace.output, coordinate: null,
      text: overflow
        ? `f(${fmt(a.x, 6)}, ${fmt(a.y, 6)}) = ${nonFiniteName(a.value)} only because a double cannot hold it: the true value is finite, but its derivatives overflow just as it does.`
        : `f(${fmt(a.x, 6)}, ${fmt(a.y, 6)}) = ${nonFiniteName(a.value)}: no derivative exists where f is infinite, whatever the numbers below say.`,
    });
  }

  // 2. Local derivatives that are NaN or ∞ on nodes whose values are finite.
  const brokenEdges: { node: number; slot: number; src: number }[] = [];
  for (const e of entries) {
    if (e.op === "input" || !live.has(e.index)) continue;
    const args = operandValues(e, values);
    e.inputs.forEach((src, j) => {
      const d = local[e.index][j];
      if (src === null || d === null || Number.isFinite(d)) return;
      brokenEdges.push({ node: e.index, slot: j, src });
      if (!Number.isFinite(values[e.index]) || !args.every(Number.isFinite)) return;
      const { kind, why } = explainLocal(e.op, j, args, d);
      findings.push({ kind, node: e.index, coordinate: null, text: `${label(e.index)} has the finite value ${fmt(values[e.index], 6)}, but ${why}.` });
    });
  }

  // 3. How that reaches each mode: the first non-finite cotangent and tangent, and why.
  // Replays the sweep's sends and reports the first that makes a cotangent ∞, and the first that makes one NaN.
  const held = sweepState(a.tape, 0).nodes.map((n) => n.cotangent);
  let infiniteReported = false;
  let nanReported = false;
  for (const s of trace.sweep) {
    const upstream = held[s.index] ?? 0;
    const e = entries[s.index];
    e.inputs.forEach((src, j) => {
      const d = local[s.index][j];
      if (src === null || d === null) return;
      const amount = upstream * d;
      const before = held[src] ?? 0;
      const after = before + amount;
      held[src] = after;
      if (Number.isFinite(after) || Number.isNaN(before) || (!Number.isNaN(after) && !Number.isFinite(before))) return;
      const nan = Number.isNaN(after);
      if (nan ? nanReported : infiniteReported || nanReported) return;
      let why: string;
      if (Number.isNaN(amount) && !Number.isNaN(upstream) && !Number.isNaN(d)) why = `it sends v̄ × local derivative = ${fmt(upstream, 6)} × ${fmt(d, 6)}, and ∞·0 has no value: #${src} receives NaN`;
      else if (Number.isFinite(amount)) why = `#${src} adds ${fmt(amount, 6)} to the ${fmt(before, 6)} it holds`;
      else if (nan && !Number.isNaN(amount)) why = `#${src} adds ${fmt(amount, 6)} to the ${fmt(before, 6)} it already holds, and ∞ − ∞ has no value: NaN`;
      else why = `it sends v̄ × local derivative = ${fmt(upstream, 6)} × ${fmt(d, 6)} = ${nonFiniteName(amount)} to #${src}`;
      findings.push({ kind: "propagation", node: s.index, coordinate: null, text: `In reverse mode, ${label(s.index)} is the first node to give an operand a${nan ? " NaN" : "n infinite"} cotangent: ${why}.` });
      if (nan) nanReported = true;
      else infiniteReported = true;
    });
  }

  const tangents = [a.tangentAlongX, a.tangentAlongY];
  COORDINATES.forEach((c, ci) => {
    const t = tangents[ci];
    for (const e of entries) {
      const v = t[e.index];
      if (e.op === "input" || v === null || Number.isFinite(v)) continue;
      const terms = e.inputs.flatMap((src, j) => (src === null || t[src] === null ? [] : [{ src, d: local[e.index][j]!, tangent: t[src]! }]));
      const culprit = terms.find((term) => !Number.isFinite(term.d * term.tangent)) ?? terms[0];
      if (culprit === undefined) break;
      const product = culprit.d * culprit.tangent;
      const why = !Number.isFinite(culprit.tangent)
        ? `it adds up ${terms.map((term) => fmt(term.d * term.tangent, 6)).join(" + ")}`
        : Number.isNaN(product) && !Number.isNaN(culprit.d)
          ? `∞·0 (local derivative ${fmt(culprit.d, 6)} times tangent ${fmt(culprit.tangent, 6)}) has no value`
          : `local derivative × tangent = ${fmt(culprit.d, 6)} × ${fmt(culprit.tangent, 6)}`;
      findings.push({ kind: "propagation", node: e.index, coordinate: c, text: `In forward mode along ${c}, ${label(e.index)} is the first node whose tangent is ${nonFiniteName(v)}: ${why}.` });
      break;
    }
  });

  // Derivatives that stay finite beside a broken local derivative: the path and the symbolic zero.
  if (brokenEdges.length > 0) {
    COORDINATES.forEach((c, ci) => {
      const rev = a.gradient[ci];
      const fwd = ci === 0 ? a.jvpX : a.jvpY;
      if (!Number.isFinite(rev) || !Number.isFinite(fwd)) return;
      const edge = brokenEdges.find((b) => tangents[ci][b.src] === null);
      if (edge === undefined) return;
      const other = COORDINATES[1 - ci];
      const d = local[edge.node][edge.slot]!;
      findings.push({
        kind: "symbolic-zero", node: edge.node, coordinate: c,
        text: `${partialName(c)} = ${fmt(rev, 8)} stays finite beside the ${nonFiniteName(d)} at ${label(edge.node)}: that local derivative lies on a path from ${other} only. Reverse mode sends its product to ${other}'s cotangent, never to ${c}'s. Forward mode along ${c} gives ${other} no tangent at all (a symbolic zero), so the rule never computes 0 × ${nonFiniteName(d)}, which would be NaN.`,
      });
    });
  }

  // 4. Kinks: relu and abs exactly at 0, where the library picks a convention; rules whose formula has no value.
  const ends = sweepState(a.tape, Number.MAX_SAFE_INTEGER).nodes;
  const kinked = COORDINATES.map((_, ci) => hasKink(a, ci));
  for (const e of entries) {
    if ((e.op !== "relu" && e.op !== "abs") || !live.has(e.index)) continue;
    const u = operandValues(e, values)[0];
    if (u !== 0) continue;
    const slopes = e.op === "relu" ? "0 on the left and 1 on the right" : "−1 on the left and 1 on the right";
    const convention = e.op === "relu" ? "relu′(0) = 0" : "abs′(0) = sign(0) = 0";
    const affected = COORDINATES.filter((_, ci) => tangents[ci][e.index] !== null);
    const bar = ends[e.index].cotangent ?? 0;
    if (!affected.some((c) => kinked[c === "x" ? 0 : 1])) {
      const flat = affected.map((c) => {
        const ci = c === "x" ? 0 : 1;
        return `along ${c} its one-sided slopes agree (${fmt(a.fd.left[ci], 4)} and ${fmt(a.fd.right[ci], 4)})`;
      });
      findings.push({
        kind: "kink-harmless", node: e.index, coordinate: null,
        text: `${label(e.index)} sits exactly on its kink (u = 0), where its slope jumps from ${slopes}, but f has no kink here: ${flat.join(", and ")}.${bar === 0 ? ` The node's v̄ = ∂f/∂v${e.index} is 0, so whichever slope the library picks (${convention}) is multiplied by 0 before it reaches an input.` : ""} The modes' numbers are f's derivatives, not a convention.`,
      });
      continue;
    }
    const sides = affected.filter((c) => kinked[c === "x" ? 0 : 1]).map((c) => {
      const ci = c === "x" ? 0 : 1;
      const central = ci === 0 ? a.fd.dx : a.fd.dy;
      const [left, right] = [a.fd.left[ci], a.fd.right[ci]];
      const word = left < right
        ? "every number between them is a subgradient (f is convex across this kink)"
        : "every number between them is a supergradient (f is concave across this kink, so “subgradient”, the word for convex kinks, does not apply)";
      return `along ${c}, f's slope is ${fmt(left, 4)} from the left and ${fmt(right, 4)} from the right, and ${word}; the central difference straddles the kink and averages them: ${fmt(central, 4)}`;
    });
    findings.push({
      kind: "kink", node: e.index, coordinate: null,
      text: `${label(e.index)} sits exactly on its kink (u = 0): its slope is ${slopes}, so no single derivative exists there. The library uses the convention ${convention}, which both modes apply, and picks one of the admissible slopes. ${sides.length > 0 ? `Here ${sides.join("; ")}.` : ""}`,
    });
  }
  for (const e of entries) {
    if (e.op !== "pow" || !live.has(e.index)) continue;
    const [base, exponent] = operandValues(e, values);
    if (base !== 0 && exponent !== 0) continue;
    if (base !== 0 || exponent < 0) continue;
    const parts: string[] = [];
    if (exponent === 0 && e.inputs[0] !== null) parts.push("its rule for ∂/∂a, b·a^(b−1), is 0·0⁻¹ = 0·∞ at (0, 0), which has no value; the library takes it as 0 where b = 0, the true slope, since a⁰ = 1 for every a");
    if (e.inputs[1] !== null) {
      parts.push(exponent === 0
        ? "its rule for ∂/∂b, a^b·ln a, is 1·ln 0 = −∞ at (0, 0); the library takes it as 0 where a = 0, a convention only: 0^b is 0 for b > 0, 1 at b = 0 and ∞ for b < 0, so along b f jumps and has no derivative"
        : `its rule for ∂/∂b, a^b·ln a, is 0·ln 0 = 0·(−∞) at a = 0, which has no value; the library takes it as 0 where a = 0, the true slope, since 0^b = 0 for every b > 0`);
    }
    if (parts.length === 0) continue;
    const zeroZero = base === 0 && exponent === 0 ? " 0⁰ = 1 by the convention of IEEE 754 pow (and of JavaScript's Math.pow)." : "";
    findings.push({
      kind: "convention", node: e.index, coordinate: null,
      text: `${label(e.index)} computes ${fmt(base, 4)}^${fmt(exponent, 4)} = ${fmt(values[e.index], 4)}.${zeroZero} Where a formula has no value, the table shows the library's convention beside it: ${parts.join("; ")}.`,
    });
  }

  // 5. Finite differences that are not derivatives.
  COORDINATES.forEach((c, ci) => {
    const central = ci === 0 ? a.fd.dx : a.fd.dy;
    const h = ci === 0 ? a.fd.hx : a.fd.hy;
    const rev = a.gradient[ci];
    const [before, after] = a.fd.around[ci];
    const values = `f(${c} − h) = ${fmt(before, 4)} and f(${c} + h) = ${fmt(after, 4)} with h = ${fmt(h, 3)}`;
    if (!Number.isFinite(central)) {
      const why = Number.isNaN(before) || Number.isNaN(after)
        ? "f has no value on at least one side of the point"
        : !Number.isFinite(before) && !Number.isFinite(after) && before === after
          ? "their difference is ∞ − ∞, which has no value"
          : "f is infinite on one side, so the difference is infinite";
      findings.push({ kind: "fd-nonfinite", node: null, coordinate: c, text: `The central difference along ${c} is ${nonFiniteName(central)}: ${values}, and ${why}. There is no finite slope to estimate.` });
      return;
    }
    if (!Number.isFinite(a.value)) {
      const coarse = a.fdLadder.find((r) => r.h === 1e-2);
      const fine = a.fdLadder.find((r) => r.h === 1e-4);
      const growth = coarse && fine ? ` Shrinking h only makes it larger: ${fmt(ci === 0 ? coarse.dx : coarse.dy, 3)} at h = 10⁻², ${fmt(ci === 0 ? fine.dx : fine.dy, 3)} at h = 10⁻⁴.` : "";
      findings.push({
        kind: "fd-pole", node: null, coordinate: c,
        text: `The central difference along ${c}, ${fmt(central, 3)}, is not a derivative: f has a pole at the point, ${values} are huge, and their difference over 2h grows without bound as h shrinks.${growth}`,
      });
      return;
    }
    if (kinked[ci]) {
      findings.push({
        kind: "fd-not-derivative", node: null, coordinate: c,
        text: `The central difference along ${c}, ${fmt(central, 4)}, is not a derivative: f has a kink at the point along ${c}. Its slope is ${fmt(a.fd.left[ci], 4)} from the left and ${fmt(a.fd.right[ci], 4)} from the right, the same at h = ${fmt(h, 3)} and at h/16, so no derivative exists, and the central difference is only the average of the two slopes.`,
      });
      return;
    }
    const scale = Math.max(1, Math.abs(rev));
    if (Number.isFinite(rev) && Math.abs(central - rev) > 1e-4 * scale && !findings.some((f) => f.kind === "kink")) {
      findings.push({
        kind: "fd-mismatch", node: null, coordinate: c,
        text: `The central difference along ${c} (${fmt(central, 6)}) differs from both modes (${fmt(rev, 6)}): f is not smooth within h = ${fmt(h, 3)} of the point, or h is too large for its curvature. One-sided slopes: ${fmt(a.fd.left[ci], 6)} from the left, ${fmt(a.fd.right[ci], 6)} from the right.`,
      });
    }
  });

  // 6. The two modes against each other.
  COORDINATES.forEach((c, ci) => {
    const rev = a.gradient[ci];
    const fwd = ci === 0 ? a.jvpX : a.jvpY;
    const same = Object.is(rev, fwd) || (Number.isNaN(rev) && Number.isNaN(fwd)) || Math.abs(rev - fwd) <= 1e-12 * Math.max(1, Math.abs(rev));
    if (same) return;
    findings.push({
      kind: "modes-differ", node: null, coordinate: c,
      text: `Reverse mode gives ${partialName(c)} = ${fmt(rev, 8)} and forward mode ${fmt(fwd, 8)}. They multiply the same local derivatives in different orders and groupings; with a NaN or ∞ among them the order decides which products are formed (see the first non-finite cotangent and tangent above).`,
    });
  });

  return findings;
}

/** The tape entry where the first NaN or ∞ appears (in a value, a local derivative, a cotangent or a tangent), or null. */
export function firstNonFiniteNode(findings: Finding[]): number | null {
  const first = findings.find((f) => f.node !== null && f.kind !== "kink" && f.kind !== "kink-harmless" && f.kind !== "convention" && f.kind !== "no-value" && f.kind !== "symbolic-zero");
  return first?.node ?? null;
}
