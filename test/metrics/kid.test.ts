import { describe, expect, it } from 'vitest';
import { kid, polynomialKernel } from '../../src/metrics/kid.ts';
import { createRng, type Rng } from '../../src/util/rng.ts';

function gaussianSet(n: number, d: number, rng: Rng, shift = 0, scale = 1): Float64Array[] {
  return Array.from({ length: n }, () => Float64Array.from({ length: d }, () => shift + scale * rng.normal()));
}

/** The textbook unbiased MMD^2, written as directly as possible. */
function bruteForceKid(x: Float64Array[], y: Float64Array[]): number {
  let xx = 0;
  let yy = 0;
  let xy = 0;
  x.forEach((a, i) => x.forEach((b, j) => (xx += i === j ? 0 : polynomialKernel(a, b))));
  y.forEach((a, i) => y.forEach((b, j) => (yy += i === j ? 0 : polynomialKernel(a, b))));
  x.forEach((a) => y.forEach((b) => (xy += polynomialKernel(a, b))));
  const m = x.length;
  const n = y.length;
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
}

describe('kid', () => {
  it('matches a hand-computed value on tiny vectors', () => {
    const x = [[1, 0], [0, 1], [1, 1]].map((v) => Float64Array.from(v));
    const y = [[0, 0], [2, 0], [0, 2]].map((v) => Float64Array.from(v));
    // k = (x.y/2 + 1)^3; off-diagonal K_xx sums to 15.5, K_yy to 6, K_xy to 37:
    // 15.5/6 + 6/6 - 2 * 37/9 = -167/36
    expect(polynomialKernel(x[2]!, x[2]!)).toBe(8);
    expect(kid(x, y).kid).toBeCloseTo(-167 / 36, 12);
  });

  it('agrees with the brute-force definition on unequal set sizes', () => {
    const rng = createRng(1);
    const x = gaussianSet(17, 5, rng);
    const y = gaussianSet(23, 5, rng, 0.3);
    expect(kid(x, y).kid).toBeCloseTo(bruteForceKid(x, y), 10);
  });

  it('jackknife SE equals the leave-one-out formula recomputed from scratch', () => {
    const rng = createRng(2);
    const x = gaussianSet(9, 4, rng);
    const y = gaussianSet(11, 4, rng, 0.5);
    const leave = (set: Float64Array[], i: number): Float64Array[] => set.filter((_, j) => j !== i);
    const lx = x.map((_, i) => bruteForceKid(leave(x, i), y));
    const ly = y.map((_, i) => bruteForceKid(x, leave(y, i)));
    const ssd = (v: number[]): number => {
      const mu = v.reduce((a, b) => a + b, 0) / v.length;
      return v.reduce((s, t) => s + (t - mu) ** 2, 0);
    };
    const expected = Math.sqrt((8 / 9) * ssd(lx) + (10 / 11) * ssd(ly));
    expect(kid(x, y).se).toBeCloseTo(expected, 10);
  });

  it('is ~0 within a distribution and clearly positive between different ones', () => {
    const rng = createRng(3);
    const d = 64;
    const a = gaussianSet(120, d, rng);
    const b = gaussianSet(140, d, rng);
    const far = gaussianSet(140, d, rng, 0.5, 1.3);
    const same = kid(a, b);
    const diff = kid(a, far);
    expect(Math.abs(same.kid)).toBeLessThan(3 * same.se);
    expect(diff.kid).toBeGreaterThan(0);
    expect(diff.kid).toBeGreaterThan(10 * diff.se);
    expect(diff.kid).toBeGreaterThan(20 * Math.abs(same.kid));
    expect(same.se).toBeGreaterThan(0);
  });

  it('jackknife SE tracks the true sampling spread of KID', () => {
    const rng = createRng(4);
    const d = 16;
    const values: number[] = [];
    const ses: number[] = [];
    for (let r = 0; r < 150; r++) {
      const res = kid(gaussianSet(40, d, rng), gaussianSet(50, d, rng, 0.15));
      values.push(res.kid);
      ses.push(res.se);
    }
    const mu = values.reduce((a, b) => a + b, 0) / values.length;
    const spread = Math.sqrt(values.reduce((s, v) => s + (v - mu) ** 2, 0) / (values.length - 1));
    const meanSe = ses.reduce((a, b) => a + b, 0) / ses.length;
    expect(meanSe / spread).toBeGreaterThan(0.7);
    expect(meanSe / spread).toBeLessThan(1.5);
  });

  it('reports the subset-mean estimate, reproducibly for a seed', () => {
    const rng = createRng(5);
    const x = gaussianSet(60, 8, rng);
    const y = gaussianSet(50, 8, rng, 0.4);
    const r1 = kid(x, y, { subsets: 20, subsetSize: 30, seed: 9 });
    const r2 = kid(x, y, { subsets: 20, subsetSize: 30, seed: 9 });
    expect(r1.subsets).toEqual(r2.subsets);
    expect(r1.subsets!.count).toBe(20);
    expect(r1.subsets!.mean).toBeGreaterThan(0);
    expect(Math.abs(r1.subsets!.mean - r1.kid)).toBeLessThan(4 * r1.se);
    expect(kid(x, y).subsets).toBeUndefined();
  });

  it('rejects sets that are too small or of mixed dimension', () => {
    const v = (n: number): Float64Array => new Float64Array(n);
    expect(() => kid([v(2), v(2)], [v(2), v(2), v(2)])).toThrow(RangeError);
    expect(() => kid([v(2), v(2), v(3)], [v(2), v(2), v(2)])).toThrow(RangeError);
  });

  it('handles 140x768 sets quickly', () => {
    const rng = createRng(6);
    const x = gaussianSet(120, 768, rng);
    const y = gaussianSet(140, 768, rng);
    const t0 = performance.now();
    kid(x, y);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
