/**
 * The training loop: data, stage selection and switch, LR schedule, checkpoints, logs, resume,
 * interruption and the NaN guard. Stages do the maths; this file only sequences them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf, backend, type Tensor4D } from '../tf.ts';
import { workingSize, type TrainOptions } from '../config.ts';
import { createNetworks, disposeNetworks, type Networks } from '../models/networks.ts';
import { countParams } from '../nn/params.ts';
import { createAdam } from './adam.ts';
import { NonFiniteError, type Optimizers, type Stage, type StageContext, type StepLosses } from './stage.ts';
import { planStages, scheduleIteration, stageAt, withDefaultCoopIters, type PlannedStage } from './stage-plan.ts';
import { epochOf, inDecayPhase, learningRate, totalIters, type Schedule } from './schedule.ts';
import { sampleGrid } from './sample-grid.ts';
import { createRng, hashSeed } from '../util/rng.ts';
import { openUnalignedDataset, type UnalignedDataset } from '../data/unaligned-dataset.ts';
import { checkpointExists, loadCheckpoint, saveCheckpoint, weightsFinite, type CheckpointMeta } from '../store/checkpoint.ts';
import { saveGenerator } from '../store/generator-file.ts';
import { domainsFromDataroot, licenceFor, readCard, writeCard, type ModelCard, type WarmStartRecord } from '../store/model-card.ts';
import { applyWarmStart } from './warm-start.ts';
import { createSummaryWriter, type SummaryWriter } from '../log/tensorboard.ts';
import { createProgress } from '../log/progress.ts';
import { logger as defaultLogger, type Logger } from '../log/logger.ts';

export interface TrainHooks {
  resume?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  /** show a progress bar on stderr (default true) */
  progress?: boolean;
  /** write TensorBoard events and sample grids (default true) */
  artefacts?: boolean;
  domains?: { a: string; b: string };
  onStep?: (iteration: number, losses: StepLosses, stage: string) => void;
}

export type StopReason = 'finished' | 'interrupted';

export interface TrainResult {
  dir: string;
  iterations: number;
  startIteration: number;
  stoppedBy: StopReason;
  lastLosses: StepLosses;
  skippedSteps: number;
  wallClockSeconds: number;
  /** share of loop time spent waiting for the next batch */
  dataWaitFraction: number;
  adamSteps: { g: number; d: number; f: number };
}

export class TrainingDivergedError extends Error {
  constructor(iteration: number, cause: NonFiniteError, lastGood: number | null) {
    super(
      `training diverged at iteration ${iteration}: ${cause.message}. ` +
        (lastGood === null
          ? 'No checkpoint had been written yet.'
          : `The last good checkpoint (iteration ${lastGood}) is intact; resume from it with --resume, perhaps with a lower --lr.`),
      { cause },
    );
    this.name = 'TrainingDivergedError';
  }
}

/** Consecutive non-finite steps tolerated (each skipped) before training stops. */
export const MAX_CONSECUTIVE_BAD_STEPS = 5;

export function modelDir(o: TrainOptions): string {
  return path.resolve(o.modelsDir, o.name);
}

export function checkpointPath(o: TrainOptions): string {
  return path.join(modelDir(o), 'checkpoint', 'latest.ckpt');
}

/** On resume the saved options rule (same networks, same schedule); only run-length and logging knobs follow the new call. */
export function resumeOptions(saved: TrainOptions, requested: TrainOptions): TrainOptions {
  return {
    ...saved,
    dataroot: requested.dataroot,
    modelsDir: requested.modelsDir,
    maxIters: requested.maxIters,
    saveEvery: requested.saveEvery,
    sampleEvery: requested.sampleEvery,
    logEvery: requested.logEvery,
    prefetch: requested.prefetch,
  };
}

interface LoopState {
  nets: Networks;
  opt: Optimizers;
  ctx: StageContext;
  plan: PlannedStage[];
  schedule: Schedule;
  total: number;
  iteration: number;
  elapsedBefore: number;
  lastGood: number | null;
  /** set when this run began from another's weights (--init-from) */
  warmStart: WarmStartRecord | null;
}

