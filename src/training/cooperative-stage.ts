/**
 * One CoopInit iteration (facts 2.2/2.3): cooperative learning of D as an energy-based model and G
 * as its amortised sampler, before the adversarial CUT stage takes over the same G, D and F.
 *
 *   1. draft   y0 = G(x), outside the tape (detached), with the NCE keys from the same pass;
 *   2. revise  y~ = Langevin(y0) under f = sum (or mean) of D's patch map, D frozen (langevin.ts);
 *   3. D step  minimise mean f(y~) - mean f(y_real) [+ alpha (f(real)^2 + f(y~)^2)]  (MLE, energy.ts);
 *   4. G+F     minimise ||y~ - G(x)||^2 / (2 sigma^2) + NCE  (MCMC teaching, as in CycleCoopNets,
 *              since CUT's G has no latent z; NCE keeps G(x) tied to x, off with coopNce = false),
 *              plus the optional pixel identity term (identity-term.ts), as in the adversarial stage.
 *
 * Teaching normalisation: the squared error is averaged over pixels and images (not summed as in
 * the CoopNets formula), then divided by 2 sigma^2. A sum would grow with resolution and swamp the
 * PatchNCE term (which is a mean); the mean keeps their balance the same at 32 px and at 256 px and
 * equals CycleCoopNets' mean-squared G loss up to the 1 / (2 sigma^2) factor.
 *
 * Guards: a non-finite revision, energy or gradient skips the step (NonFiniteError; the trainer
 * stops after several in a row) and halves the Langevin step size; energies beyond ENERGY_LIMIT per
 * patch skip the step too (EnergyDivergedError), so an unbounded EBM is never trained through; a
 * revision that moves pixels by more than MAX_REVISION on average halves the step size for the
 * following steps. Every adjustment is logged. The adjusted step size is not checkpointed: a resumed
 * run starts again from the configured value.
 */
import { tf, type Tensor4D, type Scalar } from '../tf.ts';
import { mleLoss, negativeEnergy, energyFunction } from '../coopinit/energy.ts';
import { langevin, type LangevinDiagnostics } from '../coopinit/langevin.ts';
import { logger as defaultLogger, type Logger } from '../log/logger.ts';
import { createNceTerms, flipW, sliceBatch } from './nce-terms.ts';
import { identityTerm } from './identity-term.ts';
import {
  NonFiniteError,
  checkFinite,
  gradientsWithLogs,
  type Batch,
  type Stage,
  type StageContext,
  type StepLosses,
} from './stage.ts';

/** Largest |mean energy per patch| accepted; an LSGAN-trained D lives near [0, 1]. */
export const ENERGY_LIMIT = 1e3;
/** Mean |revised - draft| (images in [-1, 1]) above which the Langevin step size is halved. */
export const MAX_REVISION = 0.5;
/** The step size is never lowered below this fraction of the configured one. */
export const MIN_STEP_FRACTION = 1 / 1024;

export class EnergyDivergedError extends NonFiniteError {
  constructor(values: StepLosses) {
    super('energy', values);
    this.message =
      `energies beyond +-${ENERGY_LIMIT} per patch (the EBM is diverging): ` +
      Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') +
      '. Try --energy-penalty 0.1 or a lower --lr.';
    this.name = 'EnergyDivergedError';
  }
}

export interface CooperativeStage extends Stage {
  /** the current Langevin step size (lowered by the guards) */
  readonly stepSize: number;
  /** real A | draft G(x) | revision | real B of the last step's first image, for the sample grid */
  sampleImages(batch: Batch): Tensor4D[] | null;
}

export interface CooperativeStageEnv {
  logger?: Logger;
}

