import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import type { Tensor4D } from '../../src/tf.ts';
import {
  READABLE_FORMATS,
  decodeImage,
  encodeImage,
  probeImage,
  resizeRgb,
  resizeTarget,
  rgbToTensor,
  roundToMultiple,
  sniffFormat,
  tensorToRgb,
} from '../../src/imaging/codec.ts';
import { ImageTooLargeError, InvalidImageError, UnsupportedImageTypeError } from '../../src/imaging/errors.ts';
import { pngBomb } from '../helpers/png-bomb.ts';

/** 8x6 gradient, distinct values per pixel and channel. */
function gradient(width = 8, height = 6): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 5) % 256;
  return data;
}

function raw(data: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3): Sharp {
  return sharp(data, { raw: { width, height, channels } });
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coopcut-codec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sniffFormat', () => {
  it('recognises raster formats by content', async () => {
    const base = raw(gradient(), 8, 6);
    expect(await sniffFormat(await base.clone().png().toBuffer())).toBe('png');
    expect(await sniffFormat(await base.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(await sniffFormat(await base.clone().webp().toBuffer())).toBe('webp');
    expect(await sniffFormat(await base.clone().gif().toBuffer())).toBe('gif');
    expect(await sniffFormat(await base.clone().tiff().toBuffer())).toBe('tiff');
    if (READABLE_FORMATS.has('avif')) expect(await sniffFormat(await base.clone().avif().toBuffer())).toBe('avif');
  });

  it('refuses svg, pdf and non-images as unsupported', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
    await expect(sniffFormat(svg)).rejects.toMatchObject({ code: 'unsupported_image_type', detected: 'svg' });
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
    await expect(sniffFormat(pdf)).rejects.toMatchObject({ code: 'unsupported_image_type', detected: 'pdf' });
    await expect(sniffFormat(Buffer.from('just some text'))).rejects.toBeInstanceOf(UnsupportedImageTypeError);
  });

  it('calls a damaged header or an empty buffer invalid', async () => {
    const jpg = await raw(gradient(), 8, 6).jpeg().toBuffer();
    await expect(sniffFormat(jpg.subarray(0, 20))).rejects.toBeInstanceOf(InvalidImageError);
    await expect(sniffFormat(Buffer.alloc(0))).rejects.toBeInstanceOf(InvalidImageError);
  });
});

