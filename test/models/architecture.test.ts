import { describe, expect, test, afterAll } from 'vitest';
import { tf, type Tensor4D } from '../../src/tf.ts';
import { createGenerator, tapChannels, type Generator } from '../../src/models/generator.ts';
import { createDiscriminator, type Discriminator } from '../../src/models/discriminator.ts';
import { createPatchSampler } from '../../src/models/patch-sampler.ts';
import { countParams, disposeParams } from '../../src/nn/params.ts';
import { createRng } from '../../src/util/rng.ts';
import { PRESETS } from '../../src/config.ts';

const PAPER_NCE = [0, 4, 8, 12, 16];

describe('paper configuration (ngf 64, 9 blocks, ndf 64)', () => {
  const rng = createRng(1);
  const g: Generator = createGenerator({ inputNc: 3, outputNc: 3, ngf: 64, nBlocks: 9 }, rng, 0.02);
  const d: Discriminator = createDiscriminator({ inputNc: 3, ndf: 64, nLayersD: 3 }, rng, 0.02);
  const f = createPatchSampler(tapChannels(g, PAPER_NCE), 256, rng, 0.02);
  afterAll(() => [g, d, f].forEach((m) => disposeParams(m.params)));

  test('parameter counts match the official networks exactly', () => {
    expect(countParams(g.params)).toBe(11_378_179);
    expect(countParams(d.params)).toBe(2_764_737);
    expect(countParams(f.params)).toBe(560_384);
  });

  test('the flat layer list has the official indices', () => {
    expect(g.layers).toHaveLength(32);
    expect(g.layers[0]!.name).toBe('pad_in');
    expect(g.layers[4]!.name).toBe('down0/conv');
    expect(g.layers[8]!.name).toBe('down1/conv');
    expect(g.layers[12]!.name).toBe('block0');
    expect(g.layers[16]!.name).toBe('block4');
    expect(g.layers[21]!.name).toBe('up0/blurup');
    expect(g.layers[31]!.name).toBe('tanh');
    expect(tapChannels(g, PAPER_NCE)).toEqual([3, 128, 256, 256, 256]);
  });

  test('output and tap shapes at 256x256', () => {
    const x = tf.randomUniform([1, 256, 256, 3], -1, 1) as Tensor4D;
    tf.dispose(d.forward(g.forward(x))); // fixed blur filters are created once and cached
    const before = tf.memory().numTensors;
    const { out, taps } = g.forwardWithTaps(x, PAPER_NCE);
    expect(out.shape).toEqual([1, 256, 256, 3]);
    expect(taps.map((t) => t.shape)).toEqual([
      [1, 262, 262, 3],
      [1, 256, 256, 128],
      [1, 128, 128, 256],
      [1, 64, 64, 256],
      [1, 64, 64, 256],
    ]);
    const dOut = d.forward(out);
    expect(dOut.shape).toEqual([1, 30, 30, 1]);
    tf.dispose([out, dOut, ...taps]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('small configurations and odd sizes', () => {
  test('non-square inputs keep their shape; D map follows the conv arithmetic', () => {
    const rng = createRng(2);
    const g = createGenerator({ inputNc: 3, outputNc: 3, ngf: 8, nBlocks: 3 }, rng, 0.02);
    const d = createDiscriminator({ inputNc: 3, ndf: 8, nLayersD: 3 }, rng, 0.02);
    const x = tf.zeros([2, 48, 80, 3]) as Tensor4D;
    const y = g.forward(x);
    expect(y.shape).toEqual([2, 48, 80, 3]);
    // 48 -> conv 47 -> pool 24 -> 23 -> 12 -> 11 -> 6 -> 5 -> 4
    expect(d.forward(y).shape).toEqual([2, 4, 8, 1]);
    const taps = g.encode(x, PRESETS.tiny.net.nceLayers!);
    expect(taps.map((t) => t.shape[3])).toEqual([3, 16, 32, 32, 32]);
    expect(g.layers[14]!.name).toBe('block2');
    tf.dispose([x, y, ...taps]);
    disposeParams(g.params);
    disposeParams(d.params);
  });

  test('cpu preset sizes match the documented counts', () => {
    const rng = createRng(3);
    const g = createGenerator({ inputNc: 3, outputNc: 3, ngf: 32, nBlocks: 6 }, rng, 0.02);
    const d = createDiscriminator({ inputNc: 3, ndf: 32, nLayersD: 3 }, rng, 0.02);
    const f = createPatchSampler(tapChannels(g, PAPER_NCE), 256, rng, 0.02);
    expect(countParams(g.params)).toBe(1_965_059);
    expect(countParams(d.params)).toBe(694_241);
    expect(countParams(f.params)).toBe(445_696);
    [g, d, f].forEach((m) => disposeParams(m.params));
  });

  test('an out-of-range NCE layer is a clear error', () => {
    const g = createGenerator({ inputNc: 3, outputNc: 3, ngf: 4, nBlocks: 1 }, createRng(4), 0.02);
    const x = tf.zeros([1, 8, 8, 3]) as Tensor4D;
    expect(() => g.encode(x, [0, 40])).toThrow(/outside the generator/);
    x.dispose();
    disposeParams(g.params);
  });

  test('Xavier init at gain 0.02 gives the expected weight spread and zero biases', () => {
    const g = createGenerator({ inputNc: 3, outputNc: 3, ngf: 16, nBlocks: 1 }, createRng(5), 0.02);
    const w = g.params.get('G/block0/conv1/w')!;
    const std = Math.sqrt(tf.moments(w).variance.dataSync()[0]!);
    const expected = 0.02 * Math.sqrt(2 / (64 * 9 + 64 * 9));
    expect(std).toBeGreaterThan(expected * 0.9);
    expect(std).toBeLessThan(expected * 1.1);
    expect(tf.max(tf.abs(g.params.get('G/block0/conv1/b')!)).dataSync()[0]).toBe(0);
    disposeParams(g.params);
  });
});
