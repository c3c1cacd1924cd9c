/** GET /healthz: backend, models, queue and tensor count; 503 while shutting down. */
import { Router } from 'express';
import { tf, backend } from '../../tf.ts';
import type { ServerContext } from '../app.ts';

export function healthRouter(ctx: ServerContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    const queue = ctx.queue.stats();
    const closing = ctx.closing();
    res
      .status(closing ? 503 : 200)
      .set('Cache-Control', 'no-store')
      .json({
        status: closing ? 'shutting_down' : 'ok',
        backend: { name: backend.name, kind: backend.kind, package: backend.package, tfjs: backend.tfjsVersion, threads: backend.threads },
        models: { available: ctx.pool.list().map((m) => m.name), default: ctx.pool.defaultName(), loaded: ctx.pool.loaded() },
        queue: { depth: queue.queued + queue.running, ...queue },
        tensors: tf.memory().numTensors,
        rssBytes: process.memoryUsage().rss,
        uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      });
  });
  return router;
}
