import { expect, test } from 'vitest';
import { tf, type Tensor4D } from '../../src/tf.ts';
import { binomialTaps, blurKernel2d, blurPool, blurUp, blurUpLiteral } from '../../src/nn/blur.ts';

test('binomial filters are the official ones', () => {
  expect(binomialTaps(3)).toEqual([1, 2, 1]);
  expect(binomialTaps(4)).toEqual([1, 3, 3, 1]);
  const k3 = Array.from(blurKernel2d(3));
  expect(k3.map((v) => v * 16)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => expect.closeTo(v, 5)));
  const k4 = blurKernel2d(4);
  expect(k4[0]! * 64).toBeCloseTo(1, 5);
  expect(k4[5]! * 64).toBeCloseTo(9, 5);
  expect(Array.from(k4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
});

test('blur-pool halves (ceil) and preserves a constant image', () => {
  const x = tf.fill([1, 9, 8, 2], 0.5) as Tensor4D;
  const y = blurPool(x);
  expect(y.shape).toEqual([1, 5, 4, 2]);
  expect(Math.abs(tf.sub(y, 0.5).abs().max().dataSync()[0]!)).toBeLessThan(1e-6);
});

test('blur-pool of a delta is the 3x3 kernel at stride 2 with reflect padding', () => {
  const data = new Float32Array(6 * 6);
  data[2 * 6 + 2] = 16; // a spike at (2,2)
  const y = blurPool(tf.tensor4d(data, [1, 6, 6, 1])).dataSync();
  // output (1,1) samples input rows/cols 1..3 centred on (2,2): weight 4/16 * 16 = 4
  expect(y[1 * 3 + 1]).toBeCloseTo(4, 5);
  expect(y[0 * 3 + 1]).toBeCloseTo(0, 5);
});

test('blurUp (bilinear, half-pixel centres) equals the literal antialiased upsample', () => {
  const x = tf.randomNormal([2, 5, 7, 3], 0, 1, 'float32', 7) as Tensor4D;
  const a = blurUp(x);
  const b = blurUpLiteral(x);
  expect(a.shape).toEqual([2, 10, 14, 3]);
  expect(b.shape).toEqual([2, 10, 14, 3]);
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
});