export async function train(requested: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.logger ?? defaultLogger;
  const ckptFile = checkpointPath(requested);
  let options = requested;
  let savedMeta: CheckpointMeta | null = null;
  if (hooks.resume && checkpointExists(ckptFile)) {
    const { readBundle } = await import('../store/tensor-bundle.ts');
    savedMeta = readBundle<CheckpointMeta>(ckptFile).meta;
    options = resumeOptions(savedMeta.options, requested);
  } else if (hooks.resume) {
    log.warn('no checkpoint to resume from; starting a new run', { checkpoint: ckptFile });
  }
  const dir = modelDir(options);
  fs.mkdirSync(dir, { recursive: true });

  const dataset = await openUnalignedDataset({
    dataroot: options.dataroot,
    phase: 'train',
    loadSize: options.loadSize,
    cropSize: options.cropSize,
    preprocess: options.preprocess,
    noFlip: options.noFlip,
    batchSize: options.batchSize,
    serialBatches: options.serialBatches,
    seed: options.seed,
    prefetch: options.prefetch,
    startIteration: savedMeta?.iteration ?? 0,
    onWarning: (msg) => log.warn(msg),
  });

  // --mode coopinit without --coop-iters: a share of the run (saved options already carry it).
  if (!savedMeta) options = withDefaultCoopIters(options, dataset.length);
  const state = createState(options, dataset, savedMeta, ckptFile, log);
  log.info(savedMeta ? 'resuming training' : 'training', {
    name: options.name,
    mode: options.mode,
    preset: options.preset,
    backend: backend.name,
    iteration: state.iteration,
    total: state.total,
    A: dataset.sizeA,
    B: dataset.sizeB,
    crop: options.cropSize,
    ...(options.coop.coopIters > 0 ? { coopIters: options.coop.coopIters } : {}),
  });

  const artefacts = hooks.artefacts ?? true;
  const tb = artefacts ? createSummaryWriter(path.join(dir, 'tb')) : null;
  const progress =
    hooks.progress === false
      ? null
      : createProgress({ total: state.total, label: 'train', stream: process.stderr });
  progress?.set(state.iteration);
  const domains = hooks.domains ?? readCard(dir)?.domains ?? domainsFromDataroot(options.dataroot);

  const startIteration = state.iteration;
  const started = performance.now();
  let stoppedBy: StopReason = 'finished';
  let lastLosses: StepLosses = {};
  let skippedSteps = 0;
  let consecutiveBad = 0;
  let windowSums: StepLosses = {};
  let windowCount = 0;
  let current: PlannedStage | null = null;

  const snapshot = (finished: boolean): void => {
    const elapsed = state.elapsedBefore + (performance.now() - started) / 1000;
    if (!weightsFinite(state.nets)) {
      log.error('weights are not finite; the previous checkpoint is kept', { iteration: state.iteration });
      return;
    }
    saveCheckpoint(ckptFile, state.nets, state.opt, {
      version: 1,
      iteration: state.iteration,
      adamSteps: { g: state.opt.g.step, d: state.opt.d.step, f: state.opt.f.step },
      rngState: state.ctx.rng.state(),
      elapsedSeconds: elapsed,
      options,
      savedAt: new Date().toISOString(),
    });
    state.lastGood = state.iteration;
    saveGenerator(dir, state.nets.g, options.net);
    writeCard(dir, buildCard(options, state, dataset, domains, elapsed, finished));
  };

  try {
    while (state.iteration < state.total) {
      if (hooks.signal?.aborted) {
        stoppedBy = 'interrupted';
        break;
      }
      const planned = stageAt(state.plan, state.iteration);
      const schedIt = scheduleIteration(state.iteration, options.coop.coopIters, options.coop.coopCountsInSchedule);
      const lr = learningRate(options.lr, schedIt, state.schedule);
      dataset.setDecayPhase(inDecayPhase(schedIt, state.schedule));
      const batch = await dataset.next();
      if (planned !== current) {
        if (current) {
          // D's raw outputs on this batch: an EBM-trained D has no reason to sit near the LSGAN
          // targets 1 / 0 (facts 2.3 item 6), so the first adversarial steps see a transient.
          log.info('stage switch', {
            from: current.stage.name,
            to: planned.stage.name,
            iteration: state.iteration,
            ...discriminatorMeans(state.nets, batch),
          });
        }
        planned.enter?.(state.ctx, state.iteration);
        current = planned;
      }
      let losses: StepLosses;
      try {
        losses = planned.stage.step({ a: batch.a, b: batch.b }, lr);
        consecutiveBad = 0;
      } catch (err) {
        if (!(err instanceof NonFiniteError)) throw err;
        skippedSteps++;
        consecutiveBad++;
        log.warn('non-finite loss: step skipped', { iteration: state.iteration, detail: err.message });
        if (consecutiveBad >= MAX_CONSECUTIVE_BAD_STEPS) throw new TrainingDivergedError(state.iteration, err, state.lastGood);
        tf.dispose([batch.a, batch.b]);
        state.iteration++;
        continue;
      }
      lastLosses = losses;
      hooks.onStep?.(state.iteration, losses, planned.stage.name);
      for (const [k, v] of Object.entries(losses)) windowSums[k] = (windowSums[k] ?? 0) + v;
      windowCount++;
      state.iteration++;

      if (artefacts && state.iteration % options.sampleEvery === 0) {
        await writeSample(dir, tb, state.nets, batch, state.iteration, planned.stage);
      }
      tf.dispose([batch.a, batch.b]);

      if (state.iteration % options.logEvery === 0 || state.iteration === state.total) {
        const means = Object.fromEntries(Object.entries(windowSums).map(([k, v]) => [k, v / windowCount]));
        tb?.scalars({ ...prefixKeys(means, 'loss/'), lr, epoch: epochOf(schedIt, state.schedule) }, state.iteration);
        windowSums = {};
        windowCount = 0;
        progress?.set(state.iteration, shortLosses(means, planned.stage.name));
      }
      if (state.iteration % options.saveEvery === 0) snapshot(false);
    }
    snapshot(stoppedBy === 'finished');
  } finally {
    progress?.done();
    tb?.close();
    dataset.close();
  }

  const loopSeconds = (performance.now() - started) / 1000;
  const result: TrainResult = {
    dir,
    iterations: state.iteration,
    startIteration,
    stoppedBy,
    lastLosses,
    skippedSteps,
    wallClockSeconds: state.elapsedBefore + loopSeconds,
    dataWaitFraction: loopSeconds > 0 ? dataset.stats.waitMs / 1000 / loopSeconds : 0,
    adamSteps: { g: state.opt.g.step, d: state.opt.d.step, f: state.opt.f.step },
  };
  log.info(stoppedBy === 'interrupted' ? 'interrupted: checkpoint saved' : 'training stopped', {
    reason: stoppedBy,
    iteration: state.iteration,
    dir,
    skippedFiles: dataset.skipped.length,
    skippedSteps,
    dataWait: `${(result.dataWaitFraction * 100).toFixed(1)}%`,
  });
  disposeNetworks(state.nets);
  for (const a of Object.values(state.opt)) a.dispose();
  return result;
}

