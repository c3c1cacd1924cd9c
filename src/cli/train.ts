/** coopcut train: flags -> options (config.ts) -> trainer. Ctrl-C saves a checkpoint and exits. */
import { Mode, PresetName, resolveTrainOptions, type TrainOverrides } from '../config.ts';
import { train, TrainingDivergedError } from '../training/trainer.ts';
import { WarmStartError } from '../training/warm-start.ts';
import { parseFlags, helpText, UsageError, type FlagTable, type FlagValues } from './args.ts';
import { logger } from '../log/logger.ts';

export const TRAIN_FLAGS: FlagTable = {
  dataroot: { type: 'string', help: 'folder with trainA/ and trainB/ (required)' },
  name: { type: 'string', help: 'model name: writes models/<name>/ (required)' },
  mode: { type: 'string', help: 'cut | fastcut | coopinit (default cut)' },
  preset: { type: 'string', help: 'paper | cpu | tiny (default cpu)' },
  size: { type: 'int', help: 'crop size (load size follows at 286/256 of it)' },
  'load-size': { type: 'int', help: 'resize to this before cropping' },
  preprocess: { type: 'string', help: 'resize_and_crop | crop | none' },
  'no-flip': { type: 'boolean', help: 'no random horizontal flips' },
  'serial-batches': { type: 'boolean', help: 'B in order instead of at random' },
  epochs: { type: 'int', help: 'total epochs, half at constant LR, half decaying (CUT: 400)' },
  'n-epochs': { type: 'int', help: 'epochs at constant LR' },
  'n-epochs-decay': { type: 'int', help: 'epochs of linear LR decay' },
  'epoch-iters': { type: 'int', help: 'iterations per epoch (default max(|A|,|B|)/batch)' },
  iters: { type: 'int', help: 'train this many iterations in total; the LR schedule is fitted to them' },
  batch: { type: 'int', help: 'batch size (default 1, as CUT recommends)' },
  seed: { type: 'int', help: 'random seed (default 0)' },
  resume: { type: 'boolean', help: 'continue from models/<name>/checkpoint' },
  'init-from': { type: 'string', help: 'start from the weights of a checkpoint file or model (name or folder), with a fresh schedule' },
  ngf: { type: 'int', help: 'generator width' },
  ndf: { type: 'int', help: 'discriminator width' },
  'n-blocks': { type: 'int', help: 'generator ResNet blocks' },
  'nce-layers': { type: 'int-list', help: 'generator layer indices for PatchNCE (default 0,4,8,12,16)' },
  'num-patches': { type: 'int', help: 'patches per layer (default 256)' },
  'netf-nc': { type: 'int', help: 'PatchSampleF width (default 256)' },
  'nce-t': { type: 'number', help: 'PatchNCE temperature (default 0.07)' },
  'lambda-gan': { type: 'number', help: 'weight of the GAN loss (default 1)' },
  'lambda-nce': { type: 'number', help: 'weight of PatchNCE (CUT 1, FastCUT 10)' },
  'nce-idt': { type: 'boolean', help: 'identity PatchNCE on y -> G(y) (CUT default)' },
  'no-nce-idt': { type: 'boolean', help: 'no identity PatchNCE (FastCUT default)' },
  'lambda-identity': { type: 'number', help: 'weight of the pixel identity loss |G(y) - y|_1 (default 0 = CUT; see README)' },
  'flip-equivariance': { type: 'boolean', help: 'FastCUT flip-equivariance augmentation' },
  'gan-mode': { type: 'string', help: 'lsgan | vanilla' },
  lr: { type: 'number', help: 'Adam learning rate (default 2e-4)' },
  beta1: { type: 'number', help: 'Adam beta1 (default 0.5)' },
  beta2: { type: 'number', help: 'Adam beta2 (default 0.999)' },
  'save-every': { type: 'int', help: 'checkpoint every N iterations' },
  'sample-every': { type: 'int', help: 'sample grid every N iterations' },
  'log-every': { type: 'int', help: 'TensorBoard scalars every N iterations' },
  'working-size': { type: 'int', help: 'default translation resolution recorded in the card (0 = auto)' },
  'models-dir': { type: 'string', help: 'where models/<name> goes (default models)' },
  'domain-a': { type: 'string', help: 'name of domain A for the model card (e.g. horse)' },
  'domain-b': { type: 'string', help: 'name of domain B for the model card (e.g. zebra)' },
  'coop-iters': { type: 'int', help: 'CoopInit: length of the cooperative stage (default 10% of the run with --mode coopinit)' },
  'langevin-steps': { type: 'int', help: 'CoopInit: Langevin steps K (default 15)' },
  'langevin-step-size': { type: 'number', help: 'CoopInit: Langevin step size delta (default 4, see docs/coopinit.md)' },
  'langevin-noise': { type: 'boolean', help: 'CoopInit: add delta * N(0, I) in each Langevin step' },
  'ref-sigma': { type: 'number', help: 'CoopInit: Gaussian reference sigma s (default 0 = none)' },
  'energy-reduce': { type: 'string', help: 'CoopInit: sum | mean of the PatchGAN map' },
  'teach-sigma': { type: 'number', help: 'CoopInit: sigma of the MCMC teaching loss (default 0.3)' },
  'energy-penalty': { type: 'number', help: 'CoopInit: alpha of alpha * (f(real)^2 + f(revised)^2)' },
  'no-coop-nce': { type: 'boolean', help: 'CoopInit: no PatchNCE during the cooperative stage' },
  'coop-reset-optim': { type: 'boolean', help: 'CoopInit: reset Adam states at the switch' },
  'coop-outside-schedule': { type: 'boolean', help: 'CoopInit: the cooperative stage does not count toward the LR schedule' },
};

