/**
 * CUT's `--lr_policy linear` (facts 1.9): constant for nEpochs, then linear decay over nEpochsDecay;
 * the factor for training epoch t (1-based) is 1 - max(0, t - nEpochs) / (nEpochsDecay + 1).
 * The official scheduler steps at the end of every epoch; so does this one (epoch = iteration / epochIters).
 */
export interface Schedule {
  nEpochs: number;
  nEpochsDecay: number;
  /** iterations per epoch */
  epochIters: number;
}

/** 1-based epoch of a 0-based iteration. */
export function epochOf(iteration: number, s: Schedule): number {
  return Math.floor(iteration / s.epochIters) + 1;
}

/** Past the end of the schedule (a run extended with --iters) the LR stays at its last value. */
export function lrFactor(epoch: number, s: Schedule): number {
  const e = Math.min(epoch, s.nEpochs + s.nEpochsDecay);
  return 1 - Math.max(0, e - s.nEpochs) / (s.nEpochsDecay + 1);
}

export function learningRate(baseLr: number, iteration: number, s: Schedule): number {
  return baseLr * lrFactor(epochOf(iteration, s), s);
}

/** CUT drops the crop augmentation during the decay half ("finetuning", facts 1.10). */
export function inDecayPhase(iteration: number, s: Schedule): boolean {
  return epochOf(iteration, s) > s.nEpochs;
}

export function totalIters(s: Schedule): number {
  return (s.nEpochs + s.nEpochsDecay) * s.epochIters;
}
