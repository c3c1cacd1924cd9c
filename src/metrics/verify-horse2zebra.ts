/**
 * Reproduces the KID/FID baselines of docs/metrics.md on horse2zebra, as a check that the feature
 * extractor and the metrics are wired up as documented (run it after touching any of them):
 *
 *   npx tsx src/metrics/verify-horse2zebra.ts [datasetRoot] [--layer mixed5] [--splits 10]
 *
 * datasetRoot holds testA/ and testB/ (default ../shared/datasets/horse2zebra). Prints testA vs testB
 * (the identity baseline: what a translator that changes nothing scores) and real-vs-real halves.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fid } from './fid.ts';
import { loadInceptionFeatures } from './inception.ts';
import { kid } from './kid.ts';
import { createRng, permutation, type Rng } from '../util/rng.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { layer: { type: 'string', default: 'mixed5' }, splits: { type: 'string', default: '10' } },
});
const root = positionals[0] ?? path.join('..', 'shared', 'datasets', 'horse2zebra');
const splits = Number(values.splits);

const images = (dir: string): string[] =>
  readdirSync(path.join(root, dir))
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => path.join(root, dir, f));

const fx = await loadInceptionFeatures({ layer: values.layer });
const t0 = performance.now();
const a = await fx.extractFromFiles(images('testA'));
const b = await fx.extractFromFiles(images('testB'));
const msPerImage = (performance.now() - t0) / (a.length + b.length);

const fmt = (v: number, digits = 5): string => v.toFixed(digits);
const ab = kid(a, b);
console.log(`features: ${fx.layer} (${fx.dim}-d), ${msPerImage.toFixed(0)} ms per image`);
console.log(`testA (${a.length}) vs testB (${b.length}): KID ${fmt(ab.kid)} SE ${fmt(ab.se)} FID ${fmt(fid(a, b), 2)}`);
for (const [name, set] of [['testB', b], ['testA', a]] as const) {
  const r = halves(set, splits, createRng(1));
  console.log(
    `${name} halves, ${splits} splits: KID mean ${fmt(r.kid)} (spread ${fmt(r.kidSpread)}, mean jackknife SE ${fmt(r.se)}) FID mean ${fmt(r.fid, 2)}`,
  );
}

function halves(set: Float64Array[], count: number, rng: Rng): { kid: number; kidSpread: number; se: number; fid: number } {
  const kids: number[] = [];
  const ses: number[] = [];
  const fids: number[] = [];
  for (let s = 0; s < count; s++) {
    const p = permutation(set.length, rng);
    const h = Math.floor(set.length / 2);
    const first = [...p.subarray(0, h)].map((i) => set[i]!);
    const second = [...p.subarray(h)].map((i) => set[i]!);
    const r = kid(first, second);
    kids.push(r.kid);
    ses.push(r.se);
    fids.push(fid(first, second));
  }
  const mean = (v: number[]): number => v.reduce((x, y) => x + y, 0) / v.length;
  const mu = mean(kids);
  return { kid: mu, kidSpread: Math.sqrt(mean(kids.map((k) => (k - mu) ** 2))), se: mean(ses), fid: mean(fids) };
}
