/**
 * Mode-coverage benchmark: does a CoopInit warm start make CUT use more of domain B's modes?
 *
 * Domain A: grey squares on a dark background. Domain B: the same squares in one of K colours,
 * uniformly. Any single colour is a valid translation, so a translator that covers B's distribution
 * spreads its outputs over the K colours; one that mode-collapses paints everything in a few. Plain
 * CUT and CUT + CoopInit train with identical budgets (same iterations, data, preset and seeds; the
 * cooperative iterations count toward the budget), then translate a fixed test set of A images and
 * are scored by the colours their outputs use (metrics/mode-coverage.ts) and by whether the
 * square stays where it was (mask IoU against the ground truth).
 *
 *   npx tsx src/experiments/mode-coverage.ts [--seeds 3] [--iters 800] [--json out.json]
 *
 * Set TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS in the environment to pin TensorFlow's
 * threads (the timings are per process).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tf, backend, type Tensor4D } from '../tf.ts';
import { resolveTrainOptions, type CoopOptions, type Mode } from '../config.ts';
import { train } from '../training/trainer.ts';
import { COOP_DEFAULT_FRACTION } from '../training/stage-plan.ts';
import { loadGenerator } from '../store/generator-file.ts';
import { decodeImage, rgbToTensor, tensorToRgb, type RgbImage } from '../imaging/codec.ts';
import {
  DEFAULT_GREY,
  DEFAULT_PALETTE_8,
  maskIoU,
  meanColour,
  relativeForeground,
  shapeMask,
  writeShapesDataset,
  type Rgb,
  type ShapesManifest,
} from '../data/synthetic-shapes.ts';
import { createLogger } from '../log/logger.ts';
import { modeCoverage } from '../metrics/mode-coverage.ts';

export type Method = 'cut' | 'coopinit';

export interface ModeCoverageOptions {
  /** training seeds per method (default 3) */
  seeds?: number;
  /** iterations per run, cooperative ones included (default 800) */
  iters?: number;
  /** cooperative iterations of the CoopInit runs (default COOP_DEFAULT_FRACTION of iters) */
  coopIters?: number;
  /** other CoopInit options (defaults: config.ts) */
  coop?: Partial<Omit<CoopOptions, 'coopIters'>>;
  methods?: readonly Method[];
  /** image side (default 32, the tiny preset's crop) */
  size?: number;
  trainA?: number;
  trainB?: number;
  /** fixed test set of A images (default 128) */
  testA?: number;
  /** share of outputs a colour needs to count as covered (default 0.05) */
  minShare?: number;
  /** where datasets and models go (default a fresh temp folder, removed afterwards) */
  workDir?: string;
  onProgress?: (message: string) => void;
  /** the translated test images of each run (e.g. to save a contact sheet) */
  onOutputs?: (method: Method, seed: number, outputs: readonly RgbImage[]) => void;
}

export interface RunResult {
  method: Method;
  seed: number;
  /** colours receiving at least minShare of the outputs */
  coverage: number;
  /** total-variation distance of the output colour histogram to uniform over the K colours */
  tv: number;
  /** outputs per palette colour (nearest palette colour of the output's foreground) */
  histogram: number[];
  /** outputs with no foreground at all */
  unassigned: number;
  /** mean RGB distance (0-255) of the outputs' foreground colour to their palette colour */
  paletteDistance: number;
  /** outputs whose square is still nearer A's grey than any palette colour (counted in `histogram` too) */
  stillGrey: number;
  /** mean IoU of the output's foreground with the input's square */
  iou: number;
  /** median milliseconds per training iteration, by stage */
  msPerIter: Record<string, number>;
  trainSeconds: number;
  skippedSteps: number;
}

export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

export interface MethodSummary {
  method: Method;
  runs: number;
  coverage: Spread;
  tv: Spread;
  iou: Spread;
  stillGrey: Spread;
  paletteDistance: Spread;
  msPerIter: Record<string, number>;
  trainSeconds: Spread;
}

export interface ModeCoverageReport {
  setup: {
    seeds: number;
    iters: number;
    coopIters: number;
    coop: Partial<CoopOptions>;
    size: number;
    colours: number;
    trainA: number;
    trainB: number;
    testA: number;
    minShare: number;
    preset: 'tiny';
    backend: string;
    threads: number;
  };
  runs: RunResult[];
  summary: MethodSummary[];
  /** the summary as a Markdown table */
  table: string;
}

const DATASET_SEED = 7;

