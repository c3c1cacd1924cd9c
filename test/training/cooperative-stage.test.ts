/**
 * The CoopInit stage: the MLE sign, the guards, the switch to the adversarial stage at exactly
 * coopIters from the same weights, and a tiny end-to-end run that learns.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tf, type Tensor4D, type Variable } from '../../src/tf.ts';
import { resolveTrainOptions, type CoopOptions, type TrainOptions } from '../../src/config.ts';
import { createNetworks, disposeNetworks } from '../../src/models/networks.ts';
import { createAdam } from '../../src/training/adam.ts';
import { NonFiniteError, type Optimizers, type StageContext } from '../../src/training/stage.ts';
import { createCooperativeStage, EnergyDivergedError } from '../../src/training/cooperative-stage.ts';
import { planStages, withDefaultCoopIters, COOP_DEFAULT_FRACTION } from '../../src/training/stage-plan.ts';
import { train } from '../../src/training/trainer.ts';
import { energyFunction } from '../../src/coopinit/energy.ts';
import { langevin } from '../../src/coopinit/langevin.ts';
import { createRng } from '../../src/util/rng.ts';
import { createLogger } from '../../src/log/logger.ts';
import { loadGenerator } from '../../src/store/generator-file.ts';
import { disposeParams } from '../../src/nn/params.ts';
import { writeShapesDataset, type Rgb, type ShapesManifest } from '../../src/data/synthetic-shapes.ts';
import { decodeImage } from '../../src/imaging/codec.ts';
import { scoreSquares } from '../helpers/squares.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-coop-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const quiet = createLogger({ level: 'silent' });

const TARGET: Rgb = [60, 180, 75];
let dataroot = '';
beforeAll(async () => {
  dataroot = path.join(tmp, 'squares');
  await writeShapesDataset(dataroot, {
    size: 32,
    countA: 64,
    countB: 64,
    testCountA: 16,
    seed: 5,
    domainA: { kind: 'grey' },
    domainB: { colours: [TARGET] },
    shape: 'square',
  });
});

function tinyOptions(coop: Partial<CoopOptions> = {}, extra: Partial<TrainOptions> = {}): TrainOptions {
  return resolveTrainOptions(
    { dataroot, name: 'coop', preset: 'tiny', mode: 'coopinit' },
    { modelsDir: path.join(tmp, 'models'), batchSize: 2, ...extra, coop: { coopIters: 3, ...coop } },
  );
}

function tinyContext(o: TrainOptions): StageContext {
  const nets = createNetworks(o.net, o.seed);
  const opt: Optimizers = { g: createAdam(nets.g.params), d: createAdam(nets.d.params), f: createAdam(nets.f.params) };
  return { nets, opt, options: o, rng: createRng(11) };
}

function disposeContext(ctx: StageContext): void {
  disposeNetworks(ctx.nets);
  for (const a of Object.values(ctx.opt)) a.dispose();
}

const batchOf = (seed: number): { a: Tensor4D; b: Tensor4D } => ({
  a: tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', seed) as Tensor4D,
  b: tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', seed + 1) as Tensor4D,
});

const snapshot = (params: Map<string, Variable>): Float32Array[] => [...params.values()].map((v) => v.dataSync().slice() as Float32Array);

describe('cooperative stage', () => {
  test('one D step raises f on real B relative to the revision (MLE sign)', () => {
    const o = tinyOptions({ langevinStepSize: 4, refSigma: 0 });
    const ctx = tinyContext(o);
    const batch = batchOf(1);
    const energy = energyFunction(ctx.nets.d, 'sum');
    // the revision the step will make (same D, same G, no noise), kept fixed to compare energies
    const revised = tf.tidy(() => {
      const draft = ctx.nets.g.forward(batch.a);
      return langevin(energy, draft, { steps: o.coop.langevinSteps, stepSize: 4, noise: false, refSigma: 0 }).revised;
    });
    const gap = (): number => tf.tidy(() => tf.sub(tf.mean(energy(batch.b)), tf.mean(energy(revised))).dataSync()[0]!);
    const before = gap();
    const gBefore = snapshot(ctx.nets.g.params);
    const stage = createCooperativeStage(ctx, { logger: quiet });
    const losses = stage.step(batch, 1e-3);
    expect(losses.E_gap).toBeCloseTo(before, 3);
    // the D update by mean f(revised) - mean f(real) widened the gap on these very samples
    expect(gap()).toBeGreaterThan(before);
    revised.dispose();
    for (const k of ['EBM', 'teach', 'revision', 'E_real', 'E_revised', 'E_draft', 'NCE', 'NCE_Y']) expect(losses).toHaveProperty(k);
    expect(losses.revision).toBeGreaterThan(0);
    // G moved too (teaching + NCE)
    expect(snapshot(ctx.nets.g.params).some((w, i) => w.some((v, j) => v !== gBefore[i]![j]))).toBe(true);
    tf.dispose([batch.a, batch.b]);
    disposeContext(ctx);
  });

  test('without coopNce, F is left alone and only teaching trains G', () => {
    const ctx = tinyContext(tinyOptions({ coopNce: false }));
    const fBefore = snapshot(ctx.nets.f.params);
    const batch = batchOf(3);
    const losses = createCooperativeStage(ctx, { logger: quiet }).step(batch, 1e-3);
    expect(losses).not.toHaveProperty('NCE');
    expect(losses.G).toBeCloseTo(losses.teach!, 6);
    expect(ctx.opt.f.step).toBe(0);
    snapshot(ctx.nets.f.params).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(fBefore[i]!)));
    tf.dispose([batch.a, batch.b]);
    disposeContext(ctx);
  });

  test('steps do not leak tensors, and the sample strip is A | G(x) | revised | B', () => {
    const ctx = tinyContext(tinyOptions({ langevinNoise: true, langevinStepSize: 0.01 }));
    const stage = createCooperativeStage(ctx, { logger: quiet });
    const batch = batchOf(5);
    expect(stage.sampleImages(batch)).toBeNull();
    stage.step(batch, 1e-4);
    const count = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) stage.step(batch, 1e-4);
    expect(tf.memory().numTensors).toBe(count);
    const strip = stage.sampleImages(batch)!;
    expect(strip.map((t) => t.shape[0])).toEqual([2, 1, 1, 2]);
    tf.dispose(strip);
    tf.dispose([batch.a, batch.b]);
    disposeContext(ctx);
  });

  test('a NaN energy skips the step and halves the Langevin step size', () => {
    const ctx = tinyContext(tinyOptions({ langevinStepSize: 2 }));
    const head = [...ctx.nets.d.params.entries()].find(([k]) => k.includes('head'))![1];
    head.assign(tf.fill(head.shape, Number.NaN));
    const gBefore = snapshot(ctx.nets.g.params);
    const stage = createCooperativeStage(ctx, { logger: quiet });
    const batch = batchOf(7);
    expect(() => stage.step(batch, 1e-3)).toThrow(NonFiniteError);
    expect(stage.stepSize).toBe(1);
    expect(ctx.opt.g.step + ctx.opt.d.step).toBe(0);
    snapshot(ctx.nets.g.params).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(gBefore[i]!)));
    tf.dispose([batch.a, batch.b]);
    disposeContext(ctx);
  });

  test('energies beyond the limit stop the step with a clear error, D untouched', () => {
    const ctx = tinyContext(tinyOptions({ langevinSteps: 1 }));
    const bias = [...ctx.nets.d.params.entries()].find(([k]) => k.includes('head') && k.endsWith('b'))![1];
    bias.assign(tf.fill(bias.shape, 1e5));
    const dBefore = snapshot(ctx.nets.d.params);
    const batch = batchOf(9);
    const stage = createCooperativeStage(ctx, { logger: quiet });
    expect(() => stage.step(batch, 1e-3)).toThrow(EnergyDivergedError);
    expect(() => stage.step(batch, 1e-3)).toThrow(/energy-penalty/);
    snapshot(ctx.nets.d.params).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(dBefore[i]!)));
    tf.dispose([batch.a, batch.b]);
    disposeContext(ctx);
  });
});

describe('switch to the adversarial stage', () => {
  test('the plan switches at coopIters and the adversarial stage uses the weights the cooperative stage left', () => {
    const o = tinyOptions({ coopIters: 2, coopResetOptim: true });
    const ctx = tinyContext(o);
    const plan = planStages(ctx, { logger: quiet });
    expect(plan.map((p) => [p.stage.name, p.from])).toEqual([
      ['cooperative', 0],
      ['adversarial', 2],
    ]);
    const batch = batchOf(13);
    plan[0]!.stage.step(batch, 2e-4);
    plan[0]!.stage.step(batch, 2e-4);
    // what the adversarial stage's first D loss must be if it starts from these weights
    const dReal = tf.tidy(() => tf.mean(tf.square(tf.sub(ctx.nets.d.forward(batch.b), 1))).dataSync()[0]!);
    // a resume into the middle of the stage keeps the loaded moments; the switch itself resets them
    plan[1]!.enter!(ctx, 5);
    expect(ctx.opt.d.step).toBe(2);
    plan[1]!.enter!(ctx, 2);
    expect([ctx.opt.g.step, ctx.opt.d.step, ctx.opt.f.step]).toEqual([0, 0, 0]);
    const losses = plan[1]!.stage.step(batch, 2e-4);
    expect(losses.D_real).toBeCloseTo(dReal, 4);
    tf.dispose([batch.a, batch.b]);
    disposeContext(ctx);
  });

  test('without coopIters the plan is plain CUT; mode coopinit defaults coopIters to a share of the run', () => {
    const ctx = tinyContext(tinyOptions({ coopIters: 0 }));
    expect(planStages(ctx).map((p) => p.stage.name)).toEqual(['adversarial']);
    disposeContext(ctx);
    const o = tinyOptions({ coopIters: 0 }, { maxIters: 300 });
    expect(withDefaultCoopIters(o, 64).coop.coopIters).toBe(Math.round(COOP_DEFAULT_FRACTION * 300));
    expect(withDefaultCoopIters({ ...o, maxIters: 0, epochIters: 0 }, 64).coop.coopIters).toBe(
      Math.round(COOP_DEFAULT_FRACTION * (o.nEpochs + o.nEpochsDecay) * 32),
    );
    expect(withDefaultCoopIters({ ...o, coop: { ...o.coop, coopIters: 7 } }, 64).coop.coopIters).toBe(7);
    expect(withDefaultCoopIters({ ...o, mode: 'cut' }, 64).coop.coopIters).toBe(0);
  });

  test('the trainer switches exactly at coopIters, logs D around it and records both stages', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', stream: { write: (s: string) => lines.push(s) } });
    const stages: string[] = [];
    const o = tinyOptions({ coopIters: 3 }, { name: 'switch', maxIters: 5, sampleEvery: 2, saveEvery: 1000 });
    const result = await train(o, { progress: false, artefacts: true, logger, onStep: (_i, _l, s) => stages.push(s) });
    expect(stages).toEqual(['cooperative', 'cooperative', 'cooperative', 'adversarial', 'adversarial']);
    const sw = lines.find((l) => l.includes('stage switch'))!;
    expect(sw).toMatch(/from=cooperative to=adversarial iteration=3 Dmap_real=\S+ Dmap_fake=\S+/);
    const card = JSON.parse(fs.readFileSync(path.join(result.dir, 'card.json'), 'utf8')) as {
      training: { stages: Array<{ name: string; iterations: number }> };
      options: TrainOptions;
    };
    expect(card.training.stages).toEqual([
      { name: 'cooperative', iterations: 3 },
      { name: 'adversarial', iterations: 2 },
    ]);
    expect(card.options.coop.coopIters).toBe(3);
    // iteration 2 is cooperative: its strip has four panels
    const png = fs.readFileSync(path.join(result.dir, 'samples', 'iter_0000002.png'));
    expect((await decodeImage(png)).width).toBe(4 * 32);
  });
});

test('a tiny CoopInit run moves grey squares toward B colour and keeps them in place', async () => {
  const iters = Number(process.env.COOP_E2E_ITERS ?? 300);
  const o = tinyOptions(
    { coopIters: Math.round(COOP_DEFAULT_FRACTION * iters) },
    { name: 'e2e', batchSize: 1, maxIters: iters, epochIters: iters / 10, nEpochs: 5, nEpochsDecay: 5, seed: 1, saveEvery: iters },
  );
  const result = await train(o, { progress: false, artefacts: false, logger: quiet });
  expect(result.iterations).toBe(iters);
  expect(result.skippedSteps).toBe(0);

  const { g } = loadGenerator(result.dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(dataroot, 'manifest.json'), 'utf8')) as ShapesManifest;
  const { before, after, iou } = await scoreSquares(g, path.join(dataroot, 'testA'), manifest.splits.testA!, TARGET);
  disposeParams(g.params);
  console.log(`CoopInit ${iters} iterations: colour distance to B ${before.toFixed(1)} -> ${after.toFixed(1)}; shape IoU ${iou.toFixed(2)}`);
  expect(after).toBeLessThan(before * 0.6);
  expect(iou).toBeGreaterThan(0.5);
}, 300_000);
