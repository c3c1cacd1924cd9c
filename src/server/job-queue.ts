/**
 * Bounded job queue for inference. At most `concurrency` jobs run at once (default 1: TensorFlow's
 * ops already spread over every core, so parallel forward passes only fight over them) and at most
 * `maxQueue` wait; beyond that a job is refused at once (503 + Retry-After) instead of piling up
 * memory and latency.
 *
 * Every job has a deadline `timeoutMs` after it was submitted. A job still waiting at its deadline
 * is dropped without running. A running job cannot be interrupted (a forward pass is one
 * synchronous native call), so its caller is answered at the deadline while the job keeps its slot
 * until it settles: the concurrency bound holds even when callers have given up.
 */

export interface JobQueueOptions {
  /** jobs running at once */
  concurrency: number;
  /** jobs waiting (not counting running ones); 0 = refuse when all slots are busy */
  maxQueue: number;
  /** deadline per job, from submission, in milliseconds */
  timeoutMs: number;
}

export const DEFAULT_QUEUE_OPTIONS: JobQueueOptions = { concurrency: 1, maxQueue: 32, timeoutMs: 60_000 };

/** Refused on arrival: every slot busy and the waiting line full. */
export class QueueFullError extends Error {
  readonly code = 'queue_full';
  constructor(
    readonly retryAfterSeconds: number,
    maxQueue: number,
  ) {
    super(`the server is busy (${maxQueue} requests already waiting); try again in ${retryAfterSeconds} s`);
    this.name = 'QueueFullError';
  }
}

/**
 * The deadline passed. `started` tells whether the job was dropped unstarted (the server was too
 * busy: retry later) or ran too long (a smaller image or size will help).
 */
export class JobTimeoutError extends Error {
  readonly code: 'queue_timeout' | 'timeout';
  constructor(
    readonly started: boolean,
    readonly timeoutMs: number,
    readonly retryAfterSeconds = 1,
  ) {
    super(
      started
        ? `the translation took longer than ${timeoutMs} ms and was abandoned; try a smaller size`
        : `the server was too busy to start the translation within ${timeoutMs} ms; try again later`,
    );
    this.name = 'JobTimeoutError';
    this.code = started ? 'timeout' : 'queue_timeout';
  }
}

/** Submitted after close(): the server is shutting down. */
export class ShuttingDownError extends Error {
  readonly code = 'shutting_down';
  constructor() {
    super('the server is shutting down; try again shortly');
    this.name = 'ShuttingDownError';
  }
}

/** The caller's signal aborted while the job was still waiting (e.g. the client disconnected). */
export class JobAbortedError extends Error {
  readonly code = 'aborted';
  constructor() {
    super('the request was cancelled before the translation started');
    this.name = 'JobAbortedError';
  }
}

export interface JobTiming {
  /** milliseconds from submission to start */
  waitMs: number;
}

export type Job<T> = (timing: JobTiming) => Promise<T>;

export interface QueueStats {
  running: number;
  queued: number;
  concurrency: number;
  maxQueue: number;
  timeoutMs: number;
  completed: number;
  failed: number;
  rejected: number;
  timedOut: number;
  closed: boolean;
}

export interface JobQueue {
  /** Run `job` when a slot frees; rejects with the errors above. */
  run<T>(job: Job<T>, opts?: { signal?: AbortSignal }): Promise<T>;
  stats(): QueueStats;
  /** Seconds a client should wait before retrying, from recent job durations and the backlog. */
  retryAfterSeconds(): number;
  /** Refuse new jobs from now on; queued and running ones still complete. */
  close(): void;
  /** Resolves when nothing is queued or running. */
  drain(): Promise<void>;
}

interface Waiting {
  start: () => void;
}

function checkOptions(o: JobQueueOptions): void {
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${o.concurrency}`);
  if (!Number.isInteger(o.maxQueue) || o.maxQueue < 0) throw new RangeError(`maxQueue must be an integer >= 0, got ${o.maxQueue}`);
  if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${o.timeoutMs}`);
}

export function createJobQueue(options: Partial<JobQueueOptions> = {}): JobQueue {
  const opts: JobQueueOptions = { ...DEFAULT_QUEUE_OPTIONS, ...options };
  checkOptions(opts);
  const waiting: Waiting[] = [];
  let running = 0;
  let closed = false;
  const counts = { completed: 0, failed: 0, rejected: 0, timedOut: 0 };
  // Exponential moving average of job durations, for Retry-After; starts at one second.
  let avgJobMs = 1000;
  let idle: Array<() => void> = [];

  const notifyIfIdle = (): void => {
    if (running > 0 || waiting.length > 0) return;
    const resolvers = idle;
    idle = [];
    for (const r of resolvers) r();
  };

  const pump = (): void => {
    while (running < opts.concurrency) {
      const next = waiting.shift();
      if (!next) break;
      next.start();
    }
    notifyIfIdle();
  };

  const retryAfterSeconds = (): number => {
    const backlog = running + waiting.length;
    return Math.min(60, Math.max(1, Math.ceil((avgJobMs * backlog) / opts.concurrency / 1000)));
  };

  const run = <T>(job: Job<T>, runOpts: { signal?: AbortSignal } = {}): Promise<T> => {
    const { signal } = runOpts;
    if (closed) return Promise.reject(new ShuttingDownError());
    if (signal?.aborted) return Promise.reject(new JobAbortedError());
    if (running >= opts.concurrency && waiting.length >= opts.maxQueue) {
      counts.rejected++;
      return Promise.reject(new QueueFullError(retryAfterSeconds(), opts.maxQueue));
    }
    const submitted = performance.now();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let entry: Waiting | null = null;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const leaveQueue = (): boolean => {
        const i = entry ? waiting.indexOf(entry) : -1;
        if (i >= 0) waiting.splice(i, 1);
        return i >= 0;
      };
      const onAbort = (): void => {
        if (leaveQueue()) {
          finish(() => reject(new JobAbortedError()));
          notifyIfIdle();
        }
      };
      const timer = setTimeout(() => {
        counts.timedOut++;
        const unstarted = leaveQueue();
        finish(() => reject(new JobTimeoutError(!unstarted, opts.timeoutMs, retryAfterSeconds())));
        if (unstarted) notifyIfIdle();
      }, opts.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      entry = {
        start: () => {
          running++;
          const t0 = performance.now();
          // The slot is freed before the caller hears back, so what the caller sees next (stats,
          // the following job) is already consistent.
          const release = (): void => {
            avgJobMs = 0.8 * avgJobMs + 0.2 * (performance.now() - t0);
            running--;
          };
          // Invoked through a promise so that a job that throws synchronously still frees its slot.
          Promise.resolve()
            .then(() => job({ waitMs: t0 - submitted }))
            .then(
              (value) => {
                release();
                counts.completed++;
                finish(() => resolve(value));
                pump();
              },
              (err: unknown) => {
                release();
                counts.failed++;
                finish(() => reject(err));
                pump();
              },
            );
        },
      };
      waiting.push(entry);
      pump();
    });
  };

  return {
    run,
    retryAfterSeconds,
    stats: () => ({
      running,
      queued: waiting.length,
      concurrency: opts.concurrency,
      maxQueue: opts.maxQueue,
      timeoutMs: opts.timeoutMs,
      ...counts,
      closed,
    }),
    close: () => {
      closed = true;
    },
    drain: () =>
      new Promise<void>((resolve) => {
        idle.push(resolve);
        notifyIfIdle();
      }),
  };
}
