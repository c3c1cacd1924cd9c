/**
 * Pixel identity loss: mean |G(y) - y| over pixels and images. The official code has it only in
 * SinCUT (`--lambda_identity`, facts 1.7); CUT and FastCUT leave it at 0. CycleGAN's identity term is
 * the same L1: it keeps the colours of target-domain content, which PatchNCE (contrastive, blind to a
 * global colour shift) does not.
 */
import { tf, type Tensor4D, type Scalar } from '../tf.ts';

export function identityL1(translated: Tensor4D, original: Tensor4D): Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(translated, original))) as Scalar);
}
