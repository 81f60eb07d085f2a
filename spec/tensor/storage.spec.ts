/**
 * Where kernel outputs get their memory (lib/tensor/storage.ts): the BufferPool
 * of a linear program (buffers reused by dtype and length, reference counts,
 * zeroing, giving a buffer away) and allocateOutput (fresh storage, small
 * outputs cut from a shared slab, a pool while one is installed).
 */
import { expect } from "chai";
import { BufferPool, allocateOutput, outputsPooled, withOutputSource } from "../../lib/tensor/storage.js";

describe("tensor/storage: BufferPool", () => {
  it("reuses a released buffer of the same dtype and length, and only such a buffer", () => {
    const pool = new BufferPool();
    const a = pool.take("float64", 10, true);
    expect(a).to.be.instanceOf(Float64Array).with.length(10);
    expect(pool.owns(a)).to.equal(true);
    expect(pool.bytes).to.equal(80);
    pool.retain(a);
    pool.release(a);
    expect(pool.take("float64", 11, true)).to.not.equal(a);
    expect(pool.take("float32", 10, true)).to.be.instanceOf(Float32Array);
    expect(pool.take("float64", 10, true)).to.equal(a);
    expect(pool.bytes).to.equal(80 + 88 + 40);
    expect(pool.owns(new Float64Array(10))).to.equal(false);
  });

  it("counts the live values using a buffer: it is free only when the last is released", () => {
    const pool = new BufferPool();
    const a = pool.take("float64", 4, true);
    pool.retain(a);
    pool.retain(a);
    pool.release(a);
    const b = pool.take("float64", 4, true);
    expect(b).to.not.equal(a);
    pool.release(a);
    expect(pool.take("float64", 4, true)).to.equal(a);
    // freeIfUnused frees a temporary nobody retained, and leaves a retained one alone.
    pool.retain(b);
    pool.freeIfUnused(b);
    const c = pool.take("float64", 4, true);
    expect(c).to.not.equal(b);
    pool.freeIfUnused(c);
    expect(pool.take("float64", 4, true)).to.equal(c);
  });

  it("zeroes a reused buffer when asked, and leaves it as it was otherwise", () => {
    const pool = new BufferPool();
    const a = pool.take("float64", 3, true);
    a.set([1, 2, 3]);
    pool.freeIfUnused(a);
    expect(Array.from(pool.take("float64", 3, false))).to.deep.equal([1, 2, 3]);
    pool.freeIfUnused(a);
    expect(Array.from(pool.take("float64", 3, true))).to.deep.equal([0, 0, 0]);
  });

  it("reports the buffers taken since mark(), frees everything with releaseAll, and forgets a buffer it disowns", () => {
    const pool = new BufferPool();
    const a = pool.take("float64", 2, true);
    pool.retain(a);
    pool.mark();
    const b = pool.take("float64", 5, true);
    const c = pool.take("float32", 5, true);
    expect(pool.takenSinceMark()).to.deep.equal([b, c]);
    pool.retain(b);
    pool.releaseAll();
    expect([pool.take("float64", 2, true), pool.take("float64", 5, true)]).to.deep.equal([a, b]);
    // A disowned buffer (a result handed out without a copy) is never handed out again.
    pool.disown(b);
    expect(pool.owns(b)).to.equal(false);
    expect(pool.bytes).to.equal(16 + 20);
    pool.release(b);
    expect(pool.take("float64", 5, true)).to.not.equal(b);
    // Disowning a free buffer takes it off the free list too.
    pool.freeIfUnused(c);
    pool.disown(c);
    expect(pool.take("float32", 5, true)).to.not.equal(c);
  });
});

describe("tensor/storage: allocateOutput", () => {
  it("gives fresh zeroed storage, small outputs side by side in a shared slab, large ones their own buffer", () => {
    // 160 bytes each: a slab holds 51, so of three in a row at least two share one, the later placed after the earlier.
    const small = [allocateOutput("float64", 20), allocateOutput("float64", 20), allocateOutput("float64", 20)];
    let shared = 0;
    for (let i = 1; i < small.length; i++) {
      if (small[i].buffer === small[i - 1].buffer) {
        shared++;
        expect(small[i].byteOffset).to.be.at.least(small[i - 1].byteOffset + small[i - 1].byteLength);
      } else expect([small[i].byteOffset, small[i].buffer.byteLength]).to.deep.equal([0, 8192]);
    }
    expect(shared).to.be.at.least(1);
    for (const t of small) expect(Array.from(t)).to.deep.equal(new Array(20).fill(0));
    const large = allocateOutput("float64", 100);
    expect(large.byteOffset).to.equal(0);
    expect(large.buffer.byteLength).to.equal(800);
    expect(allocateOutput("float64", 8).buffer.byteLength).to.equal(64);
    expect(allocateOutput("float32", 20)).to.be.instanceOf(Float32Array);
  });

  it("takes its storage from the pool installed by withOutputSource, restored afterwards even on an error", () => {
    const pool = new BufferPool();
    expect(outputsPooled()).to.equal(false);
    const taken = withOutputSource(pool, () => {
      expect(outputsPooled()).to.equal(true);
      // Nested: fresh storage inside, the pool again after.
      withOutputSource(null, () => expect(pool.owns(allocateOutput("float64", 200))).to.equal(false));
      return allocateOutput("float64", 200);
    });
    expect(pool.owns(taken)).to.equal(true);
    expect(outputsPooled()).to.equal(false);
    expect(() => withOutputSource(pool, () => { throw new Error("inside"); })).to.throw("inside");
    expect(outputsPooled()).to.equal(false);
  });
});
