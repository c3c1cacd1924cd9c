/**
 * How the KID on Inception `mixed5` features reacts to simple degradations of the untranslated
 * inputs: each row is KID(degraded testA, testB). It tells what the metric rewards and punishes
 * before a model's number is read (a blur alone costs more than the horse/zebra difference).
 * usage: npx tsx data/metric-probe.ts [--testA DIR] [--testB DIR] [--json]
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '../src/imaging/codec.ts';
import { loadInceptionFeatures, releaseInceptionFeatures } from '../src/metrics/inception.ts';
import { kid } from '../src/metrics/kid.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const root = '../shared/datasets/horse2zebra';
const dirA = arg('testA', path.join(root, 'testA'));
const dirB = arg('testB', path.join(root, 'testB'));
const list = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));

type Degrade = (png: Buffer) => Promise<Buffer>;
const op =
  (f: (s: Sharp) => Sharp): Degrade =>
  (png) =>
    f(sharp(png)).png().toBuffer();
// Each degradation keeps the 256x256 size, so only the named change differs from the identity row.
const degradations: Record<string, Degrade> = {
  'identity (untouched)': async (png) => png,
  'gaussian blur sigma 1': op((s) => s.blur(1)),
  'gaussian blur sigma 2': op((s) => s.blur(2)),
  // two pipelines: sharp keeps only the last resize of one pipeline
  'down to 128 px and back': async (png) =>
    op((s) => s.resize(256, 256, { fit: 'fill' }))(await op((s) => s.resize(128, 128, { fit: 'fill' }))(png)),
  'saturation x0.5': op((s) => s.modulate({ saturation: 0.5 })),
  greyscale: op((s) => s.grayscale()),
  'sharpen sigma 1.5': op((s) => s.sharpen({ sigma: 1.5 })),
};

const extractor = await loadInceptionFeatures();
const features = async (files: string[], degrade: Degrade): Promise<Float64Array[]> => {
  const out: Float64Array[] = [];
  for (let i = 0; i < files.length; i += 8) {
    const batch = await Promise.all(
      files.slice(i, i + 8).map(async (f) => {
        const png = await sharp(f).resize(256, 256, { fit: 'fill' }).png().toBuffer();
        return decodeImage(await degrade(png), { file: f });
      }),
    );
    out.push(...(await extractor.extractFromRgb(batch)));
  }
  return out;
};

const real = await features(list(dirB), async (png) => png);
const filesA = list(dirA);
const rows: { degradation: string; kid: number; se: number }[] = [];
for (const [name, degrade] of Object.entries(degradations)) {
  const r = kid(await features(filesA, degrade), real);
  rows.push({ degradation: name, kid: r.kid, se: r.se });
  if (!process.argv.includes('--json')) {
    process.stdout.write(`${name.padEnd(26)} KID ${r.kid.toFixed(5)} ± ${r.se.toFixed(5)}\n`);
  }
}
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ testA: dirA, testB: dirB, rows }, null, 2)}\n`);
await releaseInceptionFeatures();
