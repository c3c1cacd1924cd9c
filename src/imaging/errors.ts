/**
 * Typed errors of image input and dataset folders. Each carries a stable `code` so that the web
 * server can map them to HTTP statuses in one place and the CLI can report them, without matching
 * on message text. Messages name the file when it is known.
 */

export type ImagingErrorCode =
  | 'invalid_image'
  | 'unsupported_image_type'
  | 'image_too_large'
  | 'dataset_folder_missing'
  | 'dataset_folder_empty';

/** Common base: `code` is stable, `file` is the offending path when the input came from disk. */
export class ImagingError extends Error {
  readonly code: ImagingErrorCode;
  readonly file: string | undefined;

  constructor(code: ImagingErrorCode, message: string, file?: string, options?: ErrorOptions) {
    super(file === undefined ? message : `${file}: ${message}`, options);
    this.name = new.target.name;
    this.code = code;
    this.file = file;
  }
}

/** The bytes claim to be an image but cannot be decoded: truncated, corrupt, empty. */
export class InvalidImageError extends ImagingError {
  constructor(message: string, file?: string, options?: ErrorOptions) {
    super('invalid_image', message, file, options);
  }
}

/** Not a raster format we accept (SVG, PDF, text, unknown bytes). */
export class UnsupportedImageTypeError extends ImagingError {
  /** what the content looked like, when it could be told ('svg', 'pdf'), else undefined */
  readonly detected: string | undefined;

  constructor(message: string, detected?: string, file?: string, options?: ErrorOptions) {
    super('unsupported_image_type', message, file, options);
    this.detected = detected;
  }
}

export type TooLargeLimit = 'bytes' | 'pixels';

/** Over a limit: file size in bytes, or declared width x height (checked before decoding). */
export class ImageTooLargeError extends ImagingError {
  readonly limit: TooLargeLimit;
  readonly actual: number;
  readonly max: number;

  constructor(limit: TooLargeLimit, actual: number, max: number, file?: string) {
    const unit = limit === 'bytes' ? 'bytes' : 'pixels';
    const what = Number.isFinite(actual) ? `${actual} ${unit}, the limit is ${max}` : `over the limit of ${max} ${unit}`;
    super('image_too_large', `image too large: ${what}`, file);
    this.limit = limit;
    this.actual = actual;
    this.max = max;
  }
}

/** A dataset folder that cannot be used; `path` is always set. */
export class DatasetFolderError extends ImagingError {
  readonly path: string;

  constructor(code: 'dataset_folder_missing' | 'dataset_folder_empty', message: string, path: string) {
    super(code, message, path);
    this.path = path;
  }
}

export class MissingFolderError extends DatasetFolderError {
  constructor(path: string, detail = 'folder does not exist') {
    super('dataset_folder_missing', detail, path);
  }
}

export class EmptyFolderError extends DatasetFolderError {
  constructor(path: string, detail = 'folder contains no images') {
    super('dataset_folder_empty', detail, path);
  }
}
