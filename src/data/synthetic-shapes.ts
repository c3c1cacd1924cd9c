/**
 * Tiny synthetic translation datasets with known answers: A is a grey (or single-colour) shape on a
 * dark background, B the same kind of shape painted in one of K palette colours. A good translator
 * keeps the shape where it is (checked with shapeMask against foregroundMask of the output) and
 * uses all K colours across inputs (mode coverage), which is what CoopInit claims to help with.
 *
 * Shapes have hard edges and integer geometry so the ground-truth mask is exact.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRng, hashSeed } from '../util/rng.ts';
import type { Rng } from '../util/rng.ts';
import type { RgbImage } from '../imaging/codec.ts';

export type Rgb = readonly [number, number, number];
export type ShapeKind = 'square' | 'circle' | 'triangle';

/** Well separated (minimum pairwise RGB distance > 100), none of them grey or close to the background. */
export const DEFAULT_PALETTE_8: readonly Rgb[] = [
  [230, 25, 75], // red
  [60, 180, 75], // green
  [0, 130, 200], // blue
  [255, 240, 0], // yellow
  [145, 30, 180], // purple
  [70, 240, 240], // cyan
  [245, 130, 48], // orange
  [240, 50, 230], // magenta
];

export const DEFAULT_BACKGROUND: Rgb = [20, 20, 20];
export const DEFAULT_GREY: Rgb = [160, 160, 160];

/** Ground truth of one image: centre (cx, cy) and half-extent r, in pixels. */
export interface ShapeSpec {
  kind: ShapeKind;
  cx: number;
  cy: number;
  r: number;
}

export type DomainA = { kind: 'grey'; level?: number } | { kind: 'colour'; colour: Rgb };

export interface ShapesDatasetOptions {
  /** side of the square images */
  size?: number;
  countA: number;
  countB: number;
  /** also write testA / testB with these counts (0 = none) */
  testCountA?: number;
  testCountB?: number;
  seed?: number;
  domainA?: DomainA;
  domainB?: { colours: readonly Rgb[] };
  shape?: 'square' | 'mixed';
  background?: Rgb;
}

export interface ShapeRecord {
  file: string;
  shape: ShapeSpec;
  colour: Rgb;
  /** index into domainB.colours for B images, -1 for A */
  colourIndex: number;
}

export interface ShapesManifest {
  size: number;
  seed: number;
  background: Rgb;
  palette: readonly Rgb[];
  splits: Record<string, ShapeRecord[]>;
}

const KINDS: readonly ShapeKind[] = ['square', 'circle', 'triangle'];
const SPLIT_IDS: Record<string, number> = { trainA: 1, trainB: 2, testA: 3, testB: 4 };

/** A shape that fits inside a size x size image with a margin of at least one pixel. */
export function sampleShapeSpec(rng: Rng, size: number, shape: 'square' | 'mixed'): ShapeSpec {
  const kind = shape === 'square' ? 'square' : KINDS[rng.int(KINDS.length)]!;
  const rMin = Math.max(2, Math.round(size * 0.12));
  const rMax = Math.max(rMin, Math.round(size * 0.28));
  const r = rMin + rng.int(rMax - rMin + 1);
  const lo = r + 1;
  const hi = Math.max(lo, size - r - 2);
  return { kind, cx: lo + rng.int(hi - lo + 1), cy: lo + rng.int(hi - lo + 1), r };
}

/** Whether pixel (x, y) (its centre at x + 0.5, y + 0.5) lies inside the shape. */
export function insideShape(spec: ShapeSpec, x: number, y: number): boolean {
  const dx = x + 0.5 - spec.cx;
  const dy = y + 0.5 - spec.cy;
  switch (spec.kind) {
    case 'square':
      return Math.abs(dx) <= spec.r && Math.abs(dy) <= spec.r;
    case 'circle':
      return dx * dx + dy * dy <= spec.r * spec.r;
    case 'triangle':
      // apex up at (cx, cy - r), base along y = cy + r from cx - r to cx + r
      return dy >= -spec.r && dy <= spec.r && Math.abs(dx) <= (dy + spec.r) / 2;
  }
}

/** Ground-truth mask, row-major, 1 inside the shape. */
export function shapeMask(spec: ShapeSpec, width: number, height = width): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) mask[y * width + x] = insideShape(spec, x, y) ? 1 : 0;
  return mask;
}

export function renderShape(spec: ShapeSpec, size: number, colour: Rgb, background: Rgb = DEFAULT_BACKGROUND): RgbImage {
  const mask = shapeMask(spec, size);
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < mask.length; i++) data.set(mask[i] ? colour : background, i * 3);
  return { data, width: size, height: size };
}

/** Pixels further than `threshold` (RGB distance) from the background: where a translation put the shape. */
export function foregroundMask(img: RgbImage, background: Rgb = DEFAULT_BACKGROUND, threshold = 60): Uint8Array {
  const n = img.width * img.height;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const dr = img.data[i * 3]! - background[0];
    const dg = img.data[i * 3 + 1]! - background[1];
    const db = img.data[i * 3 + 2]! - background[2];
    mask[i] = dr * dr + dg * dg + db * db > threshold * threshold ? 1 : 0;
  }
  return mask;
}

