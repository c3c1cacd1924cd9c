import { describe, expect, it } from 'vitest';
import { covariance, identity, matmul, matmulTransposed, matrix, mean, sqrtPsd, symmetricEigen, transpose, type Matrix } from '../../src/metrics/linalg.ts';
import { createRng, type Rng } from '../../src/util/rng.ts';

function randomMatrix(rows: number, cols: number, rng: Rng): Matrix {
  return matrix(rows, cols, Float64Array.from({ length: rows * cols }, () => rng.normal()));
}

/** Q diag(values) Q^T with Q the orthogonal factor of a random matrix (Gram-Schmidt). */
function withSpectrum(values: number[], rng: Rng): Matrix {
  const n = values.length;
  const q = randomMatrix(n, n, rng).data;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i * n + j]! * q[i * n + k]!;
      for (let i = 0; i < n; i++) q[i * n + j]! -= dot * q[i * n + k]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[i * n + j]! ** 2;
    for (let i = 0; i < n; i++) q[i * n + j]! /= Math.sqrt(norm);
  }
  const Q = matrix(n, n, q);
  const QD = matrix(n, n, Float64Array.from(q, (v, idx) => v * values[idx % n]!));
  return matmul(QD, transpose(Q));
}

function maxAbsDiff(a: Matrix, b: Matrix): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

describe('linalg', () => {
  it('matmul and transpose agree with a hand-computed product', () => {
    const a = matrix(2, 3, Float64Array.from([1, 2, 3, 4, 5, 6]));
    const b = matrix(3, 2, Float64Array.from([7, 8, 9, 10, 11, 12]));
    expect([...matmul(a, b).data]).toEqual([58, 64, 139, 154]);
    expect([...transpose(a).data]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('mean and covariance match the textbook definitions', () => {
    const rows = [Float64Array.from([1, 2]), Float64Array.from([3, 6]), Float64Array.from([5, 7])];
    expect([...mean(rows)]).toEqual([3, 5]);
    // centred: (-2,-3), (0,1), (2,2); divided by n - 1 = 2
    expect([...covariance(rows).data]).toEqual([4, 5, 5, 7]);
  });

  it('recovers a known spectrum and orthonormal eigenvectors of a random symmetric matrix', () => {
    const rng = createRng(7);
    const n = 40;
    const spectrum = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 0.1 + i * 0.37) * (i % 5 === 0 ? -1 : 1));
    const a = withSpectrum(spectrum, rng);
    const { values, vectors } = symmetricEigen(a);
    const sorted = [...spectrum].sort((x, y) => x - y);
    values.forEach((v, i) => expect(v).toBeCloseTo(sorted[i]!, 10));
    const V = vectors!;
    expect(maxAbsDiff(matmul(transpose(V), V), identity(n))).toBeLessThan(1e-12);
    const VL = matrix(n, n, Float64Array.from(V.data, (v, idx) => v * values[idx % n]!));
    expect(maxAbsDiff(matmul(VL, transpose(V)), a)).toBeLessThan(1e-11);
    const valuesOnly = symmetricEigen(a, { vectors: false });
    expect(valuesOnly.vectors).toBeUndefined();
    valuesOnly.values.forEach((v, i) => expect(v).toBeCloseTo(values[i]!, 10));
  });

  it('handles tiny and diagonal matrices', () => {
    expect([...symmetricEigen(matrix(1, 1, Float64Array.from([3]))).values]).toEqual([3]);
    expect([...symmetricEigen(matrix(3, 3, Float64Array.from([2, 0, 0, 0, -1, 0, 0, 0, 5]))).values]).toEqual([-1, 2, 5]);
  });

  it('sqrtPsd squares back to random SPD and rank-deficient PSD matrices', () => {
    const rng = createRng(11);
    const n = 60;
    const b = randomMatrix(n, n, rng);
    const spd = matmul(b, transpose(b));
    const root = sqrtPsd(spd);
    expect(maxAbsDiff(root, transpose(root))).toBeLessThan(1e-10);
    expect(maxAbsDiff(matmul(root, root), spd) / Math.max(...spd.data)).toBeLessThan(1e-11);
    // rank 10 in 60-d, like a covariance of 11 samples: eigenvalues at 0 must not turn into NaN
    const thin = randomMatrix(n, 10, rng);
    const psd = matmul(thin, transpose(thin));
    const r2 = sqrtPsd(psd);
    expect(r2.data.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(matmul(r2, r2), psd) / Math.max(...psd.data)).toBeLessThan(1e-7);
  });

  it('matmulTransposed is A B^T and handles odd inner sizes', () => {
    const rng = createRng(5);
    const a = randomMatrix(4, 7, rng);
    const b = randomMatrix(5, 7, rng);
    const direct = matmulTransposed(a, b);
    const viaTranspose = matmul(a, transpose(b));
    expect(maxAbsDiff(direct, viaTranspose)).toBeLessThan(1e-12);
    let e = 0;
    for (let k = 0; k < 7; k++) e += a.data[2 * 7 + k]! * b.data[3 * 7 + k]!;
    expect(direct.data[2 * 5 + 3]).toBeCloseTo(e, 12);
  });
});
