/**
 * Folder translation must run in flat memory over thousands of images: no tensor may outlive its
 * image, and nothing per image may accumulate in JS (results are reported, not kept).
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import { planBatch, runBatch } from '../../src/translate/batch.ts';
import type { Translator } from '../../src/translate/translator.ts';
import { openTinyTranslator, writeImages } from './tiny-model.ts';

const COUNT = 300;
let tmp: string;
let translator: Translator;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ tmp, translator, close } = await openTinyTranslator('coopcut-batch-mem-'));
});

afterAll(() => close());

it(`translates ${COUNT} images with a flat tensor count and bounded RSS`, async () => {
  const input = path.join(tmp, 'in');
  await writeImages(input, COUNT);
  const plan = await planBatch({ input, output: path.join(tmp, 'out'), format: 'png' });
  const tensors = new Set<number>();
  const rss: number[] = [];
  const baseline = tf.memory().numTensors;
  const summary = await runBatch(plan, {
    translator,
    size: 32,
    concurrency: 4,
    onResult: () => {
      tensors.add(tf.memory().numTensors);
      rss.push(process.memoryUsage().rss);
    },
  });
  expect(summary.translated).toBe(COUNT);
  expect(summary.failures).toEqual([]);
  // Between images (onResult runs outside the generator) no tensor is alive but the model's own.
  expect([...tensors]).toEqual([baseline]);
  expect(tf.memory().numTensors).toBe(baseline);
  // After a warm-up (allocator pools, JIT), RSS may wobble with GC but must not climb with the count.
  const warm = Math.max(...rss.slice(20, 60));
  const late = Math.max(...rss.slice(-40));
  expect(late - warm).toBeLessThan(48 * 1024 * 1024);
}, 300_000);
