import { tf, type Tensor4D } from '../tf.ts';

/** Reflection padding of H and W (PyTorch ReflectionPad2d), NHWC. */
export function reflectPad(x: Tensor4D, p: number): Tensor4D {
  return tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
}

/**
 * Replicate (edge) padding by 1. TF.js has no 'edge' mode, but for a pad of 1 'symmetric'
 * mirroring repeats exactly the border pixel, which is replication.
 */
export function replicatePad1(x: Tensor4D): Tensor4D {
  return tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
}

/** Zero padding of H and W. */
export function zeroPad(x: Tensor4D, p: number): Tensor4D {
  return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
}
