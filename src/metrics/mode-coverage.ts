/**
 * Mode coverage for the synthetic colour benchmark: the target domain is a shape painted in one of
 * K palette colours, equally often, on a dark background. A translator that covers the target
 * distribution spreads its outputs evenly over the K colours; a mode-collapsed one piles them onto
 * a few. Each output is labelled by the palette colour nearest (Euclidean RGB) to the mean colour of
 * its foreground pixels.
 *
 * Pure functions over pixel arrays; tensors go in as `{ data: await t.data(), width, height, range: [-1, 1] }`.
 */

export type Rgb = readonly [number, number, number];

export interface PixelImage {
  width: number;
  height: number;
  /** interleaved RGB, width * height * 3 values */
  data: ArrayLike<number>;
  /** value range of `data`; default [0, 255] */
  range?: readonly [number, number];
}

export interface ModeCoverageOptions {
  /** the K target colours, 0-255 */
  palette: readonly Rgb[];
  /** share of all outputs a colour needs to count as covered; default 0.05 */
  minShare?: number;
  /**
   * Which pixels belong to the shape, given 0-255 RGB. Default: the brightest channel is at least
   * `foregroundThreshold`, which keeps saturated dark-ish colours (pure blue has luma ~18) that a
   * luminance test would drop.
   */
  isForeground?: (r: number, g: number, b: number) => boolean;
  /** default 64 */
  foregroundThreshold?: number;
}

export interface ModeCoverage {
  /** outputs assigned to each palette colour */
  counts: number[];
  /** outputs with no foreground pixel at all (black images); they cover no mode */
  unassigned: number;
  /** per output: palette index, or -1 when unassigned */
  assignments: number[];
  /** colours receiving at least minShare of all outputs */
  coveredModes: number;
  /**
   * Total-variation distance between the output colour histogram and the uniform one over K colours,
   * in [0, 1]; unassigned outputs count as mass on an extra bin that the uniform target lacks.
   */
  tvDistance: number;
  /** mean Euclidean RGB distance (0-255 units) from each assigned output's foreground colour to its palette colour */
  meanDistanceToPalette: number;
}

export function modeCoverage(images: readonly PixelImage[], options: ModeCoverageOptions): ModeCoverage {
  const { palette } = options;
  const k = palette.length;
  if (k === 0) throw new RangeError('modeCoverage needs a non-empty palette');
  if (images.length === 0) throw new RangeError('modeCoverage needs at least one image');
  const minShare = options.minShare ?? 0.05;
  const threshold = options.foregroundThreshold ?? 64;
  const isForeground = options.isForeground ?? ((r, g, b) => Math.max(r, g, b) >= threshold);

  const counts = new Array<number>(k).fill(0);
  const assignments: number[] = [];
  let distanceSum = 0;
  for (const img of images) {
    const colour = foregroundMean(img, isForeground);
    if (!colour) {
      assignments.push(-1);
      continue;
    }
    const { index, distance } = nearest(colour, palette);
    assignments.push(index);
    counts[index]! += 1;
    distanceSum += distance;
  }
  const n = images.length;
  const assigned = n - assignments.filter((a) => a < 0).length;
  const unassigned = n - assigned;
  const tvDistance = 0.5 * (counts.reduce((s, c) => s + Math.abs(c / n - 1 / k), 0) + unassigned / n);
  return {
    counts,
    unassigned,
    assignments,
    coveredModes: counts.filter((c) => c / n >= minShare).length,
    tvDistance,
    meanDistanceToPalette: assigned > 0 ? distanceSum / assigned : Number.NaN,
  };
}

/** Mean 0-255 RGB of the foreground pixels, or null when there are none. */
export function foregroundMean(
  img: PixelImage,
  isForeground: (r: number, g: number, b: number) => boolean,
): [number, number, number] | null {
  const pixels = img.width * img.height;
  if (img.data.length !== pixels * 3) {
    throw new RangeError(`image of ${img.width}x${img.height} has ${img.data.length} values, expected ${pixels * 3}`);
  }
  const [lo, hi] = img.range ?? [0, 255];
  const scale = 255 / (hi - lo);
  let r = 0;
  let g = 0;
  let b = 0;
  let count = 0;
  for (let p = 0; p < pixels; p++) {
    const pr = (img.data[3 * p]! - lo) * scale;
    const pg = (img.data[3 * p + 1]! - lo) * scale;
    const pb = (img.data[3 * p + 2]! - lo) * scale;
    if (!isForeground(pr, pg, pb)) continue;
    r += pr;
    g += pg;
    b += pb;
    count++;
  }
  return count === 0 ? null : [r / count, g / count, b / count];
}

function nearest(colour: Rgb, palette: readonly Rgb[]): { index: number; distance: number } {
  let index = 0;
  let best = Infinity;
  palette.forEach((p, i) => {
    const d = (colour[0] - p[0]) ** 2 + (colour[1] - p[1]) ** 2 + (colour[2] - p[2]) ** 2;
    if (d < best) {
      best = d;
      index = i;
    }
  });
  return { index, distance: Math.sqrt(best) };
}
