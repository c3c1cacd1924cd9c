/**
 * Adam with PyTorch's semantics (eps 1e-8 added to the bias-corrected sqrt(v)), written out so
 * that its state is plain tensors we can checkpoint, and the learning rate is a per-step argument
 * (the linear decay schedule sets it every epoch).
 */
import { tf, type Tensor, type Variable, type NamedTensorMap } from '../tf.ts';
import type { ParamSet } from '../nn/params.ts';

export interface AdamConfig {
  beta1: number;
  beta2: number;
  eps: number;
}

export interface Adam {
  readonly config: AdamConfig;
  /** number of updates applied so far */
  step: number;
  readonly m: Map<string, Variable>;
  readonly v: Map<string, Variable>;
  /** apply one update; gradients missing for a variable leave it unchanged */
  apply(grads: NamedTensorMap, lr: number): void;
  reset(): void;
  dispose(): void;
}

export function createAdam(params: ParamSet, config: Partial<AdamConfig> = {}): Adam {
  const cfg: AdamConfig = { beta1: 0.5, beta2: 0.999, eps: 1e-8, ...config };
  const m = new Map<string, Variable>();
  const v = new Map<string, Variable>();
  for (const [name, p] of params) {
    m.set(name, tf.variable(tf.zerosLike(p), false, `${p.name}/adam_m`));
    v.set(name, tf.variable(tf.zerosLike(p), false, `${p.name}/adam_v`));
  }
  const adam: Adam = {
    config: cfg,
    step: 0,
    m,
    v,
    apply(grads, lr) {
      adam.step += 1;
      const t = adam.step;
      const bc1 = 1 - cfg.beta1 ** t;
      const bc2 = 1 - cfg.beta2 ** t;
      const stepSize = lr / bc1;
      const sqrtBc2 = Math.sqrt(bc2);
      tf.tidy(() => {
        for (const [name, p] of params) {
          // tf.variableGrads keys gradients by the variable's engine name
          const g = grads[p.name] as Tensor | undefined;
          if (!g) continue;
          const mi = m.get(name)!;
          const vi = v.get(name)!;
          const mNew = tf.add(tf.mul(mi, cfg.beta1), tf.mul(g, 1 - cfg.beta1));
          const vNew = tf.add(tf.mul(vi, cfg.beta2), tf.mul(tf.square(g), 1 - cfg.beta2));
          mi.assign(mNew);
          vi.assign(vNew);
          const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBc2), cfg.eps);
          p.assign(tf.sub(p, tf.mul(tf.div(mNew, denom), stepSize)));
        }
      });
    },
    reset() {
      adam.step = 0;
      for (const x of [...m.values(), ...v.values()]) x.assign(tf.zerosLike(x));
    },
    dispose() {
      for (const x of [...m.values(), ...v.values()]) x.dispose();
    },
  };
  return adam;
}
