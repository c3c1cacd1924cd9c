/**
 * The one place where errors become HTTP statuses. Modules below server/ throw typed errors with a
 * stable `code` and know nothing about HTTP; this table gives each its status, and the error
 * middleware answers JSON ({ error: { code, message } }) under /api and /healthz and an HTML page
 * everywhere else. A client's mistake is never a 500, and no response carries a stack trace.
 */
import type { ErrorRequestHandler, Request } from 'express';
import { ImageTooLargeError, InvalidImageError, UnsupportedImageTypeError } from '../imaging/errors.ts';
import { UnknownModelError } from '../store/model-registry.ts';
import { ModelFileError } from '../store/generator-file.ts';
import { InvalidSizeError } from '../translate/translator.ts';
import type { Logger } from '../log/logger.ts';
import { JobAbortedError, JobTimeoutError, QueueFullError, ShuttingDownError } from './job-queue.ts';
import { ACCEPTED_FORMATS_TEXT, InvalidParameterError, MalformedUploadError, MissingFileError } from './upload.ts';

/** A known path asked with the wrong method. */
export class MethodNotAllowedError extends Error {
  readonly code = 'method_not_allowed';
  constructor(
    method: string,
    readonly allow: string,
  ) {
    super(`${method} is not supported here; use ${allow}`);
    this.name = 'MethodNotAllowedError';
  }
}

/** No route for this path. */
export class NotFoundError extends Error {
  readonly code = 'not_found';
  constructor(path: string) {
    super(`there is no page or endpoint at ${path.slice(0, 200)}`);
    this.name = 'NotFoundError';
  }
}

export interface HttpProblem {
  status: number;
  code: string;
  /** safe to show to the client */
  message: string;
  retryAfterSeconds?: number;
  /** for 405: the methods that work */
  allow?: string;
}

/** Errors Express or its parsers raise with a client status (e.g. a malformed URL). */
function clientStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, expose } = err as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true ? status : undefined;
}

export function toHttpProblem(err: unknown): HttpProblem {
  const problem = (status: number, e: Error & { code: string }, retryAfterSeconds?: number): HttpProblem => ({
    status,
    code: e.code,
    message: e.message,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
  if (err instanceof MissingFileError || err instanceof InvalidParameterError || err instanceof MalformedUploadError) {
    return problem(400, err);
  }
  if (err instanceof InvalidSizeError) return problem(400, err);
  if (err instanceof ImageTooLargeError) return problem(413, err);
  if (err instanceof UnsupportedImageTypeError) {
    // The codec's message for unrecognised bytes already lists the formats; others get the list.
    const hint = /jpeg/i.test(err.message) ? '' : `; upload a photo as ${ACCEPTED_FORMATS_TEXT}`;
    return { status: 415, code: err.code, message: `${err.message}${hint}` };
  }
  if (err instanceof InvalidImageError) return problem(422, err);
  if (err instanceof UnknownModelError) return problem(404, err);
  if (err instanceof NotFoundError) return problem(404, err);
  if (err instanceof MethodNotAllowedError) return { ...problem(405, err), allow: err.allow };
  if (err instanceof QueueFullError) return problem(503, err, err.retryAfterSeconds);
  if (err instanceof JobTimeoutError) return err.started ? problem(504, err) : problem(503, err, err.retryAfterSeconds);
  if (err instanceof ShuttingDownError) return problem(503, err, 5);
  // Nobody is listening any more; the status only shows in the access log.
  if (err instanceof JobAbortedError) return problem(499, err);
  if (err instanceof ModelFileError) {
    return { status: 500, code: 'model_unavailable', message: 'the model files cannot be read right now; see the server log' };
  }
  const status = clientStatusOf(err);
  if (status !== undefined) {
    return { status, code: 'bad_request', message: err instanceof Error ? err.message : 'bad request' };
  }
  return { status: 500, code: 'internal', message: 'internal error; see the server log' };
}

/** The path without the query string, which may carry anything a client typed. */
export const pathOf = (url: string): string => url.split('?')[0] ?? url;

/** API clients get JSON, browsers get pages. */
export function wantsJson(req: Request): boolean {
  const url = req.originalUrl;
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/healthz');
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const p = toHttpProblem(err);
    const fields = { method: req.method, path: pathOf(req.originalUrl), status: p.status, code: p.code };
    if (p.status >= 500 && p.status !== 503 && p.status !== 504) {
      // The stack goes to the server log only; the client gets the generic message.
      logger.error('request failed', { ...fields, error: err, stack: err instanceof Error ? err.stack : undefined });
    } else {
      logger.debug('request refused', { ...fields, message: p.message });
    }
    if (res.headersSent) {
      // Half a response cannot be turned into an error page; let Express close the connection.
      next(err);
      return;
    }
    res.status(p.status);
    if (p.retryAfterSeconds !== undefined) res.set('Retry-After', String(p.retryAfterSeconds));
    if (p.allow !== undefined) res.set('Allow', p.allow);
    res.set('Cache-Control', 'no-store');
    if (wantsJson(req)) {
      res.json({ error: { code: p.code, message: p.message } });
      return;
    }
    res.render('error', { title: titleOf(p.status), problem: p }, (renderErr: Error | null, html?: string) => {
      if (renderErr || html === undefined) {
        logger.error('error page failed to render', { error: renderErr });
        res.type('text/plain').send(`${p.status} ${p.message}\n`);
        return;
      }
      res.type('html').send(html);
    });
  };
}

export function titleOf(status: number): string {
  const titles: Record<number, string> = {
    400: 'That request did not work',
    404: 'Not found',
    405: 'Not supported',
    413: 'Image too large',
    415: 'Not a supported image',
    422: 'The image could not be read',
    499: 'Request cancelled',
    500: 'Something went wrong on our side',
    503: 'Busy right now',
    504: 'That took too long',
  };
  return titles[status] ?? 'Error';
}
