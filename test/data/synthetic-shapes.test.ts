import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import { decodeImage } from '../../src/imaging/codec.ts';
import { openUnalignedDataset } from '../../src/data/unaligned-dataset.ts';
import {
  DEFAULT_BACKGROUND,
  DEFAULT_GREY,
  DEFAULT_PALETTE_8,
  foregroundMask,
  maskIoU,
  nearestPaletteIndex,
  planSplit,
  renderShape,
  shapeMask,
  writeShapesDataset,
} from '../../src/data/synthetic-shapes.ts';
import type { ShapeSpec, ShapesManifest } from '../../src/data/synthetic-shapes.ts';

let root = '';
let manifest: ShapesManifest;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coopcut-shapes-'));
  manifest = await writeShapesDataset(join(root, 'ds'), { size: 32, countA: 12, countB: 16, testCountA: 3, seed: 5, shape: 'mixed' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('synthetic shapes', () => {
  it('DEFAULT_PALETTE_8 is 8 well separated colours, far from grey and the background', () => {
    expect(DEFAULT_PALETTE_8).toHaveLength(8);
    const dist = (p: readonly number[], q: readonly number[]): number => Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
    for (let i = 0; i < 8; i++) {
      expect(dist(DEFAULT_PALETTE_8[i]!, DEFAULT_BACKGROUND)).toBeGreaterThan(100);
      expect(dist(DEFAULT_PALETTE_8[i]!, DEFAULT_GREY)).toBeGreaterThan(80);
      for (let j = i + 1; j < 8; j++) expect(dist(DEFAULT_PALETTE_8[i]!, DEFAULT_PALETTE_8[j]!)).toBeGreaterThan(100);
    }
  });

  it('writes the folders, counts and manifest', async () => {
    const dir = join(root, 'ds');
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'testA', 'trainA', 'trainB']);
    expect(await readdir(join(dir, 'trainA'))).toHaveLength(12);
    expect(await readdir(join(dir, 'trainB'))).toHaveLength(16);
    expect(await readdir(join(dir, 'testA'))).toHaveLength(3);
    const onDisk = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ShapesManifest;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(manifest)));
    expect(new Set(manifest.splits.trainB!.map((r) => r.shape.kind)).size).toBeGreaterThan(1);
  });

  it('A is a grey shape and B a palette-coloured shape exactly where the manifest says', async () => {
    for (const split of ['trainA', 'trainB'] as const) {
      for (const rec of manifest.splits[split]!) {
        const img = await decodeImage(join(root, 'ds', split, rec.file));
        expect([img.width, img.height]).toEqual([32, 32]);
        const truth = shapeMask(rec.shape, 32);
        expect(maskIoU(foregroundMask(img), truth)).toBe(1);
        if (split === 'trainA') expect(rec.colour).toEqual(DEFAULT_GREY);
        else expect(nearestPaletteIndex(img, truth)).toBe(rec.colourIndex);
      }
    }
  });

  it('is deterministic under the seed', () => {
    const opts = { size: 32, countA: 20, countB: 20, seed: 11, shape: 'mixed' as const };
    expect(planSplit('trainB', 20, opts)).toEqual(planSplit('trainB', 20, opts));
    expect(planSplit('trainB', 20, opts)).not.toEqual(planSplit('trainB', 20, { ...opts, seed: 12 }));
    expect(planSplit('trainA', 5, opts)).toEqual(planSplit('trainA', 20, opts).slice(0, 5));
  });

  it('draws B colours uniformly from the palette and keeps shapes inside the image', () => {
    const recs = planSplit('trainB', 1600, { countA: 0, countB: 1600, seed: 1, shape: 'mixed' });
    const counts = new Array<number>(8).fill(0);
    let smallest = Infinity;
    let borderPixels = 0;
    for (const r of recs) {
      counts[r.colourIndex]!++;
      const mask = shapeMask(r.shape, 32);
      smallest = Math.min(smallest, mask.reduce((s, v) => s + v, 0));
      // no shape touches the border, so a translation is never judged on a clipped shape
      for (let i = 0; i < 32; i++) borderPixels += mask[i]! + mask[31 * 32 + i]! + mask[i * 32]! + mask[i * 32 + 31]!;
    }
    expect(smallest).toBeGreaterThan(4);
    expect(borderPixels).toBe(0);
    for (const c of counts) expect(Math.abs(c - 200)).toBeLessThan(60);
  });

  it('masks: square, circle, triangle and IoU', () => {
    const sq: ShapeSpec = { kind: 'square', cx: 8, cy: 8, r: 2 };
    expect(shapeMask(sq, 16).reduce((s, v) => s + v, 0)).toBe(16);
    const circle = shapeMask({ kind: 'circle', cx: 8, cy: 8, r: 4 }, 16).reduce((s, v) => s + v, 0);
    expect(Math.abs(circle - Math.PI * 16)).toBeLessThan(6);
    const tri = shapeMask({ kind: 'triangle', cx: 8, cy: 8, r: 4 }, 16);
    expect(tri[4 * 16 + 8]).toBe(0); // apex row is nearly empty
    expect(tri[11 * 16 + 5]).toBe(1); // base row is wide
    const moved = shapeMask({ ...sq, cx: 9 }, 16);
    expect(maskIoU(shapeMask(sq, 16), moved)).toBeCloseTo(12 / 20, 6);
    const img = renderShape(sq, 16, [0, 130, 200]);
    expect(nearestPaletteIndex(img, shapeMask(sq, 16))).toBe(2);
  });

  it('opens as an unaligned dataset', async () => {
    const ds = await openUnalignedDataset({ dataroot: join(root, 'ds'), loadSize: 36, cropSize: 32, batchSize: 4, onWarning: () => {} });
    const batch = await ds.next();
    expect(batch.a.shape).toEqual([4, 32, 32, 3]);
    tf.dispose([batch.a, batch.b]);
    ds.close();
    expect(ds.skipped).toEqual([]);
  });
});
