import { tf, type Tensor4D } from '../tf.ts';

/** PyTorch's InstanceNorm2d default epsilon. */
export const INSTANCE_NORM_EPS = 1e-5;

/**
 * Instance normalisation without affine parameters or running statistics (CUT's `--normG/--normD
 * instance`): per sample and channel, over H and W, with the biased variance.
 */
export function instanceNorm(x: Tensor4D, eps = INSTANCE_NORM_EPS): Tensor4D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2], true);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))) as Tensor4D;
  });
}
