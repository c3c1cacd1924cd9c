/**
 * createApp: the web app as an Express app factory. Everything it needs arrives as options (the
 * models folder, limits, queue sizes, logger), so tests and the `serve` command each build their
 * own app and nothing lives in module globals.
 *
 * Routers: health (GET /healthz), api (/api/...), pages (HTML); then a 404 and the error middleware
 * from http-errors.ts, the one place where errors become statuses.
 */
import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../config.ts';
import { defaultModelsDir } from '../store/model-registry.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createJobQueue, type JobQueue, type JobQueueOptions } from './job-queue.ts';
import { createModelPool, type ModelPool } from './model-pool.ts';
import { errorHandler, NotFoundError, pathOf } from './http-errors.ts';
import { ACCEPTED_FORMATS_TEXT } from './upload.ts';
import { healthRouter } from './routes/health.ts';
import { apiRouter } from './routes/api.ts';
import { pageRouter, viewHelpers } from './routes/pages.ts';

export const VIEWS_DIR = path.resolve(import.meta.dirname, '..', '..', 'views');
export const PUBLIC_DIR = path.join(VIEWS_DIR, 'public');

export interface AppOptions {
  /** default: the bundled models/ (or COOPCUT_MODELS_DIR) */
  modelsDir?: string;
  limits?: Partial<ImageLimits>;
  queue?: Partial<JobQueueOptions>;
  logger?: Logger;
}

/** What the routers share. */
export interface ServerContext {
  pool: ModelPool;
  queue: JobQueue;
  limits: ImageLimits;
  logger: Logger;
  startedAt: number;
  /** true once close() was called: new work is refused and connections are not kept alive */
  closing(): boolean;
}

export type CoopcutApp = Express & {
  readonly context: ServerContext;
  /** Refuse new translations, finish the queued and running ones, release the models. */
  close(): Promise<void>;
};

/** Responses are images and pages of this origin only; nothing is framed or fetched elsewhere. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; " +
      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  next();
};

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const t0 = performance.now();
    res.locals.startedAt = t0;
    res.on('finish', () => {
      const fields = { method: req.method, path: pathOf(req.originalUrl), status: res.statusCode, ms: Math.round(performance.now() - t0) };
      // Health probes and static files would drown the log at info level.
      if (fields.path === '/healthz' || fields.path.startsWith('/static/')) logger.debug('request', fields);
      else logger.info('request', fields);
    });
    next();
  };
}

export function createApp(options: AppOptions = {}): CoopcutApp {
  const logger = options.logger ?? createLogger();
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  const queue = createJobQueue(options.queue);
  const pool = createModelPool(options.modelsDir ?? defaultModelsDir(), limits, logger);
  let closing = false;
  const context: ServerContext = { pool, queue, limits, logger, startedAt: Date.now(), closing: () => closing };

  const app = express();
  app.disable('x-powered-by');
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  // Templates are part of the release; compiling them once per process is enough.
  app.set('view cache', process.env.NODE_ENV !== 'development');
  app.locals.maxUploadMb = Math.round((limits.maxFileBytes / 1024 / 1024) * 10) / 10;
  app.locals.limits = limits;
  app.locals.acceptedFormats = ACCEPTED_FORMATS_TEXT;
  Object.assign(app.locals, viewHelpers);

  app.use(securityHeaders);
  app.use(requestLog(logger));
  app.use((_req, res, next) => {
    if (closing) res.set('Connection', 'close');
    next();
  });
  app.use('/static', express.static(PUBLIC_DIR, { index: false, maxAge: '1h', fallthrough: true }));
  app.use(healthRouter(context));
  app.use('/api', apiRouter(context));
  app.use(pageRouter(context));
  app.use((req, _res, next) => next(new NotFoundError(req.path)));
  app.use(errorHandler(logger));

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      queue.close();
      await queue.drain();
      pool.dispose();
    })();
    return closed;
  };
  return Object.assign(app, { context, close });
}