function createState(
  options: TrainOptions,
  dataset: UnalignedDataset,
  savedMeta: CheckpointMeta | null,
  ckptFile: string,
  log: Logger,
): LoopState {
  const nets = createNetworks(options.net, options.seed);
  const adamCfg = { beta1: options.beta1, beta2: options.beta2 };
  const opt: Optimizers = {
    g: createAdam(nets.g.params, adamCfg),
    d: createAdam(nets.d.params, adamCfg),
    f: createAdam(nets.f.params, adamCfg),
  };
  let iteration = 0;
  let elapsedBefore = 0;
  let rng = createRng(hashSeed(options.seed, 4));
  let warmStart: WarmStartRecord | null = null;
  if (!savedMeta && options.initFrom) {
    warmStart = applyWarmStart(options.initFrom, nets, options.net, options.modelsDir);
    log.info('warm start', { ...warmStart });
  }
  if (savedMeta) {
    const meta = loadCheckpoint(ckptFile, nets, opt);
    iteration = meta.iteration;
    elapsedBefore = meta.elapsedSeconds;
    rng = createRng(meta.rngState);
  }
  const ctx: StageContext = { nets, opt, options, rng };
  const epochIters = options.epochIters || Math.max(1, Math.floor(dataset.length / options.batchSize));
  const schedule: Schedule = { nEpochs: options.nEpochs, nEpochsDecay: options.nEpochsDecay, epochIters };
  const scheduled = totalIters(schedule) + (options.coop.coopCountsInSchedule ? 0 : options.coop.coopIters);
  const total = options.maxIters > 0 ? options.maxIters : scheduled;
  return {
    nets,
    opt,
    ctx,
    plan: planStages(ctx, { logger: log }),
    schedule,
    total,
    iteration,
    elapsedBefore,
    lastGood: savedMeta ? iteration : null,
    warmStart,
  };
}

