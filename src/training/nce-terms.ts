/**
 * The PatchNCE part of a CUT step (facts 1.4/1.5), shared by every stage that trains G and F with it:
 * NCE = (PatchNCE(x, G(x)) + PatchNCE(y, G(y))) / 2 with identity NCE, else PatchNCE(x, G(x)).
 *
 * Keys are detached by computing them outside the gradient tape (TF.js has no stop-gradient op), in
 * a first pass over G that also yields the detached translation G(x) for free: G(x)'s forward pass
 * computes x's features anyway. Queries are computed inside the tape from the same G output that
 * the stage's other G losses use.
 */
import { tf, type Tensor2D, type Tensor4D, type Scalar } from '../tf.ts';
import { multiLayerPatchNce } from '../losses/patchnce.ts';
import type { Batch, StageContext } from './stage.ts';

export interface Keys {
  pooled: Tensor2D[];
  ids: Int32Array[];
}

export interface NceKeys {
  x: Keys | null;
  y: Keys | null;
}

export interface DetachedPass {
  /** G(x), computed outside any tape: a detached translation (flipped when the step is) */
  fakeB: Tensor4D;
  keys: NceKeys;
}

export interface NceTerms {
  readonly enabled: boolean;
  readonly identity: boolean;
  /** G's input for the step: x, or [x; y] with identity NCE or the identity term; mirrored when `flipped` */
  input(batch: Batch, flipped: boolean): Tensor4D;
  /** pass 1, outside the tape: the detached G(x) and the detached NCE keys (patch ids drawn here) */
  detachedPass(batch: Batch, flipped: boolean): DetachedPass;
  /**
   * Inside the tape: the NCE loss of `fake` = G(input(batch, flipped)) against `keys`, logging NCE
   * (and NCE_Y); null when NCE is off.
   */
  loss(fake: Tensor4D, n: number, keys: NceKeys, flipped: boolean, log: (name: string, t: Scalar) => void): Scalar | null;
  dispose(keys: NceKeys): void;
}

export const flipW = (t: Tensor4D): Tensor4D => tf.reverse(t, 2);
export const sliceBatch = (t: Tensor4D, start: number, size: number): Tensor4D =>
  tf.slice(t, [start, 0, 0, 0], [size, -1, -1, -1]);

/** `enabled` defaults to lambda_NCE > 0; a stage may switch NCE off on its own (CoopInit's coopNce). */
export function createNceTerms(ctx: StageContext, enabled = ctx.options.lambdaNCE > 0): NceTerms {
  const { nets, options: o, rng } = ctx;
  const { g, f } = nets;
  const layers = o.net.nceLayers;
  const useNce = enabled && o.lambdaNCE > 0;
  const useIdt = o.nceIdt && useNce;
  // y goes through G with x for identity NCE and for the pixel identity term (identity-term.ts)
  const withY = useIdt || o.lambdaIdentity > 0;

  const keysOf = (taps: Tensor4D[]): Keys => f.sample(taps, o.numPatches, rng);

  const input = (batch: Batch, flipped: boolean): Tensor4D => {
    const real = withY ? tf.concat([batch.a, batch.b], 0) : batch.a;
    return flipped ? flipW(real) : real;
  };

  const detachedPass = (batch: Batch, flipped: boolean): DetachedPass => {
    const { a: x, b: y } = batch;
    const n = x.shape[0];
    const keys: NceKeys = { x: null, y: null };
    const fakeB = tf.tidy(() => {
      const { out, taps } = g.forwardWithTaps(input(batch, flipped), flipped || !useNce ? [] : layers);
      if (useNce) {
        const tapsX = flipped ? g.encode(x, layers) : taps.map((t) => sliceBatch(t, 0, n));
        keys.x = keysOf(tapsX);
        keys.x.pooled.forEach((t) => tf.keep(t));
        if (useIdt) {
          const tapsY = flipped ? g.encode(y, layers) : taps.map((t) => sliceBatch(t, n, n));
          keys.y = keysOf(tapsY);
          keys.y.pooled.forEach((t) => tf.keep(t));
        }
      }
      return sliceBatch(out, 0, n);
    });
    return { fakeB, keys };
  };

  const loss: NceTerms['loss'] = (fake, n, keys, flipped, log) => {
    const kx = keys.x;
    const ky = keys.y;
    if (!useNce || !kx) return null;
    const fakeB = sliceBatch(fake, 0, n);
    // Queries: features of G(x) (and G(y)) in one batched encode, flipped back if needed.
    const qTaps = g.encode(useIdt ? fake : fakeB, layers).map((t) => (flipped ? flipW(t) : t));
    const qx = f.sample(qTaps.map((t) => sliceBatch(t, 0, n)), o.numPatches, kx.ids).pooled;
    const nceX = multiLayerPatchNce(qx, kx.pooled, o.lambdaNCE, { tau: o.nceT, batch: n });
    log('NCE', nceX);
    if (!(useIdt && ky)) return nceX;
    const qy = f.sample(qTaps.map((t) => sliceBatch(t, n, n)), o.numPatches, ky.ids).pooled;
    const nceY = multiLayerPatchNce(qy, ky.pooled, o.lambdaNCE, { tau: o.nceT, batch: n });
    log('NCE_Y', nceY);
    return tf.mul(tf.add(nceX, nceY), 0.5) as Scalar;
  };

  const dispose = (keys: NceKeys): void => {
    tf.dispose([...(keys.x?.pooled ?? []), ...(keys.y?.pooled ?? [])]);
  };

  return { enabled: useNce, identity: useIdt, input, detachedPass, loss, dispose };
}
