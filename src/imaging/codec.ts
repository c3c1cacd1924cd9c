/**
 * sharp <-> tensors. Every image entering the project (training folders, uploads, folder
 * translation) goes through decodeImage, so orientation, alpha, colour space and size limits are
 * handled the same way everywhere; every image leaving goes through encodeImage.
 *
 * Pixel values map to [-1, 1] as in CUT (ToTensor then Normalize(0.5, 0.5), facts 1.10).
 */
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { tf } from '../tf.ts';
import type { Tensor3D, Tensor4D } from '../tf.ts';
import { DEFAULT_IMAGE_LIMITS } from '../config.ts';
import type { ImageLimits } from '../config.ts';
import { ImageTooLargeError, InvalidImageError, UnsupportedImageTypeError } from './errors.ts';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heif';
export type OutputFormat = 'png' | 'jpeg' | 'webp';

/** 8-bit RGB, row-major HWC, no padding: data.length === width * height * 3. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodedImage extends RgbImage {
  format: ImageFormat;
}

/**
 * exact: to width x height, aspect ratio ignored (CUT's Resize([load, load])).
 * longest: the longer side becomes `side`, aspect kept (working resolution of translation).
 * atLeast: enlarge, aspect kept, only as far as needed for both sides to reach width x height;
 * never shrinks (lets a random crop fit an image smaller than the crop).
 */
export type ResizeSpec =
  | { fit: 'exact'; width: number; height: number }
  | { fit: 'longest'; side: number }
  | { fit: 'atLeast'; width: number; height: number };

export interface DecodeOptions {
  limits?: Partial<ImageLimits>;
  resize?: ResizeSpec;
  /** name used in error messages for Buffer input (a path input names itself) */
  file?: string;
}

export interface ImageInfo {
  format: ImageFormat;
  /** after EXIF orientation */
  width: number;
  height: number;
}

// PIL's BICUBIC (used by CUT) is the Keys a = -0.5 kernel, which is libvips' Catmull-Rom 'cubic'.
const RESIZE_KERNEL = 'cubic';

/** Formats this sharp build can read from a buffer (heif covers AVIF; HEVC HEIC needs a custom libvips). */
export const READABLE_FORMATS: ReadonlySet<ImageFormat> = new Set(
  (['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const).filter((f) => {
    const key = f === 'avif' ? 'heif' : f;
    return sharp.format[key]?.input.buffer === true;
  }),
);

function resolveLimits(limits: Partial<ImageLimits> | undefined): ImageLimits {
  return { ...DEFAULT_IMAGE_LIMITS, ...limits };
}

function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

function looksLikePdf(buf: Uint8Array): boolean {
  return buf.length >= 5 && Buffer.from(buf.subarray(0, 5)).toString('latin1') === '%PDF-';
}

function toImageFormat(meta: Metadata): ImageFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
      return meta.format;
    case 'heif':
      return meta.compression === 'av1' ? 'avif' : 'heif';
    default:
      return undefined;
  }
}

async function readMetadata(buf: Uint8Array, file: string | undefined): Promise<Metadata> {
  if (buf.length === 0) throw new InvalidImageError('empty file', file);
  try {
    // No pixel limit here: the header is all that is read, and the caller applies its own limit.
    return await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    if (looksLikePdf(buf)) throw new UnsupportedImageTypeError('PDF is not an image format we accept', 'pdf', file);
    if (/unsupported image format/i.test(messageOf(err))) {
      throw new UnsupportedImageTypeError('not a supported image (jpeg, png, webp, gif, tiff, avif)', undefined, file);
    }
    throw new InvalidImageError(`cannot read image header (${messageOf(err)})`, file, { cause: err });
  }
}

function formatOrThrow(meta: Metadata, file: string | undefined): ImageFormat {
  const format = toImageFormat(meta);
  if (format === undefined || !READABLE_FORMATS.has(format)) {
    const detected = String(meta.format);
    throw new UnsupportedImageTypeError(`${detected} is not an image format we accept`, detected, file);
  }
  return format;
}

/** Decide the format from the bytes (never the file name); throws the typed errors. */
export async function sniffFormat(buf: Uint8Array): Promise<ImageFormat> {
  return formatOrThrow(await readMetadata(buf, undefined), undefined);
}

