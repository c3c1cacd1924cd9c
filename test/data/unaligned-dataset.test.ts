import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import { createSampler, openUnalignedDataset } from '../../src/data/unaligned-dataset.ts';
import type { UnalignedDataset, UnalignedDatasetOptions } from '../../src/data/unaligned-dataset.ts';
import { EmptyFolderError, MissingFolderError } from '../../src/imaging/errors.ts';

/** Every pixel distinct, so a different crop or a flip changes the data. */
function gradient(width: number, height: number, blue: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((x * 255) / (width - 1));
      data[i + 1] = Math.round((y * 255) / (height - 1));
      data[i + 2] = blue;
    }
  }
  return data;
}

async function writeRgb(path: string, data: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await sharp(data, { raw: { width, height, channels } }).png().toBuffer());
}

/** Left half black, right half white. */
function halves(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) data.fill(255, (y * width + width / 2) * 3, (y + 1) * width * 3);
  return data;
}

let root = '';
const base = (): UnalignedDatasetOptions => ({ dataroot: join(root, 'main'), loadSize: 36, cropSize: 32, onWarning: () => {} });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coopcut-unaligned-'));
  for (let i = 0; i < 5; i++) await writeRgb(join(root, 'main/trainA', `a${i}.png`), gradient(40, 30, i * 50), 40, 30);
  for (let i = 0; i < 3; i++) await writeRgb(join(root, 'main/trainB/nested', `b${i}.png`), gradient(30, 40, 200 - i * 50), 30, 40);

  // grey, grey+alpha and transparent RGBA images
  await writeRgb(join(root, 'channels/trainA/grey.png'), new Uint8Array(16 * 16).fill(90), 16, 16, 1);
  await writeRgb(join(root, 'channels/trainB/rgba.png'), new Uint8Array(16 * 16 * 4).fill(0), 16, 16, 4);

  // asymmetric images to see flips
  await writeRgb(join(root, 'flip/trainA/h.png'), halves(16, 16), 16, 16);
  await writeRgb(join(root, 'flip/trainB/h.png'), halves(16, 16), 16, 16);

  // broken files among good ones
  await writeRgb(join(root, 'broken/trainA/a.png'), gradient(20, 20, 0), 20, 20);
  await writeRgb(join(root, 'broken/trainB/b0.png'), gradient(20, 20, 0), 20, 20);
  const noisy = new Uint8Array(48 * 48 * 3).map((_, i) => (i * 7919) % 251);
  const jpg = await sharp(noisy, { raw: { width: 48, height: 48, channels: 3 } }).jpeg().toBuffer();
  await writeFile(join(root, 'broken/trainB/b1-truncated.jpg'), jpg.subarray(0, jpg.length >> 1));
  await writeFile(join(root, 'broken/trainB/b2-garbage.png'), 'this is not a png');

  await writeRgb(join(root, 'allbad/trainA/a.png'), gradient(20, 20, 0), 20, 20);
  await mkdir(join(root, 'allbad/trainB'), { recursive: true });
  await writeFile(join(root, 'allbad/trainB/x.png'), 'nope');
  await writeFile(join(root, 'allbad/trainB/y.jpg'), 'nope');

  // small images for 'crop'; odd-sized ones for 'none'
  await writeRgb(join(root, 'small/trainA/s.png'), gradient(20, 12, 0), 20, 12);
  await writeRgb(join(root, 'small/trainB/s.png'), gradient(38, 30, 0), 38, 30);

  await mkdir(join(root, 'onlyA/trainA'), { recursive: true });
  await writeRgb(join(root, 'onlyA/trainA/a.png'), gradient(8, 8, 0), 8, 8);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Taken {
  a: number[];
  b: number[];
  shapeA: number[];
  shapeB: number[];
  pathsA: string[];
  pathsB: string[];
  iteration: number;
}

async function take(ds: UnalignedDataset, n: number): Promise<Taken[]> {
  const out: Taken[] = [];
  for (let i = 0; i < n; i++) {
    const batch = await ds.next();
    out.push({
      a: Array.from(batch.a.dataSync()),
      b: Array.from(batch.b.dataSync()),
      shapeA: batch.a.shape,
      shapeB: batch.b.shape,
      pathsA: batch.pathsA,
      pathsB: batch.pathsB,
      iteration: batch.iteration,
    });
    tf.dispose([batch.a, batch.b]);
  }
  return out;
}

async function open(opts: Partial<UnalignedDatasetOptions> & { dataroot?: string }): Promise<UnalignedDataset> {
  return openUnalignedDataset({ ...base(), ...opts });
}

