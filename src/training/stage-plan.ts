/**
 * Which stage runs at which iteration. CUT is one adversarial stage; CoopInit prepends a
 * cooperative stage of `coop.coopIters` iterations. The trainer asks the plan, never the stages.
 */
import type { TrainOptions } from '../config.ts';
import type { Logger } from '../log/logger.ts';
import type { Stage, StageContext } from './stage.ts';
import { createAdversarialStage } from './adversarial-stage.ts';
import { createCooperativeStage } from './cooperative-stage.ts';

export interface PlannedStage {
  stage: Stage;
  /** first iteration of the stage (0-based, inclusive) */
  from: number;
  /**
   * called once when the loop enters the stage, with the iteration it enters at: `from` on a
   * switch, later on a resume into the stage's middle
   */
  enter?: (ctx: StageContext, iteration: number) => void;
}

export interface PlanEnv {
  logger?: Logger;
}

/**
 * [0, coopIters): cooperative; [coopIters, end): adversarial, continuing from the weights the
 * cooperative stage left (both stages close over the same networks). With coopResetOptim the
 * adversarial stage starts with fresh Adam moments, but only on the switch itself: a resume into
 * the adversarial stage keeps the moments loaded from the checkpoint.
 */
export function planStages(ctx: StageContext, env: PlanEnv = {}): PlannedStage[] {
  const { coopIters, coopResetOptim } = ctx.options.coop;
  const adversarial = createAdversarialStage(ctx);
  if (coopIters <= 0) return [{ stage: adversarial, from: 0 }];
  const cooperative = createCooperativeStage(ctx, env);
  return [
    { stage: cooperative, from: 0 },
    {
      stage: adversarial,
      from: coopIters,
      ...(coopResetOptim
        ? {
            enter: (c: StageContext, iteration: number) => {
              if (iteration !== coopIters) return;
              c.opt.g.reset();
              c.opt.d.reset();
              c.opt.f.reset();
              env.logger?.info('optimiser states reset for the adversarial stage', { iteration });
            },
          }
        : {}),
    },
  ];
}

export function stageAt(plan: readonly PlannedStage[], iteration: number): PlannedStage {
  let current = plan[0]!;
  for (const p of plan) if (p.from <= iteration) current = p;
  return current;
}

/**
 * Iterations of the LR schedule that have elapsed at `iteration`: with `coopCountsInSchedule`
 * off the cooperative stage runs at full LR and the CUT schedule starts after it.
 */
export function scheduleIteration(iteration: number, coopIters: number, coopCountsInSchedule: boolean): number {
  return coopCountsInSchedule ? iteration : Math.max(0, iteration - coopIters);
}

/**
 * Share of the run given to the cooperative stage when `--mode coopinit` is used without
 * `--coop-iters`. CoopInit switches to adversarial training after "a few" cooperative iterations
 * (the paper's number is not known, facts 2.4); a share of the run, rather than a fixed count,
 * keeps the initialisation short relative to training at every preset (tiny, cpu, paper) and
 * places it inside the constant-LR half of CUT's schedule.
 */
export const COOP_DEFAULT_FRACTION = 0.1;

/**
 * The options with coopIters filled in for mode coopinit when it was left at 0: COOP_DEFAULT_FRACTION
 * of the run (maxIters, or the whole schedule with `datasetLength` images per epoch), at least 1.
 * Other modes, and explicit values, pass through unchanged.
 */
export function withDefaultCoopIters(o: TrainOptions, datasetLength: number): TrainOptions {
  if (o.mode !== 'coopinit' || o.coop.coopIters > 0) return o;
  const epochIters = o.epochIters || Math.max(1, Math.floor(datasetLength / o.batchSize));
  const run = o.maxIters > 0 ? o.maxIters : (o.nEpochs + o.nEpochsDecay) * epochIters;
  const coopIters = Math.max(1, Math.round(COOP_DEFAULT_FRACTION * run));
  return { ...o, coop: { ...o.coop, coopIters } };
}
