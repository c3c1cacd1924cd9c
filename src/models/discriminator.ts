/**
 * PatchGAN discriminator (CUT `--netD basic`, n_layers 3, antialiased; facts 1.6). Its raw output map
 * (no sigmoid) is the LSGAN prediction in the adversarial stage and the negative energy of the
 * energy-based model in the CoopInit stage.
 *
 *   Conv4(3->ndf) LReLU BlurPool; [Conv4 IN LReLU BlurPool] x (n-1) doubling channels (capped 8 ndf);
 *   Conv4 IN LReLU (stride 1); Conv4(->1). All convs: zero padding 1, stride 1, with bias.
 */
import { tf, type Tensor4D } from '../tf.ts';
import type { NetworkOptions } from '../config.ts';
import type { Rng } from '../util/rng.ts';
import { createParamFactory, conv2d, type ConvParams, type ParamSet } from '../nn/params.ts';
import { zeroPad } from '../nn/padding.ts';
import { instanceNorm } from '../nn/instance-norm.ts';
import { blurPool } from '../nn/blur.ts';

export interface Discriminator {
  readonly params: ParamSet;
  /** [B, h, w, 1] patch map; 30x30 for a 256x256 input */
  forward(x: Tensor4D): Tensor4D;
}

const LEAK = 0.2;

export function createDiscriminator(
  opts: Pick<NetworkOptions, 'inputNc' | 'ndf' | 'nLayersD'>,
  rng: Rng,
  gain: number,
): Discriminator {
  const f = createParamFactory('D', rng, gain);
  const { inputNc, ndf, nLayersD } = opts;
  const convs: ConvParams[] = [f.conv('conv0', 4, inputNc, ndf)];
  let mult = 1;
  for (let n = 1; n < nLayersD; n++) {
    const prev = mult;
    mult = Math.min(2 ** n, 8);
    convs.push(f.conv(`conv${n}`, 4, ndf * prev, ndf * mult));
  }
  const prev = mult;
  mult = Math.min(2 ** nLayersD, 8);
  convs.push(f.conv(`conv${nLayersD}`, 4, ndf * prev, ndf * mult));
  const head = f.conv('head', 4, ndf * mult, 1);

  const conv = (x: Tensor4D, p: ConvParams): Tensor4D => conv2d(zeroPad(x, 1), p, 'valid');

  return {
    params: f.params,
    forward: (x) =>
      tf.tidy(() => {
        let h = blurPool(tf.leakyRelu(conv(x, convs[0]!), LEAK));
        for (let n = 1; n < nLayersD; n++) h = blurPool(tf.leakyRelu(instanceNorm(conv(h, convs[n]!)), LEAK));
        h = tf.leakyRelu(instanceNorm(conv(h, convs[nLayersD]!)), LEAK);
        return conv(h, head);
      }),
  };
}