describe('decodeImage', () => {
  it('returns the exact RGB of a PNG, whatever the file is called', async () => {
    const rgb = gradient();
    const path = join(dir, 'really-a-png.jpg');
    await writeFile(path, await raw(rgb, 8, 6).png().toBuffer());
    const img = await decodeImage(path);
    expect(img).toMatchObject({ width: 8, height: 6, format: 'png' });
    expect(Array.from(img.data)).toEqual(Array.from(rgb));
  });

  it('turns grey, grey+alpha, RGBA and CMYK into 3-channel sRGB', async () => {
    const grey = await raw(new Uint8Array([0, 100, 200, 255]), 2, 2, 1).png().toBuffer();
    const g = await decodeImage(grey);
    expect(g.data.length).toBe(12);
    expect(Array.from(g.data.subarray(3, 6))).toEqual([100, 100, 100]);

    // fully transparent black over white is white; opaque pixels are kept
    const ga = await raw(new Uint8Array([0, 0, 50, 255]), 2, 1, 2).png().toBuffer();
    const gaImg = await decodeImage(ga);
    expect(Array.from(gaImg.data)).toEqual([255, 255, 255, 50, 50, 50]);

    const rgba = await raw(new Uint8Array([10, 20, 30, 0, 10, 20, 30, 255]), 2, 1, 4).png().toBuffer();
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([255, 255, 255, 10, 20, 30]);

    const cmyk = await raw(gradient(), 8, 6).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).channels).toBe(4);
    const c = await decodeImage(cmyk);
    expect(c.data.length).toBe(8 * 6 * 3);
  });

  it('reduces 16-bit to 8-bit', async () => {
    const rgb = gradient();
    const png16 = await raw(rgb, 8, 6).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const img = await decodeImage(png16);
    expect(Array.from(img.data)).toEqual(Array.from(rgb));
  });

  it('applies the EXIF orientation', async () => {
    // 8 wide x 2 high, tagged "rotate 90 CW": it must come out 2 wide x 8 high
    const jpg = await raw(gradient(8, 2), 8, 2).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await probeImage(jpg)).toMatchObject({ width: 2, height: 8 });
    const img = await decodeImage(jpg);
    expect([img.width, img.height]).toEqual([2, 8]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const frames = new Uint8Array(4 * 4 * 3 * 2);
    frames.fill(255, 0, 48); // frame 0 white, frame 1 black
    const gif = await sharp(frames, { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } }).gif().toBuffer();
    const img = await decodeImage(gif);
    expect([img.width, img.height]).toEqual([4, 4]);
    expect(Math.min(...img.data)).toBeGreaterThan(200);
  });

  it('raises InvalidImageError on truncated JPEG and PNG, naming the file', async () => {
    const noisy = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7919) % 251);
    const jpg = await raw(noisy, 64, 64).jpeg().toBuffer();
    const png = await raw(noisy, 64, 64).png().toBuffer();
    const path = join(dir, 'cut-short.jpg');
    await writeFile(path, jpg.subarray(0, Math.floor(jpg.length * 0.6)));
    const err = await decodeImage(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidImageError);
    expect((err as Error).message).toContain('cut-short.jpg');
    await expect(decodeImage(png.subarray(0, Math.floor(png.length * 0.6)))).rejects.toBeInstanceOf(InvalidImageError);
  });

  it('refuses a decompression bomb from its header, quickly', async () => {
    const start = performance.now();
    const err = await decodeImage(pngBomb()).catch((e: unknown) => e);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect(err).toMatchObject({ limit: 'pixels', actual: 2_500_000_000, max: 50_000_000 });
  });

  it('applies the pixel and byte limits', async () => {
    const png = await raw(gradient(), 8, 6).png().toBuffer();
    await expect(decodeImage(png, { limits: { maxInputPixels: 47 } })).rejects.toMatchObject({ limit: 'pixels' });
    await expect(decodeImage(png, { limits: { maxFileBytes: 10 } })).rejects.toMatchObject({ limit: 'bytes' });
    const path = join(dir, 'big.png');
    await writeFile(path, png);
    const err = await decodeImage(path, { limits: { maxFileBytes: 10 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect((err as Error).message).toContain('big.png');
  });

  it('a missing file is an InvalidImageError naming it', async () => {
    await expect(decodeImage(join(dir, 'nope.png'))).rejects.toThrow(/nope\.png/);
  });

  it('resizes while decoding', async () => {
    const png = await raw(gradient(), 8, 6).png().toBuffer();
    const exact = await decodeImage(png, { resize: { fit: 'exact', width: 5, height: 7 } });
    expect([exact.width, exact.height, exact.data.length]).toEqual([5, 7, 105]);
    const longest = await decodeImage(png, { resize: { fit: 'longest', side: 16 } });
    expect([longest.width, longest.height]).toEqual([16, 12]);
    const atLeast = await decodeImage(png, { resize: { fit: 'atLeast', width: 12, height: 12 } });
    expect([atLeast.width, atLeast.height]).toEqual([16, 12]);
    const noShrink = await decodeImage(png, { resize: { fit: 'atLeast', width: 4, height: 4 } });
    expect([noShrink.width, noShrink.height]).toEqual([8, 6]);
  });
});

describe('resize helpers', () => {
  it('resizeTarget', () => {
    expect(resizeTarget(400, 300, { fit: 'longest', side: 256 })).toEqual({ width: 256, height: 192 });
    expect(resizeTarget(300, 400, { fit: 'longest', side: 256 })).toEqual({ width: 192, height: 256 });
    expect(resizeTarget(100, 50, { fit: 'atLeast', width: 64, height: 64 })).toEqual({ width: 128, height: 64 });
    expect(resizeTarget(100, 50, { fit: 'exact', width: 3, height: 4 })).toEqual({ width: 3, height: 4 });
  });

  it('roundToMultiple rounds half to even like Python, never below the base', () => {
    expect([10, 14, 6, 30, 255, 258, 256, 2, 0].map((n) => roundToMultiple(n))).toEqual([
      8, 16, 8, 32, 256, 256, 256, 4, 4,
    ]);
  });

  it('resizeRgb is bicubic and keeps constant images constant', async () => {
    const flat = new Uint8Array(8 * 6 * 3).fill(77);
    const out = await resizeRgb({ data: flat, width: 8, height: 6 }, 12, 4);
    expect([out.width, out.height, out.data.length]).toEqual([12, 4, 144]);
    expect(new Set(out.data)).toEqual(new Set([77]));
  });
});

describe('tensors and encoding', () => {
  it('maps bytes to [-1, 1] and back exactly, without leaks', () => {
    const before = tf.memory().numTensors;
    const rgb = new Uint8Array([0, 128, 255, 1, 2, 3]);
    const t = rgbToTensor(rgb, 2, 1);
    expect(t.shape).toEqual([1, 1, 2, 3]);
    expect(t.dtype).toBe('float32');
    const v = t.dataSync();
    expect(v[0]).toBe(-1);
    expect(v[2]).toBe(1);
    expect(v[1]).toBeCloseTo((128 / 255 - 0.5) / 0.5, 6);
    expect(Array.from(tensorToRgb(t).data)).toEqual(Array.from(rgb));
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tensorToRgb clamps, accepts 3-D input and refuses batches', () => {
    const t3 = tf.tensor3d([-3, 0, 3], [1, 1, 3]);
    expect(tensorToRgb(t3)).toEqual({ data: new Uint8Array([0, 128, 255]), width: 1, height: 1 });
    const batch = tf.zeros([2, 1, 1, 3]) as Tensor4D;
    expect(() => tensorToRgb(batch)).toThrow(/batch/);
    tf.dispose([t3, batch]);
  });

  it('encodes png losslessly and jpeg/webp decodably', async () => {
    const rgb = gradient();
    const png = await encodeImage(rgb, 8, 6, 'png');
    expect(Array.from((await decodeImage(png)).data)).toEqual(Array.from(rgb));
    expect(await sniffFormat(await encodeImage(rgb, 8, 6, 'jpeg', 80))).toBe('jpeg');
    expect(await sniffFormat(await encodeImage(rgb, 8, 6, 'webp'))).toBe('webp');
    await expect(encodeImage(rgb, 8, 5, 'png')).rejects.toThrow(RangeError);
    const fromImage = await encodeImage({ data: rgb, width: 8, height: 6 }, 'png');
    expect(fromImage.equals(png)).toBe(true);
  });
});
