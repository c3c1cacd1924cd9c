/**
 * What every training stage shares: the networks, their optimisers and the options. Stages share
 * models, not code paths: each exposes step(batch, lr) and the trainer owns the switch between them.
 */
import { tf, type Tensor, type Tensor4D, type Scalar, type NamedTensorMap } from '../tf.ts';
import type { TrainOptions } from '../config.ts';
import type { Networks } from '../models/networks.ts';
import type { Adam } from './adam.ts';
import type { Rng } from '../util/rng.ts';
import type { ParamSet } from '../nn/params.ts';

export interface Batch {
  a: Tensor4D;
  b: Tensor4D;
}

export interface Optimizers {
  g: Adam;
  d: Adam;
  f: Adam;
}

export interface StageContext {
  nets: Networks;
  opt: Optimizers;
  options: TrainOptions;
  /** patch ids and flips; its state is checkpointed */
  rng: Rng;
}

/** Scalar losses and diagnostics of one step, by name (e.g. G_GAN, D_real, NCE). */
export type StepLosses = Record<string, number>;

export interface Stage {
  readonly name: string;
  step(batch: Batch, lr: number): StepLosses;
  /** the stage's own sample strip (tensors the caller disposes); absent: real A | G(x) | real B */
  sampleImages?(batch: Batch): Tensor4D[] | null;
}

export class NonFiniteError extends Error {
  constructor(
    readonly what: string,
    readonly values: StepLosses,
  ) {
    super(`non-finite ${what}: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    this.name = 'NonFiniteError';
  }
}

/**
 * Gradients of `loss` for the given parameter sets, with named scalar side outputs. The side outputs
 * are kept out of the tape's tidy scope and read back as numbers.
 */
export function gradientsWithLogs(
  loss: (log: (name: string, t: Scalar) => void) => Scalar,
  params: readonly ParamSet[],
): { value: number; grads: NamedTensorMap; logs: StepLosses } {
  const kept: Array<[string, Scalar]> = [];
  const vars = params.flatMap((p) => [...p.values()]);
  const { value, grads } = tf.variableGrads(
    () =>
      loss((name, t) => {
        kept.push([name, tf.keep(t.clone())]);
      }),
    vars,
  );
  const logs: StepLosses = {};
  for (const [name, t] of kept) {
    logs[name] = t.dataSync()[0]!;
    t.dispose();
  }
  const v = value.dataSync()[0]!;
  value.dispose();
  return { value: v, grads, logs };
}

/** True when every gradient is finite: one fused reduction, one read-back. */
export function gradientsFinite(grads: NamedTensorMap): boolean {
  const list = Object.values(grads);
  if (list.length === 0) return true;
  const s = tf.tidy(() => tf.addN(list.map((g) => tf.sum(g as Tensor))).dataSync()[0]!);
  return Number.isFinite(s);
}

/** Refuse to apply an update whose loss or gradients are not finite (the NaN guard). */
export function checkFinite(what: string, logs: StepLosses, grads: NamedTensorMap): void {
  const bad = Object.values(logs).some((v) => !Number.isFinite(v)) || !gradientsFinite(grads);
  if (bad) {
    tf.dispose(Object.values(grads));
    throw new NonFiniteError(what, logs);
  }
}

export function disposeGrads(grads: NamedTensorMap): void {
  tf.dispose(Object.values(grads));
}
