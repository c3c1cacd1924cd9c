/**
 * Speed of one training iteration and of a generator forward pass, with the checks that say whether
 * the time is well spent: kernel time (sum of native op times under tf.profile) against wall time,
 * tensors leaked per iteration, peak RSS, and time spent waiting for data.
 */
import { tf, backend, type Tensor4D } from '../tf.ts';
import { resolveTrainOptions, type PresetName, type TrainOptions } from '../config.ts';
import { createNetworks, disposeNetworks } from '../models/networks.ts';
import { createAdam } from '../training/adam.ts';
import { createAdversarialStage } from '../training/adversarial-stage.ts';
import type { Batch, Optimizers } from '../training/stage.ts';
import { createRng } from '../util/rng.ts';
import { openUnalignedDataset } from '../data/unaligned-dataset.ts';

export interface IterationBench {
  preset: PresetName;
  cropSize: number;
  iterations: number;
  /** medians, ms */
  iterationMs: number;
  dStepMs: number;
  gStepMs: number;
  forwardMs: number;
  /** sum of kernel times of one profiled iteration, ms */
  kernelMs: number;
  /** iterationMs / kernelMs: 1.0 = no time between ops */
  overheadRatio: number;
  leakedTensorsPerIteration: number;
}

export interface DataStallBench {
  dataroot: string;
  iterations: number;
  iterationMs: number;
  waitMs: number;
  waitFraction: number;
}

export interface BenchReport {
  backend: string;
  package: string;
  tfjsVersion: string;
  threads: number;
  machineProbeMs: { before: number; after: number };
  presets: IterationBench[];
  dataStall: DataStallBench | null;
  peakRssMb: number;
  date: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A fixed 512x512 matmul loop: how fast this machine is right now (shared hosts vary). */
export function machineProbe(): number {
  const a = tf.randomNormal([512, 512], 0, 1, 'float32', 1);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) tf.tidy(() => tf.matMul(a, a).dataSync());
  const ms = performance.now() - t0;
  a.dispose();
  return ms;
}

function benchOptions(preset: PresetName): TrainOptions {
  return resolveTrainOptions({ dataroot: '.', name: 'bench', preset, mode: 'cut' });
}

function timedStage(o: TrainOptions): {
  step: (b: Batch) => { total: number; d: number };
  dispose: () => void;
  forward: (x: Tensor4D) => void;
} {
  const nets = createNetworks(o.net, 1);
  const opt: Optimizers = { g: createAdam(nets.g.params), d: createAdam(nets.d.params), f: createAdam(nets.f.params) };
  // The D step ends with D's Adam update: its end time splits the iteration into D and G parts.
  let dEnd = 0;
  const applyD = opt.d.apply.bind(opt.d);
  opt.d.apply = (grads, lr) => {
    applyD(grads, lr);
    dEnd = performance.now();
  };
  const stage = createAdversarialStage({ nets, opt, options: o, rng: createRng(1) });
  return {
    step: (b) => {
      const t0 = performance.now();
      stage.step(b, o.lr);
      const t1 = performance.now();
      return { total: t1 - t0, d: dEnd - t0 };
    },
    forward: (x) => tf.tidy(() => void nets.g.forward(x).dataSync()),
    dispose: () => {
      disposeNetworks(nets);
      for (const a of Object.values(opt)) a.dispose();
    },
  };
}

export async function benchIteration(preset: PresetName, iterations: number): Promise<IterationBench> {
  const o = benchOptions(preset);
  const s = o.cropSize;
  const batch: Batch = {
    a: tf.randomUniform([o.batchSize, s, s, 3], -1, 1, 'float32', 1) as Tensor4D,
    b: tf.randomUniform([o.batchSize, s, s, 3], -1, 1, 'float32', 2) as Tensor4D,
  };
  const run = timedStage(o);
  for (let i = 0; i < 2; i++) run.step(batch); // warm-up: kernels, caches, allocator
  const before = tf.memory().numTensors;
  const totals: number[] = [];
  const ds: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = run.step(batch);
    totals.push(t.total);
    ds.push(t.d);
  }
  const leaked = (tf.memory().numTensors - before) / iterations;
  const profile = await tf.profile(() => {
    run.step(batch);
  });
  const kernelMs = profile.kernels.reduce((sum, k) => sum + Number(k.kernelTimeMs), 0);
  const fwd: number[] = [];
  for (let i = 0; i < Math.max(3, iterations); i++) {
    const t0 = performance.now();
    run.forward(batch.a);
    fwd.push(performance.now() - t0);
  }
  run.dispose();
  tf.dispose([batch.a, batch.b]);
  const iterationMs = median(totals);
  const dStepMs = median(ds);
  return {
    preset,
    cropSize: s,
    iterations,
    iterationMs,
    dStepMs,
    gStepMs: median(totals.map((t, i) => t - ds[i]!)),
    forwardMs: median(fwd),
    kernelMs,
    overheadRatio: iterationMs / kernelMs,
    leakedTensorsPerIteration: leaked,
  };
}

/** Real data through the real pipeline at the cpu preset: how long does the step wait for a batch? */
export async function benchDataStall(dataroot: string, iterations: number): Promise<DataStallBench> {
  const o = benchOptions('cpu');
  const ds = await openUnalignedDataset({
    dataroot,
    phase: 'train',
    loadSize: o.loadSize,
    cropSize: o.cropSize,
    preprocess: o.preprocess,
    noFlip: o.noFlip,
    batchSize: o.batchSize,
    serialBatches: false,
    seed: 0,
    prefetch: o.prefetch,
    startIteration: 0,
  });
  const run = timedStage(o);
  const first = await ds.next(); // the first batch is always a cold start; not counted
  run.step(first);
  tf.dispose([first.a, first.b]);
  const waitBefore = ds.stats.waitMs;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const b = await ds.next();
    run.step(b);
    tf.dispose([b.a, b.b]);
  }
  const total = performance.now() - t0;
  const waitMs = ds.stats.waitMs - waitBefore;
  ds.close();
  run.dispose();
  return { dataroot, iterations, iterationMs: total / iterations, waitMs, waitFraction: waitMs / total };
}

export async function runSpeedBench(opts: {
  presets: PresetName[];
  iterations: Partial<Record<PresetName, number>>;
  dataroot: string | null;
  onProgress?: (msg: string) => void;
}): Promise<BenchReport> {
  const before = machineProbe();
  const presets: IterationBench[] = [];
  for (const p of opts.presets) {
    opts.onProgress?.(`timing ${p} iterations`);
    presets.push(await benchIteration(p, opts.iterations[p] ?? 5));
  }
  let dataStall: DataStallBench | null = null;
  if (opts.dataroot) {
    opts.onProgress?.(`timing data loading from ${opts.dataroot}`);
    dataStall = await benchDataStall(opts.dataroot, 20);
  }
  const after = machineProbe();
  return {
    backend: backend.name,
    package: backend.package,
    tfjsVersion: backend.tfjsVersion,
    threads: backend.threads,
    machineProbeMs: { before, after },
    presets,
    dataStall,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    date: new Date().toISOString(),
  };
}
