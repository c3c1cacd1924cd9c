/**
 * One translate request, shared by the JSON API and the HTML form: pick the model, check the
 * parameters and the image header, then queue the real work. Everything that can be refused
 * cheaply (unknown model, bad size, wrong type, decompression bomb) is refused before the request
 * takes a place in the queue.
 */
import type { Response } from 'express';
import { decodeImage, encodeImage, probeImage, type OutputFormat } from '../imaging/codec.ts';
import type { TranslateResult, Translator } from '../translate/translator.ts';
import type { ServerContext } from './app.ts';
import { ShuttingDownError } from './job-queue.ts';
import type { TranslateForm } from './upload.ts';

export const CONTENT_TYPES: Record<OutputFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const EXTENSIONS: Record<OutputFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export interface TranslationOutcome {
  model: Translator;
  result: TranslateResult;
  contentType: string;
  /** e.g. horse-zebra.jpg for horse.jpg through a horse -> zebra model */
  fileName: string;
  /** the input at the output's size, JPEG, for showing the two side by side (pages only) */
  preview?: Buffer;
  /** milliseconds waiting for a slot, and in the job (decode + inference + encode) */
  queueMs: number;
  jobMs: number;
}

/** Aborted when the client goes away, so a request still waiting in the queue is dropped. */
export function abortOnClose(res: Response): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}

function outputName(baseName: string, model: Translator, format: OutputFormat): string {
  const target = model.card?.domains.b;
  const suffix = target && /^[A-Za-z0-9_-]{1,32}$/.test(target) && target !== 'B' ? target.toLowerCase() : model.name;
  return `${baseName}-${suffix}.${EXTENSIONS[format]}`;
}

export async function translateUpload(
  ctx: ServerContext,
  form: TranslateForm,
  opts: { signal?: AbortSignal; preview?: boolean } = {},
): Promise<TranslationOutcome> {
  // Checked first: after close() the models are released and must not be loaded again.
  if (ctx.closing()) throw new ShuttingDownError();
  const model = ctx.pool.get(form.model);
  const size = model.resolveSize(form.size);
  await probeImage(form.image.data, { limits: ctx.limits });
  return ctx.queue.run(
    async ({ waitMs }) => {
      const t0 = performance.now();
      const result = await model.translateBuffer(form.image.data, { size, format: form.format, quality: form.quality });
      const preview = opts.preview ? await previewOf(ctx, form.image.data, result) : undefined;
      return {
        model,
        result,
        contentType: CONTENT_TYPES[result.format],
        fileName: outputName(form.image.baseName, model, result.format),
        ...(preview ? { preview } : {}),
        queueMs: waitMs,
        jobMs: performance.now() - t0,
      };
    },
    opts.signal ? { signal: opts.signal } : {},
  );
}

/** The upload as the model saw it (oriented, flattened, resized to the output's size). */
async function previewOf(ctx: ServerContext, input: Uint8Array, result: TranslateResult): Promise<Buffer> {
  const img = await decodeImage(input, { limits: ctx.limits, resize: { fit: 'exact', width: result.width, height: result.height } });
  return encodeImage(img, 'jpeg', 85);
}
