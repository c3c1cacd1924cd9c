/**
 * One Translator serves the web app and batch translation: a generator loaded once, and the size
 * handling around it. Inputs of any size work: the image is resized so its longest side is the
 * working size (the model card's default, or a caller's choice up to a cap), reflect-padded to
 * multiples of 4 (the encoder downsamples twice) and cropped back, so the output keeps the input's
 * aspect ratio.
 *
 * No tiling: the generator normalises each feature map over the whole image (instance norm), so
 * tiles would each get their own statistics and visible seams; large inputs are resized instead.
 */
import { tf, type Tensor4D } from '../tf.ts';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../config.ts';
import type { Generator } from '../models/generator.ts';
import { disposeParams } from '../nn/params.ts';
import { loadGenerator } from '../store/generator-file.ts';
import type { ModelEntry } from '../store/model-registry.ts';
import type { ModelCard } from '../store/model-card.ts';
import {
  decodeImage,
  encodeImage,
  rgbToTensor,
  tensorToRgb,
  type OutputFormat,
  type RgbImage,
} from '../imaging/codec.ts';

/** Smallest working side: reflect padding needs a few pixels, and below this nothing is recognisable. */
export const MIN_WORKING_SIDE = 16;
export const SIDE_MULTIPLE = 4;

export class InvalidSizeError extends Error {
  readonly code = 'invalid_size';
  constructor(size: number, max: number) {
    super(`size must be an integer between ${MIN_WORKING_SIDE} and ${max}, got ${size}`);
    this.name = 'InvalidSizeError';
  }
}

export interface TranslateRequest {
  /** longest side of the working resolution (default: the model's working size) */
  size?: number;
  format?: OutputFormat;
  quality?: number;
}

export interface TranslateResult {
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  /** milliseconds in the generator */
  inferenceMs: number;
}

export interface Translator {
  readonly name: string;
  readonly card: ModelCard | null;
  readonly workingSize: number;
  /** [B,H,W,3] in [-1,1], any H and W: padded to multiples of 4 and cropped back */
  translateTensor(x: Tensor4D): Tensor4D;
  /** decoded RGB at the working resolution -> translated RGB of the same size */
  translateRgb(img: RgbImage): RgbImage;
  /** bytes of an uploaded or read image -> encoded translated image */
  translateBuffer(input: Uint8Array | string, req?: TranslateRequest): Promise<TranslateResult>;
  /** the working size a request resolves to (validated) */
  resolveSize(size?: number): number;
  dispose(): void;
}

/** Reflect-pad the bottom/right so H and W are multiples of `m`; returns the pad amounts. */
export function padAmounts(h: number, w: number, m = SIDE_MULTIPLE): { ph: number; pw: number } {
  return { ph: (m - (h % m)) % m, pw: (m - (w % m)) % m };
}

export function translateWith(g: Generator, x: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const { ph, pw } = padAmounts(h, w);
    // Reflect padding needs pad < side; sides below MIN_WORKING_SIDE are resized up by callers.
    const padded = ph || pw ? tf.mirrorPad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], 'reflect') : x;
    const y = g.forward(padded);
    return ph || pw ? tf.slice(y, [0, 0, 0, 0], [-1, h, w, -1]) : y;
  });
}

export function createTranslator(
  name: string,
  g: Generator,
  card: ModelCard | null,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Translator {
  const workingSize = card?.workingSize ?? card?.trainSize ?? 256;
  const resolveSize = (size?: number): number => {
    const s = size ?? workingSize;
    if (!Number.isInteger(s) || s < MIN_WORKING_SIDE || s > limits.maxWorkingSide) throw new InvalidSizeError(s, limits.maxWorkingSide);
    return s;
  };
  const translateRgb = (img: RgbImage): RgbImage => {
    const x = rgbToTensor(img.data, img.width, img.height);
    const y = translateWith(g, x);
    x.dispose();
    const out = tensorToRgb(y);
    y.dispose();
    return out;
  };
  return {
    name,
    card,
    workingSize,
    resolveSize,
    translateTensor: (x) => translateWith(g, x),
    translateRgb,
    async translateBuffer(input, req = {}) {
      const side = resolveSize(req.size);
      const decoded = await decodeImage(input, { limits, resize: { fit: 'longest', side } });
      const small = Math.min(decoded.width, decoded.height);
      const img =
        small >= MIN_WORKING_SIDE
          ? decoded
          : await decodeImage(input, {
              limits,
              resize: {
                fit: 'exact',
                width: Math.round((decoded.width * MIN_WORKING_SIDE) / small),
                height: Math.round((decoded.height * MIN_WORKING_SIDE) / small),
              },
            });
      const t0 = performance.now();
      const out = translateRgb(img);
      const inferenceMs = performance.now() - t0;
      const format = req.format ?? 'png';
      const data = await encodeImage(out, format, req.quality);
      return { data, format, width: out.width, height: out.height, inferenceMs };
    },
    dispose: () => disposeParams(g.params),
  };
}

export function loadTranslator(entry: ModelEntry, limits?: ImageLimits): Translator {
  const { g } = loadGenerator(entry.dir);
  return createTranslator(entry.name, g, entry.card, limits);
}
