/**
 * The evaluation procedure: translate testA with a model and compare it with the real testB by KID
 * (with a jackknife standard error) and FID on Inception mixed5 features (768-d, inception.ts).
 *
 * Two reference rows come with every result, because neither number means much alone at test-set
 * sizes of about a hundred images:
 *   identity: untranslated testA vs testB, what a model that does nothing scores;
 *   floor:    testB half vs the other half, averaged over random splits: the real-vs-real noise.
 * KID is unbiased, so the floor's KID is about 0 and a model is judged by how many standard errors
 * its KID lies above 0 and below the identity row. FID is biased upwards at these sizes (the floor's
 * FID is most of the identity FID), so FIDs compare only at equal set sizes.
 *
 * All three sets are decoded the same way (imaging/codec.ts) at the same working resolution, and
 * testA is translated through the same Translator as the web app and `coopcut translate`.
 */
import { findImages } from '../data/image-folder.ts';
import { decodeImage, type RgbImage } from '../imaging/codec.ts';
import { ImagingError } from '../imaging/errors.ts';
import type { ImageLimits } from '../config.ts';
import { readCard, writeCard, type EvalRecord, type ModelCard } from '../store/model-card.ts';
import type { Translator } from '../translate/translator.ts';
import { createRng, permutation } from '../util/rng.ts';
import { fid } from './fid.ts';
import { loadInceptionFeatures, type FeatureExtractor } from './inception.ts';
import { kid } from './kid.ts';

/** Key of the result in the model card's `metrics`. */
export const EVAL_METRICS_KEY = 'test';
export const DEFAULT_FLOOR_SPLITS = 10;
/** KID needs three images per set; the floor splits testB in halves. */
const MIN_IMAGES = 3;

export interface PairScore {
  kid: number;
  /** jackknife standard error of kid */
  kidSe: number;
  fid: number;
  n: { x: number; y: number };
}

export interface FloorScore {
  /** mean over the splits */
  kid: number;
  /** standard deviation of kid over the splits (understates the sampling error; see kidSe) */
  kidSpread: number;
  /** mean jackknife standard error of one half-vs-half kid */
  kidSe: number;
  fid: number;
  splits: number;
  n: { x: number; y: number };
}

export interface EvalSkip {
  file: string;
  reason: string;
  message: string;
}

export interface EvalReport {
  model: string;
  /** training iterations recorded in the model card, if any */
  iterations: number | null;
  testA: string;
  testB: string;
  /** working resolution (longest side) of all three sets */
  size: number;
  features: string;
  /** G(testA) vs testB */
  translated: PairScore;
  /** testA vs testB */
  identity: PairScore;
  /** testB vs testB (null when testB has fewer than 6 images) */
  floor: FloorScore | null;
  skipped: EvalSkip[];
  evaluatedAt: string;
  seconds: number;
}

export interface EvaluateOptions {
  testA: string;
  testB: string;
  /** working resolution (default: the model's) */
  size?: number;
  /** random testB splits for the floor (default 10) */
  floorSplits?: number;
  seed?: number;
  limits?: ImageLimits;
  /** default: the shared Inception mixed5 extractor */
  extractor?: FeatureExtractor;
  /** images per step; also how many translations are in flight at once (default 8) */
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
}

export class EvalSetTooSmallError extends Error {
  constructor(what: string, n: number) {
    super(`${what} has ${n} usable image${n === 1 ? '' : 's'}; the evaluation needs at least ${MIN_IMAGES}`);
    this.name = 'EvalSetTooSmallError';
  }
}

export function scorePair(x: readonly Float64Array[], y: readonly Float64Array[]): PairScore {
  const k = kid(x, y);
  return { kid: k.kid, kidSe: k.se, fid: fid(x, y), n: { x: x.length, y: y.length } };
}

