/**
 * Frechet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):
 *   FID = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).
 *
 * Tr (S1 S2)^(1/2) is computed as the sum of sqrt(eigenvalues) of the symmetric PSD matrix
 * S1^(1/2) S2 S1^(1/2), which has the same eigenvalues as S1 S2. That avoids the non-symmetric
 * matrix square root (scipy.linalg.sqrtm) of the reference code, whose complex round-off is a known
 * source of trouble when, as here with ~100 images in 768-d, both covariances are rank deficient.
 *
 * FID is biased upwards at small sample sizes; compare values only at equal set sizes.
 */
import { covariance, matmul, mean, sqrtPsd, symmetricEigen, symmetrize, trace, type Matrix } from './linalg.ts';

export interface FeatureStats {
  mu: Float64Array;
  sigma: Matrix;
}

export function featureStats(features: readonly ArrayLike<number>[]): FeatureStats {
  const mu = mean(features);
  return { mu, sigma: covariance(features, mu) };
}

export function fidFromStats(a: FeatureStats, b: FeatureStats): number {
  const d = a.mu.length;
  if (b.mu.length !== d || a.sigma.rows !== d || b.sigma.rows !== d) {
    throw new RangeError(`fid: statistics of dimension ${d} and ${b.mu.length}`);
  }
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mu[i]! - b.mu[i]!) ** 2;
  const root = sqrtPsd(a.sigma);
  const product = symmetrize(matmul(matmul(root, b.sigma), root));
  const { values } = symmetricEigen(product, { vectors: false });
  let traceRoot = 0;
  for (const l of values) traceRoot += Math.sqrt(Math.max(l, 0));
  return meanTerm + trace(a.sigma) + trace(b.sigma) - 2 * traceRoot;
}

export function fid(x: readonly ArrayLike<number>[], y: readonly ArrayLike<number>[]): number {
  if (x.length < 2 || y.length < 2) throw new RangeError(`fid needs at least 2 images per set (got ${x.length} and ${y.length})`);
  return fidFromStats(featureStats(x), featureStats(y));
}
