import { expect, test } from 'vitest';
import { tf } from '../../src/tf.ts';
import { createAdam } from '../../src/training/adam.ts';
import type { ParamSet } from '../../src/nn/params.ts';

test("Adam matches PyTorch's update for two steps", () => {
  const w = tf.variable(tf.tensor1d([1, -2]), true, 'adam-test/w');
  const params: ParamSet = new Map([['w', w]]);
  const adam = createAdam(params, { beta1: 0.5, beta2: 0.999 });
  const lr = 0.1;
  const g1 = [0.5, -1];
  const g2 = [0.25, 3];
  adam.apply({ [w.name]: tf.tensor1d(g1) }, lr);
  adam.apply({ [w.name]: tf.tensor1d(g2) }, lr);
  const ref = [1, -2].map((w0, i) => {
    let m = 0;
    let v = 0;
    let x = w0;
    [g1[i]!, g2[i]!].forEach((g, t) => {
      m = 0.5 * m + 0.5 * g;
      v = 0.999 * v + 0.001 * g * g;
      const mh = m / (1 - 0.5 ** (t + 1));
      const vh = v / (1 - 0.999 ** (t + 1));
      x -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
    });
    return x;
  });
  const got = w.dataSync();
  expect(got[0]).toBeCloseTo(ref[0]!, 5);
  expect(got[1]).toBeCloseTo(ref[1]!, 5);
  expect(adam.step).toBe(2);
  adam.reset();
  expect(adam.step).toBe(0);
  expect(tf.sum(adam.m.get('w')!).dataSync()[0]).toBe(0);
  adam.dispose();
  w.dispose();
});
