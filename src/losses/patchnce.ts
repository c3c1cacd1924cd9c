/**
 * PatchNCE (facts 1.4). For each query (a feature of G(x) at location s) the positive is the key at
 * the same location (a feature of x) and the negatives are the keys at the other sampled locations
 * of the same image (or of the whole minibatch). Keys carry no gradient: callers pass keys that were
 * computed outside the gradient tape, which is how this port detaches them.
 *
 * As in the official code the self-similarity entry of the negatives is filled with -10 (not -inf)
 * before dividing by tau, giving [pos, P negatives (one masked)] -> P+1 logits, class 0 the target.
 */
import { tf, type Tensor1D, type Tensor2D, type Scalar } from '../tf.ts';

export interface PatchNceOptions {
  tau: number;
  /** images in the minibatch: queries and keys are [batch * P, D] */
  batch: number;
  /** draw negatives from every image of the minibatch (SinCUT), not just the same image */
  allNegativesFromMinibatch?: boolean;
}

export const DIAGONAL_FILL = -10;

/** Per-query cross-entropy loss, [batch * P]. */
export function patchNceLosses(q: Tensor2D, k: Tensor2D, opts: PatchNceOptions): Tensor1D {
  return tf.tidy(() => {
    const [n, d] = q.shape;
    const groups = opts.allNegativesFromMinibatch ? 1 : opts.batch;
    const p = n / groups;
    if (!Number.isInteger(p)) throw new Error(`PatchNCE: ${n} queries do not split into ${groups} images`);
    const pos = tf.sum(tf.mul(q, k), 1); // [n]
    const q3 = tf.reshape(q, [groups, p, d]);
    const k3 = tf.reshape(k, [groups, p, d]);
    const sim = tf.matMul(q3, k3, false, true); // [groups, p, p]
    const eye = tf.reshape(tf.eye(p), [1, p, p]);
    const masked = tf.add(tf.mul(sim, tf.sub(1, eye)), tf.mul(eye, DIAGONAL_FILL));
    const logits = tf.div(tf.concat([tf.reshape(pos, [n, 1]), tf.reshape(masked, [n, p])], 1), opts.tau);
    // cross-entropy with target 0: logsumexp(logits) - logits[0]
    return tf.sub(tf.logSumExp(logits, 1), tf.div(pos, opts.tau)) as Tensor1D;
  });
}

/** Mean PatchNCE over all queries. */
export function patchNce(q: Tensor2D, k: Tensor2D, opts: PatchNceOptions): Scalar {
  return tf.tidy(() => tf.mean(patchNceLosses(q, k, opts)) as Scalar);
}

/**
 * The official aggregation: per layer mean loss times lambda, averaged over the layers
 * (not summed; facts 1.4).
 */
export function multiLayerPatchNce(
  queries: readonly Tensor2D[],
  keys: readonly Tensor2D[],
  lambda: number,
  opts: PatchNceOptions,
): Scalar {
  return tf.tidy(() => {
    const perLayer = queries.map((q, i) => patchNce(q, keys[i]!, opts));
    return tf.mul(tf.div(tf.addN(perLayer), perLayer.length), lambda) as Scalar;
  });
}
