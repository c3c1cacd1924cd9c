import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tf } from '../../src/tf.ts';
import { resolveTrainOptions, type TrainOptions } from '../../src/config.ts';
import { checkpointPath, train, TrainingDivergedError } from '../../src/training/trainer.ts';
import { readBundle } from '../../src/store/tensor-bundle.ts';
import type { CheckpointMeta } from '../../src/store/checkpoint.ts';
import { writeShapesDataset } from '../../src/data/synthetic-shapes.ts';
import { readCard } from '../../src/store/model-card.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-trainer-'));
const root = path.join(tmp, 'data');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await writeShapesDataset(root, { size: 32, countA: 24, countB: 24, seed: 5, domainB: { colours: [[0, 130, 200]] } });
});

function opts(name: string, over: Partial<TrainOptions> = {}): TrainOptions {
  return resolveTrainOptions(
    { dataroot: root, name, preset: 'tiny', mode: 'cut' },
    { modelsDir: path.join(tmp, 'models'), epochIters: 10, nEpochs: 2, nEpochsDecay: 2, saveEvery: 10, ...over },
  );
}

const quiet = { progress: false, artefacts: false } as const;

describe('resume', () => {
  test('N iterations in one run vs N/2 + resume + N/2', async () => {
    const whole = await train(opts('whole', { maxIters: 40 }), quiet);
    const first = await train(opts('split', { maxIters: 20 }), quiet);
    expect(first.iterations).toBe(20);
    const meta = readBundle<CheckpointMeta>(checkpointPath(opts('split'))).meta;
    expect(meta.iteration).toBe(20);
    expect(meta.adamSteps).toEqual({ g: 20, d: 20, f: 20 });

    const resumed = await train(opts('split', { maxIters: 40 }), { ...quiet, resume: true });
    expect(resumed.startIteration).toBe(20);
    expect(resumed.iterations).toBe(40);
    expect(resumed.adamSteps).toEqual(whole.adamSteps);
    expect(resumed.adamSteps).toEqual({ g: 40, d: 40, f: 40 });
    // Same data stream, same RNG, same state: the losses agree closely (not bit-exactly: threaded
    // reductions may round differently).
    for (const k of ['D', 'G', 'NCE']) {
      const a = whole.lastLosses[k]!;
      const b = resumed.lastLosses[k]!;
      expect(Math.abs(a - b)).toBeLessThan(0.25 * Math.max(Math.abs(a), Math.abs(b)) + 0.05);
    }
    const card = readCard(resumed.dir)!;
    expect(card.training.iterations).toBe(40);
    expect(card.training.finished).toBe(true);
  }, 240_000);

  test('an interrupt saves a checkpoint at the current iteration', async () => {
    const controller = new AbortController();
    const result = await train(opts('interrupted', { maxIters: 40 }), {
      ...quiet,
      signal: controller.signal,
      onStep: (it) => {
        if (it === 6) controller.abort();
      },
    });
    expect(result.stoppedBy).toBe('interrupted');
    expect(result.iterations).toBe(7);
    expect(readBundle<CheckpointMeta>(checkpointPath(opts('interrupted'))).meta.iteration).toBe(7);
    expect(fs.existsSync(path.join(result.dir, 'model.json'))).toBe(true);
  }, 120_000);
});

describe('NaN guard', () => {
  test('non-finite losses are detected: steps skipped, then a clear stop with the last checkpoint intact', async () => {
    const o = opts('diverging', { maxIters: 40, saveEvery: 10 });
    let poisoned = false;
    let caught: unknown = null;
    try {
      await train(o, {
        ...quiet,
        onStep: (it) => {
          if (it === 14 && !poisoned) {
            poisoned = true;
            // Poison one discriminator weight: every later loss is NaN.
            const v = Object.values(tf.engine().registeredVariables).find((x) => x.name.startsWith('D/conv0/w'));
            v?.assign(tf.fill(v.shape, NaN));
          }
        },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TrainingDivergedError);
    expect((caught as Error).message).toMatch(/diverged at iteration 1[5-9].*last good checkpoint \(iteration 10\)/);
    const meta = readBundle<CheckpointMeta>(checkpointPath(o));
    expect(meta.meta.iteration).toBe(10);
    for (const t of meta.tensors.values()) expect(t.data.every(Number.isFinite)).toBe(true);
  }, 120_000);
});
