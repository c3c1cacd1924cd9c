import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../src/cli/eval.ts';
import type { EvalReport } from '../../src/metrics/evaluate.ts';
import { writeImages, writeTinyModel } from '../translate/tiny-model.ts';
import { captureIo } from './io.ts';

let tmp: string;
let model: string;
let testA: string;
let testB: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'coopcut-cli-eval-'));
  model = path.join(tmp, 'tiny');
  await mkdir(model);
  writeTinyModel(model);
  testA = path.join(tmp, 'testA');
  testB = path.join(tmp, 'testB');
  await writeImages(testA, 3, { seed: 1 });
  await writeImages(testB, 3, { seed: 2 });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

it('exits 2 on missing folders and flags', async () => {
  for (const argv of [
    ['--model', model, '--testA', testA],
    ['--model', model, '--testA', path.join(tmp, 'none'), '--testB', testB],
    ['--model', model, '--testA', testA, '--testB', testB, '--splits', '0'],
  ]) {
    const io = captureIo();
    expect(await run(argv, io)).toBe(2);
    expect(io.err()).toMatch(/^coopcut eval: /);
  }
});

it('prints JSON and leaves the card alone with --no-write', async () => {
  const cardBefore = await readFile(path.join(model, 'card.json'), 'utf8');
  const io = captureIo();
  expect(await run(['--model', model, '--testA', testA, '--testB', testB, '--json', '--no-write'], io)).toBe(0);
  const report = JSON.parse(io.out()) as EvalReport;
  expect(report.model).toBe('tiny');
  expect(report.translated.n).toEqual({ x: 3, y: 3 });
  expect(Number.isFinite(report.translated.kid) && Number.isFinite(report.identity.fid)).toBe(true);
  // three reference images cannot be halved into sets of three
  expect(report.floor).toBeNull();
  expect(await readFile(path.join(model, 'card.json'), 'utf8')).toBe(cardBefore);
}, 600_000);