function num(v: FlagValues[string]): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Flags -> resolved options; exported for tests. */
export function optionsFromFlags(values: FlagValues): ReturnType<typeof resolveTrainOptions> {
  const dataroot = values.dataroot as string | undefined;
  const name = values.name as string | undefined;
  if (!dataroot) throw new UsageError('--dataroot is required (a folder with trainA/ and trainB/)');
  if (!name) throw new UsageError('--name is required (the model is written to models/<name>/)');
  const mode = Mode.safeParse(values.mode ?? 'cut');
  if (!mode.success) throw new UsageError(`--mode must be cut, fastcut or coopinit, not '${String(values.mode)}'`);
  const preset = PresetName.safeParse(values.preset ?? 'cpu');
  if (!preset.success) throw new UsageError(`--preset must be paper, cpu or tiny, not '${String(values.preset)}'`);
  const size = num(values.size);
  const o: TrainOverrides = {
    cropSize: size,
    loadSize: num(values['load-size']) ?? (size !== undefined ? Math.round((size * 286) / 256) : undefined),
    preprocess: values.preprocess as TrainOverrides['preprocess'],
    noFlip: values['no-flip'] === true ? true : undefined,
    serialBatches: values['serial-batches'] === true ? true : undefined,
    nEpochs: num(values['n-epochs']),
    nEpochsDecay: num(values['n-epochs-decay']),
    epochIters: num(values['epoch-iters']),
    initFrom: values['init-from'] as string | undefined,
    batchSize: num(values.batch),
    seed: num(values.seed),
    numPatches: num(values['num-patches']),
    nceT: num(values['nce-t']),
    lambdaGAN: num(values['lambda-gan']),
    lambdaNCE: num(values['lambda-nce']),
    lambdaIdentity: num(values['lambda-identity']),
    nceIdt: values['no-nce-idt'] === true ? false : values['nce-idt'] === true ? true : undefined,
    flipEquivariance: values['flip-equivariance'] === true ? true : undefined,
    ganMode: values['gan-mode'] as TrainOverrides['ganMode'],
    lr: num(values.lr),
    beta1: num(values.beta1),
    beta2: num(values.beta2),
    saveEvery: num(values['save-every']),
    sampleEvery: num(values['sample-every']),
    logEvery: num(values['log-every']),
    modelsDir: values['models-dir'] as string | undefined,
    workingSize: num(values['working-size']),
    net: {
      ngf: num(values.ngf),
      ndf: num(values.ndf),
      nBlocks: num(values['n-blocks']),
      nceLayers: values['nce-layers'] as number[] | undefined,
      netFNc: num(values['netf-nc']),
    },
    coop: {
      coopIters: num(values['coop-iters']),
      langevinSteps: num(values['langevin-steps']),
      langevinStepSize: num(values['langevin-step-size']),
      langevinNoise: values['langevin-noise'] === true ? true : undefined,
      refSigma: num(values['ref-sigma']),
      energyReduce: values['energy-reduce'] as 'sum' | 'mean' | undefined,
      teachSigma: num(values['teach-sigma']),
      energyPenalty: num(values['energy-penalty']),
      coopNce: values['no-coop-nce'] === true ? false : undefined,
      coopResetOptim: values['coop-reset-optim'] === true ? true : undefined,
      coopCountsInSchedule: values['coop-outside-schedule'] === true ? false : undefined,
    },
  };
  const epochs = num(values.epochs);
  if (epochs !== undefined) {
    o.nEpochs ??= Math.ceil(epochs / 2);
    o.nEpochsDecay ??= epochs - Math.ceil(epochs / 2);
  }
  const iters = num(values.iters);
  let resolved = resolveTrainOptions({ dataroot, name, preset: preset.data, mode: mode.data }, o);
  if (iters !== undefined) {
    if (iters <= 0) throw new UsageError('--iters must be positive');
    // Fit the schedule's shape (constant, then linear decay) to the requested length.
    const epochsTotal = resolved.nEpochs + resolved.nEpochsDecay;
    const epochIters = resolved.epochIters || Math.max(1, Math.ceil(iters / Math.max(1, epochsTotal)));
    resolved = { ...resolved, maxIters: iters, epochIters };
  }
  return resolved;
}

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseFlags(argv, TRAIN_FLAGS);
  if (help) {
    process.stdout.write(helpText('train', '--dataroot DIR --name NAME [options]', TRAIN_FLAGS));
    return 0;
  }
  let options;
  try {
    options = optionsFromFlags(values);
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === 'ZodError') {
      process.stderr.write(`coopcut train: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('\ncoopcut train: second interrupt, exiting without saving\n');
      process.exit(130);
    }
    process.stderr.write(`\ncoopcut train: ${sig}: finishing this step and saving a checkpoint (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const domainA = values['domain-a'] as string | undefined;
  const domainB = values['domain-b'] as string | undefined;
  try {
    const result = await train(options, {
      resume: values.resume === true,
      signal: controller.signal,
      ...(domainA && domainB ? { domains: { a: domainA, b: domainB } } : {}),
    });
    process.stdout.write(
      `${result.stoppedBy === 'interrupted' ? 'interrupted' : 'done'}: ${result.iterations} iterations, model in ${result.dir}\n`,
    );
    return result.stoppedBy === 'interrupted' ? 130 : 0;
  } catch (err) {
    if (err instanceof TrainingDivergedError) {
      logger.error(err.message);
      return 3;
    }
    if (err instanceof WarmStartError) {
      process.stderr.write(`coopcut train: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
