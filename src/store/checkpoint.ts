/**
 * Training checkpoints: G, D and F weights, the three Adam states, and the loop's position
 * (iteration, RNG state, elapsed time), so that --resume continues exactly where a run stopped.
 * Written atomically (store/atomic-write.ts): an interrupted save leaves the previous one intact.
 */
import fs from 'node:fs';
import { tf, type Variable } from '../tf.ts';
import type { TrainOptions } from '../config.ts';
import type { ParamSet } from '../nn/params.ts';
import type { Networks } from '../models/networks.ts';
import type { Optimizers } from '../training/stage.ts';
import type { RngState } from '../util/rng.ts';
import { readBundle, writeBundle, type TensorEntry } from './tensor-bundle.ts';

export interface CheckpointMeta {
  version: 1;
  iteration: number;
  adamSteps: { g: number; d: number; f: number };
  rngState: RngState;
  elapsedSeconds: number;
  options: TrainOptions;
  /** free-form state of stages (e.g. CoopInit's adapted step size) */
  stageState?: Record<string, unknown>;
  savedAt: string;
}

function collect(prefix: string, vars: ReadonlyMap<string, Variable>, out: Map<string, TensorEntry>): void {
  for (const [name, v] of vars) out.set(`${prefix}${name}`, { shape: v.shape, data: v.dataSync() as Float32Array });
}

export function saveCheckpoint(file: string, nets: Networks, opt: Optimizers, meta: CheckpointMeta): void {
  const tensors = new Map<string, TensorEntry>();
  for (const p of [nets.g.params, nets.d.params, nets.f.params]) collect('', p, tensors);
  for (const [k, a] of Object.entries(opt)) {
    collect(`adam/${k}/m/`, a.m, tensors);
    collect(`adam/${k}/v/`, a.v, tensors);
  }
  writeBundle(file, meta, tensors);
}

export class CheckpointMismatchError extends Error {
  constructor(what: string) {
    super(`checkpoint does not match this model: ${what}`);
    this.name = 'CheckpointMismatchError';
  }
}

function assign(prefix: string, vars: ReadonlyMap<string, Variable>, tensors: Map<string, TensorEntry>): void {
  for (const [name, v] of vars) {
    const t = tensors.get(`${prefix}${name}`);
    if (!t) throw new CheckpointMismatchError(`missing ${prefix}${name}`);
    if (t.shape.join('x') !== v.shape.join('x')) {
      throw new CheckpointMismatchError(`${prefix}${name} has shape ${t.shape.join('x')}, expected ${v.shape.join('x')}`);
    }
    v.assign(tf.tensor(t.data, t.shape));
  }
}

export function assignParams(params: ParamSet, tensors: Map<string, TensorEntry>): void {
  tf.tidy(() => assign('', params, tensors));
}

export function loadCheckpoint(file: string, nets: Networks, opt: Optimizers): CheckpointMeta {
  const { meta, tensors } = readBundle<CheckpointMeta>(file);
  tf.tidy(() => {
    for (const p of [nets.g.params, nets.d.params, nets.f.params]) assign('', p, tensors);
    for (const [k, a] of Object.entries(opt)) {
      assign(`adam/${k}/m/`, a.m, tensors);
      assign(`adam/${k}/v/`, a.v, tensors);
    }
  });
  opt.g.step = meta.adamSteps.g;
  opt.d.step = meta.adamSteps.d;
  opt.f.step = meta.adamSteps.f;
  return meta;
}

export function checkpointExists(file: string): boolean {
  return fs.existsSync(file);
}

/** True when every weight is finite, checked before a save so a bad state never replaces a good one. */
export function weightsFinite(nets: Networks): boolean {
  const vars = [...nets.g.params.values(), ...nets.d.params.values(), ...nets.f.params.values()];
  const s = tf.tidy(() => tf.addN(vars.map((v) => tf.sum(v))).dataSync()[0]!);
  return Number.isFinite(s);
}
