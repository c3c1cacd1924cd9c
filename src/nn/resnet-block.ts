import { tf, type Tensor4D } from '../tf.ts';
import { conv2d, type ConvParams, type ParamFactory } from './params.ts';
import { reflectPad } from './padding.ts';
import { instanceNorm } from './instance-norm.ts';

export interface ResnetBlockParams {
  conv1: ConvParams;
  conv2: ConvParams;
}

export function createResnetBlock(f: ParamFactory, name: string, dim: number): ResnetBlockParams {
  return { conv1: f.conv(`${name}/conv1`, 3, dim, dim), conv2: f.conv(`${name}/conv2`, 3, dim, dim) };
}

/** x + IN(conv(pad(ReLU(IN(conv(pad(x))))))): no ReLU after the sum, no dropout (CUT default). */
export function resnetBlock(x: Tensor4D, p: ResnetBlockParams): Tensor4D {
  return tf.tidy(() => {
    const h = tf.relu(instanceNorm(conv2d(reflectPad(x, 1), p.conv1, 'valid')));
    return tf.add(x, instanceNorm(conv2d(reflectPad(h, 1), p.conv2, 'valid')));
  });
}
