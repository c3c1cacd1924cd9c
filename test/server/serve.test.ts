/**
 * `coopcut serve` as a process: it prints its URL and backend, serves, and on SIGTERM lets the
 * translations it has accepted finish before exiting 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { images, tempModelsDir, type TempModels } from './helpers.ts';

let models: TempModels;
let child: ChildProcess | null = null;

beforeAll(() => {
  models = tempModelsDir([['tiny']]);
});

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  models.cleanup();
});

function startServe(args: string[]): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const proc = spawn(process.execPath, ['src/cli/coopcut.mjs', 'serve', ...args], {
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: '1', COOPCUT_QUIET_BACKEND: '1', COOPCUT_LOG_LEVEL: 'info', PORT: '', HOST: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ proc, url: m[1]!, output: () => out });
    };
    proc.stdout?.on('data', check);
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
}

it('starts, serves, and on SIGTERM finishes accepted work and exits 0', { timeout: 120_000 }, async () => {
  const started = await startServe(['--port', '0', '--host', '127.0.0.1', '--models', models.dir, '--timeout-ms', '30000']);
  child = started.proc;
  const { url } = started;
  expect(started.output()).toMatch(/serving http:\/\/127\.0\.0\.1:\d+\/ +\(backend \S+ via @tensorflow\/\S+, threads \d+; models: tiny; default tiny\)/);

  const health = (await (await fetch(`${url}healthz`)).json()) as { status: string; models: { loaded: string[] } };
  expect(health.status).toBe('ok');
  expect(health.models.loaded).toEqual(['tiny']);

  const photo = new Uint8Array(await images.jpeg(1024, 768));
  const post = async (): Promise<number> => {
    const form = new FormData();
    form.set('size', '512');
    form.set('image', new Blob([photo]), 'big.jpg');
    const res = await fetch(`${url}api/translate`, { method: 'POST', body: form });
    await res.arrayBuffer();
    return res.status;
  };
  const inFlight = Promise.all([post(), post(), post()]);
  // Once all three have arrived (queued, running or done), ask the server to stop.
  for (let t0 = Date.now(); Date.now() - t0 < 30_000; ) {
    const q = ((await (await fetch(`${url}healthz`)).json()) as { queue: { depth: number; completed: number } }).queue;
    if (q.depth + q.completed >= 3) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');

  expect(await inFlight).toEqual([200, 200, 200]);
  expect(await exited).toBe(0);
  expect(started.output()).toMatch(/shutting down/);
  expect(started.output()).toMatch(/stopped/);
  await expect(fetch(`${url}healthz`)).rejects.toThrow();
});

it('refuses bad flags with a usage message', { timeout: 60_000 }, async () => {
  const proc = spawn(process.execPath, ['src/cli/coopcut.mjs', 'serve', '--port', 'abc'], {
    env: { ...process.env, COOPCUT_QUIET_BACKEND: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  expect(code).not.toBe(0);
  expect(err).toContain('--port expects an integer');
});
