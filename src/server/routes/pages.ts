/**
 * The HTML pages: home (choose a model and a photo), the result of a plain form POST (so the app
 * works without JavaScript: the images come back embedded as data: URLs, nothing is stored on the
 * server), and the models page with each model card.
 */
import { Router } from 'express';
import type { ModelCard } from '../../store/model-card.ts';
import type { ServerContext } from '../app.ts';
import { pickDefault, summarizeModel } from '../model-pool.ts';
import { abortOnClose, translateUpload } from '../translation.ts';
import { imageUpload, readTranslateForm } from '../upload.ts';

export interface MetricRow {
  name: string;
  text: string;
}

/** card.metrics as readable lines: KID/FID records get their numbers, anything else its JSON. */
export function metricRows(card: ModelCard | null): MetricRow[] {
  if (!card?.metrics) return [];
  return Object.entries(card.metrics).map(([name, m]) => {
    const r = m as Record<string, unknown>;
    if (typeof r.kid === 'number' && typeof r.fid === 'number') {
      const se = typeof r.kidSe === 'number' ? ` ± ${r.kidSe.toFixed(4)}` : '';
      const n = r.n as { translated?: number; reference?: number } | undefined;
      const counts = n ? ` (${n.translated ?? '?'} translated vs ${n.reference ?? '?'} real)` : '';
      return { name, text: `KID ${r.kid.toFixed(4)}${se}, FID ${r.fid.toFixed(1)}${counts}` };
    }
    return { name, text: JSON.stringify(m) };
  });
}

/** Formatting used by the templates (installed as app.locals). */
export const viewHelpers = {
  formatMs: (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`),
  formatDuration: (s: number): string => {
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  },
  formatCount: (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n)),
};

function dataUrl(type: string, data: Buffer): string {
  return `data:${type};base64,${data.toString('base64')}`;
}

export function pageRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/', (_req, res) => {
    const entries = ctx.pool.list();
    const def = pickDefault(entries);
    res.render('index', {
      title: 'Translate a photo',
      models: entries.map((m) => summarizeModel(m, def)),
      modelsDir: ctx.pool.modelsDir,
    });
  });

  router.post('/translate', imageUpload(ctx.limits), async (req, res) => {
    const form = readTranslateForm(req);
    const out = await translateUpload(ctx, form, { signal: abortOnClose(res), preview: true });
    const started = typeof res.locals.startedAt === 'number' ? res.locals.startedAt : performance.now();
    res.set('Cache-Control', 'no-store').render('result', {
      title: 'Translated',
      model: summarizeModel({ name: out.model.name, card: out.model.card }, null),
      original: out.preview ? dataUrl('image/jpeg', out.preview) : null,
      translated: dataUrl(out.contentType, out.result.data),
      fileName: out.fileName,
      width: out.result.width,
      height: out.result.height,
      inferenceMs: out.result.inferenceMs,
      elapsedMs: performance.now() - started,
    });
  });

  // A reload of the result page in some browsers re-requests it with GET.
  router.get('/translate', (_req, res) => res.redirect(303, '/'));

  router.get('/models', (_req, res) => {
    const entries = ctx.pool.list();
    const def = pickDefault(entries);
    res.render('models', {
      title: 'Models',
      models: entries.map((m) => ({ ...summarizeModel(m, def), card: m.card, metrics: metricRows(m.card) })),
      modelsDir: ctx.pool.modelsDir,
    });
  });

  return router;
}
