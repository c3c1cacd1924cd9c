/**
 * Langevin revision of translated images under a frozen energy (CoopNets, facts 2.2):
 *
 *   y_{k+1} = y_k - (delta^2 / 2) * (y_k / s^2 - grad_y f(y_k)) + delta * eps_k,   eps_k ~ N(0, I)
 *
 * for k = 0..K-1, starting at the draft y_0 = G(x). The y / s^2 term is the gradient of the Gaussian
 * reference q = N(0, s^2 I) and is absent when s = 0; the noise term is optional (the original
 * CoopNets code has it, CycleCoopNets and the PyTorch port leave it out). Each step is clamped to
 * the image range, as CoopFlow does, so that the revision stays a valid image for G to regress onto.
 *
 * Gradients are taken with respect to the images only (tf.valueAndGrad of y), so the energy's
 * parameters are read but never updated: D is frozen during sampling. The result is a plain tensor
 * made outside any gradient tape the caller runs, i.e. it is detached (TF.js has no stop-gradient).
 */
import { tf, type Tensor1D, type Tensor4D, type Scalar } from '../tf.ts';
import type { Rng } from '../util/rng.ts';

export interface LangevinOptions {
  /** K */
  steps: number;
  /** delta */
  stepSize: number;
  /** add delta * N(0, I) each step */
  noise: boolean;
  /** s of the Gaussian reference; 0 = no reference term */
  refSigma: number;
  /** pixel range each step is clamped to; null = no clamp (default [-1, 1]) */
  clamp?: readonly [number, number] | null;
  /** seeds the noise; required when `noise` is on */
  rng?: Rng;
}

export interface LangevinDiagnostics {
  /** mean |y_K - y_0| over pixels: how far the revision moved the draft */
  meanAbsChange: number;
  /** mean over steps and pixels of |(delta^2/2) grad f|: the energy's pull */
  meanAbsGradStep: number;
  /** mean over steps and pixels of |(delta^2/2) y / s^2|: the reference's pull toward 0 */
  meanAbsRefStep: number;
  /** mean f(y_k) over the batch at each of the K gradient evaluations (k = 0..K-1) */
  energies: number[];
  /** false when the revision or any diagnostic is NaN or infinite */
  finite: boolean;
}

export interface LangevinResult {
  revised: Tensor4D;
  diagnostics: LangevinDiagnostics;
}

/** Largest seed handed to tf.randomNormal: the noise stream follows the (checkpointed) Rng. */
const SEED_RANGE = 2 ** 31 - 1;

export function langevin(
  energyFn: (y: Tensor4D) => Tensor1D | Scalar,
  y0: Tensor4D,
  opts: LangevinOptions,
): LangevinResult {
  const { steps, stepSize: delta, refSigma: s, noise } = opts;
  const clamp = opts.clamp === undefined ? ([-1, 1] as const) : opts.clamp;
  if (noise && !opts.rng) throw new Error('langevin: noise needs an rng');
  const drift = (delta * delta) / 2;
  const batch = y0.shape[0];
  const valueAndGrad = tf.valueAndGrad((y: Tensor4D) => tf.sum(energyFn(y)) as Scalar);

  const energies: Scalar[] = [];
  const gradSteps: Scalar[] = [];
  const refSteps: Scalar[] = [];
  let y: Tensor4D = tf.clone(y0);
  for (let k = 0; k < steps; k++) {
    const next = tf.tidy(() => {
      const { value, grad } = valueAndGrad(y);
      energies.push(tf.keep(tf.div(value, batch) as Scalar));
      const pull = tf.mul(grad, drift);
      gradSteps.push(tf.keep(tf.mean(tf.abs(pull)) as Scalar));
      let moved = tf.add(y, pull);
      if (s > 0) {
        const ref = tf.mul(y, drift / (s * s));
        refSteps.push(tf.keep(tf.mean(tf.abs(ref)) as Scalar));
        moved = tf.sub(moved, ref);
      }
      if (noise) {
        const seed = opts.rng!.int(SEED_RANGE);
        moved = tf.add(moved, tf.mul(tf.randomNormal(y.shape, 0, 1, 'float32', seed), delta));
      }
      return (clamp ? tf.clipByValue(moved, clamp[0], clamp[1]) : moved) as Tensor4D;
    });
    y.dispose();
    y = next;
  }

  const diagnostics = readDiagnostics(y0, y, energies, gradSteps, refSteps);
  tf.dispose([...energies, ...gradSteps, ...refSteps]);
  return { revised: y, diagnostics };
}

/** One read-back for all diagnostics. */
function readDiagnostics(
  y0: Tensor4D,
  y: Tensor4D,
  energies: Scalar[],
  gradSteps: Scalar[],
  refSteps: Scalar[],
): LangevinDiagnostics {
  const values = tf.tidy(() => {
    const meanOf = (list: Scalar[]): Scalar => (list.length ? tf.mean(tf.stack(list)) : tf.scalar(0)) as Scalar;
    const parts = [
      tf.mean(tf.abs(tf.sub(y, y0))),
      meanOf(gradSteps),
      meanOf(refSteps),
      // a NaN anywhere in the revision shows up in its sum
      tf.sum(y),
      ...energies,
    ];
    return tf.stack(parts).dataSync() as Float32Array;
  });
  const all = Array.from(values);
  return {
    meanAbsChange: all[0]!,
    meanAbsGradStep: all[1]!,
    meanAbsRefStep: all[2]!,
    energies: all.slice(4),
    finite: all.every((v) => Number.isFinite(v)),
  };
}
