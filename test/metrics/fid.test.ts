import { describe, expect, it } from 'vitest';
import { featureStats, fid, fidFromStats } from '../../src/metrics/fid.ts';
import { matmul, matrix, transpose } from '../../src/metrics/linalg.ts';
import { createRng } from '../../src/util/rng.ts';

function diagonal(values: number[]) {
  const n = values.length;
  const m = matrix(n, n);
  values.forEach((v, i) => (m.data[i * n + i] = v));
  return m;
}

describe('fid', () => {
  it('is 0 for identical Gaussians with a full covariance', () => {
    const rng = createRng(1);
    const n = 50;
    const b = matrix(n, n, Float64Array.from({ length: n * n }, () => rng.normal()));
    const sigma = matmul(b, transpose(b));
    const mu = Float64Array.from({ length: n }, () => rng.normal());
    expect(Math.abs(fidFromStats({ mu, sigma }, { mu, sigma }))).toBeLessThan(1e-8);
  });

  it('matches the closed form for diagonal covariances', () => {
    // FID = |mu1 - mu2|^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2
    const s1 = [1, 4, 9, 0.25, 2];
    const s2 = [4, 1, 9, 1, 0.5];
    const mu1 = Float64Array.from([0, 1, 2, 3, 4]);
    const mu2 = Float64Array.from([1, 1, 0, 3, 4]);
    const expected = 1 + 4 + s1.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(s2[i]!)) ** 2, 0);
    const value = fidFromStats({ mu: mu1, sigma: diagonal(s1) }, { mu: mu2, sigma: diagonal(s2) });
    expect(value).toBeCloseTo(expected, 10);
  });

  it('is invariant to a common rotation of both sets', () => {
    const rng = createRng(2);
    const d = 6;
    const x = Array.from({ length: 40 }, () => Float64Array.from({ length: d }, (_, k) => (k + 1) * rng.normal()));
    const y = Array.from({ length: 30 }, () => Float64Array.from({ length: d }, (_, k) => 1 + rng.normal() * (d - k)));
    const theta = 0.7;
    const rotate = (v: Float64Array): Float64Array => {
      const r = Float64Array.from(v);
      r[0] = Math.cos(theta) * v[0]! - Math.sin(theta) * v[1]!;
      r[1] = Math.sin(theta) * v[0]! + Math.cos(theta) * v[1]!;
      return r;
    };
    expect(fid(x.map(rotate), y.map(rotate))).toBeCloseTo(fid(x, y), 8);
  });

  it('samples of one distribution score far below samples of two', () => {
    const rng = createRng(3);
    const d = 16;
    const draw = (n: number, shift: number): Float64Array[] =>
      Array.from({ length: n }, () => Float64Array.from({ length: d }, () => shift + rng.normal()));
    const same = fid(draw(2000, 0), draw(2000, 0));
    const diff = fid(draw(2000, 0), draw(2000, 1));
    expect(same).toBeGreaterThanOrEqual(-1e-9);
    expect(same).toBeLessThan(0.1);
    expect(diff).toBeGreaterThan(15);
    expect(diff).toBeLessThan(17.5);
  });

  it('stays finite with fewer samples than dimensions (rank-deficient covariances)', () => {
    const rng = createRng(4);
    const draw = (): Float64Array[] => Array.from({ length: 20 }, () => Float64Array.from({ length: 64 }, () => rng.normal()));
    const value = fid(draw(), draw());
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(0);
    expect(featureStats(draw()).sigma.rows).toBe(64);
  });
});

describe('fid routes', () => {
  it('the sample-space route (fewer images than dimensions) equals the covariance route', () => {
    const rng = createRng(5);
    const d = 30;
    const x = Array.from({ length: 12 }, () => Float64Array.from({ length: d }, (_, k) => rng.normal() * (1 + k / 10)));
    const y = Array.from({ length: 17 }, () => Float64Array.from({ length: d }, () => 0.2 + rng.normal()));
    const viaStats = fidFromStats(featureStats(x), featureStats(y));
    // the covariance route takes square roots of rounding-level eigenvalues (rank 11 in 30-d),
    // which costs it ~sqrt(eps) of accuracy; the sample route has no such step
    expect(fid(x, y)).toBeCloseTo(viaStats, 5);
    expect(fid(y, x)).toBeCloseTo(fid(x, y), 9);
  });

  it('both routes agree on 768-d features, the statistics route within seconds', () => {
    const rng = createRng(6);
    const d = 768;
    const x = Array.from({ length: 120 }, () => Float64Array.from({ length: d }, (_, k) => rng.normal() * (1 + (k % 7) / 7)));
    const y = Array.from({ length: 140 }, () => Float64Array.from({ length: d }, () => 0.05 + rng.normal()));
    const t0 = performance.now();
    const samples = fid(x, y);
    const t1 = performance.now();
    const stats = fidFromStats(featureStats(x), featureStats(y));
    const t2 = performance.now();
    expect(stats).toBeCloseTo(samples, 4);
    expect(t1 - t0).toBeLessThan(5_000);
    // generous: a loaded 2-core CI runner is several times slower than an idle one
    expect(t2 - t1).toBeLessThan(60_000);
  });
});
