import { expect, test } from 'vitest';
import { tf, type Tensor4D } from '../../src/tf.ts';
import { instanceNorm } from '../../src/nn/instance-norm.ts';
import { reflectPad, replicatePad1 } from '../../src/nn/padding.ts';

test('instance norm: zero mean, unit biased variance per sample and channel', () => {
  const x = tf.randomNormal([2, 6, 5, 3], 3, 2, 'float32', 1) as Tensor4D;
  const y = instanceNorm(x);
  const { mean, variance } = tf.moments(y, [1, 2]);
  expect(tf.max(tf.abs(mean)).dataSync()[0]).toBeLessThan(1e-5);
  const v = variance.dataSync();
  for (const value of v) expect(value).toBeCloseTo(1, 3);
});

test('instance norm matches a hand computation with eps 1e-5', () => {
  const y = instanceNorm(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])).dataSync();
  const mean = 2.5;
  const variance = 1.25;
  expect(y[0]).toBeCloseTo((1 - mean) / Math.sqrt(variance + 1e-5), 5);
});

test('reflect and replicate padding', () => {
  const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
  expect(Array.from(reflectPad(tf.tile(x, [1, 3, 1, 1]) as Tensor4D, 1).dataSync().slice(0, 5))).toEqual([2, 1, 2, 3, 2]);
  expect(Array.from(replicatePad1(x).dataSync().slice(0, 5))).toEqual([1, 1, 2, 3, 3]);
});
