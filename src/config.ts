/**
 * Options and presets: the one source of defaults. CLI flags, the trainer, the model card and the
 * web app all read from here. Names follow the official CUT options (camelCased) so that a reader of
 * the CUT code finds each one; the facts-sheet section is cited where a value comes from.
 */
import { z } from 'zod';

export const Mode = z.enum(['cut', 'fastcut', 'coopinit']);
export type Mode = z.infer<typeof Mode>;
export const PresetName = z.enum(['paper', 'cpu', 'tiny']);
export type PresetName = z.infer<typeof PresetName>;

/** Network shape: everything needed to rebuild G (and D, F) from saved weights. */
export const NetworkOptions = z.object({
  inputNc: z.number().int().positive().default(3),
  outputNc: z.number().int().positive().default(3),
  ngf: z.number().int().positive().default(64),
  ndf: z.number().int().positive().default(64),
  nBlocks: z.number().int().positive().default(9),
  nLayersD: z.number().int().positive().default(3),
  /** indices into the generator's flat layer list (facts 1.1/1.2) */
  nceLayers: z.array(z.number().int().nonnegative()).default([0, 4, 8, 12, 16]),
  netFNc: z.number().int().positive().default(256),
  initGain: z.number().positive().default(0.02),
});
export type NetworkOptions = z.infer<typeof NetworkOptions>;

/**
 * CoopInit stage options (facts 2.2/2.3); every value the paper leaves open is an option. Defaults
 * and the measurements behind them: docs/coopinit.md.
 */
export const CoopOptions = z.object({
  /** length of the cooperative stage in iterations; 0 = plain CUT (mode coopinit: 10% of the run) */
  coopIters: z.number().int().nonnegative().default(0),
  /** K, as CoopNets' 64 px scenes (15; CycleCoopNets 20) */
  langevinSteps: z.number().int().nonnegative().default(15),
  /**
   * delta. CoopNets' 0.002 moves a PatchGAN-energy revision by ~1e-9 per step (measured), so the
   * default is set where revisions of the summed PatchGAN energy are small but visible (mean
   * |revised - G(x)| ~ 0.03-0.1 at 32 and 64 px) and the EBM stays near equilibrium
   */
  langevinStepSize: z.number().positive().default(4),
  /** off, as CycleCoopNets and the PyTorch CoopNets port; at the default delta noise would swamp the images */
  langevinNoise: z.boolean().default(false),
  /**
   * Gaussian reference sigma s; 0 disables the -||y||^2/(2 s^2) term. CoopNets' 0.016 pairs with
   * delta 0.002; at the default delta it would pull every pixel to 0 in one step
   */
  refSigma: z.number().nonnegative().default(0),
  /** sum over patches (CoopNets sums output units; the per-pixel gradient then does not depend on image size) */
  energyReduce: z.enum(['sum', 'mean']).default('sum'),
  /** sigma of MCMC teaching: loss mean((revised - G(x))^2) / (2 sigma^2) (CoopNets sigma_G 0.3) */
  teachSigma: z.number().positive().default(0.3),
  /** alpha of alpha * (f(real)^2 + f(revised)^2) */
  energyPenalty: z.number().nonnegative().default(0),
  coopNce: z.boolean().default(true),
  coopResetOptim: z.boolean().default(false),
  coopCountsInSchedule: z.boolean().default(true),
});
export type CoopOptions = z.infer<typeof CoopOptions>;