async function writeSample(
  dir: string,
  tb: SummaryWriter | null,
  nets: Networks,
  batch: { a: Tensor4D; b: Tensor4D },
  iteration: number,
  stage: Stage,
): Promise<void> {
  const own = stage.sampleImages?.(batch) ?? null;
  const images =
    own ?? [batch.a, tf.tidy(() => nets.g.forward(tf.slice(batch.a, [0, 0, 0, 0], [1, -1, -1, -1]))), batch.b];
  const { png, width, height } = await sampleGrid(images);
  tf.dispose(own ?? images.slice(1, 2));
  const samples = path.join(dir, 'samples');
  fs.mkdirSync(samples, { recursive: true });
  fs.writeFileSync(path.join(samples, `iter_${String(iteration).padStart(7, '0')}.png`), png);
  tb?.image(own ? 'samples/realA_fakeB_revised_realB' : 'samples/realA_fakeB_realB', png, width, height, iteration);
}

/** Mean raw D output per patch on real B and on G(x): logged at a stage switch. */
function discriminatorMeans(nets: Networks, batch: { a: Tensor4D; b: Tensor4D }): { Dmap_real: number; Dmap_fake: number } {
  const [real, fake] = tf.tidy(() =>
    tf.stack([tf.mean(nets.d.forward(batch.b)), tf.mean(nets.d.forward(nets.g.forward(batch.a)))]).dataSync(),
  );
  return { Dmap_real: real!, Dmap_fake: fake! };
}

function buildCard(
  options: TrainOptions,
  state: LoopState,
  dataset: UnalignedDataset,
  domains: { a: string; b: string },
  elapsed: number,
  finished: boolean,
): ModelCard {
  const now = new Date().toISOString();
  const previous = readCard(modelDir(options));
  const stages = state.plan.map((p, i) => {
    const end = state.plan[i + 1]?.from ?? state.total;
    return { name: p.stage.name, iterations: Math.max(0, Math.min(end, state.iteration) - p.from) };
  });
  return {
    name: options.name,
    domains,
    trainSize: options.cropSize,
    workingSize: workingSize(options),
    mode: options.mode,
    preset: options.preset,
    options,
    parameters: { G: countParams(state.nets.g.params), D: countParams(state.nets.d.params), F: countParams(state.nets.f.params) },
    training: {
      iterations: state.iteration,
      // passes over the larger domain, as CUT counts epochs (the LR schedule's epochs may differ with --iters)
      epochs: (state.iteration * options.batchSize) / dataset.length,
      wallClockSeconds: Math.round(elapsed),
      backend: backend.name,
      stages,
      datasetSizes: { a: dataset.sizeA, b: dataset.sizeB },
      skippedFiles: dataset.skipped.length,
      finished,
      ...((state.warmStart ?? previous?.training.warmStart) ? { warmStart: state.warmStart ?? previous?.training.warmStart } : {}),
    },
    dataset: { name: path.basename(path.resolve(options.dataroot)), licence: licenceFor(options.dataroot) },
    ...(previous?.metrics ? { metrics: previous.metrics } : {}),
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
}

function prefixKeys(o: StepLosses, prefix: string): StepLosses {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}${k}`, v]));
}

function shortLosses(means: StepLosses, stage: string): Record<string, string> {
  const out: Record<string, string> = { stage };
  for (const [k, v] of Object.entries(means)) out[k] = v.toFixed(3);
  return out;
}
