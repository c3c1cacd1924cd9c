import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src/tf.ts';
import type { Tensor4D } from '../../src/tf.ts';
import { loadInceptionFeatures, releaseInceptionFeatures, type RgbImage } from '../../src/metrics/inception.ts';

/** A smooth colour gradient with a bright disc: enough structure for non-trivial features. */
function picture(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / (3 + seed)) ** 2;
      const o = (y * width + x) * 3;
      data[o] = disc ? 240 : (255 * x) / width;
      data[o + 1] = disc ? 220 : (255 * y) / height;
      data[o + 2] = (40 * seed + 3 * (x ^ y)) % 256;
    }
  }
  return { width, height, data };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'coopcut-inception-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await releaseInceptionFeatures();
});

describe('inception features', () => {
  it('loads offline, is cached, and gives finite 768-d mixed5 features without leaking tensors', async () => {
    const fx = await loadInceptionFeatures();
    expect(await loadInceptionFeatures()).toBe(fx);
    expect(fx.layer).toBe('mixed5');
    expect(fx.dim).toBe(768);

    const images = [picture(64, 64, 0), picture(64, 64, 1), picture(64, 64, 2)];
    const x = tf.tidy(
      () =>
        tf
          .tensor4d(Uint8Array.from(images.flatMap((i) => [...i.data])), [3, 64, 64, 3], 'int32')
          .toFloat()
          .div(127.5)
          .sub(1) as Tensor4D,
    );
    const before = tf.memory().numTensors;
    const features = await fx.extract(x);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();

    expect(features).toHaveLength(3);
    for (const f of features) {
      expect(f).toHaveLength(768);
      expect(f.every(Number.isFinite)).toBe(true);
      // post-ReLU activations, pooled
      expect(Math.min(...f)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...f)).toBeGreaterThan(0);
    }
    // different pictures, different features
    expect(features[0]!.some((v, k) => Math.abs(v - features[1]![k]!) > 1e-3)).toBe(true);

    // the tensor path quantises to 8 bits and so agrees with the RGB path on the same pixels
    const fromRgb = await fx.extractFromRgb(images);
    fromRgb.forEach((f, i) => f.forEach((v, k) => expect(v).toBeCloseTo(features[i]![k]!, 4)));
  });

  it('reads files of any size and colour model, batching beyond the batch size', async () => {
    const fx = await loadInceptionFeatures({ batchSize: 2 });
    const rgb = picture(80, 50, 1);
    const raw = { raw: { width: rgb.width, height: rgb.height, channels: 3 as const } };
    const png = path.join(dir, 'a.png');
    const grey = path.join(dir, 'b.jpg');
    const alpha = path.join(dir, 'c.png');
    await sharp(rgb.data, raw).png().toFile(png);
    await sharp(rgb.data, raw).greyscale().jpeg().toFile(grey);
    await sharp(rgb.data, raw).ensureAlpha(0.5).png().toFile(alpha);
    const before = tf.memory().numTensors;
    const features = await fx.extractFromFiles([png, grey, alpha]);
    expect(tf.memory().numTensors).toBe(before);
    expect(features.map((f) => f.length)).toEqual([768, 768, 768]);
    expect(features.every((f) => f.every(Number.isFinite))).toBe(true);
    // the PNG is lossless, so it matches the in-memory pixels
    const direct = await fx.extractFromRgb([rgb]);
    direct[0]!.forEach((v, k) => expect(v).toBeCloseTo(features[0]![k]!, 4));
  });

  it('names a missing layer in its error', async () => {
    await expect(loadInceptionFeatures({ layer: 'no_such_layer' })).rejects.toThrow(/no_such_layer/);
  });
});
