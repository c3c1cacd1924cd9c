/** GAN objectives on the raw PatchGAN map (facts 1.5): LSGAN (MSE to 1/0) or vanilla (BCE with logits). */
import { tf, type Tensor, type Scalar } from '../tf.ts';

export type GanMode = 'lsgan' | 'vanilla';

/** Loss of a prediction map against the real (1) or fake (0) label, averaged over the map. */
export function ganLoss(pred: Tensor, targetIsReal: boolean, mode: GanMode): Scalar {
  return tf.tidy(() => {
    const target = targetIsReal ? 1 : 0;
    if (mode === 'lsgan') return tf.mean(tf.square(tf.sub(pred, target))) as Scalar;
    return tf.losses.sigmoidCrossEntropy(tf.fill(pred.shape, target), pred) as Scalar;
  });
}

/** Least-squares loss of `pred` against a constant target, as a pure helper for tests. */
export function lsgan(pred: Tensor, target: number): Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(pred, target))) as Scalar);
}