/** Real vs real: random halves of one set, `splits` times; null when a half would be too small for KID. */
export function realFloor(features: readonly Float64Array[], splits: number, seed = 0): FloorScore | null {
  const n = features.length;
  const half = Math.floor(n / 2);
  if (half < MIN_IMAGES || splits < 1) return null;
  const rng = createRng(seed);
  const kids: number[] = [];
  const ses: number[] = [];
  const fids: number[] = [];
  for (let s = 0; s < splits; s++) {
    const p = permutation(n, rng);
    const x = Array.from(p.subarray(0, half), (i) => features[i]!);
    const y = Array.from(p.subarray(half), (i) => features[i]!);
    const score = scorePair(x, y);
    kids.push(score.kid);
    ses.push(score.kidSe);
    fids.push(score.fid);
  }
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const mk = mean(kids);
  const spread = Math.sqrt(mean(kids.map((k) => (k - mk) ** 2)));
  return { kid: mk, kidSpread: spread, kidSe: mean(ses), fid: mean(fids), splits, n: { x: half, y: n - half } };
}

function skipOf(file: string, err: unknown): EvalSkip {
  if (err instanceof ImagingError) return { file, reason: err.code, message: err.message };
  return { file, reason: 'error', message: (err as Error).message ?? String(err) };
}

