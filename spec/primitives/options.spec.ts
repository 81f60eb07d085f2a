/**
 * lib/primitives/options.ts: readOptions accepts exactly the plain objects a
 * schema declares, each kind accepts exactly its values, and the Errors name
 * the function, the option and what it must be. The public functions' own
 * option checks are exercised by spec/contract; here the helper itself, and
 * that lib writes the check nowhere else.
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { described, is, kind, readOptions, required, type OptionKind } from "../../lib/primitives/options.js";
import { tensor } from "../../lib/index.js";

function message(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  return expect.fail("expected an Error");
}

const SCHEMA = { tol: is.positive, history: is.boolean, mode: is.oneOf(["fwd", "rev"]) };

describe("options: readOptions", () => {
  it("an absent argument reads as {}; a plain object (also without prototype) is returned as it is", () => {
    expect(readOptions("f", undefined, SCHEMA)).to.deep.equal({});
    const given = { tol: 0.5, mode: "rev" };
    expect(readOptions("f", given, SCHEMA)).to.equal(given);
    const bare = Object.assign(Object.create(null) as object, { history: true });
    expect(readOptions("f", bare, SCHEMA)).to.equal(bare);
  });

  it("anything but a plain object is an Error listing the options", () => {
    class Options { tol = 1; }
    for (const bad of [null, 3, "tol", true, [1], new Map(), new Options(), tensor([1]), () => 1]) {
      expect(message(() => readOptions("f", bad, SCHEMA))).to.match(/^f: options must be a plain object \{ tol, history, mode \}, got /);
    }
    expect(message(() => readOptions("f", undefined, SCHEMA, { required: true }))).to.equal("f: options must be a plain object { tol, history, mode }, got undefined");
  });

  it("an unknown key is an Error naming it and the options; one set to undefined counts as absent", () => {
    expect(message(() => readOptions("f", { tolerance: 1 }, SCHEMA))).to.equal('f: unknown option "tolerance" (the options are tol, history, mode)');
    expect(readOptions("f", { tolerance: undefined, tol: undefined }, SCHEMA)).to.deep.equal({ tolerance: undefined, tol: undefined });
    const misplaced = (key: string) => (key === "restart" ? "option restart belongs to gmres" : undefined);
    expect(message(() => readOptions("f", { restart: 3 }, SCHEMA, { misplaced }))).to.equal("f: option restart belongs to gmres");
    expect(message(() => readOptions("f", { other: 3 }, SCHEMA, { misplaced }))).to.match(/^f: unknown option "other"/);
  });

  it("a value of the wrong kind is an Error naming the option, what it must be and what it got", () => {
    expect(message(() => readOptions("f", { tol: -1 }, SCHEMA))).to.equal("f: tol must be a positive finite number, got number -1");
    expect(message(() => readOptions("f", { history: "yes" }, SCHEMA))).to.equal('f: history must be a boolean, got the string "yes"');
    expect(message(() => readOptions("f", { mode: "REV" }, SCHEMA))).to.equal('f: mode must be one of "fwd", "rev", got the string "REV"');
    expect(message(() => readOptions("f", { tol: null }, SCHEMA))).to.match(/^f: tol must be a positive finite number, got null/);
  });

  it("a field other than options names its entries as field.key; required entries must be given", () => {
    const sizes = { primal: required(is.positiveInteger), equality: is.nonNegativeInteger };
    expect(message(() => readOptions("g", { equality: 1 }, sizes, { what: "sizes" }))).to.equal("g: sizes.primal must be a positive integer, got undefined");
    expect(message(() => readOptions("g", { primal: 1, dual: 2 }, sizes, { what: "sizes" }))).to.equal("g: unknown entry sizes.dual (sizes has primal, equality)");
    expect(readOptions("g", { primal: 2 }, sizes, { what: "sizes" })).to.deep.equal({ primal: 2 });
  });

  it("each kind accepts exactly its values (never coercing strings, booleans or null)", () => {
    const junk = [true, null, {}, [1], NaN];
    const table: [string, OptionKind<unknown>, unknown[], unknown[]][] = [
      ["boolean", is.boolean, [true, false], [0, 1, "true"]],
      ["function", is.function(), [() => 1, Math.max], [1, "f"]],
      ["nonEmptyString", is.nonEmptyString, ["a", " b "], ["", "  ", 1]],
      ["oneOf", is.oneOf(["a", "b"]), ["a", "b"], ["c", "A"]],
      ["positive", is.positive, [1e-300, 1, 1e300], [0, -1, Infinity, -0]],
      ["positiveOrInfinity", is.positiveOrInfinity, [1e-300, Infinity], [0, -Infinity]],
      ["nonNegative", is.nonNegative, [0, 2.5], [-1e-300, Infinity]],
      ["nonNegativeOrInfinity", is.nonNegativeOrInfinity, [0, Infinity], [-1, -Infinity]],
      ["finite", is.finite, [-3, 0, 1e300], [Infinity, -Infinity]],
      ["integer", is.integer, [-3, 0, 2 ** 53 + 2], [1.5, Infinity]],
      ["positiveInteger", is.positiveInteger, [1, 1e20], [0, 1.5, -1, Infinity]],
      ["nonNegativeInteger", is.nonNegativeInteger, [0, 7], [-1, 0.5, Infinity]],
      ["given", is.given("a thing"), [0, "", false, {}], [null]],
    ];
    for (const [name, k, good, bad] of table) {
      for (const v of good) expect(k.accepts(v), `${name} accepts ${String(v)}`).to.equal(true);
      for (const v of [...bad, ...(name === "given" ? [] : junk.filter((j) => !good.includes(j))), ...(["nonEmptyString", "oneOf", "given"].includes(name) ? [] : ["1"])]) {
        expect(k.accepts(v), `${name} refuses ${String(v)}`).to.equal(false);
      }
    }
    const custom = described(kind<number>("an even number", (v) => typeof v === "number" && v % 2 === 0), "an even number of steps");
    expect(message(() => readOptions("f", { steps: 3 }, { steps: custom }))).to.equal("f: steps must be an even number of steps, got number 3");
  });

  it("lib writes the plain-object and unknown-key check only here", () => {
    const lib = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "lib");
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
    const writers = files(lib).filter((f) => /getPrototypeOf\(|unknown option "/.test(readFileSync(f, "utf8"))).map((f) => relative(lib, f));
    expect(writers).to.deep.equal(["primitives/options.ts"]);
  });
});
