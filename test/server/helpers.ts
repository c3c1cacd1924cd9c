/**
 * Fixtures for the server tests: a tiny generator saved as a real model folder (so the tests never
 * depend on a trained model), and real image files of every kind the upload path must handle,
 * good and bad, built in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { resolveTrainOptions } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log/logger.ts';
import { createGenerator, type GeneratorShape } from '../../src/models/generator.ts';
import { disposeParams } from '../../src/nn/params.ts';
import { saveGenerator } from '../../src/store/generator-file.ts';
import { writeCard, type ModelCard } from '../../src/store/model-card.ts';
import { createRng } from '../../src/util/rng.ts';
import { pngBomb } from '../helpers/png-bomb.ts';

export const TINY_SHAPE: GeneratorShape = { inputNc: 3, outputNc: 3, ngf: 4, nBlocks: 1 };

export interface TinyModelOptions {
  domains?: { a: string; b: string };
  workingSize?: number;
  metrics?: ModelCard['metrics'];
  seed?: number;
  warmStart?: ModelCard['training']['warmStart'];
}

export function tinyCard(name: string, o: TinyModelOptions = {}): ModelCard {
  const options = resolveTrainOptions({ dataroot: '/datasets/horse2zebra', name, preset: 'tiny' });
  const now = new Date(0).toISOString();
  return {
    name,
    domains: o.domains ?? { a: 'horse', b: 'zebra' },
    trainSize: 32,
    workingSize: o.workingSize ?? 64,
    mode: 'cut',
    preset: 'tiny',
    options,
    parameters: { G: 1234, D: 567, F: 89 },
    training: {
      iterations: 42,
      epochs: 1,
      wallClockSeconds: 12,
      backend: 'tensorflow',
      stages: [{ name: 'adversarial', iterations: 42 }],
      datasetSizes: { a: 10, b: 12 },
      skippedFiles: 0,
      finished: true,
      ...(o.warmStart ? { warmStart: o.warmStart } : {}),
    },
    dataset: { name: 'horse2zebra', licence: 'Test licence: for tests only.' },
    ...(o.metrics ? { metrics: o.metrics } : {}),
    createdAt: now,
    updatedAt: now,
  };
}

/** A randomly initialised ngf=4, one-block generator: milliseconds per image, real code paths. */
export function writeTinyModel(modelsDir: string, name: string, o: TinyModelOptions = {}): void {
  const dir = path.join(modelsDir, name);
  const g = createGenerator(TINY_SHAPE, createRng(o.seed ?? 0), 0.02);
  try {
    saveGenerator(dir, g, TINY_SHAPE);
  } finally {
    disposeParams(g.params);
  }
  writeCard(dir, tinyCard(name, o));
}

export interface TempModels {
  dir: string;
  cleanup(): void;
}

export function tempModelsDir(models: Array<[string, TinyModelOptions?]> = [['tiny']]): TempModels {
  const dir = mkdtempSync(path.join(tmpdir(), 'coopcut-models-'));
  for (const [name, o] of models) writeTinyModel(dir, name, o);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const quietLogger = (): Logger => createLogger({ level: 'silent' });

/** A smooth colour image with some structure, so encoders produce ordinary files. */
export function rgbPattern(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((255 * x) / Math.max(1, width - 1));
      data[i + 1] = Math.round((255 * y) / Math.max(1, height - 1));
      data[i + 2] = (x >> 3) % 2 === (y >> 3) % 2 ? 200 : 40;
    }
  }
  return data;
}

const raw = (width: number, height: number): Sharp => sharp(rgbPattern(width, height), { raw: { width, height, channels: 3 } });

export const images = {
  jpeg: (w = 96, h = 64): Promise<Buffer> => raw(w, h).jpeg({ quality: 90 }).toBuffer(),
  png: (w = 96, h = 64): Promise<Buffer> => raw(w, h).png().toBuffer(),
  webp: (w = 96, h = 64): Promise<Buffer> => raw(w, h).webp().toBuffer(),
  tiff: (w = 96, h = 64): Promise<Buffer> => raw(w, h).tiff().toBuffer(),
  avif: (w = 96, h = 64): Promise<Buffer> => raw(w, h).avif().toBuffer(),
  /** RGBA, half transparent */
  pngAlpha: (w = 48, h = 32): Promise<Buffer> =>
    sharp(Buffer.alloc(w * h * 4, 0x80), { raw: { width: w, height: h, channels: 4 } }).png().toBuffer(),
  png16: (w = 48, h = 32): Promise<Buffer> => raw(w, h).toColourspace('rgb16').png().toBuffer(),
  cmykJpeg: (w = 48, h = 32): Promise<Buffer> => raw(w, h).toColourspace('cmyk').jpeg().toBuffer(),
  /** stored 80 wide x 40 high, tagged "rotate 90 CW": shown (and translated) 40 wide x 80 high */
  exifRotatedJpeg: (): Promise<Buffer> => raw(80, 40).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  /** two 40x30 frames stacked: the first frame only must be used */
  animatedGif: (): Promise<Buffer> =>
    sharp(rgbPattern(40, 60), { raw: { width: 40, height: 60, channels: 3, pageHeight: 30 } }).gif().toBuffer(),
  truncatedJpeg: async (): Promise<Buffer> => {
    const full = await raw(96, 64).jpeg().toBuffer();
    return full.subarray(0, Math.floor(full.length / 2));
  },
  randomBytes: (n = 4096, seed = 7): Buffer => {
    const out = Buffer.alloc(n);
    let s = seed;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      out[i] = s >>> 24;
    }
    return out;
  },
  svg: (): Buffer =>
    Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>'),
  pdf: (): Buffer => Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
  /** a valid PNG signature and IHDR declaring side x side RGB, with a token IDAT */
  pngBomb,
};

