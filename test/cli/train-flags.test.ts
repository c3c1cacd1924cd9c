import { expect, test } from 'vitest';
import { optionsFromFlags } from '../../src/cli/train.ts';
import { UsageError } from '../../src/cli/args.ts';
import { parseFlags } from '../../src/cli/args.ts';
import { TRAIN_FLAGS } from '../../src/cli/train.ts';

const parse = (argv: string[]): ReturnType<typeof optionsFromFlags> => optionsFromFlags(parseFlags(argv, TRAIN_FLAGS).values);

test('the paper preset is the official CUT configuration', () => {
  const o = parse(['--dataroot', 'd', '--name', 'n', '--preset', 'paper']);
  expect(o.cropSize).toBe(256);
  expect(o.loadSize).toBe(286);
  expect(o.net).toMatchObject({ ngf: 64, ndf: 64, nBlocks: 9, nceLayers: [0, 4, 8, 12, 16], netFNc: 256, initGain: 0.02 });
  expect(o).toMatchObject({ lambdaNCE: 1, lambdaGAN: 1, nceIdt: true, nceT: 0.07, numPatches: 256, lr: 2e-4, beta1: 0.5, beta2: 0.999 });
  expect(o).toMatchObject({ nEpochs: 200, nEpochsDecay: 200, batchSize: 1, ganMode: 'lsgan', flipEquivariance: false });
});

test('FastCUT: lambda_NCE 10, no identity NCE, flip-equivariance', () => {
  const o = parse(['--dataroot', 'd', '--name', 'n', '--mode', 'fastcut']);
  expect(o).toMatchObject({ lambdaNCE: 10, nceIdt: false, flipEquivariance: true });
  const overridden = parse(['--dataroot', 'd', '--name', 'n', '--mode', 'fastcut', '--lambda-nce', '3', '--nce-idt']);
  expect(overridden).toMatchObject({ lambdaNCE: 3, nceIdt: true });
});

test('--size sets crop and load size; --iters fits the schedule', () => {
  const o = parse(['--dataroot', 'd', '--name', 'n', '--preset', 'paper', '--size', '128', '--iters', '1000']);
  expect(o.cropSize).toBe(128);
  expect(o.loadSize).toBe(143);
  expect(o.maxIters).toBe(1000);
  expect(o.epochIters * (o.nEpochs + o.nEpochsDecay)).toBeGreaterThanOrEqual(1000);
});

test('bad flags are usage errors with the reason', () => {
  expect(() => parse(['--name', 'n'])).toThrow(/--dataroot is required/);
  expect(() => parse(['--dataroot', 'd', '--name', 'n', '--mode', 'cyclegan'])).toThrow(UsageError);
  expect(() => parseFlags(['--ngf', 'lots'], TRAIN_FLAGS)).toThrow(/expects an integer/);
  expect(() => parse(['--dataroot', 'd', '--name', '../escape'])).toThrow(/model names/);
});