export const TrainOptions = z.object({
  dataroot: z.string(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'model names are letters, digits, . _ - (max 64)'),
  modelsDir: z.string().default('models'),
  mode: Mode.default('cut'),
  preset: PresetName.default('cpu'),
  net: NetworkOptions,
  coop: CoopOptions,
  // data (facts 1.10)
  loadSize: z.number().int().positive(),
  cropSize: z.number().int().positive(),
  preprocess: z.enum(['resize_and_crop', 'crop', 'none']).default('resize_and_crop'),
  noFlip: z.boolean().default(false),
  batchSize: z.number().int().positive().default(1),
  serialBatches: z.boolean().default(false),
  // losses (facts 1.4/1.5/1.7)
  ganMode: z.enum(['lsgan', 'vanilla']).default('lsgan'),
  lambdaGAN: z.number().nonnegative().default(1),
  lambdaNCE: z.number().nonnegative().default(1),
  nceIdt: z.boolean().default(true),
  nceT: z.number().positive().default(0.07),
  numPatches: z.number().int().positive().default(256),
  flipEquivariance: z.boolean().default(false),
  /**
   * weight of the pixel identity loss |G(y) - y|_1 (losses/identity.ts). Not part of CUT or FastCUT
   * (0, faithful); the official code uses it in SinCUT. It keeps colours, which short CPU runs
   * otherwise lose (README, "The default model").
   */
  lambdaIdentity: z.number().nonnegative().default(0),
  // optimisation (facts 1.9)
  lr: z.number().positive().default(2e-4),
  beta1: z.number().min(0).max(1).default(0.5),
  beta2: z.number().min(0).max(1).default(0.999),
  /** epochs at constant LR, then nEpochsDecay epochs of linear decay (CUT: 200 + 200) */
  nEpochs: z.number().int().nonnegative(),
  nEpochsDecay: z.number().int().nonnegative(),
  /** iterations per "epoch"; 0 = max(|A|, |B|) / batch as in the official code */
  epochIters: z.number().int().nonnegative().default(0),
  /** stop after this many iterations in total (0 = run the whole schedule) */
  maxIters: z.number().int().nonnegative().default(0),
  seed: z.number().int().default(0),
  /**
   * start from the weights of an earlier run (a checkpoint file, or a model folder/name) with fresh
   * optimiser states and a fresh schedule; see training/warm-start.ts
   */
  initFrom: z.string().optional(),
  // bookkeeping
  saveEvery: z.number().int().positive().default(500),
  sampleEvery: z.number().int().positive().default(250),
  logEvery: z.number().int().positive().default(10),
  prefetch: z.number().int().positive().default(4),
  /**
   * longest side at which translation runs by default (0 = auto, see workingSize()); recorded in
   * the model card so that translation never guesses sizes
   */
  workingSize: z.number().int().nonnegative().default(0),
});
export type TrainOptions = z.infer<typeof TrainOptions>;

type PresetValues = Partial<Omit<TrainOptions, 'net' | 'coop'>> & {
  net: Partial<NetworkOptions>;
  coop?: Partial<CoopOptions>;
};

/**
 * paper: the official CUT configuration (facts 1.7). cpu: sized so a 2-core CPU makes visible
 * progress on horse2zebra within about an hour (ngf/ndf 32, 6 blocks; the NCE taps 0,4,8,12,16
 * still hit the pixel layer, both downsampling convs and resblocks 1 and 5). It trains on 128 px
 * random crops of the images at their own scale (CUT's `--preprocess crop`), so the model is
 * applied at the photos' native 256 px, where the paper evaluates, with objects at training scale;
 * shrinking whole images to 128 px instead would throw away the texture that makes a zebra.
 * tiny: seconds-long runs for tests (3 blocks, so the last tap moves to resblock 3 = index 14);
 * it trains at 2.5x CUT's learning rate so that a few hundred iterations show learning.
 */
