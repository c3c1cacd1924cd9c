import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';

const bin = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'coopcut.mjs');

test('coopcut info --json reports the native TensorFlow backend after npm install', () => {
  const out = execFileSync(process.execPath, [bin, 'info', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, COOPCUT_QUIET_BACKEND: '1' },
  });
  const info = JSON.parse(out) as { backend: string; tfjsVersion: string; threads: number; models: unknown[] };
  expect(info.backend).toBe('tensorflow');
  expect(info.tfjsVersion).toBe('4.22.0');
  expect(info.threads).toBeGreaterThan(0);
  expect(Array.isArray(info.models)).toBe(true);
}, 60_000);

test('an unknown command is a usage error, not a crash', () => {
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { status: number; stderr: string };
    status = e.status;
    stderr = e.stderr;
  }
  expect(status).toBe(2);
  expect(stderr).toMatch(/unknown command 'frobnicate'/);
});
