import { describe, expect, it } from 'vitest';
import { createJobQueue, JobAbortedError, JobTimeoutError, QueueFullError, ShuttingDownError } from '../../src/server/job-queue.ts';
import { toHttpProblem } from '../../src/server/http-errors.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { open, wait };
}

describe('createJobQueue', () => {
  it('never runs more than `concurrency` jobs at once and runs them in order', async () => {
    const q = createJobQueue({ concurrency: 2, maxQueue: 10, timeoutMs: 5000 });
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const jobs = Array.from({ length: 8 }, (_, i) =>
      q.run(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await sleep(5);
        active--;
        return i * 10;
      }),
    );
    expect(await Promise.all(jobs)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(q.stats()).toMatchObject({ running: 0, queued: 0, completed: 8 });
  });

  it('refuses at once when every slot is busy and the line is full', async () => {
    const q = createJobQueue({ concurrency: 1, maxQueue: 1, timeoutMs: 5000 });
    const g = gate();
    const a = q.run(() => g.wait);
    const b = q.run(() => g.wait);
    const err = await q.run(() => g.wait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(toHttpProblem(err)).toMatchObject({ status: 503, code: 'queue_full' });
    g.open();
    await Promise.all([a, b]);
    expect(q.stats().rejected).toBe(1);
  });

  it('drops a job that has not started by its deadline, without running it', async () => {
    const q = createJobQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 50 });
    const g = gate();
    const blocker = q.run(() => g.wait).catch((e: unknown) => e);
    let ran = false;
    const err = await q
      .run(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobTimeoutError);
    expect((err as JobTimeoutError).started).toBe(false);
    expect(toHttpProblem(err)).toMatchObject({ status: 503, code: 'queue_timeout' });
    expect(q.stats().queued).toBe(0);
    g.open();
    // the blocker itself ran past its deadline: its caller was answered, the slot stayed taken
    expect(await blocker).toBeInstanceOf(JobTimeoutError);
    await q.drain();
    expect(ran).toBe(false);
  });

  it('answers a job that runs past its deadline with a 504 but keeps its slot until it ends', async () => {
    const q = createJobQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 40 });
    const g = gate();
    const err = await q.run(() => g.wait).catch((e: unknown) => e);
    expect((err as JobTimeoutError).started).toBe(true);
    expect(toHttpProblem(err)).toMatchObject({ status: 504, code: 'timeout' });
    expect(q.stats().running).toBe(1);
    g.open();
    await q.drain();
    expect(q.stats().running).toBe(0);
  });

  it('drops a waiting job whose signal aborts', async () => {
    const q = createJobQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 5000 });
    const g = gate();
    const first = q.run(() => g.wait);
    const ac = new AbortController();
    let ran = false;
    const second = q.run(async () => void (ran = true), { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await second).toBeInstanceOf(JobAbortedError);
    expect(q.stats().queued).toBe(0);
    g.open();
    await first;
    expect(ran).toBe(false);
  });

  it('frees the slot when a job throws, even synchronously', async () => {
    const q = createJobQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 5000 });
    await expect(
      q.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await q.run(async () => 'next')).toBe('next');
    expect(q.stats()).toMatchObject({ failed: 1, completed: 1, running: 0 });
  });

  it('after close() refuses new jobs but completes queued ones; drain() waits for them', async () => {
    const q = createJobQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 5000 });
    const g = gate();
    const done: number[] = [];
    const jobs = [1, 2, 3].map((i) =>
      q.run(async () => {
        await g.wait;
        done.push(i);
      }),
    );
    q.close();
    await expect(q.run(async () => 0)).rejects.toBeInstanceOf(ShuttingDownError);
    let drained = false;
    const draining = q.drain().then(() => (drained = true));
    await sleep(10);
    expect(drained).toBe(false);
    g.open();
    await Promise.all(jobs);
    await draining;
    expect(done).toEqual([1, 2, 3]);
  });

  it('rejects nonsense options', () => {
    expect(() => createJobQueue({ concurrency: 0 })).toThrow(RangeError);
    expect(() => createJobQueue({ maxQueue: -1 })).toThrow(RangeError);
    expect(() => createJobQueue({ timeoutMs: 0 })).toThrow(RangeError);
  });
});
