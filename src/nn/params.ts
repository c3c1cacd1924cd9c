/**
 * A network's weights: named variables in creation order. Models are plain functions of these, so
 * saving, loading, optimising and counting parameters all work on this one structure.
 */
import { tf, type Variable, type Tensor4D, type Tensor2D, type Tensor1D } from '../tf.ts';
import type { Rng } from '../util/rng.ts';
import { xavierNormal } from './init.ts';

export type ParamSet = Map<string, Variable>;

/** Views of variables held in the ParamSet (a Variable is a Tensor of its rank). */
export interface ConvParams {
  /** [kh, kw, in, out] */
  w: Tensor4D;
  b: Tensor1D;
}

export interface LinearParams {
  /** [in, out] */
  w: Tensor2D;
  b: Tensor1D;
}

export interface ParamFactory {
  readonly params: ParamSet;
  conv(name: string, k: number, inC: number, outC: number): ConvParams;
  linear(name: string, inC: number, outC: number): LinearParams;
}

let instances = 0;

/**
 * Parameter keys are canonical (`G/conv_in/w`) so checkpoints and model files are stable; the
 * TF.js variable names carry an instance number because the engine requires globally unique names
 * (several models live in one process: the web app, tests).
 */
export function createParamFactory(prefix: string, rng: Rng, gain: number): ParamFactory {
  const params: ParamSet = new Map();
  const instance = ++instances;
  const add = <T extends Tensor1D | Tensor2D | Tensor4D>(name: string, init: T): T => {
    const full = `${prefix}/${name}`;
    if (params.has(full)) throw new Error(`duplicate parameter ${full}`);
    const v = tf.variable(init, true, `${full}#${instance}`);
    init.dispose();
    params.set(full, v);
    return v as unknown as T;
  };
  return {
    params,
    conv(name, k, inC, outC) {
      const w = xavierNormal(k * k * inC * outC, inC * k * k, outC * k * k, gain, rng);
      return { w: add(`${name}/w`, tf.tensor4d(w, [k, k, inC, outC])), b: add(`${name}/b`, tf.zeros([outC]) as Tensor1D) };
    },
    linear(name, inC, outC) {
      const w = xavierNormal(inC * outC, inC, outC, gain, rng);
      return { w: add(`${name}/w`, tf.tensor2d(w, [inC, outC])), b: add(`${name}/b`, tf.zeros([outC]) as Tensor1D) };
    },
  };
}

export function countParams(params: ParamSet): number {
  let n = 0;
  for (const v of params.values()) n += v.size;
  return n;
}

export function disposeParams(params: ParamSet): void {
  for (const v of params.values()) v.dispose();
}

/** Conv with bias, stride 1; 'same' zero padding or none ('valid'). */
export function conv2d(x: Tensor4D, p: ConvParams, padding: 'same' | 'valid'): Tensor4D {
  return tf.tidy(() => tf.add(tf.conv2d(x, p.w, 1, padding), p.b));
}
