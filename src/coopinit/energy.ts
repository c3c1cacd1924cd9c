/**
 * The energy-based model of CoopInit (facts 2.2/2.3): the PatchGAN's raw output map is the negative
 * energy, f_theta(y) = sum_p D(y)_p (CoopNets sums the descriptor's output units; `mean` divides by
 * the number of patches so the scale does not grow with resolution). The model density is
 *   p_theta(y) = exp(f_theta(y)) q(y) / Z,  q = N(0, s^2 I)  (optional reference, s = refSigma),
 * so log p = f - ||y||^2 / (2 s^2) - log Z. D is trained by maximum likelihood with the revised
 * translations as the model's samples: minimise mean f(revised) - mean f(real) (facts 2.2).
 *
 * Pure functions of tensors; each returns new tensors and frees its intermediates.
 */
import { tf, type Tensor1D, type Tensor4D, type Scalar } from '../tf.ts';

export type EnergyReduce = 'sum' | 'mean';

/** Negative energy per image, [B], from D's [B, h, w, 1] output map. */
export function negativeEnergy(map: Tensor4D, reduce: EnergyReduce): Tensor1D {
  return tf.tidy(() => (reduce === 'sum' ? tf.sum(map, [1, 2, 3]) : tf.mean(map, [1, 2, 3])) as Tensor1D);
}

/** f_theta as a function of images, for Langevin and the MLE loss. */
export function energyFunction(
  d: { forward(x: Tensor4D): Tensor4D },
  reduce: EnergyReduce,
): (y: Tensor4D) => Tensor1D {
  return (y) => tf.tidy(() => negativeEnergy(d.forward(y), reduce));
}

/**
 * log q(y) up to a constant, per image: -||y||^2 / (2 s^2); zeros when s = 0 (no reference). It
 * does not depend on theta, so it drops out of D's MLE gradient; it matters only for Langevin
 * (the y / s^2 pull toward 0) and for reporting the full unnormalised log density.
 */
export function referenceLogDensity(y: Tensor4D, refSigma: number): Tensor1D {
  return tf.tidy(() => {
    if (refSigma <= 0) return tf.zeros([y.shape[0]]) as Tensor1D;
    return tf.div(tf.sum(tf.square(y), [1, 2, 3]), -2 * refSigma * refSigma) as Tensor1D;
  });
}

/** Unnormalised log p_theta(y) = f(y) - ||y||^2 / (2 s^2), per image. */
export function logDensity(f: Tensor1D, y: Tensor4D, refSigma: number): Tensor1D {
  return tf.tidy(() => tf.add(f, referenceLogDensity(y, refSigma)) as Tensor1D);
}

export interface MleLoss {
  /** the minimised objective: EBM loss plus the optional penalty */
  total: Scalar;
  /** mean f(revised) - mean f(real) (facts 2.2: the CoopNets descriptor loss) */
  ebm: Scalar;
  /** alpha * (mean f(real)^2 + mean f(revised)^2); zero when alpha = 0 */
  penalty: Scalar;
}

/**
 * D's maximum-likelihood loss. The EBM loss is unbounded below (shifting or scaling f changes it
 * freely), so an optional alpha * (f(real)^2 + f(revised)^2) (the squared-energy regulariser common
 * in EBM training, facts 2.3 item 4) keeps the energies near zero.
 */
export function mleLoss(fReal: Tensor1D, fRevised: Tensor1D, alpha = 0): MleLoss {
  const ebm = tf.tidy(() => tf.sub(tf.mean(fRevised), tf.mean(fReal)) as Scalar);
  const penalty = tf.tidy(() =>
    alpha > 0 ? (tf.mul(tf.add(tf.mean(tf.square(fReal)), tf.mean(tf.square(fRevised))), alpha) as Scalar) : tf.scalar(0),
  );
  const total = tf.add(ebm, penalty) as Scalar;
  return { total, ebm, penalty };
}
