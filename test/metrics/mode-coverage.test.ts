import { describe, expect, it } from 'vitest';
import { foregroundMean, modeCoverage, type PixelImage, type Rgb } from '../../src/metrics/mode-coverage.ts';

const palette: Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
];

/** A 16x16 dark image with a centred 8x8 square of `colour` (0-255). */
function square(colour: Rgb, background: Rgb = [10, 10, 10]): PixelImage {
  const size = 16;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= 4 && x < 12 && y >= 4 && y < 12;
      data.set(inside ? colour : background, (y * size + x) * 3);
    }
  }
  return { width: size, height: size, data };
}

describe('modeCoverage', () => {
  it('a uniform spread over the palette covers every mode with TV 0', () => {
    const images = palette.flatMap((c) => [square(c), square(c)]);
    const r = modeCoverage(images, { palette });
    expect(r.counts).toEqual([2, 2, 2, 2]);
    expect(r.coveredModes).toBe(4);
    expect(r.tvDistance).toBeCloseTo(0, 12);
    expect(r.meanDistanceToPalette).toBeCloseTo(0, 12);
    expect(r.unassigned).toBe(0);
  });

  it('a collapsed output covers one mode with TV (K-1)/K', () => {
    const r = modeCoverage(Array.from({ length: 10 }, () => square([250, 10, 5])), { palette });
    expect(r.counts).toEqual([10, 0, 0, 0]);
    expect(r.coveredModes).toBe(1);
    expect(r.tvDistance).toBeCloseTo(0.75, 12);
    expect(r.meanDistanceToPalette).toBeCloseTo(Math.hypot(5, 10, 5), 10);
  });

  it('assigns off-palette colours to the nearest one and applies the share threshold', () => {
    // 19 reddish, 1 greenish: green gets 5% (covered at 0.05, not at 0.1)
    const images = [...Array.from({ length: 19 }, () => square([200, 40, 40])), square([30, 200, 60])];
    const r = modeCoverage(images, { palette });
    expect(r.assignments.slice(-2)).toEqual([0, 1]);
    expect(r.counts).toEqual([19, 1, 0, 0]);
    expect(r.coveredModes).toBe(2);
    expect(modeCoverage(images, { palette, minShare: 0.1 }).coveredModes).toBe(1);
    // |0.95 - 0.25| + |0.05 - 0.25| + 0.25 + 0.25 = 1.4
    expect(r.tvDistance).toBeCloseTo(0.7, 12);
  });

  it('averages only the foreground: a dark saturated blue still counts, the background never does', () => {
    const blue = square([0, 0, 120], [20, 20, 20]);
    expect(foregroundMean(blue, (r, g, b) => Math.max(r, g, b) >= 64)).toEqual([0, 0, 120]);
    expect(modeCoverage([blue], { palette }).assignments).toEqual([2]);
  });

  it('black outputs are unassigned and count against coverage', () => {
    const images = [square([0, 0, 0], [0, 0, 0]), square([255, 0, 0]), square([0, 255, 0]), square([0, 0, 255])];
    const r = modeCoverage(images, { palette });
    expect(r.unassigned).toBe(1);
    expect(r.assignments[0]).toBe(-1);
    expect(r.counts).toEqual([1, 1, 1, 0]);
    // 3 * 0 + |0 - 0.25| + 0.25 (unassigned mass), halved
    expect(r.tvDistance).toBeCloseTo(0.25, 12);
  });

  it('reads tensor-range data in [-1, 1] and takes a custom foreground rule', () => {
    const img = square([255, 255, 0]);
    const scaled: PixelImage = { ...img, data: Float32Array.from(img.data, (v) => v / 127.5 - 1), range: [-1, 1] };
    expect(modeCoverage([scaled], { palette }).assignments).toEqual([3]);
    const everything = modeCoverage([img], { palette, isForeground: () => true });
    // 64 yellow pixels of 256, the rest near-black: the mean is a dark olive far from every palette colour
    expect(everything.meanDistanceToPalette).toBeGreaterThan(100);
  });
});
