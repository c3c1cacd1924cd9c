/**
 * Test fixtures: a tiny untrained generator saved as a model folder, and small generated images.
 * Tests never depend on the trained models under models/.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { resolveTrainOptions } from '../../src/config.ts';
import { createGenerator, type GeneratorShape } from '../../src/models/generator.ts';
import { disposeParams } from '../../src/nn/params.ts';
import { saveGenerator } from '../../src/store/generator-file.ts';
import { readCard, writeCard, type ModelCard } from '../../src/store/model-card.ts';
import { loadTranslator, type Translator } from '../../src/translate/translator.ts';
import { createRng } from '../../src/util/rng.ts';

export const TINY_SHAPE: GeneratorShape = { inputNc: 3, outputNc: 3, ngf: 4, nBlocks: 1 };

/** Writes `dir/model.json`, `weights.bin` and `card.json` of a 4-channel, 1-block generator. */
export function writeTinyModel(dir: string, name = 'tiny', workingSize = 32): ModelCard {
  const g = createGenerator(TINY_SHAPE, createRng(0), 0.02);
  saveGenerator(dir, g, TINY_SHAPE);
  disposeParams(g.params);
  const options = resolveTrainOptions({ dataroot: '/nowhere/a2b', name, preset: 'tiny' });
  const now = new Date(0).toISOString();
  const card: ModelCard = {
    name,
    domains: { a: 'a', b: 'b' },
    trainSize: workingSize,
    workingSize,
    mode: 'cut',
    preset: 'tiny',
    options,
    parameters: { G: 0, D: 0, F: 0 },
    training: {
      iterations: 0,
      epochs: 0,
      wallClockSeconds: 0,
      backend: 'test',
      stages: [],
      datasetSizes: { a: 0, b: 0 },
      skippedFiles: 0,
      finished: false,
    },
    dataset: { name: 'generated', licence: 'test fixture' },
    createdAt: now,
    updatedAt: now,
  };
  writeCard(dir, card);
  return card;
}

/** A width x height image whose colours depend on `seed`, encoded as `format`. */
export async function makeImage(seed: number, width = 32, height = 32, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  const rng = createRng(seed);
  const base = [rng.int(256), rng.int(256), rng.int(256)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) data[i + c] = (base[c]! + x * (c + 1) * 3 + y * (3 - c) * 2 + rng.int(16)) % 256;
    }
  }
  const img = sharp(data, { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

/** `count` images named img_000.png ... in `dir`. */
export async function writeImages(dir: string, count: number, opts: { seed?: number; width?: number; height?: number } = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `img_${String(i).padStart(3, '0')}.png`);
    await writeFile(file, await makeImage((opts.seed ?? 0) * 100_000 + i, opts.width, opts.height));
    files.push(file);
  }
  return files;
}

/**
 * A temp folder holding the tiny model, and a warmed-up Translator on it: the blur filters are
 * created on first use and cached, so leak checks start after one translation.
 */
export async function openTinyTranslator(prefix: string): Promise<{ tmp: string; translator: Translator; close: () => Promise<void> }> {
  const tmp = await mkdtemp(path.join(tmpdir(), prefix));
  const modelDir = path.join(tmp, 'model');
  await mkdir(modelDir);
  writeTinyModel(modelDir);
  const translator = loadTranslator({ name: 'tiny', dir: modelDir, card: readCard(modelDir) });
  await translator.translateBuffer(await makeImage(0), { size: 32 });
  return {
    tmp,
    translator,
    close: async () => {
      translator.dispose();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