function checkPixels(width: number, height: number, limits: ImageLimits, file: string | undefined): void {
  const pixels = width * height;
  if (pixels > limits.maxInputPixels) throw new ImageTooLargeError('pixels', pixels, limits.maxInputPixels, file);
}

/** Format and oriented size from the header alone; enforces the byte and pixel limits. */
export async function probeImage(
  buf: Uint8Array,
  opts: { limits?: Partial<ImageLimits>; file?: string } = {},
): Promise<ImageInfo> {
  const limits = resolveLimits(opts.limits);
  if (buf.length > limits.maxFileBytes) {
    throw new ImageTooLargeError('bytes', buf.length, limits.maxFileBytes, opts.file);
  }
  const meta = await readMetadata(buf, opts.file);
  const format = formatOrThrow(meta, opts.file);
  checkPixels(meta.width, meta.height, limits, opts.file);
  return { format, width: meta.autoOrient.width, height: meta.autoOrient.height };
}

/** Target size of a resize of a width x height image; pure, so callers can plan before decoding. */
export function resizeTarget(width: number, height: number, spec: ResizeSpec): { width: number; height: number } {
  switch (spec.fit) {
    case 'exact':
      return { width: spec.width, height: spec.height };
    case 'longest': {
      const scale = spec.side / Math.max(width, height);
      return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
    }
    case 'atLeast': {
      const scale = Math.max(spec.width / width, spec.height / height);
      if (scale <= 1) return { width, height };
      return {
        width: Math.max(spec.width, Math.round(width * scale)),
        height: Math.max(spec.height, Math.round(height * scale)),
      };
    }
  }
}

/**
 * Round to the nearest multiple of `base`, never below `base`. Ties go to the even multiple, as
 * Python's round() in CUT's __make_power_2 does (so a 10-pixel side becomes 8, not 12).
 */
export function roundToMultiple(n: number, base = 4): number {
  const q = n / base;
  const floor = Math.floor(q);
  const diff = q - floor;
  const r = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return Math.max(base, r * base);
}

async function readInput(input: Uint8Array | string, limits: ImageLimits): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  let size: number;
  try {
    size = (await stat(input)).size;
  } catch (err) {
    throw new InvalidImageError(`cannot read file (${messageOf(err)})`, input, { cause: err });
  }
  // Checked before reading so that a huge file is never loaded into memory.
  if (size > limits.maxFileBytes) throw new ImageTooLargeError('bytes', size, limits.maxFileBytes, input);
  try {
    return await readFile(input);
  } catch (err) {
    throw new InvalidImageError(`cannot read file (${messageOf(err)})`, input, { cause: err });
  }
}

function decodeError(err: unknown, format: ImageFormat, limits: ImageLimits, file: string | undefined): Error {
  const msg = messageOf(err);
  if (/pixel limit/i.test(msg)) return new ImageTooLargeError('pixels', Number.NaN, limits.maxInputPixels, file);
  if (format === 'heif') {
    return new UnsupportedImageTypeError(`HEIF/HEIC cannot be decoded by this build (${msg})`, 'heif', file);
  }
  return new InvalidImageError(`cannot decode ${format} image (${msg})`, file, { cause: err });
}

/**
 * Decode to 8-bit sRGB, 3 channels: EXIF orientation applied, alpha flattened onto white, grey,
 * CMYK and 16-bit converted, first frame of animations. Limits are checked on the header first, so
 * a decompression bomb is refused without decoding it.
 */
