/**
 * CUT's unaligned dataset (data/unaligned_dataset.py + base_dataset.get_transform, facts 1.10):
 * images of A and B are drawn independently, augmented, and batched as NHWC float32 in [-1, 1].
 *
 * Deviations, on purpose:
 * - All randomness of iteration i is a pure function of (seed, i): the epoch order comes from
 *   hashSeed(seed, epoch), crops, flips and the B draw from hashSeed(seed, i, slot, stream). A run
 *   opened at startIteration = k therefore yields exactly what an uninterrupted run yields at k.
 * - In 'crop' mode an image smaller than the crop is first enlarged until the crop fits (CUT pads
 *   with black through PIL's out-of-bounds crop, or fails when batching).
 * - A file that cannot be decoded is skipped with a warning and the next decodable file of the same
 *   folder (in sorted order) takes its place, so the substitution is deterministic too.
 * - When batchSize does not divide the dataset length the last partial batch is dropped
 *   (drop_last, as CUT); a dataset shorter than one batch wraps around within the epoch.
 */
import { join } from 'node:path';
import { tf } from '../tf.ts';
import type { Tensor4D } from '../tf.ts';
import type { ImageLimits } from '../config.ts';
import { createRng, hashSeed, permutation } from '../util/rng.ts';
import { cropRgb, decodeImage, flipHorizontal, normalizeInto, resizeRgb, roundToMultiple } from '../imaging/codec.ts';
import type { ResizeSpec, RgbImage } from '../imaging/codec.ts';
import { EmptyFolderError } from '../imaging/errors.ts';
import { findImages } from './image-folder.ts';

export type Preprocess = 'resize_and_crop' | 'crop' | 'none';

export interface UnalignedDatasetOptions {
  dataroot: string;
  /** folders are <dataroot>/<phase>A and <dataroot>/<phase>B */
  phase?: string;
  loadSize: number;
  cropSize: number;
  preprocess?: Preprocess;
  noFlip?: boolean;
  batchSize?: number;
  serialBatches?: boolean;
  seed?: number;
  /** batches decoded ahead of the consumer */
  prefetch?: number;
  /** the first batch returned is the one an uninterrupted run returns at this iteration */
  startIteration?: number;
  /** start in CUT's LR-decay data mode (see setDecayPhase) */
  decayPhase?: boolean;
  /** memory for decoded, resized images; 0 disables the cache */
  cacheBytes?: number;
  limits?: Partial<ImageLimits>;
  onWarning?: (message: string) => void;
}

