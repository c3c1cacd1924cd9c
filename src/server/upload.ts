/**
 * The upload: one multipart file in memory (field `image`) plus a few short text fields, parsed
 * into a typed request. Uploads never touch the disk, and the size limit is enforced while the
 * bytes arrive, so an oversized upload is refused without being held in memory.
 *
 * Parsing failures become typed errors here; http-errors.ts gives them their status.
 */
import type { Request, RequestHandler } from 'express';
import multer from 'multer';
import type { ImageLimits } from '../config.ts';
import { READABLE_FORMATS, type OutputFormat } from '../imaging/codec.ts';
import { ImageTooLargeError } from '../imaging/errors.ts';

export const IMAGE_FIELD = 'image';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp'];

const FORMAT_NAMES: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', tiff: 'TIFF', avif: 'AVIF', heif: 'HEIF' };

/**
 * What this build of sharp reads, for people: "JPEG, PNG, WebP, GIF, TIFF or AVIF". HEIF is left
 * out: prebuilt sharp reads only AV1-coded HEIF (AVIF), not the HEVC-coded HEIC of phone cameras.
 */
export const ACCEPTED_FORMATS_TEXT: string = ((names: string[]) =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? 'none'))(
  [...READABLE_FORMATS].filter((f) => f !== 'heif').map((f) => FORMAT_NAMES[f] ?? f),
);

/** No file in the request, or an empty one. */
export class MissingFileError extends Error {
  readonly code: 'missing_file' | 'empty_file';
  constructor(empty: boolean) {
    super(
      empty
        ? 'the uploaded file is empty'
        : `no image uploaded: send a photo as the multipart/form-data field '${IMAGE_FIELD}'`,
    );
    this.name = 'MissingFileError';
    this.code = empty ? 'empty_file' : 'missing_file';
  }
}

/** A field with a value we do not accept (format, size, quality, model). */
export class InvalidParameterError extends Error {
  readonly code = 'invalid_parameter';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidParameterError';
  }
}

/** The multipart body itself is broken or breaks a structural limit (too many parts, wrong field). */
export class MalformedUploadError extends Error {
  readonly code = 'bad_upload';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedUploadError';
  }
}

export interface UploadedImage {
  data: Buffer;
  /** the client's file name, reduced to a safe base for the download name */
  baseName: string;
}

export interface TranslateForm {
  image: UploadedImage;
  /** undefined = the default model */
  model: string | undefined;
  format: OutputFormat;
  /** undefined = the model's working size */
  size: number | undefined;
  quality: number | undefined;
}

function uploadError(err: unknown, limits: ImageLimits): Error {
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return new ImageTooLargeError('bytes', Number.NaN, limits.maxFileBytes);
    if (err.code === 'LIMIT_UNEXPECTED_FILE') {
      return new MalformedUploadError(`unexpected file field '${err.field ?? ''}': send exactly one file, as '${IMAGE_FIELD}'`);
    }
    return new MalformedUploadError(`bad upload: ${err.message.toLowerCase()}`);
  }
  // busboy reports a broken body (no boundary, truncated part) as a plain Error.
  const message = err instanceof Error ? err.message : String(err);
  return new MalformedUploadError(`malformed multipart upload (${message})`, { cause: err });
}

/** Multer with memory storage and the configured limits; errors leave as typed errors. */
export function imageUpload(limits: ImageLimits): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxFileBytes, files: 1, fields: 16, fieldSize: 1024, parts: 20 },
  }).single(IMAGE_FIELD);
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => next(err === undefined || err === null ? undefined : uploadError(err, limits)));
  };
}

/** "My Horse (1).JPG" -> "My-Horse-1"; never empty, never a path. */
export function safeBaseName(name: string | undefined): string {
  const stem = (name ?? '').replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const safe = stem
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 64);
  return safe || 'image';
}

function field(req: Request, name: string): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidParameterError(name, `'${name}' must be given once, as text`);
  const t = v.trim();
  return t === '' ? undefined : t;
}

function intField(req: Request, name: string, what: string): number | undefined {
  const v = field(req, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v)) throw new InvalidParameterError(name, `'${name}' must be ${what}, got '${v.slice(0, 20)}'`);
  return Number(v);
}

export function parseFormat(v: string | undefined): OutputFormat {
  if (v === undefined) return 'png';
  const f = v.toLowerCase() === 'jpg' ? 'jpeg' : v.toLowerCase();
  const hit = OUTPUT_FORMATS.find((o) => o === f);
  if (!hit) throw new InvalidParameterError('format', `'format' must be one of ${OUTPUT_FORMATS.join(', ')}, got '${v.slice(0, 20)}'`);
  return hit;
}

/** The fields of a translate request (API or form). Range checks of size happen in the Translator. */
export function readTranslateForm(req: Request): TranslateForm {
  const file = req.file;
  if (!file) throw new MissingFileError(false);
  if (file.size === 0) throw new MissingFileError(true);
  const quality = intField(req, 'quality', 'an integer from 1 to 100');
  if (quality !== undefined && (quality < 1 || quality > 100)) {
    throw new InvalidParameterError('quality', `'quality' must be an integer from 1 to 100, got ${quality}`);
  }
  return {
    image: { data: file.buffer, baseName: safeBaseName(file.originalname) },
    model: field(req, 'model'),
    format: parseFormat(field(req, 'format')),
    size: intField(req, 'size', 'an integer (the longest side in pixels)'),
    quality,
  };
}
