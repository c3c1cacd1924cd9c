import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveTrainOptions, type TrainOptions } from '../../src/config.ts';
import { checkpointPath, train } from '../../src/training/trainer.ts';
import { applyWarmStart, locateWarmStart, WarmStartError } from '../../src/training/warm-start.ts';
import { createNetworks, disposeNetworks, type Networks } from '../../src/models/networks.ts';
import { readBundle } from '../../src/store/tensor-bundle.ts';
import { readCard } from '../../src/store/model-card.ts';
import { writeShapesDataset } from '../../src/data/synthetic-shapes.ts';
import type { ParamSet } from '../../src/nn/params.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-warm-'));
const root = path.join(tmp, 'data');
const modelsDir = path.join(tmp, 'models');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function opts(name: string, over: Partial<TrainOptions> = {}): TrainOptions {
  return resolveTrainOptions(
    { dataroot: root, name, preset: 'tiny', mode: 'cut' },
    { modelsDir, epochIters: 5, nEpochs: 1, nEpochsDecay: 1, saveEvery: 10, ...over },
  );
}
const quiet = { progress: false, artefacts: false } as const;

function values(p: ParamSet): Map<string, number[]> {
  return new Map([...p].map(([k, v]) => [k, Array.from(v.dataSync())]));
}

function maxDiff(a: Map<string, number[]>, b: Map<string, number[]>): number {
  let m = 0;
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    for (let i = 0; i < va.length; i++) m = Math.max(m, Math.abs(va[i]! - vb[i]!));
  }
  return m;
}

beforeAll(async () => {
  await writeShapesDataset(root, { size: 32, countA: 12, countB: 12, seed: 2, domainB: { colours: [[200, 30, 30]] } });
  await train(opts('source', { maxIters: 10 }), quiet);
});

describe('warm start', () => {
  test('from a checkpoint: G, D and F all take the saved weights', () => {
    const o = opts('x');
    const nets: Networks = createNetworks(o.net, 99);
    try {
      const record = applyWarmStart(checkpointPath(opts('source')), nets, o.net, modelsDir);
      expect(record).toMatchObject({ kind: 'checkpoint', iterations: 10 });
      const saved = readBundle(checkpointPath(opts('source'))).tensors;
      for (const p of [nets.g.params, nets.d.params, nets.f.params]) {
        for (const [name, v] of p) expect(Array.from(v.dataSync())).toEqual(Array.from(saved.get(name)!.data));
      }
    } finally {
      disposeNetworks(nets);
    }
  });

  test('from a generator-only folder: G is loaded, D and F keep their fresh initialisation', () => {
    const dir = path.join(tmp, 'gen-only');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(modelsDir, 'source', f), path.join(dir, f));
    expect(locateWarmStart(dir, modelsDir).kind).toBe('generator');
    const o = opts('x');
    const nets = createNetworks(o.net, 99);
    const fresh = createNetworks(o.net, 99);
    try {
      const before = values(nets.g.params);
      const record = applyWarmStart(dir, nets, o.net, modelsDir);
      expect(record.kind).toBe('generator');
      expect(maxDiff(before, values(nets.g.params))).toBeGreaterThan(0);
      const saved = readBundle(checkpointPath(opts('source'))).tensors;
      for (const [name, v] of nets.g.params) expect(Array.from(v.dataSync())).toEqual(Array.from(saved.get(name)!.data));
      expect(maxDiff(values(fresh.d.params), values(nets.d.params))).toBe(0);
    } finally {
      disposeNetworks(nets);
      disposeNetworks(fresh);
    }
  });

  test('a model name resolves through the registry to its checkpoint', () => {
    expect(locateWarmStart('source', modelsDir)).toEqual({ kind: 'checkpoint', file: checkpointPath(opts('source')) });
  });

  test('different networks or an unknown source are clear errors', () => {
    const o = opts('x', {});
    const wider = { ...o.net, ngf: o.net.ngf * 2 };
    const nets = createNetworks(wider, 1);
    try {
      expect(() => applyWarmStart('source', nets, wider, modelsDir)).toThrow(WarmStartError);
      expect(() => applyWarmStart('no-such-model', nets, wider, modelsDir)).toThrow(/--init-from no-such-model/);
    } finally {
      disposeNetworks(nets);
    }
  });

  test('a warm-started run starts at iteration 0 with fresh Adam states and records its origin', async () => {
    const result = await train(opts('tuned', { maxIters: 4, initFrom: 'source' }), quiet);
    expect(result.startIteration).toBe(0);
    expect(result.adamSteps).toEqual({ g: 4, d: 4, f: 4 });
    const card = readCard(path.join(modelsDir, 'tuned'))!;
    expect(card.training.iterations).toBe(4);
    expect(card.training.warmStart).toEqual({ from: 'source', kind: 'checkpoint', iterations: 10 });
    // resuming the tuned run continues it and does not load the source again
    const resumed = await train(opts('tuned', { maxIters: 6, initFrom: 'source' }), { ...quiet, resume: true });
    expect(resumed.startIteration).toBe(4);
    expect(readCard(path.join(modelsDir, 'tuned'))!.training.warmStart?.iterations).toBe(10);
  });
});