describe('openUnalignedDataset', () => {
  it('batches NHWC float32 in [-1, 1] of the crop size; length is max(|A|, |B|)', async () => {
    const ds = await open({ batchSize: 2 });
    expect([ds.sizeA, ds.sizeB, ds.length, ds.itersPerEpoch]).toEqual([5, 3, 5, 2]);
    const batch = await ds.next();
    expect(batch.a.shape).toEqual([2, 32, 32, 3]);
    expect(batch.b.shape).toEqual([2, 32, 32, 3]);
    expect(batch.a.dtype).toBe('float32');
    for (const t of [batch.a, batch.b]) {
      expect(t.min().arraySync()).toBeGreaterThanOrEqual(-1);
      expect(t.max().arraySync()).toBeLessThanOrEqual(1);
    }
    expect(batch.pathsA).toHaveLength(2);
    expect(batch.pathsB.every((p) => p.includes('trainB'))).toBe(true);
    tf.dispose([batch.a, batch.b]);
    ds.close();
  });

  it('rounds crop sides to multiples of 4', async () => {
    const ds = await open({ loadSize: 34, cropSize: 30 });
    const [t] = await take(ds, 1);
    expect(t!.shapeA).toEqual([1, 32, 32, 3]);
    ds.close();
  });

  it("'crop' enlarges images smaller than the crop; 'none' only rounds to multiples of 4", async () => {
    const crop = await open({ dataroot: join(root, 'small'), preprocess: 'crop', cropSize: 16 });
    const [c] = await take(crop, 1);
    expect(c!.shapeA).toEqual([1, 16, 16, 3]);
    crop.close();
    const bigCrop = await open({ dataroot: join(root, 'small'), preprocess: 'crop', cropSize: 24 });
    expect((await take(bigCrop, 1))[0]!.shapeA).toEqual([1, 24, 24, 3]);
    bigCrop.close();
    const none = await open({ dataroot: join(root, 'small'), preprocess: 'none' });
    const [n] = await take(none, 1);
    expect(n!.shapeA).toEqual([1, 12, 20, 3]);
    expect(n!.shapeB).toEqual([1, 32, 40, 3]); // 30 -> 32 and 38 -> 40 (ties to even, as Python's round)
    none.close();
  });

  it('flips A and B independently with p = 0.5, never with noFlip', async () => {
    const dataroot = join(root, 'flip');
    const leftA = (t: Taken): boolean => t.a[0]! > 0; // white on the left means flipped
    const leftB = (t: Taken): boolean => t.b[0]! > 0;
    const withFlips = await open({ dataroot, preprocess: 'none' });
    const flipped = await take(withFlips, 40);
    withFlips.close();
    const nA = flipped.filter(leftA).length;
    expect(nA).toBeGreaterThan(8);
    expect(nA).toBeLessThan(32);
    expect(flipped.some((t) => leftA(t) !== leftB(t))).toBe(true);
    const noFlips = await open({ dataroot, preprocess: 'none', noFlip: true });
    const plain = await take(noFlips, 20);
    noFlips.close();
    expect(plain.some((t) => leftA(t) || leftB(t))).toBe(false);
  });

  it('visits every A once per epoch, B at random; serialBatches walks both in order', async () => {
    const ds = await open({});
    const epoch = await take(ds, 5);
    expect(new Set(epoch.map((t) => t.pathsA[0])).size).toBe(5);
    ds.close();
    const serial = await open({ serialBatches: true });
    const s = await take(serial, 6);
    const names = (ps: string[]): string[] => ps.map((p) => p.split('/').pop()!);
    expect(names(s.map((t) => t.pathsA[0]!))).toEqual(['a0.png', 'a1.png', 'a2.png', 'a3.png', 'a4.png', 'a0.png']);
    expect(names(s.map((t) => t.pathsB[0]!))).toEqual(['b0.png', 'b1.png', 'b2.png', 'b0.png', 'b1.png', 'b0.png']);
    serial.close();
  });

  it('is reproducible, and resuming at k yields iteration k of a fresh run', async () => {
    const fresh = await open({ batchSize: 2, seed: 7, prefetch: 3 });
    const full = await take(fresh, 8);
    fresh.close();
    const resumed = await open({ batchSize: 2, seed: 7, startIteration: 5 });
    expect(resumed.iteration).toBe(5);
    const tail = await take(resumed, 3);
    resumed.close();
    expect(tail).toEqual(full.slice(5));
    const other = await open({ batchSize: 2, seed: 8 });
    const differ = await take(other, 8);
    other.close();
    expect(differ).not.toEqual(full);
  });

  it('createSampler is a pure function of (plan, iteration)', () => {
    const plan = { sizeA: 7, sizeB: 4, batchSize: 2, serialBatches: false, seed: 3 };
    const s1 = createSampler(plan);
    const forward = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => s1(i));
    const s2 = createSampler(plan);
    expect([7, 3, 5, 0].map((i) => s2(i))).toEqual([forward[7], forward[3], forward[5], forward[0]]);
    // one epoch of 3 batches covers 6 distinct A indices (drop_last leaves one out)
    const indices = forward.slice(0, 3).flatMap((d) => d.a.map((x) => x.index));
    expect(new Set(indices).size).toBe(6);
  });

  it('makes grey and RGBA images 3-channel RGB (alpha onto white)', async () => {
    const ds = await open({ dataroot: join(root, 'channels'), loadSize: 16, cropSize: 16 });
    const [t] = await take(ds, 1);
    expect(t!.shapeA).toEqual([1, 16, 16, 3]);
    expect(new Set(t!.a.map((v) => v.toFixed(5)))).toEqual(new Set([(90 / 127.5 - 1).toFixed(5)]));
    expect(new Set(t!.b)).toEqual(new Set([1]));
    ds.close();
  });

  it('skips corrupt files with a warning, substitutes another image and counts them', async () => {
    const warnings: string[] = [];
    const ds = await open({ dataroot: join(root, 'broken'), loadSize: 20, cropSize: 16, serialBatches: true, onWarning: (m) => warnings.push(m) });
    const got = await take(ds, 6);
    expect(got.every((t) => t.pathsB[0]!.endsWith('b0.png'))).toBe(true);
    expect(ds.skipped.map((s) => s.path.split('/').pop()).sort()).toEqual(['b1-truncated.jpg', 'b2-garbage.png']);
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('b1-truncated.jpg');
    ds.close();
  });

  it('fails clearly when no file of a folder decodes', async () => {
    const ds = await open({ dataroot: join(root, 'allbad'), loadSize: 20, cropSize: 16 });
    const err = await ds.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmptyFolderError);
    expect((err as Error).message).toContain(join(root, 'allbad', 'trainB'));
    ds.close();
  });

  it('names a missing folder', async () => {
    const err = await open({ dataroot: join(root, 'onlyA') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFolderError);
    expect((err as Error).message).toContain(join(root, 'onlyA', 'trainB'));
  });

  it('decay phase resizes straight to the crop size (no random crop), flips remain', async () => {
    const opts = { loadSize: 48, cropSize: 32, serialBatches: true, noFlip: true };
    const normal = await open(opts);
    const n = await take(normal, 10);
    normal.close();
    // a0.png comes back at iterations 0 and 5 with different crops...
    expect(n[0]!.a).not.toEqual(n[5]!.a);
    const decayed = await open({ ...opts, decayPhase: true });
    const d = await take(decayed, 10);
    // ...but identical once there is nothing left to crop
    expect(d[0]!.a).toEqual(d[5]!.a);
    expect(d[0]!.shapeA).toEqual([1, 32, 32, 3]);
    decayed.close();

    const switching = await open({ loadSize: 48, cropSize: 32, serialBatches: true });
    await take(switching, 2);
    switching.setDecayPhase(true);
    const after = await take(switching, 3);
    expect(after.map((t) => t.iteration)).toEqual([2, 3, 4]);
    const ref = await open({ loadSize: 48, cropSize: 32, serialBatches: true, decayPhase: true, startIteration: 2 });
    expect(await take(ref, 3)).toEqual(after);
    ref.close();
    switching.close();
  });

  it('does not leak tensors, reports stats and caches decoded images', async () => {
    const ds = await open({ batchSize: 2, prefetch: 2 });
    await take(ds, 1);
    const before = tf.memory().numTensors;
    await take(ds, 6);
    expect(tf.memory().numTensors).toBe(before);
    const stats = ds.stats;
    expect(stats.batches).toBe(7);
    expect(stats.waitMs).toBeGreaterThanOrEqual(0);
    expect(stats.cachedImages).toBe(8);
    expect(stats.cacheBytes).toBe(8 * 36 * 36 * 3);
    ds.close();
    await expect(ds.next()).rejects.toThrow(/closed/);
    const uncached = await open({ cacheBytes: 0 });
    await take(uncached, 2);
    expect(uncached.stats.cachedImages).toBe(0);
    uncached.close();
  });
});
