/**
 * Inception features for KID/FID, offline.
 *
 * The network is the Keras InceptionV3 that the `nsfwjs` npm package bundles: model.json and six
 * uint8-quantised weight shards wrapped as UMD scripts (the shards are base64 strings). It is a
 * fine-tune of the ImageNet InceptionV3 in which every layer up to and including `mixed5` was frozen
 * (`trainable: false` in its topology) and everything after was retrained for a 5-class NSFW task.
 * So `mixed5`, global-average-pooled to 768 numbers, is the deepest general-purpose ImageNet feature
 * on offer; the 2048-d top and the classifier do not describe photo domains.
 *
 * Inputs are RGB in [0, 1], which is what nsfwjs feeds the model and so what the frozen layers saw
 * during the fine-tune (on horse2zebra, [-1, 1] inputs separate the domains less: 5.9 instead of
 * 7.9 standard errors of KID).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../tf.ts';
import type { Tensor, Tensor4D } from '../tf.ts';

type ModelArtifacts = Exclude<Parameters<typeof tf.io.fromMemory>[0], Record<string, never>>;

/** An interleaved 8-bit RGB image. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB */
  data: Uint8Array;
}

export interface InceptionOptions {
  /** layer whose (global-average-pooled) output is the feature; default 'mixed5' */
  layer?: string;
  /** images per forward pass; default 8 */
  batchSize?: number;
}

export interface FeatureExtractor {
  readonly layer: string;
  /** feature length: 768 for mixed5 */
  readonly dim: number;
  /** images as NHWC in [-1, 1] (the generator's range), any height and width */
  extract(images: Tensor4D): Promise<Float64Array[]>;
  extractFromRgb(images: readonly RgbImage[]): Promise<Float64Array[]>;
  /** decodes with sharp (EXIF orientation applied, alpha dropped, grey expanded to RGB) */
  extractFromFiles(paths: readonly string[]): Promise<Float64Array[]>;
}

export const INCEPTION_SIZE = 299;
const DEFAULT_LAYER = 'mixed5';
const SHARDS = 6;

const cache = new Map<string, Promise<FeatureExtractor>>();

/** The extractor for `layer`, loaded once per process (about 1-2 s) and shared. */
export function loadInceptionFeatures(options: InceptionOptions = {}): Promise<FeatureExtractor> {
  const layer = options.layer ?? DEFAULT_LAYER;
  const batchSize = options.batchSize ?? 8;
  const key = `${layer}@${batchSize}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = buildExtractor(layer, batchSize);
    // A failed load must not poison the cache for the next caller.
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

/** Frees the cached networks' weights (tests, or a long-lived process done with evaluation). */
export async function releaseInceptionFeatures(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) {
    const extractor = await p.catch(() => null);
    if (extractor) disposers.get(extractor)?.();
  }
}

const disposers = new WeakMap<FeatureExtractor, () => void>();

async function buildExtractor(layer: string, batchSize: number): Promise<FeatureExtractor> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const full = await tf.loadLayersModel(tf.io.fromMemory(readBundledArtifacts()));
  const target = full.layers.find((l) => l.name === layer);
  if (!target) throw new Error(`InceptionV3 has no layer '${layer}'`);
  const net = tf.model({ inputs: full.inputs, outputs: target.output as ReturnType<typeof tf.input> });
  // Layers past the chosen one are unreachable from `net`; free their weights now.
  for (const l of full.layers) if (!net.layers.includes(l)) l.dispose();

  const outShape = net.outputs[0]!.shape;
  const dim = outShape[outShape.length - 1];
  if (typeof dim !== 'number') throw new Error(`layer '${layer}' has no static channel count`);

  const run = async (images: readonly Uint8Array[]): Promise<Float64Array[]> => {
    const plane = INCEPTION_SIZE * INCEPTION_SIZE * 3;
    const x = new Float32Array(images.length * plane);
    images.forEach((img, i) => {
      for (let p = 0; p < plane; p++) x[i * plane + p] = img[p]! / 255;
    });
    const pooled = tf.tidy(() => {
      const y = net.predict(tf.tensor4d(x, [images.length, INCEPTION_SIZE, INCEPTION_SIZE, 3])) as Tensor;
      // Conv maps are pooled to one vector per image; dense outputs are already vectors.
      return y.rank === 4 ? y.mean([1, 2]) : y.reshape([y.shape[0]!, -1]);
    });
    const flat = await pooled.data().finally(() => pooled.dispose());
    return rows(flat, images.length, dim);
  };

  const extractor: FeatureExtractor = {
    layer,
    dim,
    async extract(images) {
      if (images.rank !== 4 || images.shape[3] !== 3) {
        throw new RangeError(`extract expects [n, h, w, 3], got [${images.shape.join(', ')}]`);
      }
      const [n, height, width] = images.shape;
      const out: Float64Array[] = [];
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        // Quantised to 8 bits as if saved to disk, so generated tensors and image files take one path.
        const bytes = tf.tidy(() =>
          images.slice([start, 0, 0, 0], [size, -1, -1, -1]).add(1).mul(127.5).round().clipByValue(0, 255).toInt(),
        );
        const flat = Uint8Array.from(await bytes.data().finally(() => bytes.dispose()));
        const plane = height * width * 3;
        const chunk = Array.from({ length: size }, (_, i) => ({ width, height, data: flat.subarray(i * plane, (i + 1) * plane) }));
        out.push(...(await extractor.extractFromRgb(chunk)));
      }
      return out;
    },
    async extractFromRgb(images) {
      const out: Float64Array[] = [];
      for (let start = 0; start < images.length; start += batchSize) {
        const chunk = images.slice(start, start + batchSize);
        out.push(...(await run(await Promise.all(chunk.map(resizeRgb)))));
      }
      return out;
    },
    async extractFromFiles(paths) {
      const out: Float64Array[] = [];
      for (let start = 0; start < paths.length; start += batchSize) {
        const chunk = paths.slice(start, start + batchSize);
        out.push(...(await run(await Promise.all(chunk.map(decodeFile)))));
      }
      return out;
    },
  };
  disposers.set(extractor, () => net.dispose());
  return extractor;
}

/*
 * Resizing to 299x299 is sharp's Lanczos-3 on 8-bit RGB, stretching (not cropping) other aspect
 * ratios as the reference FID code does. This is the resize that reproduces the baselines in the
 * evaluation notes exactly; TF bilinear on the same images moves KID by ~1.5%.
 */
const TO_INCEPTION = { width: INCEPTION_SIZE, height: INCEPTION_SIZE, fit: 'fill', kernel: 'lanczos3' } as const;

async function resizeRgb(img: RgbImage): Promise<Uint8Array> {
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`RGB image of ${img.width}x${img.height} has ${img.data.length} bytes, expected ${img.width * img.height * 3}`);
  }
  if (img.width === INCEPTION_SIZE && img.height === INCEPTION_SIZE) return img.data;
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(TO_INCEPTION)
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Decodes with EXIF orientation applied, alpha dropped and grey expanded to sRGB, then resizes. */
async function decodeFile(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(TO_INCEPTION)
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: decoded to ${info.channels} channels, expected 3`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function rows(flat: ArrayLike<number>, n: number, d: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) out.push(Float64Array.from({ length: d }, (_, k) => flat[i * d + k]!));
  return out;
}

