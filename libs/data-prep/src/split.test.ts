import pl from 'nodejs-polars';
import { sampleMask } from './random.js';
import { assignSplits, splitFrame } from './split.js';
import { splitParams } from './test-helpers.js';

function labelsWith(counts: number[]): Int32Array {
  // Interleaved classes so that a split by position alone would not be stratified.
  const out: number[] = [];
  const left = [...counts];
  while (left.some((n) => n > 0)) left.forEach((n, c) => n > 0 && (out.push(c), left[c]!--));
  return Int32Array.from(out);
}

function countsBy(labels: Int32Array, assignment: Uint8Array, split: number, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  labels.forEach((l, i) => assignment[i] === split && c[l]!++);
  return c;
}

describe('assignSplits', () => {
  it('keeps the class ratios in every split when stratified', () => {
    const labels = labelsWith([900, 100]);
    const a = assignSplits(labels, 2, splitParams({ train: 0.7, valid: 0.15, test: 0.15 }));
    expect(countsBy(labels, a, 0, 2)).toEqual([630, 70]);
    expect(countsBy(labels, a, 1, 2)).toEqual([135, 15]);
    expect(countsBy(labels, a, 2, 2)).toEqual([135, 15]);
  });

  it('is a function of labels, fractions and seed only', () => {
    const labels = labelsWith([300, 200, 100]);
    const a = assignSplits(labels, 3, splitParams({ seed: 11 }));
    const b = assignSplits(labels, 3, splitParams({ seed: 11 }));
    const c = assignSplits(labels, 3, splitParams({ seed: 12 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    // A seeded shuffle, not a cut by position: the first 60% of rows are not all train.
    expect(a.subarray(0, 360).every((s) => s === 0)).toBe(false);
  });

  it('without stratification cuts all rows by the fractions', () => {
    const labels = labelsWith([50, 50]);
    const a = assignSplits(labels, 2, splitParams({ stratify: false, train: 0.5, valid: 0.25, test: 0.25 }));
    expect([0, 1, 2].map((s) => a.filter((x) => x === s).length)).toEqual([50, 25, 25]);
  });

  it('splits a frame keeping the row order inside each split', () => {
    const df = pl.DataFrame({ i: [0, 1, 2, 3, 4, 5] });
    const parts = splitFrame(df, Uint8Array.from([2, 0, 1, 0, 2, 0]));
    expect(parts.train.getColumn('i').toArray()).toEqual([1, 3, 5]);
    expect(parts.valid.getColumn('i').toArray()).toEqual([2]);
    expect(parts.test.getColumn('i').toArray()).toEqual([0, 4]);
  });
});

describe('sampleMask', () => {
  it('picks exactly n rows, the same ones for the same seed', () => {
    const a = sampleMask(1000, 100, 5);
    expect(a.reduce((s, v) => s + v, 0)).toBe(100);
    expect(Buffer.from(a).equals(Buffer.from(sampleMask(1000, 100, 5)))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(sampleMask(1000, 100, 6)))).toBe(false);
    expect(sampleMask(10, 20, 1).every((v) => v === 1)).toBe(true);
  });
});