/** Settled results of `f` over `items`, all started at once (sharp works on its own threads). */
async function settleAll<T, R>(items: readonly T[], f: (t: T) => Promise<R>): Promise<Array<{ ok: true; value: R } | { ok: false; error: unknown }>> {
  return Promise.all(
    items.map((t) =>
      f(t).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ),
  );
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function evaluate(translator: Translator, opts: EvaluateOptions): Promise<EvalReport> {
  const start = performance.now();
  const size = translator.resolveSize(opts.size);
  const chunkSize = opts.chunk ?? 8;
  const decodeOpts = { resize: { fit: 'longest' as const, side: size }, ...(opts.limits ? { limits: opts.limits } : {}) };
  const [filesA, filesB] = await Promise.all([findImages(opts.testA), findImages(opts.testB)]);
  const extractor = opts.extractor ?? (await loadInceptionFeatures());
  const total = filesA.length + filesB.length;
  let done = 0;
  const skipped: EvalSkip[] = [];
  const featA: Float64Array[] = [];
  const featT: Float64Array[] = [];
  const featB: Float64Array[] = [];

  for (const files of chunks(filesA, chunkSize)) {
    // The translated image goes through translateBuffer, exactly what a user of the web app or of
    // `coopcut translate` gets (PNG is lossless, so the round trip changes no pixel).
    const pairs = await settleAll(files, async (file): Promise<[RgbImage, RgbImage]> => {
      const real = await decodeImage(file, decodeOpts);
      const out = await translator.translateBuffer(file, { size, format: 'png' });
      return [real, await decodeImage(out.data, { file, ...(opts.limits ? { limits: opts.limits } : {}) })];
    });
    const real: RgbImage[] = [];
    const fake: RgbImage[] = [];
    pairs.forEach((r, i) => {
      if (r.ok) {
        real.push(r.value[0]);
        fake.push(r.value[1]);
      } else {
        skipped.push(skipOf(files[i]!, r.error));
      }
    });
    featA.push(...(await extractor.extractFromRgb(real)));
    featT.push(...(await extractor.extractFromRgb(fake)));
    done += files.length;
    opts.onProgress?.(done, total);
  }
  for (const files of chunks(filesB, chunkSize)) {
    const decoded = await settleAll(files, (file) => decodeImage(file, decodeOpts));
    const ok: RgbImage[] = [];
    decoded.forEach((r, i) => (r.ok ? ok.push(r.value) : skipped.push(skipOf(files[i]!, r.error))));
    featB.push(...(await extractor.extractFromRgb(ok)));
    done += files.length;
    opts.onProgress?.(done, total);
  }
  if (featA.length < MIN_IMAGES) throw new EvalSetTooSmallError(opts.testA, featA.length);
  if (featB.length < MIN_IMAGES) throw new EvalSetTooSmallError(opts.testB, featB.length);

  return {
    model: translator.name,
    iterations: translator.card?.training.iterations ?? null,
    testA: opts.testA,
    testB: opts.testB,
    size,
    features: `InceptionV3 ${extractor.layer}, ${extractor.dim}-d (nsfwjs weights)`,
    translated: scorePair(featT, featB),
    identity: scorePair(featA, featB),
    floor: realFloor(featB, opts.floorSplits ?? DEFAULT_FLOOR_SPLITS, opts.seed ?? 0),
    skipped,
    evaluatedAt: new Date().toISOString(),
    seconds: (performance.now() - start) / 1000,
  };
}

/** The card's record: EvalRecord's fields for readers that know only those, plus the references. */
export function cardRecord(report: EvalReport): EvalRecord & Record<string, unknown> {
  const { translated: t, identity: id, floor } = report;
  return {
    kid: t.kid,
    kidSe: t.kidSe,
    fid: t.fid,
    n: { translated: t.n.x, reference: t.n.y },
    identity: { kid: id.kid, kidSe: id.kidSe, fid: id.fid, n: { source: id.n.x, reference: id.n.y } },
    floor,
    features: report.features,
    size: report.size,
    testA: report.testA,
    testB: report.testB,
    iterations: report.iterations,
    skippedFiles: report.skipped.length,
    evaluatedAt: report.evaluatedAt,
  };
}

/** Adds the result to `dir/card.json` (other metrics are kept); null when the model has no card. */
export function writeEvalToCard(dir: string, report: EvalReport): ModelCard | null {
  const card = readCard(dir);
  if (card === null) return null;
  const next: ModelCard = {
    ...card,
    metrics: { ...card.metrics, [EVAL_METRICS_KEY]: cardRecord(report) },
    updatedAt: new Date().toISOString(),
  };
  writeCard(dir, next);
  return next;
}

const fmtKid = (v: number): string => v.toFixed(5).padStart(9);
const fmtFid = (v: number): string => v.toFixed(2).padStart(7);

export function formatEvalTable(report: EvalReport): string {
  const { translated: t, identity: id, floor } = report;
  const it = report.iterations === null ? '' : ` (${report.iterations} iterations)`;
  const nn = (n: { x: number; y: number }): string => `${n.x}/${n.y}`.padStart(8);
  const lines = [
    `model ${report.model}${it} at ${report.size} px; ${report.features}`,
    `testA ${report.testA}`,
    `testB ${report.testB}`,
    '',
    `${'row'.padEnd(36)} ${'n'.padStart(8)} ${'KID'.padStart(9)} ${'± SE'.padStart(9)} ${'FID'.padStart(7)}`,
    `${'model     G(testA) vs testB'.padEnd(36)} ${nn(t.n)} ${fmtKid(t.kid)} ${fmtKid(t.kidSe)} ${fmtFid(t.fid)}`,
    `${'identity  testA vs testB'.padEnd(36)} ${nn(id.n)} ${fmtKid(id.kid)} ${fmtKid(id.kidSe)} ${fmtFid(id.fid)}`,
  ];
  if (floor) {
    lines.push(
      `${`floor     testB halves (${floor.splits} splits)`.padEnd(36)} ${nn(floor.n)} ${fmtKid(floor.kid)} ${fmtKid(floor.kidSe)} ${fmtFid(floor.fid)}` +
        `   KID spread over splits ${floor.kidSpread.toFixed(5)}`,
    );
  } else {
    lines.push(`${'floor'.padEnd(36)} (testB too small to split)`);
  }
  lines.push('');
  lines.push(
    `model KID: ${(t.kid / t.kidSe).toFixed(1)} SE above 0 (the real-vs-real level); ` +
      `identity KID: ${(id.kid / id.kidSe).toFixed(1)} SE; model/identity KID ratio ${(t.kid / id.kid).toFixed(2)}`,
  );
  lines.push('Not comparable with published FIDs (those use pool3 of the original TF InceptionV3).');
  if (report.skipped.length > 0) {
    lines.push(`skipped ${report.skipped.length} unreadable file${report.skipped.length === 1 ? '' : 's'}:`);
    for (const s of report.skipped) lines.push(`  ${s.reason}  ${s.message}`);
  }
  return lines.join('\n') + '\n';
}