/** Reads the model.json and weight shards that nsfwjs ships as UMD scripts, without any network. */
function readBundledArtifacts(): ModelArtifacts {
  const require = createRequire(import.meta.url);
  // The package's `exports` map hides dist/models, so resolve the entry point and walk from there.
  const dir = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', 'inception_v3');
  const load = (file: string): unknown => {
    const full = path.join(dir, file);
    try {
      return require(full);
    } finally {
      // The 30 MB of base64 text is needed once; do not keep it in the module cache.
      delete require.cache[full];
    }
  };
  const model = load('model.min.js');
  if (!isBundledModel(model)) throw new Error(`${dir}/model.min.js is not a tfjs model.json bundle`);
  const group = model.weightsManifest[0];
  if (!group || model.weightsManifest.length !== 1 || group.paths.length !== SHARDS) {
    throw new Error('unexpected weight manifest in the bundled InceptionV3');
  }
  const parts = group.paths.map((p) => {
    const b64 = load(`${p}.min.js`);
    if (typeof b64 !== 'string') throw new Error(`${dir}/${p}.min.js does not hold a base64 weight shard`);
    return Buffer.from(b64, 'base64');
  });
  const weightData = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
  let offset = 0;
  for (const b of parts) {
    weightData.set(b, offset);
    offset += b.length;
  }
  // training_config is left out: it would only make tfjs compile an SGD optimiser nobody uses.
  return {
    modelTopology: { ...model.modelTopology, training_config: undefined },
    weightSpecs: group.weights,
    weightData: weightData.buffer,
    format: 'layers-model',
  };
}

interface BundledModel {
  modelTopology: Record<string, unknown>;
  weightsManifest: Array<{ paths: string[]; weights: NonNullable<ModelArtifacts['weightSpecs']> }>;
}

function isBundledModel(v: unknown): v is BundledModel {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.modelTopology === 'object' &&
    o.modelTopology !== null &&
    Array.isArray(o.weightsManifest) &&
    o.weightsManifest.every(
      (g: unknown) =>
        typeof g === 'object' && g !== null && Array.isArray((g as Record<string, unknown>).paths) && Array.isArray((g as Record<string, unknown>).weights),
    )
  );
}
