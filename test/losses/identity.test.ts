import { expect, test } from 'vitest';
import { tf, type Tensor4D } from '../../src/tf.ts';
import { identityL1 } from '../../src/losses/identity.ts';

test('identity L1 is the mean absolute pixel difference', () => {
  const a = tf.tensor4d([0.5, -1, 0, 1], [1, 2, 2, 1]);
  const b = tf.tensor4d([0, -1, 0.25, -1], [1, 2, 2, 1]);
  expect(identityL1(a, b).dataSync()[0]).toBeCloseTo((0.5 + 0 + 0.25 + 2) / 4, 6);
  expect(identityL1(a, a).dataSync()[0]).toBe(0);
  tf.dispose([a, b]);
});

test('its gradient points each pixel toward the original', () => {
  const original = tf.tensor4d([0, 0, 0, 0], [1, 2, 2, 1]) as Tensor4D;
  const x = tf.tensor4d([0.5, -0.5, 1, -1], [1, 2, 2, 1]) as Tensor4D;
  const g = tf.grad((t) => identityL1(t as Tensor4D, original))(x).dataSync();
  expect(Array.from(g)).toEqual([0.25, -0.25, 0.25, -0.25]);
  tf.dispose([original, x]);
});