export interface UnalignedBatch {
  /** [batch, H, W, 3] float32 in [-1, 1]; the caller disposes */
  a: Tensor4D;
  b: Tensor4D;
  /** files actually used (after substitution of unreadable ones) */
  pathsA: string[];
  pathsB: string[];
  iteration: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface DataStats {
  /** total milliseconds next() spent waiting for a batch that was not ready */
  waitMs: number;
  batches: number;
  cachedImages: number;
  cacheBytes: number;
}

export interface UnalignedDataset {
  readonly sizeA: number;
  readonly sizeB: number;
  /** max(|A|, |B|), CUT's dataset length */
  readonly length: number;
  /** iterations per data epoch: floor(length / batchSize), at least 1 */
  readonly itersPerEpoch: number;
  readonly pathsA: readonly string[];
  readonly pathsB: readonly string[];
  /** iteration of the batch the next call to next() returns */
  readonly iteration: number;
  readonly skipped: readonly SkippedFile[];
  readonly stats: DataStats;
  next(): Promise<UnalignedBatch>;
  /**
   * CUT's "finetuning" in the LR-decay half: resize_and_crop resizes straight to cropSize, so the
   * crop no longer moves; flips remain. Batches prefetched under the other setting are discarded.
   */
  setDecayPhase(on: boolean): void;
  close(): void;
}

/** The random choices for one image of a batch; crop offsets are fractions of the free range. */
export interface ImageDraw {
  index: number;
  cropU: number;
  cropV: number;
  flip: boolean;
}

export interface SamplingPlan {
  sizeA: number;
  sizeB: number;
  batchSize: number;
  serialBatches: boolean;
  seed: number;
}

const STREAM_A = 1;
const STREAM_B = 2;
const STREAM_PICK_B = 3;
const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

export function itersPerEpoch(plan: SamplingPlan): number {
  return Math.max(1, Math.floor(Math.max(plan.sizeA, plan.sizeB) / plan.batchSize));
}

function drawAugment(seed: number, iteration: number, slot: number, stream: number, index: number): ImageDraw {
  const rng = createRng(hashSeed(seed, iteration, slot, stream));
  return { index, cropU: rng.next(), cropV: rng.next(), flip: rng.next() < 0.5 };
}

/**
 * Returns iteration -> the draws of each batch slot, a pure function of the plan and the iteration
 * (the memo of epoch orders only saves recomputing them).
 */
export function createSampler(plan: SamplingPlan): (iteration: number) => { a: ImageDraw[]; b: ImageDraw[] } {
  const length = Math.max(plan.sizeA, plan.sizeB);
  const perEpoch = itersPerEpoch(plan);
  const orders = new Map<number, Int32Array>();
  const order = (epoch: number): Int32Array => {
    let p = orders.get(epoch);
    if (p === undefined) {
      p = permutation(length, createRng(hashSeed(plan.seed, epoch)));
      if (orders.size >= 2) orders.delete(orders.keys().next().value as number);
      orders.set(epoch, p);
    }
    return p;
  };
  return (iteration) => {
    const epoch = Math.floor(iteration / perEpoch);
    const a: ImageDraw[] = [];
    const b: ImageDraw[] = [];
    for (let slot = 0; slot < plan.batchSize; slot++) {
      const position = ((iteration % perEpoch) * plan.batchSize + slot) % length;
      const index = plan.serialBatches ? position : order(epoch)[position]!;
      const indexB = plan.serialBatches
        ? index % plan.sizeB
        : createRng(hashSeed(plan.seed, iteration, slot, STREAM_PICK_B)).int(plan.sizeB);
      a.push(drawAugment(plan.seed, iteration, slot, STREAM_A, index % plan.sizeA));
      b.push(drawAugment(plan.seed, iteration, slot, STREAM_B, indexB));
    }
    return { a, b };
  };
}

interface Transform {
  preprocess: Preprocess;
  loadSize: number;
  cropSize: number;
  noFlip: boolean;
}

/** What to ask the decoder for; the cache is keyed by it. */
function decodeSpec(t: Transform, decay: boolean): ResizeSpec | undefined {
  switch (t.preprocess) {
    case 'resize_and_crop': {
      const side = decay ? t.cropSize : t.loadSize;
      return { fit: 'exact', width: side, height: side };
    }
    case 'crop':
      return { fit: 'atLeast', width: t.cropSize, height: t.cropSize };
    case 'none':
      return undefined;
  }
}

/** Crop, round to multiples of 4, flip: CUT's transform order after the resize. */
async function augment(img: RgbImage, draw: ImageDraw, t: Transform): Promise<RgbImage> {
  let out = img;
  if (t.preprocess !== 'none') {
    const crop = Math.min(t.cropSize, out.width, out.height);
    const left = Math.floor(draw.cropU * (out.width - crop + 1));
    const top = Math.floor(draw.cropV * (out.height - crop + 1));
    out = cropRgb(out, left, top, crop, crop);
  }
  out = await resizeRgb(out, roundToMultiple(out.width), roundToMultiple(out.height));
  return draw.flip && !t.noFlip ? flipHorizontal(out) : out;
}

interface Domain {
  name: 'A' | 'B';
  dir: string;
  paths: string[];
  bad: Set<number>;
}

interface Produced {
  iteration: number;
  a: { values: Float32Array; shape: [number, number, number, number] };
  b: { values: Float32Array; shape: [number, number, number, number] };
  pathsA: string[];
  pathsB: string[];
}

function stack(images: RgbImage[], domain: string): { values: Float32Array; shape: [number, number, number, number] } {
  const first = images[0]!;
  const size = first.width * first.height * 3;
  const values = new Float32Array(size * images.length);
  images.forEach((img, i) => {
    if (img.width !== first.width || img.height !== first.height) {
      throw new Error(
        `domain ${domain}: images of one batch differ in size (${first.width}x${first.height} vs ${img.width}x${img.height}); ` +
          `preprocess 'none' needs equally sized images when batchSize > 1`,
      );
    }
    normalizeInto(img.data, values, i * size);
  });
  return { values, shape: [images.length, first.height, first.width, 3] };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function openUnalignedDataset(opts: UnalignedDatasetOptions): Promise<UnalignedDataset> {
  const phase = opts.phase ?? 'train';
  const batchSize = opts.batchSize ?? 1;
  const prefetch = Math.max(1, opts.prefetch ?? 4);
  const seed = opts.seed ?? 0;
  const transform: Transform = {
    preprocess: opts.preprocess ?? 'resize_and_crop',
    loadSize: opts.loadSize,
    cropSize: opts.cropSize,
    noFlip: opts.noFlip ?? false,
  };
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (transform.preprocess === 'resize_and_crop' && opts.cropSize > opts.loadSize) {
    throw new RangeError(`cropSize ${opts.cropSize} is larger than loadSize ${opts.loadSize}`);
  }
  const makeDomain = async (name: 'A' | 'B'): Promise<Domain> => {
    const dir = join(opts.dataroot, `${phase}${name}`);
    return { name, dir, paths: await findImages(dir), bad: new Set() };
  };
  const domA = await makeDomain('A');
  const domB = await makeDomain('B');
  const plan: SamplingPlan = { sizeA: domA.paths.length, sizeB: domB.paths.length, batchSize, serialBatches: opts.serialBatches ?? false, seed };
  const sample = createSampler(plan);

  const warn = opts.onWarning ?? ((msg: string) => process.stderr.write(`warning: ${msg}\n`));
  const skipped: SkippedFile[] = [];
  const cacheBudget = opts.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const cache = new Map<string, RgbImage>();
  const inflight = new Map<string, Promise<RgbImage>>();
  let cacheBytes = 0;
  let decay = opts.decayPhase ?? false;
  let generation = 0;

  const decodeCached = async (path: string, decayNow: boolean, gen: number): Promise<RgbImage> => {
    const spec = decodeSpec(transform, decayNow);
    const key = `${path}\0${JSON.stringify(spec ?? null)}`;
    const hit = cache.get(key);
    if (hit) return hit;
    // Prefetching asks for the same file from several batches at once; decode it once.
    const pending = inflight.get(key);
    if (pending) return pending;
    const decoding = decodeImage(path, { resize: spec, limits: opts.limits }).then((img): RgbImage => {
      const rgb: RgbImage = { data: img.data, width: img.width, height: img.height };
      if (gen === generation && cacheBytes + rgb.data.length <= cacheBudget) {
        cache.set(key, rgb);
        cacheBytes += rgb.data.length;
      }
      return rgb;
    });
    inflight.set(key, decoding);
    try {
      return await decoding;
    } finally {
      inflight.delete(key);
    }
  };

  /** Decode domain[index], or the next decodable file after it; never returns a broken image. */
  const load = async (dom: Domain, index: number, decayNow: boolean, gen: number): Promise<{ img: RgbImage; path: string }> => {
    const n = dom.paths.length;
    for (let k = 0; k < n; k++) {
      const i = (index + k) % n;
      if (dom.bad.has(i)) continue;
      const path = dom.paths[i]!;
      try {
        return { img: await decodeCached(path, decayNow, gen), path };
      } catch (err) {
        // A prefetch that outlived close() (or a phase switch) must not judge files: its folder may
        // be gone by now, and its batch will never be read.
        if (closed || gen !== generation) throw new Error('the dataset is closed', { cause: err });
        if (dom.bad.has(i)) continue;
        dom.bad.add(i);
        const reason = messageOf(err);
        skipped.push({ path, reason });
        warn(`skipping unreadable image ${path}: ${reason}`);
      }
    }
    throw new EmptyFolderError(dom.dir, `none of the ${n} images could be decoded`);
  };

  const produce = async (iteration: number, decayNow: boolean, gen: number): Promise<Produced> => {
    const draws = sample(iteration);
    const side = async (dom: Domain, list: ImageDraw[]): Promise<{ imgs: RgbImage[]; paths: string[] }> => {
      const loaded = await Promise.all(
        list.map(async (d) => {
          const { img, path } = await load(dom, d.index, decayNow, gen);
          return { img: await augment(img, d, transform), path };
        }),
      );
      return { imgs: loaded.map((l) => l.img), paths: loaded.map((l) => l.path) };
    };
    const [a, b] = await Promise.all([side(domA, draws.a), side(domB, draws.b)]);
    return { iteration, a: stack(a.imgs, 'A'), b: stack(b.imgs, 'B'), pathsA: a.paths, pathsB: b.paths };
  };

  let consumed = opts.startIteration ?? 0;
  let produced = consumed;
  let queue: Array<Promise<Produced>> = [];
  let closed = false;
  let waitMs = 0;
  let batches = 0;

  const fill = (): void => {
    while (!closed && queue.length < prefetch) {
      const p = produce(produced++, decay, generation);
      // Failures surface when the consumer reaches this batch; until then they must not count as unhandled.
      p.catch(() => undefined);
      queue.push(p);
    }
  };

  const next = async (): Promise<UnalignedBatch> => {
    if (closed) throw new Error('the dataset is closed');
    fill();
    const head = queue.shift()!;
    consumed++;
    fill();
    const start = performance.now();
    const got = await head;
    waitMs += performance.now() - start;
    batches++;
    return {
      a: tf.tensor4d(got.a.values, got.a.shape, 'float32'),
      b: tf.tensor4d(got.b.values, got.b.shape, 'float32'),
      pathsA: got.pathsA,
      pathsB: got.pathsB,
      iteration: got.iteration,
    };
  };

  const setDecayPhase = (on: boolean): void => {
    if (on === decay) return;
    decay = on;
    generation++;
    cache.clear();
    cacheBytes = 0;
    queue = [];
    produced = consumed;
    fill();
  };

  const close = (): void => {
    closed = true;
    generation++;
    queue = [];
    cache.clear();
    cacheBytes = 0;
  };

  fill();
  return {
    sizeA: plan.sizeA,
    sizeB: plan.sizeB,
    length: Math.max(plan.sizeA, plan.sizeB),
    itersPerEpoch: itersPerEpoch(plan),
    pathsA: domA.paths,
    pathsB: domB.paths,
    get iteration() {
      return consumed;
    },
    skipped,
    get stats(): DataStats {
      return { waitMs, batches, cachedImages: cache.size, cacheBytes };
    },
    next,
    setDecayPhase,
    close,
  };
}