export async function runModeCoverage(opts: ModeCoverageOptions = {}): Promise<ModeCoverageReport> {
  const seeds = opts.seeds ?? 3;
  const iters = opts.iters ?? 800;
  const coopIters = opts.coopIters ?? Math.max(1, Math.round(COOP_DEFAULT_FRACTION * iters));
  const size = opts.size ?? 32;
  const trainA = opts.trainA ?? 200;
  const trainB = opts.trainB ?? 400;
  const testA = opts.testA ?? 128;
  const minShare = opts.minShare ?? 0.05;
  const methods = opts.methods ?? ['cut', 'coopinit'];
  const palette = DEFAULT_PALETTE_8;
  const progress = opts.onProgress ?? (() => {});
  if (coopIters >= iters) throw new RangeError(`coopIters (${coopIters}) must be below iters (${iters})`);

  const ownDir = !opts.workDir;
  const root = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-modes-'));
  const dataroot = path.join(root, 'data');
  try {
    const manifest = await writeShapesDataset(dataroot, {
      size,
      countA: trainA,
      countB: trainB,
      testCountA: testA,
      seed: DATASET_SEED,
      domainA: { kind: 'grey' },
      domainB: { colours: palette },
      shape: 'square',
    });
    const test = await loadTestSet(dataroot, manifest);
    const runs: RunResult[] = [];
    try {
      for (let seed = 0; seed < seeds; seed++) {
        for (const method of methods) {
          progress(`${method} seed ${seed}: training ${iters} iterations`);
          const run = await trainAndScore(method, seed, { root, dataroot, iters, coopIters, coop: opts.coop ?? {}, test, palette, minShare, onOutputs: opts.onOutputs });
          runs.push(run);
          progress(
            `${method} seed ${seed}: coverage ${run.coverage}/${palette.length}, TV ${run.tv.toFixed(3)}, IoU ${run.iou.toFixed(3)}, ` +
              `still grey ${run.stillGrey}, ${run.trainSeconds.toFixed(0)} s`,
          );
        }
      }
    } finally {
      test.images.dispose();
    }
    const summary = methods.map((m) => summarise(m, runs.filter((r) => r.method === m)));
    return {
      setup: {
        seeds,
        iters,
        coopIters,
        coop: opts.coop ?? {},
        size,
        colours: palette.length,
        trainA,
        trainB,
        testA,
        minShare,
        preset: 'tiny',
        backend: backend.name,
        threads: backend.threads,
      },
      runs,
      summary,
      table: markdownTable(summary, palette.length, testA),
    };
  } finally {
    if (ownDir) fs.rmSync(root, { recursive: true, force: true });
  }
}

interface TestSet {
  /** [n, size, size, 3] in [-1, 1] */
  images: Tensor4D;
  masks: Uint8Array[];
}

async function loadTestSet(dataroot: string, manifest: ShapesManifest): Promise<TestSet> {
  const records = manifest.splits.testA ?? [];
  const tensors = await Promise.all(
    records.map(async (r) => {
      const img = await decodeImage(path.join(dataroot, 'testA', r.file));
      return rgbToTensor(img.data, img.width, img.height);
    }),
  );
  const images = tf.concat(tensors, 0) as Tensor4D;
  tf.dispose(tensors);
  return { images, masks: records.map((r) => shapeMask(r.shape, manifest.size)) };
}

interface RunContext {
  root: string;
  dataroot: string;
  iters: number;
  coopIters: number;
  coop: Partial<CoopOptions>;
  test: TestSet;
  palette: readonly Rgb[];
  minShare: number;
  onOutputs?: ModeCoverageOptions['onOutputs'];
}

async function trainAndScore(method: Method, seed: number, c: RunContext): Promise<RunResult> {
  const mode: Mode = method === 'coopinit' ? 'coopinit' : 'cut';
  const options = resolveTrainOptions(
    { dataroot: c.dataroot, name: `${method}-s${seed}`, preset: 'tiny', mode },
    {
      modelsDir: path.join(c.root, 'models'),
      seed,
      maxIters: c.iters,
      // the schedule's shape (constant then linear decay) fitted to the budget, as `--iters` does
      epochIters: Math.max(1, Math.ceil(c.iters / 2)),
      saveEvery: c.iters,
      logEvery: c.iters,
      ...(method === 'coopinit' ? { coop: { ...c.coop, coopIters: c.coopIters } } : {}),
    },
  );
  const durations: Record<string, number[]> = {};
  let last = performance.now();
  const result = await train(options, {
    progress: false,
    artefacts: false,
    // 'error': a closing dataset's prefetcher may still report files of a removed temp folder
    logger: createLogger({ level: 'error' }),
    onStep: (_it, _losses, stage) => {
      const now = performance.now();
      (durations[stage] ??= []).push(now - last);
      last = now;
    },
  });
  const { g } = loadGenerator(result.dir);
  let outputs: RgbImage[];
  try {
    outputs = translateAll(g.forward, c.test.images);
  } finally {
    for (const v of g.params.values()) v.dispose();
  }
  const cov = modeCoverage(outputs, { palette: c.palette, minShare: c.minShare });
  const grey = outputs.filter((img, i) => stillGrey(img, c.test.masks[i]!, c.palette)).length;
  const iou = outputs.reduce((s, img, i) => s + maskIoU(relativeForeground(img), c.test.masks[i]!), 0) / outputs.length;
  c.onOutputs?.(method, seed, outputs);
  return {
    method,
    seed,
    coverage: cov.coveredModes,
    tv: cov.tvDistance,
    histogram: cov.counts,
    unassigned: cov.unassigned,
    paletteDistance: cov.meanDistanceToPalette,
    stillGrey: grey,
    iou,
    msPerIter: Object.fromEntries(Object.entries(durations).map(([k, v]) => [k, median(v.slice(2))])),
    trainSeconds: result.wallClockSeconds,
    skippedSteps: result.skippedSteps,
  };
}

