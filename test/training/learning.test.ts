/**
 * It must really learn: the tiny preset trained briefly on grey squares -> red squares must paint
 * the squares red (mean colour distance to the target colour at least halved) while keeping each
 * square where it was (the foreground overlaps the input's square).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { resolveTrainOptions } from '../../src/config.ts';
import { train } from '../../src/training/trainer.ts';
import { loadGenerator } from '../../src/store/generator-file.ts';
import { writeShapesDataset, type Rgb } from '../../src/data/synthetic-shapes.ts';
import { scoreSquares } from '../helpers/squares.ts';
import { disposeParams } from '../../src/nn/params.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-learn-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const TARGET: Rgb = [230, 25, 75];

test('tiny CUT moves grey squares to red and keeps their position', async () => {
  const root = path.join(tmp, 'squares');
  const manifest = await writeShapesDataset(root, {
    size: 32,
    countA: 64,
    countB: 64,
    testCountA: 16,
    seed: 3,
    domainA: { kind: 'grey' },
    domainB: { colours: [TARGET] },
    shape: 'square',
  });
  const options = resolveTrainOptions(
    { dataroot: root, name: 'squares', preset: 'tiny', mode: 'cut' },
    { modelsDir: path.join(tmp, 'models'), maxIters: 500, epochIters: 50, nEpochs: 5, nEpochsDecay: 5, seed: 1 },
  );
  const result = await train(options, { progress: false, artefacts: false });
  expect(result.iterations).toBe(500);

  const { g } = loadGenerator(result.dir);
  const { before, after, iou } = await scoreSquares(g, path.join(root, 'testA'), manifest.splits.testA!, TARGET);
  disposeParams(g.params);
  console.log(`colour distance to target: ${before.toFixed(1)} -> ${after.toFixed(1)}; shape IoU ${iou.toFixed(2)}`);
  expect(after).toBeLessThan(before / 2);
  expect(iou).toBeGreaterThan(0.5);
}, 300_000);
