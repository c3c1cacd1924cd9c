/**
 * The optional pixel identity term (--lambda-identity): off by default and for CUT/FastCUT, and when
 * on, the adversarial stage's G step pulls G(y) toward y.
 */
import path from 'node:path';
import os from 'node:os';
import { expect, test } from 'vitest';
import { tf, type Tensor4D } from '../../src/tf.ts';
import { resolveTrainOptions, type TrainOptions } from '../../src/config.ts';
import { createNetworks, disposeNetworks } from '../../src/models/networks.ts';
import { createAdam } from '../../src/training/adam.ts';
import { createAdversarialStage } from '../../src/training/adversarial-stage.ts';
import { identityTerm } from '../../src/training/identity-term.ts';
import type { StageContext } from '../../src/training/stage.ts';
import { createRng } from '../../src/util/rng.ts';
import { optionsFromFlags } from '../../src/cli/train.ts';

const models = path.join(os.tmpdir(), 'coopcut-identity-unused');

function context(o: TrainOptions): StageContext {
  const nets = createNetworks(o.net, o.seed);
  return {
    nets,
    opt: { g: createAdam(nets.g.params), d: createAdam(nets.d.params), f: createAdam(nets.f.params) },
    options: o,
    rng: createRng(3),
  };
}

test('CUT and FastCUT leave the identity term off; the flag turns it on', () => {
  for (const mode of ['cut', 'fastcut', 'coopinit'] as const) {
    expect(resolveTrainOptions({ dataroot: 'd', name: 'n', mode }).lambdaIdentity).toBe(0);
  }
  expect(optionsFromFlags({ dataroot: 'd', name: 'n', 'lambda-identity': 5 }).lambdaIdentity).toBe(5);
});

test('the term needs y in G input and is null at weight 0', () => {
  const x = tf.zeros([1, 8, 8, 3]) as Tensor4D;
  const log = (): void => {};
  expect(identityTerm(x, x, 1, 0, log)).toBeNull();
  expect(() => identityTerm(x, x, 1, 1, log)).toThrow(/\[x; y\]/);
  x.dispose();
});

test('with lambda_identity alone, adversarial steps pull G(y) toward y (also without identity NCE)', () => {
  const o = resolveTrainOptions(
    { dataroot: 'd', name: 'n', preset: 'tiny', mode: 'fastcut' },
    { modelsDir: models, lambdaGAN: 0, lambdaNCE: 0, lambdaIdentity: 1, flipEquivariance: true, seed: 2 },
  );
  const ctx = context(o);
  const a = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 1) as Tensor4D;
  // a flat colour far from G's initial near-zero output: reachable in a few steps
  const b = tf.tidy(() => tf.mul(tf.ones([1, 32, 32, 3]), tf.tensor1d([0.8, -0.5, 0.3]))) as Tensor4D;
  const distance = (): number =>
    tf.tidy(() => tf.mean(tf.abs(tf.sub(ctx.nets.g.forward(b), b))).dataSync()[0]!);
  const before = distance();
  const stage = createAdversarialStage(ctx);
  const logged: number[] = [];
  for (let i = 0; i < 30; i++) logged.push(stage.step({ a, b }, 2e-3).G_idt!);
  const after = distance();
  expect(logged.every((v) => Number.isFinite(v))).toBe(true);
  expect(after).toBeLessThan(before * 0.5);
  tf.dispose([a, b]);
  disposeNetworks(ctx.nets);
  for (const opt of Object.values(ctx.opt)) opt.dispose();
});
