/**
 * The JSON API: POST /api/translate answers with the translated image's bytes, GET /api/models
 * lists the models with their cards. Errors are JSON ({ error: { code, message } }, http-errors.ts).
 */
import { Router, type Response } from 'express';
import type { ServerContext } from '../app.ts';
import { MethodNotAllowedError } from '../http-errors.ts';
import { pickDefault, summarizeModel } from '../model-pool.ts';
import { abortOnClose, translateUpload, type TranslationOutcome } from '../translation.ts';
import { imageUpload, readTranslateForm } from '../upload.ts';

export function timingHeaders(res: Response, out: TranslationOutcome): Record<string, string> {
  const started = typeof res.locals.startedAt === 'number' ? res.locals.startedAt : performance.now();
  const elapsed = performance.now() - started;
  const ms = (v: number): string => v.toFixed(1);
  return {
    'X-Model': out.model.name,
    'X-Inference-Ms': ms(out.result.inferenceMs),
    'X-Queue-Ms': ms(out.queueMs),
    'X-Elapsed-Ms': ms(elapsed),
    'X-Image-Size': `${out.result.width}x${out.result.height}`,
    'Server-Timing': `queue;dur=${ms(out.queueMs)}, inference;dur=${ms(out.result.inferenceMs)}, job;dur=${ms(out.jobMs)}, total;dur=${ms(elapsed)}`,
  };
}

export function apiRouter(ctx: ServerContext): Router {
  const router = Router();

  router.post('/translate', imageUpload(ctx.limits), async (req, res) => {
    const form = readTranslateForm(req);
    const out = await translateUpload(ctx, form, { signal: abortOnClose(res) });
    res
      .status(200)
      .set({
        ...timingHeaders(res, out),
        'Content-Type': out.contentType,
        'Content-Disposition': `attachment; filename="${out.fileName}"`,
        'Cache-Control': 'no-store',
      })
      .end(out.result.data);
  });

  router.all('/translate', (req) => {
    throw new MethodNotAllowedError(req.method, 'POST');
  });

  router.get('/models', (_req, res) => {
    const models = ctx.pool.list();
    const def = pickDefault(models);
    const loaded = new Set(ctx.pool.loaded());
    res.json({
      default: def,
      models: models.map((m) => ({ ...summarizeModel(m, def), loaded: loaded.has(m.name), card: m.card })),
    });
  });

  return router;
}
