import { expect, test } from 'vitest';
import { tf, type Tensor1D, type Tensor4D } from '../../src/tf.ts';
import { logDensity, mleLoss, negativeEnergy, referenceLogDensity } from '../../src/coopinit/energy.ts';

const map = (): Tensor4D =>
  tf.tensor4d(
    [
      [1, 2],
      [3, 4],
      [-1, -1],
      [-1, -1],
    ].flat(),
    [2, 2, 2, 1],
  );

test('negative energy sums or averages the patch map per image', () => {
  expect(Array.from(negativeEnergy(map(), 'sum').dataSync())).toEqual([10, -4]);
  expect(Array.from(negativeEnergy(map(), 'mean').dataSync())).toEqual([2.5, -1]);
});

test('Gaussian reference: -||y||^2 / (2 s^2) per image, absent for s = 0', () => {
  const y = tf.tensor4d([0.1, -0.2, 0, 0.3], [2, 1, 1, 2]);
  const got = referenceLogDensity(y, 0.5).dataSync();
  expect(got[0]).toBeCloseTo(-(0.01 + 0.04) / 0.5, 6);
  expect(got[1]).toBeCloseTo(-0.09 / 0.5, 6);
  expect(Array.from(referenceLogDensity(y, 0).dataSync())).toEqual([0, 0]);
  const f = tf.tensor1d([1, 2]) as Tensor1D;
  expect(logDensity(f, y, 0.5).dataSync()[0]).toBeCloseTo(1 - 0.1, 6);
});

test('MLE loss is mean f(revised) - mean f(real), plus alpha (f(real)^2 + f(revised)^2)', () => {
  const fReal = tf.tensor1d([2, 4]) as Tensor1D;
  const fRev = tf.tensor1d([1, -1]) as Tensor1D;
  const plain = mleLoss(fReal, fRev);
  expect(plain.ebm.dataSync()[0]).toBeCloseTo(0 - 3, 6);
  expect(plain.penalty.dataSync()[0]).toBe(0);
  expect(plain.total.dataSync()[0]).toBeCloseTo(-3, 6);
  const pen = mleLoss(fReal, fRev, 0.1);
  // mean f(real)^2 = 10, mean f(revised)^2 = 1
  expect(pen.penalty.dataSync()[0]).toBeCloseTo(0.1 * 11, 5);
  expect(pen.total.dataSync()[0]).toBeCloseTo(-3 + 1.1, 5);
});
