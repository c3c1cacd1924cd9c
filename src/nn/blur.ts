/**
 * Antialiased resampling (Zhang 2019), as CUT's Downsample/Upsample (facts 1.1).
 * The filters are fixed buffers, not parameters.
 */
import { tf, type Tensor4D } from '../tf.ts';
import { reflectPad, replicatePad1 } from './padding.ts';

/** Binomial 1-D taps: [1,2,1] for 3, [1,3,3,1] for 4. */
export function binomialTaps(size: number): number[] {
  let row = [1];
  for (let i = 1; i < size; i++) row = [...row, 0].map((v, j) => v + (j > 0 ? (row[j - 1] ?? 0) : 0));
  return row;
}

/** Normalised 2-D filter (a^T a) / sum, row-major size x size. */
export function blurKernel2d(size: number): Float32Array {
  const a = binomialTaps(size);
  const k = new Float32Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) sum += (a[i] ?? 0) * (a[j] ?? 0);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) k[i * size + j] = ((a[i] ?? 0) * (a[j] ?? 0)) / sum;
  return k;
}

const filterCache = new Map<string, Tensor4D>();

/** Depthwise filter [size, size, channels, 1] holding the normalised kernel times `scale`, cached. */
function depthwiseFilter(size: number, channels: number, scale: number): Tensor4D {
  const key = `${size}:${channels}:${scale}`;
  const hit = filterCache.get(key);
  if (hit && !hit.isDisposed) return hit;
  const k = blurKernel2d(size);
  const data = new Float32Array(size * size * channels);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = (k[i] ?? 0) * scale;
  const t = tf.keep(tf.tensor4d(data, [size, size, channels, 1]));
  filterCache.set(key, t);
  return t;
}

/** Blur-pool: reflect-pad 1, depthwise 3x3 binomial, stride 2. Output ceil(H/2) x ceil(W/2). */
export function blurPool(x: Tensor4D): Tensor4D {
  const c = x.shape[3];
  return tf.tidy(() => tf.depthwiseConv2d(reflectPad(x, 1), depthwiseFilter(3, c, 1), 2, 'valid'));
}

/**
 * Blur upsample x2. CUT's Upsample (replicate-pad 1, depthwise transposed conv with the 4x4
 * binomial filter times stride^2, stride 2, padding 2, crop 1 each side) equals a bilinear x2
 * resize with half-pixel centres exactly (facts 5; checked in test/nn/blur.test.ts against
 * `blurUpLiteral`); the resize is one cheap op, the transposed conv costs as much as a 3x3 conv.
 */
export function blurUp(x: Tensor4D): Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeBilinear(x, [h * 2, w * 2], false, true);
}

/** The literal construction of CUT's Upsample, kept as the reference for `blurUp`. */
export function blurUpLiteral(x: Tensor4D): Tensor4D {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    const padded = replicatePad1(x); // (h+2) x (w+2)
    // Transposed conv, stride 2, PyTorch padding 2: full output is (h+2-1)*2 + 4 = 2h+6, minus 2*2.
    // TF.js has no depthwise transposed conv; a per-channel conv2dTranspose with a diagonal filter
    // [4,4,c,c] (zero off the diagonal) is the same thing.
    const k = blurKernel2d(4);
    const f = new Float32Array(16 * c * c);
    for (let i = 0; i < 16; i++) for (let ch = 0; ch < c; ch++) f[i * c * c + ch * c + ch] = (k[i] ?? 0) * 4;
    const filter = tf.tensor4d(f, [4, 4, c, c]);
    const full = tf.conv2dTranspose(padded, filter, [b, 2 * h + 6, 2 * w + 6, c], 2, 'valid');
    // PyTorch padding 2 removes 2 from each side -> 2h+2; then CUT crops 1 more at each side -> 2h.
    return tf.slice(full, [0, 3, 3, 0], [b, 2 * h, 2 * w, c]);
  });
}