export async function decodeImage(input: Uint8Array | string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const limits = resolveLimits(opts.limits);
  const file = typeof input === 'string' ? input : opts.file;
  const buf = await readInput(input, limits);
  const info = await probeImage(buf, { limits, file });
  const target = opts.resize ? resizeTarget(info.width, info.height, opts.resize) : info;
  try {
    let pipeline = sharp(buf, {
      failOn: 'truncated',
      limitInputPixels: limits.maxInputPixels,
      autoOrient: true,
      pages: 1,
    })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb');
    if (target.width !== info.width || target.height !== info.height) {
      pipeline = pipeline.resize(target.width, target.height, {
        fit: 'fill',
        kernel: RESIZE_KERNEL,
        fastShrinkOnLoad: false,
      });
    }
    const { data, info: out } = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (out.channels !== 3) throw new Error(`decoder produced ${out.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: out.width, height: out.height, format: info.format };
  } catch (err) {
    throw decodeError(err, info.format, limits, file);
  }
}

function checkRgb(img: RgbImage): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`bad image size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(`RGB data has ${data.length} bytes, expected ${width}x${height}x3 = ${width * height * 3}`);
  }
}

/** Bicubic resize of decoded RGB to exactly width x height. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkRgb(img);
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: RESIZE_KERNEL })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/** Write (v / 255 - 0.5) / 0.5 of each byte into `out` at `offset`: batch assembly without tensors. */
export function normalizeInto(data: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < data.length; i++) out[offset + i] = data[i]! / 127.5 - 1;
}

/** [1, H, W, 3] float32 in [-1, 1]. */
export function rgbToTensor(rgb: Uint8Array, width: number, height: number): Tensor4D {
  checkRgb({ data: rgb, width, height });
  const values = new Float32Array(rgb.length);
  normalizeInto(rgb, values);
  return tf.tensor4d(values, [1, height, width, 3], 'float32');
}

/**
 * [H, W, 3] or [1, H, W, 3] in [-1, 1] to 8-bit RGB. Values are clamped and rounded; CUT's
 * tensor2im truncates instead, which darkens by half a level on average.
 */
export function tensorToRgb(t: Tensor3D | Tensor4D): RgbImage {
  const shape = t.shape;
  const [height, width, channels] = shape.length === 4 ? shape.slice(1) : shape;
  if (shape.length === 4 && shape[0] !== 1) throw new RangeError(`expected one image, got a batch of ${shape[0]}`);
  if (channels !== 3 || height === undefined || width === undefined) {
    throw new RangeError(`expected 3 channels, got shape [${shape.join(', ')}]`);
  }
  const values = tf.tidy(() => t.clipByValue(-1, 1).add(1).mul(127.5).round().dataSync());
  return { data: Uint8Array.from(values), width, height };
}

/** Encode 8-bit RGB; quality (1-100) applies to jpeg and webp. */
export async function encodeImage(img: RgbImage, format: OutputFormat, quality?: number): Promise<Buffer>;
export async function encodeImage(
  rgb: Uint8Array,
  width: number,
  height: number,
  format: OutputFormat,
  quality?: number,
): Promise<Buffer>;
export async function encodeImage(
  first: RgbImage | Uint8Array,
  ...rest: [OutputFormat, number?] | [number, number, OutputFormat, number?]
): Promise<Buffer> {
  const [img, format, quality = 90] =
    first instanceof Uint8Array
      ? [{ data: first, width: rest[0] as number, height: rest[1] as number }, rest[2] as OutputFormat, rest[3]]
      : [first, rest[0] as OutputFormat, rest[1] as number | undefined];
  checkRgb(img);
  const out = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  switch (format) {
    case 'png':
      return out.png().toBuffer();
    case 'jpeg':
      return out.jpeg({ quality }).toBuffer();
    case 'webp':
      return out.webp({ quality }).toBuffer();
  }
}

/** The width x height window at (left, top); it must lie inside the image. */
export function cropRgb(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  checkRgb(img);
  if (left < 0 || top < 0 || left + width > img.width || top + height > img.height || width < 1 || height < 1) {
    throw new RangeError(`crop ${width}x${height}+${left}+${top} outside a ${img.width}x${img.height} image`);
  }
  if (left === 0 && top === 0 && width === img.width && height === img.height) return img;
  const data = new Uint8Array(width * height * 3);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * img.width + left) * 3;
    data.set(img.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { data, width, height };
}

/** Mirror left-right (CUT's RandomHorizontalFlip). */
export function flipHorizontal(img: RgbImage): RgbImage {
  checkRgb(img);
  const { width, height } = img;
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const from = row + x * 3;
      const to = row + (width - 1 - x) * 3;
      data[to] = img.data[from]!;
      data[to + 1] = img.data[from + 1]!;
      data[to + 2] = img.data[from + 2]!;
    }
  }
  return { data, width, height };
}
