/**
 * CUT's ResnetGenerator with antialiased down/upsampling (facts 1.1), as a flat layer list whose
 * indices are the official ones, so `nceLayers` (facts 1.2: 0,4,8,12,16) means what it means there.
 *
 *   0 ReflectPad(3)  1 Conv7 3->ngf  2 IN  3 ReLU
 *   4 Conv3 ngf->2ngf  5 IN  6 ReLU  7 BlurPool
 *   8 Conv3 2ngf->4ngf 9 IN 10 ReLU 11 BlurPool
 *   12 .. 12+n-1 ResnetBlock(4ngf)
 *   then per upsampling stage: BlurUp, Conv3, IN, ReLU (x2); ReflectPad(3), Conv7 ngf->3, Tanh.
 */
import { tf, type Tensor4D } from '../tf.ts';
import type { NetworkOptions } from '../config.ts';
import type { Rng } from '../util/rng.ts';
import { createParamFactory, conv2d, type ParamSet } from '../nn/params.ts';
import { reflectPad } from '../nn/padding.ts';
import { instanceNorm } from '../nn/instance-norm.ts';
import { blurPool, blurUp } from '../nn/blur.ts';
import { createResnetBlock, resnetBlock } from '../nn/resnet-block.ts';

export interface Layer {
  name: string;
  /** channels of this layer's output */
  channels: number;
  apply(x: Tensor4D): Tensor4D;
}

export interface Generator {
  readonly params: ParamSet;
  readonly layers: readonly Layer[];
  /** the translated image, in [-1, 1] */
  forward(x: Tensor4D): Tensor4D;
  /** the outputs of the given layer indices, running only as far as the deepest one */
  encode(x: Tensor4D, layerIds: readonly number[]): Tensor4D[];
  /** the translated image and the given taps from the same pass */
  forwardWithTaps(x: Tensor4D, layerIds: readonly number[]): { out: Tensor4D; taps: Tensor4D[] };
}

export type GeneratorShape = Pick<NetworkOptions, 'inputNc' | 'outputNc' | 'ngf' | 'nBlocks'>;

const N_DOWNSAMPLING = 2;

export function createGenerator(opts: GeneratorShape, rng: Rng, gain: number): Generator {
  const f = createParamFactory('G', rng, gain);
  const layers: Layer[] = [];
  const push = (name: string, channels: number, apply: (x: Tensor4D) => Tensor4D): void => {
    layers.push({ name, channels, apply });
  };
  const { inputNc, outputNc, ngf, nBlocks } = opts;

  push('pad_in', inputNc, (x) => reflectPad(x, 3));
  const cIn = f.conv('conv_in', 7, inputNc, ngf);
  push('conv_in', ngf, (x) => conv2d(x, cIn, 'valid'));
  push('norm_in', ngf, (x) => instanceNorm(x));
  push('relu_in', ngf, (x) => tf.relu(x));

  let ch = ngf;
  for (let i = 0; i < N_DOWNSAMPLING; i++) {
    const c = f.conv(`down${i}/conv`, 3, ch, ch * 2);
    ch *= 2;
    push(`down${i}/conv`, ch, (x) => conv2d(x, c, 'same'));
    push(`down${i}/norm`, ch, (x) => instanceNorm(x));
    push(`down${i}/relu`, ch, (x) => tf.relu(x));
    push(`down${i}/blurpool`, ch, (x) => blurPool(x));
  }
  for (let i = 0; i < nBlocks; i++) {
    const p = createResnetBlock(f, `block${i}`, ch);
    push(`block${i}`, ch, (x) => resnetBlock(x, p));
  }
  for (let i = 0; i < N_DOWNSAMPLING; i++) {
    const c = f.conv(`up${i}/conv`, 3, ch, ch / 2);
    push(`up${i}/blurup`, ch, (x) => blurUp(x));
    ch /= 2;
    push(`up${i}/conv`, ch, (x) => conv2d(x, c, 'same'));
    push(`up${i}/norm`, ch, (x) => instanceNorm(x));
    push(`up${i}/relu`, ch, (x) => tf.relu(x));
  }
  push('pad_out', ch, (x) => reflectPad(x, 3));
  const cOut = f.conv('conv_out', 7, ch, outputNc);
  push('conv_out', outputNc, (x) => conv2d(x, cOut, 'valid'));
  push('tanh', outputNc, (x) => tf.tanh(x));

  const run = (x: Tensor4D, layerIds: readonly number[], stopEarly: boolean): { out: Tensor4D; taps: Tensor4D[] } => {
    for (const id of layerIds) {
      if (!Number.isInteger(id) || id < 0 || id >= layers.length) {
        throw new Error(`NCE layer ${id} is outside the generator's ${layers.length} layers (0..${layers.length - 1})`);
      }
    }
    const last = stopEarly ? Math.max(...layerIds) : layers.length - 1;
    const taps = new Map<number, Tensor4D>();
    let h = x;
    for (let i = 0; i <= last; i++) {
      const next = layers[i]!.apply(h);
      // Intermediate activations are freed as soon as they are used, unless they are taps or the input.
      if (h !== x && !taps.has(i - 1)) h.dispose();
      h = next;
      if (layerIds.includes(i)) taps.set(i, h);
    }
    return { out: h, taps: layerIds.map((id) => taps.get(id)!) };
  };

  return {
    params: f.params,
    layers,
    forward: (x) => run(x, [], false).out,
    encode: (x, ids) => (ids.length === 0 ? [] : run(x, ids, true).taps),
    forwardWithTaps: (x, ids) => run(x, ids, false),
  };
}

/** Channel count at each NCE tap: what PatchSampleF's MLPs take as input. */
export function tapChannels(g: Generator, layerIds: readonly number[]): number[] {
  return layerIds.map((id) => {
    const layer = g.layers[id];
    if (!layer) throw new Error(`NCE layer ${id} is outside the generator's ${g.layers.length} layers`);
    return layer.channels;
  });
}
