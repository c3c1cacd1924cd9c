/**
 * The evaluation procedure end to end on a handful of generated images: the real Inception network
 * (bundled, offline), a tiny untrained generator, the card update. KID/FID arithmetic itself is
 * pinned down in kid/fid tests.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import { loadInceptionFeatures, releaseInceptionFeatures } from '../../src/metrics/inception.ts';
import { EVAL_METRICS_KEY, evaluate, formatEvalTable, realFloor, writeEvalToCard, type EvalReport } from '../../src/metrics/evaluate.ts';
import { readCard } from '../../src/store/model-card.ts';
import { loadTranslator, type Translator } from '../../src/translate/translator.ts';
import { writeImages, writeTinyModel } from '../translate/tiny-model.ts';

let tmp: string;
let modelDir: string;
let translator: Translator;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'coopcut-eval-'));
  modelDir = path.join(tmp, 'model');
  await mkdir(modelDir);
  writeTinyModel(modelDir);
  translator = loadTranslator({ name: 'tiny', dir: modelDir, card: readCard(modelDir) });
  // Loaded up front so that the tensor count below sees only what the evaluation itself leaves.
  await loadInceptionFeatures();
});

afterAll(async () => {
  translator.dispose();
  await releaseInceptionFeatures();
  await rm(tmp, { recursive: true, force: true });
});

const finite = (r: { kid: number; kidSe: number; fid: number }): boolean =>
  [r.kid, r.kidSe, r.fid].every((v) => Number.isFinite(v));

it('scores a model offline, with identity ~0 for identical folders, and records it in the card', async () => {
  const set = path.join(tmp, 'set');
  await writeImages(set, 6, { seed: 3 });
  await writeFile(path.join(set, 'zz_broken.jpg'), 'not a jpeg');
  const progress: number[] = [];
  const tensors = tf.memory().numTensors;
  const report: EvalReport = await evaluate(translator, {
    testA: set,
    testB: set,
    floorSplits: 1,
    onProgress: (done) => progress.push(done),
  });
  // At most the generator's blur filters, created and cached on first use.
  expect(tf.memory().numTensors - tensors).toBeLessThanOrEqual(2);
  expect(progress.at(-1)).toBe(14);
  expect(report.size).toBe(32);
  expect(report.skipped.map((s) => s.reason)).toEqual(['unsupported_image_type', 'unsupported_image_type']);
  expect(report.translated.n).toEqual({ x: 6, y: 6 });
  expect(finite(report.translated) && finite(report.identity)).toBe(true);
  expect(report.floor).not.toBeNull();
  expect(finite(report.floor!)).toBe(true);
  expect(report.floor!.n).toEqual({ x: 3, y: 3 });
  // Identical sets: FID is 0 up to round-off; unbiased KID is slightly negative, -(2/m) of the
  // kernel's diagonal excess, and far below an untrained generator's score.
  expect(Math.abs(report.identity.fid)).toBeLessThan(1e-6 * Math.max(1, report.translated.fid));
  expect(report.identity.kid).toBeLessThanOrEqual(0);
  expect(report.translated.kid).toBeGreaterThan(Math.abs(report.identity.kid));
  expect(report.translated.fid).toBeGreaterThan(0);

  const table = formatEvalTable(report);
  expect(table).toMatch(/model\s+G\(testA\) vs testB\s+6\/6/);
  expect(table).toMatch(/floor\s+testB halves \(1 splits\)\s+3\/3/);

  const card = writeEvalToCard(modelDir, report);
  expect(card).not.toBeNull();
  const stored = readCard(modelDir)?.metrics?.[EVAL_METRICS_KEY] as Record<string, unknown> | undefined;
  expect(stored).toMatchObject({
    kid: report.translated.kid,
    kidSe: report.translated.kidSe,
    fid: report.translated.fid,
    n: { translated: 6, reference: 6 },
    identity: { kid: report.identity.kid, n: { source: 6, reference: 6 } },
    size: 32,
    testA: set,
    skippedFiles: 2,
  });
  expect(readCard(modelDir)?.name).toBe('tiny');
}, 600_000);

it('has no floor when the reference set cannot be halved into sets of three', () => {
  const f = Array.from({ length: 5 }, (_, i) => Float64Array.from({ length: 4 }, (_, k) => i + k));
  expect(realFloor(f, 3)).toBeNull();
});
