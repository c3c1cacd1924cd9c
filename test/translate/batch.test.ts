import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import { BatchPathError, outputRelPaths, planBatch, runBatch, type ItemResult } from '../../src/translate/batch.ts';
import type { Translator } from '../../src/translate/translator.ts';
import { makeImage, openTinyTranslator, writeImages } from './tiny-model.ts';

let tmp: string;
let translator: Translator;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ tmp, translator, close } = await openTinyTranslator('coopcut-batch-'));
});

afterAll(() => close());

async function folder(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Every file under dir, relative, sorted (hidden ones included, so leftovers show up). */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('outputRelPaths', () => {
  it('swaps the extension and keeps both names when two inputs would collide', () => {
    expect(outputRelPaths(['a.jpg', 'b.png', 'sub/c.webp'], 'png')).toEqual(['a.png', 'b.png', path.join('sub', 'c.png')]);
    expect(outputRelPaths(['a.jpg', 'a.png', 'b.jpg'], 'jpeg')).toEqual(['a.jpg.jpg', 'a.png.jpg', 'b.jpg']);
  });
});

describe('planBatch', () => {
  it('mirrors sub-folders only with recursive', async () => {
    const input = await folder('plan-in');
    await writeImages(input, 2);
    await writeImages(path.join(input, 'sub', 'deeper'), 1, { seed: 1 });
    const out = path.join(tmp, 'plan-out');
    const flat = await planBatch({ input, output: out, format: 'jpeg' });
    expect(flat.todo.map((i) => path.relative(out, i.output))).toEqual(['img_000.jpg', 'img_001.jpg']);
    const deep = await planBatch({ input, output: out, format: 'webp', recursive: true });
    expect(deep.todo.map((i) => path.relative(out, i.output))).toEqual([
      'img_000.webp',
      'img_001.webp',
      path.join('sub', 'deeper', 'img_000.webp'),
    ]);
    expect(deep.existing).toEqual([]);
  });

  it('refuses an output folder that is the input folder or inside it', async () => {
    const input = await folder('unsafe-in');
    await writeImages(input, 1);
    for (const output of [input, path.join(input, 'out'), path.join(input, 'a', 'b')]) {
      await expect(planBatch({ input, output, format: 'png' })).rejects.toMatchObject({ code: 'unsafe_output' });
    }
    // through a symlink to the input
    const link = path.join(tmp, 'unsafe-link');
    await symlink(input, link);
    await expect(planBatch({ input, output: path.join(link, 'x'), format: 'png' })).rejects.toBeInstanceOf(BatchPathError);
  });

  it('refuses outputs that resolve to an input file', async () => {
    const dir = await folder('single');
    const [file] = await writeImages(dir, 1);
    await expect(planBatch({ input: file!, output: dir, format: 'png' })).rejects.toMatchObject({ code: 'unsafe_output' });
    // another format next to the input is fine
    const plan = await planBatch({ input: file!, output: dir, format: 'webp' });
    expect(plan.todo.map((i) => path.basename(i.output))).toEqual(['img_000.webp']);
    // a symlinked sub-folder of the output that leads back into the input
    const input = await folder('symsub-in');
    await writeImages(path.join(input, 'sub'), 1);
    const out = await folder('symsub-out');
    await symlink(path.join(input, 'sub'), path.join(out, 'sub'));
    await expect(planBatch({ input, output: out, format: 'png', recursive: true })).rejects.toMatchObject({ code: 'unsafe_output' });
  });

  it('names missing inputs and non-folder outputs', async () => {
    await expect(planBatch({ input: path.join(tmp, 'nope'), output: path.join(tmp, 'o'), format: 'png' })).rejects.toMatchObject({
      code: 'input_missing',
    });
    const dir = await folder('notdir-in');
    const [file] = await writeImages(dir, 1);
    await expect(planBatch({ input: dir, output: file!, format: 'png' })).rejects.toMatchObject({ code: 'output_not_folder' });
  });
});

describe('runBatch', () => {
  it('translates, keeps aspect ratio, reports bad files, leaves no temp files, and resumes', async () => {
    const input = await folder('run-in');
    await writeImages(input, 3);
    await writeFile(path.join(input, 'wide.jpg'), await makeImage(7, 48, 24, 'jpeg'));
    // stored landscape, shown portrait: EXIF orientation 6 (rotate 90 degrees clockwise)
    const rotated = await sharp(await makeImage(9, 48, 24, 'jpeg')).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    await writeFile(path.join(input, 'upright.jpg'), rotated);
    await writeFile(path.join(input, 'broken.png'), Buffer.from('not an image at all'));
    const truncated = await makeImage(8, 32, 32, 'jpeg');
    await writeFile(path.join(input, 'truncated.jpg'), truncated.subarray(0, truncated.length >> 1));
    const out = path.join(tmp, 'run-out');

    const plan = await planBatch({ input, output: out, format: 'png' });
    expect(plan.todo).toHaveLength(7);
    const before = tf.memory().numTensors;
    const seen: ItemResult[] = [];
    const summary = await runBatch(plan, { translator, size: 32, concurrency: 3, onResult: (r) => seen.push(r) });
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toHaveLength(7);
    expect(summary.translated).toBe(5);
    expect(summary.interrupted).toBe(false);
    expect(summary.failures.map((f) => [f.item.rel, f.reason])).toEqual([
      ['broken.png', 'unsupported_image_type'],
      ['truncated.jpg', 'invalid_image'],
    ]);
    expect(await tree(out)).toEqual(['img_000.png', 'img_001.png', 'img_002.png', 'upright.png', 'wide.png']);
    const wide = await sharp(path.join(out, 'wide.png')).metadata();
    expect([wide.width, wide.height, wide.format]).toEqual([32, 16, 'png']);
    const upright = await sharp(path.join(out, 'upright.png')).metadata();
    expect([upright.width, upright.height]).toEqual([16, 32]);

    // Second run: finished outputs are kept, only the failures are tried again.
    const again = await planBatch({ input, output: out, format: 'png' });
    expect(again.existing).toHaveLength(5);
    expect(again.todo.map((i) => i.rel)).toEqual(['broken.png', 'truncated.jpg']);
    const redo = await planBatch({ input, output: out, format: 'png', overwrite: true });
    expect(redo.todo).toHaveLength(7);
  });

  it('stops taking images when the signal fires, and the rest can be finished later', async () => {
    const input = await folder('abort-in');
    await writeImages(input, 8);
    const out = path.join(tmp, 'abort-out');
    const controller = new AbortController();
    const summary = await runBatch(await planBatch({ input, output: out, format: 'jpeg' }), {
      translator,
      size: 32,
      concurrency: 2,
      signal: controller.signal,
      onResult: () => controller.abort(),
    });
    expect(summary.interrupted).toBe(true);
    expect(summary.translated).toBeGreaterThanOrEqual(1);
    expect(summary.translated).toBeLessThan(8);
    const files = await tree(out);
    expect(files.every((f) => /^img_\d{3}\.jpg$/.test(f))).toBe(true);
    const rest = await planBatch({ input, output: out, format: 'jpeg' });
    expect(rest.todo).toHaveLength(8 - summary.translated);
    const done = await runBatch(rest, { translator, size: 32 });
    expect(done.translated).toBe(8 - summary.translated);
    expect(await tree(out)).toHaveLength(8);
  });
});
