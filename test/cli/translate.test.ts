import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, translateArgs } from '../../src/cli/translate.ts';
import { UsageError } from '../../src/cli/args.ts';
import { writeImages, writeTinyModel } from '../translate/tiny-model.ts';
import { captureIo } from './io.ts';

let tmp: string;
let model: string;
let input: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'coopcut-cli-translate-'));
  model = path.join(tmp, 'tiny');
  await mkdir(model);
  writeTinyModel(model);
  input = path.join(tmp, 'in');
  await writeImages(input, 3);
  await writeImages(path.join(input, 'sub'), 1, { seed: 2 });
  await writeFile(path.join(input, 'bad.png'), 'garbage');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('translateArgs', () => {
  it('applies defaults and validates', () => {
    const a = translateArgs(['--input', 'x', '--output', 'y']);
    expect(a).toMatchObject({ model: 'horse2zebra', format: 'png', recursive: false, overwrite: false, concurrency: 4, allowFailures: false });
    expect(translateArgs(['--help'])).toBe('help');
    expect(() => translateArgs(['--output', 'y'])).toThrow(UsageError);
    expect(() => translateArgs(['-i', 'x', '-o', 'y', '--format', 'gif'])).toThrow(/png, jpeg or webp/);
    expect(() => translateArgs(['-i', 'x', '-o', 'y', '--concurrency', '0'])).toThrow(/concurrency/);
    expect(() => translateArgs(['-i', 'x', '-o', 'y', 'extra'])).toThrow(/unexpected argument/);
  });
});

describe('coopcut translate', () => {
  it('exits 2 on usage errors, unknown models and unsafe output folders', async () => {
    for (const argv of [
      ['--output', 'y'],
      ['--model', 'no-such-model', '--models', tmp, '-i', input, '-o', path.join(tmp, 'o')],
      ['--model', model, '-i', input, '-o', path.join(input, 'out')],
      ['--model', model, '-i', input, '-o', path.join(tmp, 'o'), '--size', '3'],
    ]) {
      const io = captureIo();
      expect(await run(argv, io)).toBe(2);
      expect(io.err()).toMatch(/^coopcut translate: /);
    }
  });

  it('translates a folder tree, lists the bad file, exits 1 (0 with --allow-failures) and resumes', async () => {
    const out = path.join(tmp, 'out');
    const args = ['--model', model, '-i', input, '-o', out, '--recursive', '--size', '32', '--format', 'jpeg'];
    const io = captureIo();
    expect(await run(args, io)).toBe(1);
    expect(io.out()).toMatch(/^translated 4 images in /);
    expect(io.out()).toMatch(/skipped 1 file that could not be translated:\n {2}bad\.png\s+unsupported_image_type/);
    expect(io.err()).toMatch(/translate\s+5\/5 \[=+\] 100\.0% .* img\/s in /);
    const files = (await readdir(out, { recursive: true })).sort();
    expect(files).toEqual(['img_000.jpg', 'img_001.jpg', 'img_002.jpg', 'sub', path.join('sub', 'img_000.jpg')]);

    const again = captureIo();
    expect(await run([...args, '--allow-failures'], again)).toBe(0);
    expect(again.out()).toMatch(/translated 0 images/);
    expect(again.out()).toMatch(/kept 4 existing outputs/);
  });

  it('translates a single file and says when there is nothing left to do', async () => {
    const out = path.join(tmp, 'single');
    const args = ['--model', model, '-i', path.join(input, 'img_001.png'), '-o', out, '--format', 'webp'];
    expect(await run(args, captureIo())).toBe(0);
    expect(await readdir(out)).toEqual(['img_001.webp']);
    const io = captureIo();
    expect(await run(args, io)).toBe(0);
    expect(io.out()).toMatch(/^nothing to do/);
  });
});