function translateAll(forward: (x: Tensor4D) => Tensor4D, images: Tensor4D): RgbImage[] {
  const out: RgbImage[] = [];
  const n = images.shape[0];
  const chunk = 32;
  for (let i = 0; i < n; i += chunk) {
    const batch = tf.tidy(() => forward(tf.slice(images, [i, 0, 0, 0], [Math.min(chunk, n - i), -1, -1, -1])));
    for (let j = 0; j < batch.shape[0]; j++) {
      const one = tf.slice(batch, [j, 0, 0, 0], [1, -1, -1, -1]);
      out.push(tensorToRgb(one));
      one.dispose();
    }
    batch.dispose();
  }
  return out;
}

/**
 * Whether an output left the square grey: its mean colour inside the input's (ground-truth) square
 * is nearer the grey of domain A than every palette colour. The coverage metric assigns every
 * output to its nearest palette colour, so an untranslated image would otherwise count as a mode.
 */
export function stillGrey(img: RgbImage, square: Uint8Array, palette: readonly Rgb[], grey: Rgb = DEFAULT_GREY): boolean {
  const m = meanColour(img, square);
  const d = (c: Rgb): number => Math.hypot(c[0] - m[0], c[1] - m[1], c[2] - m[2]);
  return palette.every((c) => d(grey) < d(c));
}

function median(v: number[]): number {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function spread(v: number[]): Spread {
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v) };
}

function summarise(method: Method, runs: RunResult[]): MethodSummary {
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.msPerIter)))];
  return {
    method,
    runs: runs.length,
    coverage: spread(runs.map((r) => r.coverage)),
    tv: spread(runs.map((r) => r.tv)),
    iou: spread(runs.map((r) => r.iou)),
    stillGrey: spread(runs.map((r) => r.stillGrey)),
    paletteDistance: spread(runs.map((r) => r.paletteDistance)),
    msPerIter: Object.fromEntries(stages.map((s) => [s, median(runs.map((r) => r.msPerIter[s]!).filter(Number.isFinite))])),
    trainSeconds: spread(runs.map((r) => r.trainSeconds)),
  };
}

const pm = (s: Spread, digits: number): string => `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;

export function markdownTable(summary: readonly MethodSummary[], colours: number, testA: number): string {
  const rows = summary.map((s) => {
    const ms = Object.entries(s.msPerIter)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
    return `| ${s.method} | ${s.runs} | ${pm(s.coverage, 2)} (${s.coverage.min}-${s.coverage.max}) | ${pm(s.tv, 3)} | ${pm(s.iou, 3)} | ${pm(s.paletteDistance, 0)} | ${pm(s.stillGrey, 1)} | ${ms} | ${pm(s.trainSeconds, 0)} |`;
  });
  return [
    `| method | seeds | colours covered (of ${colours}; min-max) | TV to uniform | mask IoU | RGB distance to palette | still grey (of ${testA}) | ms / iteration | train s |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Command-line entry: `coopcut bench --experiment mode-coverage [--seeds N] [--iters N] [--json FILE]`. */
export async function main(argv: string[]): Promise<number> {
  const num = (name: string): number | undefined => {
    const v = flag(argv, name);
    return v === undefined ? undefined : Number(v);
  };
  const report = await runModeCoverage({
    seeds: num('seeds'),
    iters: num('iters'),
    coopIters: num('coop-iters'),
    onProgress: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${report.table}\n`);
  const json = flag(argv, 'json');
  if (json) fs.writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
