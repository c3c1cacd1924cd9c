import { expect, test } from 'vitest';
import { tf, type Tensor2D } from '../../src/tf.ts';
import { patchNce, patchNceLosses, multiLayerPatchNce } from '../../src/losses/patchnce.ts';
import { ganLoss, lsgan } from '../../src/losses/gan.ts';

/** Reference: the official formula written out with plain numbers. */
function referenceNce(q: number[][], k: number[][], tau: number): number[] {
  const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
  return q.map((qi, i) => {
    const pos = dot(qi, k[i]!);
    const logits = [pos, ...k.map((kj, j) => (j === i ? -10 : dot(qi, kj)))].map((v) => v / tau);
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
    return lse - pos / tau;
  });
}

const q = [
  [0.6, 0.8],
  [1, 0],
  [0, -1],
];
const k = [
  [0.8, 0.6],
  [0.6, -0.8],
  [-1, 0],
];

test('PatchNCE per-query losses match the hand-computed formula', () => {
  const got = patchNceLosses(tf.tensor2d(q), tf.tensor2d(k), { tau: 0.07, batch: 1 }).dataSync();
  const want = referenceNce(q, k, 0.07);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 3));
  // a hand check of query 0: pos = 0.96; negatives 0.6*0.6-0.8*0.8 = -0.28 and -0.6
  const l0 = Math.log(1 + Math.exp((-0.28 - 0.96) / 0.07) + Math.exp((-0.6 - 0.96) / 0.07) + Math.exp((-10 - 0.96) / 0.07));
  expect(got[0]).toBeCloseTo(l0, 4);
});

test('negatives stay within each image unless told otherwise', () => {
  const qq = tf.tensor2d([...q, ...q.map((r) => r.map((v) => -v))]);
  const kk = tf.tensor2d([...k, ...k]);
  const perImage = patchNceLosses(qq, kk, { tau: 0.07, batch: 2 }).dataSync();
  const want = referenceNce(q, k, 0.07);
  expect(perImage[1]).toBeCloseTo(want[1]!, 3);
  const all = patchNceLosses(qq, kk, { tau: 0.07, batch: 2, allNegativesFromMinibatch: true }).dataSync();
  expect(all[1]).not.toBeCloseTo(want[1]!, 3);
});

test('matching queries and keys give a lower loss than mismatched ones', () => {
  const keys = tf.tensor2d(k) as Tensor2D;
  const same = patchNce(keys, keys, { tau: 0.07, batch: 1 }).dataSync()[0]!;
  const other = patchNce(tf.tensor2d(q), keys, { tau: 0.07, batch: 1 }).dataSync()[0]!;
  expect(same).toBeLessThan(other);
});

test('multi-layer NCE averages layers and scales by lambda', () => {
  const a = tf.tensor2d(q) as Tensor2D;
  const b = tf.tensor2d(k) as Tensor2D;
  const l1 = patchNce(a, b, { tau: 0.07, batch: 1 }).dataSync()[0]!;
  const l2 = patchNce(b, b, { tau: 0.07, batch: 1 }).dataSync()[0]!;
  const total = multiLayerPatchNce([a, b], [b, b], 10, { tau: 0.07, batch: 1 }).dataSync()[0]!;
  expect(total).toBeCloseTo((10 * (l1 + l2)) / 2, 4);
});

test('LSGAN and vanilla GAN losses', () => {
  const pred = tf.tensor([[0.5, 1.5]]);
  expect(lsgan(pred, 1).dataSync()[0]).toBeCloseTo(0.25, 6);
  expect(ganLoss(pred, false, 'lsgan').dataSync()[0]).toBeCloseTo((0.25 + 2.25) / 2, 6);
  const bce = ganLoss(tf.tensor([[0]]), true, 'vanilla').dataSync()[0]!;
  expect(bce).toBeCloseTo(Math.log(2), 5);
});