export function createCooperativeStage(ctx: StageContext, env: CooperativeStageEnv = {}): CooperativeStage {
  const { nets, opt, options: o, rng } = ctx;
  const { g, d, f } = nets;
  const c = o.coop;
  const log = env.logger ?? defaultLogger;
  const nce = createNceTerms(ctx, c.coopNce);
  const energy = energyFunction(d, c.energyReduce);
  let delta = c.langevinStepSize;
  let cached: { draft: Tensor4D; revised: Tensor4D } | null = null;

  const lowerStepSize = (why: string, fields: StepLosses): void => {
    const next = Math.max(delta / 2, c.langevinStepSize * MIN_STEP_FRACTION);
    if (next === delta) return;
    log.warn(`CoopInit: ${why}; Langevin step size lowered`, { ...fields, from: delta, to: next });
    delta = next;
  };

  const revise = (draft: Tensor4D): { revised: Tensor4D; diag: LangevinDiagnostics } => {
    const { revised, diagnostics: diag } = langevin(energy, draft, {
      steps: c.langevinSteps,
      stepSize: delta,
      noise: c.langevinNoise,
      refSigma: c.refSigma,
      rng,
    });
    return { revised, diag };
  };

  const step = (batch: Batch, lr: number): StepLosses => {
    const { a: x, b: y } = batch;
    const n = x.shape[0];
    const flipped = o.flipEquivariance && rng.next() < 0.5;

    // 1-2. Draft and keys outside the tape, then the revision under the frozen D.
    const { fakeB: draft, keys } = nce.detachedPass(batch, flipped);
    const { revised, diag } = revise(draft);
    const losses: StepLosses = {
      revision: diag.meanAbsChange,
      langevin_grad: diag.meanAbsGradStep,
      langevin_ref: diag.meanAbsRefStep,
      E_draft: diag.energies[0] ?? Number.NaN,
      delta,
    };
    const drop = (): void => {
      tf.dispose([draft, revised]);
      nce.dispose(keys);
    };
    if (!diag.finite) {
      drop();
      lowerStepSize('non-finite Langevin revision', losses);
      throw new NonFiniteError('Langevin revision', losses);
    }
    if (diag.meanAbsChange > MAX_REVISION) lowerStepSize(`revision ${diag.meanAbsChange.toFixed(3)} > ${MAX_REVISION}`, losses);

    // 3. D by maximum likelihood: raise f on real B, lower it on the revised translations.
    let patches = 1;
    const dStep = gradientsWithLogs(
      (logT) => {
        const mapReal = d.forward(y);
        if (c.energyReduce === 'sum') patches = mapReal.shape[1] * mapReal.shape[2];
        const fReal = negativeEnergy(mapReal, c.energyReduce);
        const fRevised = negativeEnergy(d.forward(revised), c.energyReduce);
        const { total, ebm, penalty } = mleLoss(fReal, fRevised, c.energyPenalty);
        logT('EBM', ebm);
        if (c.energyPenalty > 0) logT('E_penalty', penalty);
        logT('E_real', tf.mean(fReal) as Scalar);
        logT('E_revised', tf.mean(fRevised) as Scalar);
        return total;
      },
      [d.params],
    );
    Object.assign(losses, { D: dStep.value, ...dStep.logs });
    losses.E_gap = losses.E_real! - losses.E_revised!;
    try {
      checkFinite('EBM loss', losses, dStep.grads);
      const perPatch = Math.max(Math.abs(losses.E_real!), Math.abs(losses.E_revised!)) / patches;
      if (perPatch > ENERGY_LIMIT) {
        tf.dispose(Object.values(dStep.grads));
        throw new EnergyDivergedError(losses);
      }
    } catch (err) {
      drop();
      if (!(err instanceof EnergyDivergedError)) lowerStepSize('non-finite EBM loss', losses);
      throw err;
    }
    opt.d.apply(dStep.grads, lr);
    tf.dispose(Object.values(dStep.grads));

    // 4. G (and F) by MCMC teaching toward the revision, plus NCE.
    const twoSigma2 = 2 * c.teachSigma * c.teachSigma;
    const gStep = gradientsWithLogs(
      (logT) => {
        const input = nce.input(batch, flipped);
        const fake = g.forward(input);
        const fakeB = sliceBatch(fake, 0, n);
        const teach = tf.div(tf.mean(tf.square(tf.sub(revised, fakeB))), twoSigma2) as Scalar;
        logT('teach', teach);
        let total: Scalar = teach;
        const lossNce = nce.loss(fake, n, keys, flipped, logT);
        if (lossNce) total = tf.add(total, lossNce);
        const lossIdt = identityTerm(fake, input, n, o.lambdaIdentity, logT);
        if (lossIdt) total = tf.add(total, lossIdt);
        return total;
      },
      nce.enabled ? [g.params, f.params] : [g.params],
    );
    nce.dispose(keys);
    Object.assign(losses, { G: gStep.value, ...gStep.logs });
    try {
      checkFinite('teaching loss', losses, gStep.grads);
    } catch (err) {
      tf.dispose([draft, revised]);
      throw err;
    }
    opt.g.apply(gStep.grads, lr);
    if (nce.enabled) opt.f.apply(gStep.grads, lr);
    tf.dispose(Object.values(gStep.grads));

    keepForSample(draft, revised, flipped);
    tf.dispose([draft, revised]);
    return losses;
  };

  const keepForSample = (draft: Tensor4D, revised: Tensor4D, flipped: boolean): void => {
    const first = (t: Tensor4D): Tensor4D =>
      tf.tidy(() => {
        const one = sliceBatch(t, 0, 1);
        return flipped ? flipW(one) : one;
      });
    if (cached) tf.dispose([cached.draft, cached.revised]);
    cached = { draft: first(draft), revised: first(revised) };
  };

  const sampleImages = (batch: Batch): Tensor4D[] | null => {
    if (!cached) return null;
    return [tf.clone(batch.a), tf.clone(cached.draft), tf.clone(cached.revised), tf.clone(batch.b)];
  };

  return {
    name: 'cooperative',
    get stepSize() {
      return delta;
    },
    step,
    sampleImages,
  };
}

