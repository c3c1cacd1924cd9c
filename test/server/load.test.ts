/**
 * Load: 208 requests from 16 concurrent clients over real HTTP on loopback against the tiny model.
 * Nothing but 503 may come back as a 5xx, every 200 must be a decodable image, the tensor count
 * must end where it started and the process must not grow without bound.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tf } from '../../src/tf.ts';
import { createApp, type CoopcutApp } from '../../src/server/app.ts';
import { images, quietLogger, tempModelsDir, type TempModels } from './helpers.ts';

const REQUESTS = 208;
const CLIENTS = 16;
const BUDGET_MS = 150_000;

let models: TempModels;
let app: CoopcutApp;
let server: Server;
let base = '';

beforeAll(async () => {
  models = tempModelsDir([['tiny']]);
  app = createApp({ modelsDir: models.dir, logger: quietLogger(), queue: { concurrency: 1, maxQueue: 32, timeoutMs: 30_000 } });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
  await new Promise<void>((r) => server.close(() => r()));
  models.cleanup();
});

interface Outcome {
  status: number;
  ms: number;
  body: Buffer;
  type: string;
  expect: { width: number; height: number } | null;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

it(`serves ${REQUESTS} requests at concurrency ${CLIENTS} without leaking`, { timeout: BUDGET_MS + 30_000 }, async () => {
  const inputs = [
    { name: 'a.jpg', data: await images.jpeg(96, 64), size: '64', expect: { width: 64, height: 43 } },
    { name: 'b.png', data: await images.png(80, 80), size: '48', expect: { width: 48, height: 48 } },
    { name: 'c.webp', data: await images.webp(64, 96), size: '96', expect: { width: 64, height: 96 } },
    { name: 'd.jpg', data: await images.exifRotatedJpeg(), size: '64', expect: { width: 32, height: 64 } },
    // failures inside the job must not leak either
    { name: 'e.jpg', data: await images.truncatedJpeg(), size: '64', expect: null },
  ];
  const send = async (i: number): Promise<Outcome> => {
    const input = inputs[i % inputs.length]!;
    const form = new FormData();
    form.set('size', input.size);
    form.set('image', new Blob([new Uint8Array(input.data)]), input.name);
    const t0 = performance.now();
    const res = await fetch(`${base}/api/translate`, { method: 'POST', body: form });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, ms: performance.now() - t0, body, type: res.headers.get('content-type') ?? '', expect: input.expect };
  };

  // Warm-up: loads the model (its weights are tensors that stay) and the first-call kernels.
  expect((await send(0)).status).toBe(200);
  const tensorsBefore = tf.memory().numTensors;
  const rssBefore = process.memoryUsage().rss;

  let next = 0;
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + BUDGET_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < REQUESTS && Date.now() < deadline) {
        outcomes.push(await send(next++));
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const rssAfter = process.memoryUsage().rss;
  const tensorsAfter = tf.memory().numTensors;

  const byStatus: Record<number, number> = {};
  for (const o of outcomes) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
  const ok = outcomes.filter((o) => o.status === 200);
  const latencies = ok.map((o) => o.ms).sort((a, b) => a - b);
  const report = {
    requests: outcomes.length,
    clients: CLIENTS,
    byStatus,
    wallSeconds: Number(wallS.toFixed(2)),
    throughputPerSecond: Number((outcomes.length / wallS).toFixed(1)),
    latencyMs200: { p50: Math.round(percentile(latencies, 50)), p95: Math.round(percentile(latencies, 95)), max: Math.round(latencies.at(-1) ?? 0) },
    rssMb: { before: Math.round(rssBefore / 2 ** 20), after: Math.round(rssAfter / 2 ** 20) },
    tensors: { before: tensorsBefore, after: tensorsAfter },
    backend: tf.getBackend(),
  };
  console.log(`load test: ${JSON.stringify(report)}`);
  mkdirSync('test-output', { recursive: true });
  writeFileSync(path.join('test-output', 'load-test.json'), JSON.stringify(report, null, 2) + '\n');

  expect(outcomes).toHaveLength(REQUESTS);
  for (const o of outcomes) {
    expect(o.status >= 500 && o.status !== 503, `unexpected ${o.status}: ${o.body.toString('utf8', 0, 200)}`).toBe(false);
    if (o.expect === null) expect([422, 503]).toContain(o.status);
  }
  for (const o of ok) {
    expect(o.type).toBe('image/png');
    const meta = await sharp(o.body).metadata();
    expect(meta.format).toBe('png');
    expect({ width: meta.width, height: meta.height }).toEqual(o.expect);
  }
  // The queue holds 32 and there are 16 clients: a 503 could only come from a 30 s timeout.
  const good = outcomes.filter((o) => o.expect !== null).length;
  expect(ok.length).toBeGreaterThanOrEqual(Math.floor(good * 0.9));
  expect(tensorsAfter).toBe(tensorsBefore);
  expect(rssAfter - rssBefore).toBeLessThan(300 * 2 ** 20);
  expect(app.context.queue.stats()).toMatchObject({ running: 0, queued: 0 });
});
