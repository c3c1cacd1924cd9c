import { expect, test } from 'vitest';
import { tf, type Tensor1D, type Tensor4D } from '../../src/tf.ts';
import { langevin } from '../../src/coopinit/langevin.ts';
import { energyFunction } from '../../src/coopinit/energy.ts';
import { createDiscriminator } from '../../src/models/discriminator.ts';
import { createRng } from '../../src/util/rng.ts';

/** f(y) = -||y - m||^2 / 2 per image: grad f = -(y - m), mode at m (or m s^2 / (1 + s^2) with the reference). */
const quadratic =
  (m: Tensor4D) =>
  (y: Tensor4D): Tensor1D =>
    tf.tidy(() => tf.mul(tf.sum(tf.square(tf.sub(y, m)), [1, 2, 3]), -0.5) as Tensor1D);

const y0Values = [0.5, -0.25, 0.1, 0.9];
const mValues = [0.2, 0.4, -0.6, 0.0];
const y0 = (): Tensor4D => tf.tensor4d(y0Values, [1, 2, 2, 1]);
const m = (): Tensor4D => tf.tensor4d(mValues, [1, 2, 2, 1]);

test('one step matches the hand-computed CoopNets update', () => {
  const delta = 0.1;
  const s = 0.5;
  const { revised, diagnostics } = langevin(quadratic(m()), y0(), { steps: 1, stepSize: delta, noise: false, refSigma: s });
  const c = (delta * delta) / 2;
  // y1 = y0 - (delta^2 / 2) * (y0 / s^2 - grad f(y0)), grad f(y0) = -(y0 - m)
  const want = y0Values.map((y, i) => y - c * (y / (s * s) + (y - mValues[i]!)));
  const got = Array.from(revised.dataSync());
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
  const f0 = -0.5 * y0Values.reduce((acc, y, i) => acc + (y - mValues[i]!) ** 2, 0);
  expect(diagnostics.energies).toHaveLength(1);
  expect(diagnostics.energies[0]).toBeCloseTo(f0, 5);
  expect(diagnostics.meanAbsChange).toBeCloseTo(want.reduce((a, w, i) => a + Math.abs(w - y0Values[i]!), 0) / 4, 6);
  expect(diagnostics.meanAbsRefStep).toBeCloseTo((c * y0Values.reduce((a, y) => a + Math.abs(y), 0)) / 4 / (s * s), 6);
  expect(diagnostics.finite).toBe(true);
});

test('without the reference the y / s^2 term is absent', () => {
  const delta = 0.2;
  const { revised, diagnostics } = langevin(quadratic(m()), y0(), { steps: 1, stepSize: delta, noise: false, refSigma: 0 });
  const c = (delta * delta) / 2;
  const want = y0Values.map((y, i) => y - c * (y - mValues[i]!));
  Array.from(revised.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
  expect(diagnostics.meanAbsRefStep).toBe(0);
});

test('many steps converge to the mode of f + log q', () => {
  const s = 1;
  const { revised, diagnostics } = langevin(quadratic(m()), y0(), { steps: 400, stepSize: 0.3, noise: false, refSigma: s });
  // argmax of -||y - m||^2 / 2 - ||y||^2 / (2 s^2) is m s^2 / (1 + s^2)
  const got = Array.from(revised.dataSync());
  mValues.forEach((mv, i) => expect(got[i]).toBeCloseTo((mv * s * s) / (1 + s * s), 4));
  // the energy rises along the chain
  expect(diagnostics.energies.at(-1)!).toBeGreaterThan(diagnostics.energies[0]!);
  const plain = langevin(quadratic(m()), y0(), { steps: 400, stepSize: 0.3, noise: false, refSigma: 0 });
  Array.from(plain.revised.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(mValues[i]!, 4));
});

test('each step is clamped to the image range', () => {
  const far = tf.tensor4d([3, -3, 0.5, 0], [1, 2, 2, 1]);
  const { revised } = langevin(quadratic(far), y0(), { steps: 50, stepSize: 0.5, noise: false, refSigma: 0 });
  const got = Array.from(revised.dataSync());
  expect(got[0]).toBeCloseTo(1, 6);
  expect(got[1]).toBeCloseTo(-1, 6);
  expect(got[2]).toBeCloseTo(0.5, 2);
});

test('noise adds delta * N(0, I), reproducibly under the same rng', () => {
  const flat = (y: Tensor4D): Tensor1D => tf.tidy(() => tf.mul(tf.sum(y, [1, 2, 3]), 0) as Tensor1D);
  const start = tf.zeros([4, 16, 16, 3]) as Tensor4D;
  const delta = 0.01;
  const run = (seed: number): Float32Array =>
    langevin(flat, start, { steps: 1, stepSize: delta, noise: true, refSigma: 0, rng: createRng(seed) }).revised.dataSync() as Float32Array;
  const a = run(1);
  const std = Math.sqrt(a.reduce((acc, v) => acc + v * v, 0) / a.length);
  expect(std / delta).toBeGreaterThan(0.95);
  expect(std / delta).toBeLessThan(1.05);
  expect(Array.from(run(1))).toEqual(Array.from(a));
  expect(Array.from(run(2))).not.toEqual(Array.from(a));
  expect(() => langevin(flat, start, { steps: 1, stepSize: delta, noise: true, refSigma: 0 })).toThrow(/rng/);
});

test('a revision under D leaves D unchanged and frees its tensors', () => {
  const d = createDiscriminator({ inputNc: 3, ndf: 8, nLayersD: 3 }, createRng(3), 0.02);
  const before = [...d.params.values()].map((v) => Array.from(v.dataSync()));
  const draft = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 5) as Tensor4D;
  const energy = energyFunction(d, 'sum');
  // warm up kernels, then count
  langevin(energy, draft, { steps: 2, stepSize: 0.5, noise: false, refSigma: 0 }).revised.dispose();
  const tensors = tf.memory().numTensors;
  const { revised, diagnostics } = langevin(energy, draft, { steps: 5, stepSize: 0.5, noise: true, refSigma: 0.5, rng: createRng(1) });
  expect(tf.memory().numTensors).toBe(tensors + 1);
  expect(diagnostics.meanAbsChange).toBeGreaterThan(0);
  expect(diagnostics.meanAbsGradStep).toBeGreaterThan(0);
  revised.dispose();
  [...d.params.values()].forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(before[i]));
});
