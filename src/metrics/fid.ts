/**
 * Frechet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):
 *   FID = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).
 *
 * Tr (S1 S2)^(1/2) is the sum of square roots of the eigenvalues of S1 S2, taken from a symmetric
 * PSD matrix with the same nonzero eigenvalues, never from the non-symmetric sqrtm of the reference
 * code, whose complex round-off is a known source of trouble when covariances are rank deficient
 * (as here: ~100 images in 768-d). Two such matrices:
 *  - from the statistics, S1^(1/2) S2 S1^(1/2) (d x d), via the eigenvectors of S1;
 *  - from the samples: with A (m x d), B (n x d) the centred features and C = A B^T / sqrt((m-1)(n-1)),
 *    S1 S2 = A^T C B / sqrt((m-1)(n-1)) has the nonzero eigenvalues of C B A^T / sqrt((m-1)(n-1))
 *    = C C^T (XY and YX share nonzero eigenvalues). With fewer images than dimensions this m x m problem is
 *    exact and far faster.
 *
 * FID is biased upwards at small sample sizes; compare values only at equal set sizes.
 */
import { covariance, matmulTransposed, matrix, mean, symmetricEigen, symmetrize, trace, transpose, type Matrix } from './linalg.ts';

export interface FeatureStats {
  mu: Float64Array;
  sigma: Matrix;
}

type Features = readonly ArrayLike<number>[];

export function featureStats(features: Features): FeatureStats {
  const mu = mean(features);
  return { mu, sigma: covariance(features, mu) };
}

/** FID from precomputed statistics (e.g. of a large reference set); O(d^3), a few seconds at d = 768. */
export function fidFromStats(a: FeatureStats, b: FeatureStats): number {
  const d = a.mu.length;
  if (b.mu.length !== d || a.sigma.rows !== d || b.sigma.rows !== d) {
    throw new RangeError(`fid: statistics of dimension ${d} and ${b.mu.length}`);
  }
  // With S1 = V L V^T: S1^(1/2) S2 S1^(1/2) = V (L^(1/2) V^T S2 V L^(1/2)) V^T, and the bracket has the
  // same eigenvalues; forming it costs two products instead of three.
  const { values, vectors } = symmetricEigen(a.sigma, { vectors: true });
  if (!vectors) throw new Error('unreachable: eigenvectors were requested');
  const vt = transpose(vectors);
  // matmulTransposed(X, Y) = X Y^T; S2 is symmetric, so V^T S2 = V^T (S2)^T.
  const rotated = matmulTransposed(matmulTransposed(vt, b.sigma), vt);
  const root = Float64Array.from(values, (l) => Math.sqrt(Math.max(l, 0)));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) rotated.data[i * d + j]! *= root[i]! * root[j]!;
  }
  return squaredDistance(a.mu, b.mu) + trace(a.sigma) + trace(b.sigma) - 2 * sumSqrtEigenvalues(symmetrize(rotated));
}

export function fid(x: Features, y: Features): number {
  const m = x.length;
  const n = y.length;
  if (m < 2 || n < 2) throw new RangeError(`fid needs at least 2 images per set (got ${m} and ${n})`);
  const d = x[0]!.length;
  if (Math.min(m, n) > d) return fidFromStats(featureStats(x), featureStats(y));

  const muX = mean(x);
  const muY = mean(y);
  if (muY.length !== d) throw new RangeError(`fid: features of dimension ${d} and ${muY.length}`);
  const A = centred(x, muX);
  const B = centred(y, muY);
  const C = matmulTransposed(A, B);
  const scale = 1 / Math.sqrt((m - 1) * (n - 1));
  for (let i = 0; i < C.data.length; i++) C.data[i]! *= scale;
  const gram = m <= n ? matmulTransposed(C, C) : matmulTransposed(transpose(C), transpose(C));
  const traceX = sumOfSquares(A.data) / (m - 1);
  const traceY = sumOfSquares(B.data) / (n - 1);
  return squaredDistance(muX, muY) + traceX + traceY - 2 * sumSqrtEigenvalues(symmetrize(gram));
}

/** Rounding leaves the zero eigenvalues of a rank-deficient PSD matrix at +-tiny; clamp those. */
function sumSqrtEigenvalues(psd: Matrix): number {
  let s = 0;
  for (const l of symmetricEigen(psd, { vectors: false }).values) s += Math.sqrt(Math.max(l, 0));
  return s;
}

function centred(rows: Features, mu: Float64Array): Matrix {
  const d = mu.length;
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new RangeError(`fid: features of dimension ${r.length} and ${d}`);
    for (let k = 0; k < d; k++) out[i * d + k] = r[k]! - mu[k]!;
  });
  return matrix(rows.length, d, out);
}

function squaredDistance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

function sumOfSquares(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return s;
}