export const PRESETS: Record<PresetName, PresetValues> = {
  paper: {
    loadSize: 286,
    cropSize: 256,
    nEpochs: 200,
    nEpochsDecay: 200,
    net: { ngf: 64, ndf: 64, nBlocks: 9, nceLayers: [0, 4, 8, 12, 16] },
  },
  cpu: {
    preprocess: 'crop',
    loadSize: 256,
    cropSize: 128,
    nEpochs: 5,
    nEpochsDecay: 5,
    net: { ngf: 32, ndf: 32, nBlocks: 6, nceLayers: [0, 4, 8, 12, 16] },
  },
  tiny: {
    loadSize: 36,
    cropSize: 32,
    nEpochs: 1,
    nEpochsDecay: 1,
    numPatches: 64,
    lr: 5e-4,
    saveEvery: 100,
    sampleEvery: 100,
    net: { ngf: 8, ndf: 8, nBlocks: 3, nceLayers: [0, 4, 8, 12, 14], netFNc: 64 },
  },
};

/** Mode-specific overrides applied after the preset (facts 1.7 table). */
export const MODE_DEFAULTS: Record<Mode, Partial<TrainOptions> & { coop?: Partial<CoopOptions> }> = {
  cut: { lambdaNCE: 1, nceIdt: true, flipEquivariance: false },
  fastcut: { lambdaNCE: 10, nceIdt: false, flipEquivariance: true },
  // CoopInit on CUT: without --coop-iters the cooperative stage is 10% of the run
  // (COOP_DEFAULT_FRACTION in training/stage-plan.ts, filled in by the trainer once the run length is known).
  coopinit: { lambdaNCE: 1, nceIdt: true, flipEquivariance: false },
};

export type TrainOverrides = Partial<Omit<TrainOptions, 'net' | 'coop'>> & {
  net?: Partial<NetworkOptions>;
  coop?: Partial<CoopOptions>;
};

/** Resolve options: schema defaults < preset < mode defaults < explicit overrides. */
export function resolveTrainOptions(
  base: { dataroot: string; name: string; preset?: PresetName; mode?: Mode },
  overrides: TrainOverrides = {},
): TrainOptions {
  const preset = PRESETS[base.preset ?? 'cpu'];
  const mode = MODE_DEFAULTS[base.mode ?? 'cut'];
  const { net: presetNet, coop: presetCoop, ...presetRest } = preset;
  const { coop: modeCoop, ...modeRest } = mode;
  const { net: overNet, coop: overCoop, ...overRest } = overrides;
  const merged = {
    ...presetRest,
    ...modeRest,
    ...stripUndefined(overRest),
    dataroot: base.dataroot,
    name: base.name,
    preset: base.preset ?? 'cpu',
    mode: base.mode ?? 'cut',
    net: { ...presetNet, ...stripUndefined(overNet ?? {}) },
    coop: { ...(presetCoop ?? {}), ...(modeCoop ?? {}), ...stripUndefined(overCoop ?? {}) },
  };
  return TrainOptions.parse(merged);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Default translation resolution: CUT tests at load = crop size (resize_and_crop), so objects
 * appear at about the training scale; with crop-only or no preprocessing the images were used at
 * their own size, which loadSize records.
 */
export function workingSize(o: Pick<TrainOptions, 'workingSize' | 'preprocess' | 'loadSize' | 'cropSize'>): number {
  if (o.workingSize > 0) return o.workingSize;
  return o.preprocess === 'resize_and_crop' ? o.cropSize : o.loadSize;
}

/** Limits shared by the web app and batch translation (imaging/codec enforces them). */
export const ImageLimits = z.object({
  /** bytes of one upload / input file */
  maxFileBytes: z.number().int().positive().default(20 * 1024 * 1024),
  /** decoded pixels (width * height) accepted before decoding: decompression-bomb guard */
  maxInputPixels: z.number().int().positive().default(50_000_000),
  /** largest working resolution (longest side) a user may ask for */
  maxWorkingSide: z.number().int().positive().default(1024),
});
export type ImageLimits = z.infer<typeof ImageLimits>;
export const DEFAULT_IMAGE_LIMITS: ImageLimits = ImageLimits.parse({});

/** Name of the model shipped in models/ and used when none is named. */
export const DEFAULT_MODEL_NAME = 'horse2zebra';
