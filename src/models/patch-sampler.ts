/**
 * PatchSampleF (facts 1.3): one 2-layer MLP per NCE layer (Linear C->nc, ReLU, Linear nc->nc), then
 * L2 normalisation. Patches are feature-map locations; the same random location ids are used for
 * every image of the batch and reused for the query features, so positives are the same location
 * in input and output.
 */
import { tf, type Tensor2D, type Tensor4D } from '../tf.ts';
import type { Rng } from '../util/rng.ts';
import { permutation } from '../util/rng.ts';
import { createParamFactory, type LinearParams, type ParamSet } from '../nn/params.ts';

export interface PatchSampler {
  readonly params: ParamSet;
  /**
   * Sample and project each feature map [B,H,W,C] to [B*P, nc] (P = min(numPatches, H*W)).
   * Given an Rng, fresh ids are drawn and returned for reuse; given ids, those are used.
   */
  sample(
    feats: readonly Tensor4D[],
    numPatches: number,
    idsOrRng: readonly Int32Array[] | Rng,
  ): { pooled: Tensor2D[]; ids: Int32Array[] };
}

/** F's official normaliser: v / (||v||_2 + 1e-7). */
export function l2Normalize(v: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.div(v, tf.add(tf.norm(v, 'euclidean', 1, true), 1e-7)));
}

/** The first min(n, H*W) entries of a uniform permutation of the H*W locations. */
export function drawPatchIds(hw: number, numPatches: number, rng: Rng): Int32Array {
  return permutation(hw, rng).slice(0, Math.min(numPatches, hw));
}

export function createPatchSampler(channels: readonly number[], nc: number, rng: Rng, gain: number): PatchSampler {
  const f = createParamFactory('F', rng, gain);
  const mlps: Array<{ l1: LinearParams; l2: LinearParams }> = channels.map((c, i) => ({
    l1: f.linear(`mlp${i}/0`, c, nc),
    l2: f.linear(`mlp${i}/2`, nc, nc),
  }));
  return {
    params: f.params,
    sample(feats, numPatches, idsOrRng) {
      if (feats.length !== mlps.length) throw new Error(`PatchSampleF has ${mlps.length} heads, got ${feats.length} feature maps`);
      const usedIds: Int32Array[] = [];
      const pooled = feats.map((feat, i) =>
        tf.tidy(() => {
          const [b, h, w, c] = feat.shape;
          const layerIds = Array.isArray(idsOrRng)
            ? (idsOrRng as readonly Int32Array[])[i]!
            : drawPatchIds(h * w, numPatches, idsOrRng as Rng);
          usedIds.push(layerIds);
          const flat = tf.reshape(feat, [b, h * w, c]);
          const picked = tf.reshape(tf.gather(flat, tf.tensor1d(layerIds, 'int32'), 1), [b * layerIds.length, c]) as Tensor2D;
          const { l1, l2 } = mlps[i]!;
          const hidden = tf.relu(tf.add(tf.matMul(picked, l1.w), l1.b)) as Tensor2D;
          return l2Normalize(tf.add(tf.matMul(hidden, l2.w), l2.b) as Tensor2D);
        }),
      );
      return { pooled, ids: usedIds };
    },
  };
}