/** Intersection over union of two 0/1 masks; 1 when both are empty. */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`masks differ in size: ${a.length} vs ${b.length}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  return union === 0 ? 1 : inter / union;
}

/** Index of the palette colour nearest to the mean colour under `mask` (which mode an output shows). */
export function nearestPaletteIndex(img: RgbImage, mask: Uint8Array, palette: readonly Rgb[] = DEFAULT_PALETTE_8): number {
  const sum = [0, 0, 0];
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < 3; c++) sum[c]! += img.data[i * 3 + c]!;
    count++;
  }
  if (count === 0) return -1;
  const mean = sum.map((s) => s / count);
  let best = -1;
  let bestDist = Infinity;
  palette.forEach((p, k) => {
    const d = (p[0] - mean[0]!) ** 2 + (p[1] - mean[1]!) ** 2 + (p[2] - mean[2]!) ** 2;
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  });
  return best;
}

function colourOfA(domain: DomainA): Rgb {
  if (domain.kind === 'colour') return domain.colour;
  const level = domain.level ?? DEFAULT_GREY[0];
  return [level, level, level];
}

/** The records of one split without touching the disk: a pure function of (seed, split, index). */
export function planSplit(
  split: 'trainA' | 'trainB' | 'testA' | 'testB',
  count: number,
  opts: ShapesDatasetOptions,
): ShapeRecord[] {
  const size = opts.size ?? 32;
  const seed = opts.seed ?? 0;
  const palette = opts.domainB?.colours ?? DEFAULT_PALETTE_8;
  if (palette.length === 0) throw new RangeError('domainB.colours is empty');
  const isB = split.endsWith('B');
  const prefix = isB ? 'b' : 'a';
  const records: ShapeRecord[] = [];
  for (let i = 0; i < count; i++) {
    const rng = createRng(hashSeed(seed, SPLIT_IDS[split]!, i));
    const shape = sampleShapeSpec(rng, size, opts.shape ?? 'square');
    const colourIndex = isB ? rng.int(palette.length) : -1;
    const colour = isB ? palette[colourIndex]! : colourOfA(opts.domainA ?? { kind: 'grey' });
    records.push({ file: `${prefix}_${String(i).padStart(5, '0')}.png`, shape, colour, colourIndex });
  }
  return records;
}

/**
 * Write <dir>/trainA, trainB (and testA, testB when asked) as PNGs, plus <dir>/manifest.json with
 * every image's shape and colour. Deterministic under `seed`.
 */
export async function writeShapesDataset(dir: string, opts: ShapesDatasetOptions): Promise<ShapesManifest> {
  const size = opts.size ?? 32;
  const background = opts.background ?? DEFAULT_BACKGROUND;
  const counts: Array<['trainA' | 'trainB' | 'testA' | 'testB', number]> = [
    ['trainA', opts.countA],
    ['trainB', opts.countB],
    ['testA', opts.testCountA ?? 0],
    ['testB', opts.testCountB ?? 0],
  ];
  const splits: Record<string, ShapeRecord[]> = {};
  for (const [split, count] of counts) {
    if (count <= 0) continue;
    const records = planSplit(split, count, opts);
    const folder = join(dir, split);
    await mkdir(folder, { recursive: true });
    for (let start = 0; start < records.length; start += 16) {
      await Promise.all(
        records.slice(start, start + 16).map(async (rec) => {
          const img = renderShape(rec.shape, size, rec.colour, background);
          const png = await sharp(img.data, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
          await writeFile(join(folder, rec.file), png);
        }),
      );
    }
    splits[split] = records;
  }
  const manifest: ShapesManifest = {
    size,
    seed: opts.seed ?? 0,
    background,
    palette: opts.domainB?.colours ?? DEFAULT_PALETTE_8,
    splits,
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

/** Mean colour of the masked pixels (NaN when the mask is empty). */
export function meanColour(img: RgbImage, mask: Uint8Array): Rgb {
  const sum = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    for (let ch = 0; ch < 3; ch++) sum[ch]! += img.data[p * 3 + ch]!;
    n++;
  }
  return n === 0 ? [Number.NaN, Number.NaN, Number.NaN] : [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

/**
 * Where an output put the square: pixels differing from the output's own border colour by more than
 * half the largest difference. Relative to the output because a translator may also shift the
 * background a little; what must survive is the square's position.
 */
export function relativeForeground(img: RgbImage): Uint8Array {
  const { width: w, height: h, data } = img;
  const border = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x > 0 && y > 0 && x < w - 1 && y < h - 1) continue;
      for (let c = 0; c < 3; c++) border[c]! += data[(y * w + x) * 3 + c]!;
      n++;
    }
  }
  const d = new Float32Array(w * h);
  let max = 0;
  for (let i = 0; i < w * h; i++) {
    d[i] = Math.hypot(data[i * 3]! - border[0]! / n, data[i * 3 + 1]! - border[1]! / n, data[i * 3 + 2]! - border[2]! / n);
    max = Math.max(max, d[i]!);
  }
  return Uint8Array.from(d, (v) => (max > 0 && v > max / 2 ? 1 : 0));
}
