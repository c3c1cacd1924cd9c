/**
 * It must really learn: the tiny preset trained briefly on grey squares -> red squares must paint
 * the squares red (mean colour distance to the target colour at least halved) while keeping each
 * square where it was (the foreground overlaps the input's square).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { tf } from '../../src/tf.ts';
import { resolveTrainOptions } from '../../src/config.ts';
import { train } from '../../src/training/trainer.ts';
import { loadGenerator } from '../../src/store/generator-file.ts';
import { writeShapesDataset, shapeMask, maskIoU, type Rgb } from '../../src/data/synthetic-shapes.ts';
import { decodeImage, rgbToTensor, tensorToRgb, type RgbImage } from '../../src/imaging/codec.ts';
import { disposeParams } from '../../src/nn/params.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-learn-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const TARGET: Rgb = [230, 25, 75];

function meanColour(img: RgbImage, mask: Uint8Array): Rgb {
  const sum = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < 3; c++) sum[c]! += img.data[i * 3 + c]!;
    n++;
  }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

const dist = (a: Rgb, b: Rgb): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/**
 * The output's foreground: pixels that differ from the output's own border colour by more than half
 * the largest difference. Relative to the output, because the translator may also shift the
 * background's colour a little; what must survive is where the square is.
 */
function relativeForeground(img: RgbImage): Uint8Array {
  const { width: w, height: h, data } = img;
  const border: number[] = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x > 0 && y > 0 && x < w - 1 && y < h - 1) continue;
      for (let c = 0; c < 3; c++) border[c]! += data[(y * w + x) * 3 + c]!;
      n++;
    }
  }
  const bg: Rgb = [border[0]! / n, border[1]! / n, border[2]! / n];
  const d = new Float32Array(w * h);
  let max = 0;
  for (let i = 0; i < w * h; i++) {
    d[i] = dist([data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!], bg);
    max = Math.max(max, d[i]!);
  }
  return Uint8Array.from(d, (v) => (v > max / 2 ? 1 : 0));
}

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
  let before = 0;
  let after = 0;
  let iou = 0;
  const tests = manifest.splits.testA!;
  for (const rec of tests) {
    const img = await decodeImage(path.join(root, 'testA', rec.file));
    const x = rgbToTensor(img.data, img.width, img.height);
    const y = g.forward(x);
    const out = tensorToRgb(y);
    tf.dispose([x, y]);
    const truth = shapeMask(rec.shape, img.width, img.height);
    before += dist(meanColour(img, truth), TARGET);
    after += dist(meanColour(out, truth), TARGET);
    iou += maskIoU(relativeForeground(out), truth);
  }
  disposeParams(g.params);
  before /= tests.length;
  after /= tests.length;
  iou /= tests.length;
  console.log(`colour distance to target: ${before.toFixed(1)} -> ${after.toFixed(1)}; shape IoU ${iou.toFixed(2)}`);
  expect(after).toBeLessThan(before / 2);
  expect(iou).toBeGreaterThan(0.5);
}, 300_000);
