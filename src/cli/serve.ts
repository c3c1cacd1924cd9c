/**
 * coopcut serve: the web app on HOST:PORT. On SIGTERM or SIGINT it stops accepting connections,
 * lets queued and running translations finish, then exits; a second signal exits at once.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { backend } from '../tf.ts';
import { ImageLimits } from '../config.ts';
import { defaultModelsDir } from '../store/model-registry.ts';
import { logger } from '../log/logger.ts';
import { createApp, type CoopcutApp } from '../server/app.ts';
import { DEFAULT_QUEUE_OPTIONS } from '../server/job-queue.ts';
import type { Translator } from '../translate/translator.ts';
import { parseFlags, helpText, UsageError, type FlagTable } from './args.ts';

const FLAGS: FlagTable = {
  port: { type: 'int', help: 'port (default: $PORT or 3000; 0 = any free port)', short: 'p' },
  host: { type: 'string', help: 'address to listen on (default: $HOST or 127.0.0.1)' },
  models: { type: 'string', help: 'models folder (default: the bundled models/)' },
  concurrency: { type: 'int', help: `translations running at once (default ${DEFAULT_QUEUE_OPTIONS.concurrency})` },
  queue: { type: 'int', help: `translations waiting before 503 (default ${DEFAULT_QUEUE_OPTIONS.maxQueue})` },
  'timeout-ms': { type: 'int', help: `deadline of one translation, queueing included (default ${DEFAULT_QUEUE_OPTIONS.timeoutMs})` },
  'max-upload-mb': { type: 'number', help: 'largest upload in MB (default 20)' },
  'max-pixels': { type: 'int', help: 'largest decoded image, width x height (default 50000000)' },
  'max-size': { type: 'int', help: 'largest working resolution a request may ask for (default 1024)' },
  'no-preload': { type: 'boolean', help: 'load (and warm up) the default model on the first request, not at start' },
};

function intFromEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`$${name} must be an integer, got '${v}'`);
  return n;
}

function listen(app: CoopcutApp, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function shutdownOnSignals(app: CoopcutApp, server: Server, graceMs: number): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('second signal: exiting without waiting', { signal });
        process.exit(1);
      }
      stopping = true;
      logger.info('shutting down: finishing in-flight translations', { signal, ...app.context.queue.stats() });
      const force = setTimeout(() => {
        logger.warn('in-flight work did not finish in time; closing connections', { graceMs });
        server.closeAllConnections();
      }, graceMs);
      force.unref();
      const closed = new Promise<void>((r) => server.close(() => r()));
      void app
        .close()
        .then(() => {
          // Keep-alive connections idle after their last response would otherwise hold close().
          server.closeIdleConnections();
          return closed;
        })
        .then(() => {
          clearTimeout(force);
          logger.info('stopped');
          resolve(0);
        });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/**
 * One forward pass at the working size before the first visitor: TensorFlow's first call of each
 * kernel shape is several times slower than the next ones.
 */
function warmUp(t: Translator): void {
  const side = t.workingSize;
  const t0 = performance.now();
  t.translateRgb({ data: new Uint8Array(side * side * 3).fill(128), width: side, height: side });
  logger.info('model warmed up', { model: t.name, side, ms: Math.round(performance.now() - t0) });
}

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseFlags(argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('serve', '[--port N] [--host ADDR] [--models DIR]', FLAGS));
    return 0;
  }
  const port = (values.port as number | undefined) ?? intFromEnv('PORT') ?? 3000;
  const host = (values.host as string | undefined) ?? process.env.HOST ?? '127.0.0.1';
  if (port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${port}`);
  const mb = values['max-upload-mb'] as number | undefined;
  const parsedLimits = ImageLimits.safeParse({
    ...(mb !== undefined ? { maxFileBytes: Math.round(mb * 1024 * 1024) } : {}),
    ...(values['max-pixels'] !== undefined ? { maxInputPixels: values['max-pixels'] } : {}),
    ...(values['max-size'] !== undefined ? { maxWorkingSide: values['max-size'] } : {}),
  });
  if (!parsedLimits.success) {
    throw new UsageError(`bad limit: ${parsedLimits.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  const limits = parsedLimits.data;
  const queue = {
    concurrency: (values.concurrency as number | undefined) ?? DEFAULT_QUEUE_OPTIONS.concurrency,
    maxQueue: (values.queue as number | undefined) ?? DEFAULT_QUEUE_OPTIONS.maxQueue,
    timeoutMs: (values['timeout-ms'] as number | undefined) ?? DEFAULT_QUEUE_OPTIONS.timeoutMs,
  };
  let app: CoopcutApp;
  try {
    app = createApp({ modelsDir: (values.models as string | undefined) ?? defaultModelsDir(), limits, queue, logger });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const { pool } = app.context;
  const models = pool.list().map((m) => m.name);
  const def = pool.defaultName();
  if (def === null) logger.warn('no trained models found; the page will say so', { modelsDir: pool.modelsDir });
  else if (!values['no-preload']) {
    try {
      warmUp(pool.get(def));
    } catch (err) {
      logger.error('the default model failed to load', { model: def, error: err });
    }
  }

  const server = await listen(app, port, host);
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  process.stdout.write(
    `coopcut: serving http://${shownHost}:${addr.port}/  (backend ${backend.name} via ${backend.package}, ` +
      `threads ${backend.threads}; models: ${models.length ? models.join(', ') : 'none'}${def ? `; default ${def}` : ''})\n`,
  );
  return shutdownOnSignals(app, server, queue.timeoutMs + 5000);
}
