import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { tf, type Tensor4D } from '../../src/tf.ts';
import { readBundle, writeBundle, CorruptBundleError } from '../../src/store/tensor-bundle.ts';
import { saveGenerator, loadGenerator, ModelFileError } from '../../src/store/generator-file.ts';
import { writeFileAtomic } from '../../src/store/atomic-write.ts';
import { createGenerator } from '../../src/models/generator.ts';
import { createRng } from '../../src/util/rng.ts';
import { disposeParams } from '../../src/nn/params.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-store-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('a tensor bundle round-trips and a truncated one is refused', () => {
  const file = path.join(tmp, 'a.ckpt');
  const tensors = new Map([
    ['x', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['y', { shape: [1], data: Float32Array.from([-7.5]) }],
  ]);
  writeBundle(file, { iteration: 3 }, tensors);
  const back = readBundle<{ iteration: number }>(file);
  expect(back.meta.iteration).toBe(3);
  expect(Array.from(back.tensors.get('x')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(back.tensors.get('y')!.shape).toEqual([1]);
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
  expect(() => readBundle(file)).toThrow(CorruptBundleError);
});

test('atomic writes leave no temp files and replace the whole content', () => {
  const file = path.join(tmp, 'atomic.txt');
  writeFileAtomic(file, 'old');
  writeFileAtomic(file, [Buffer.from('ne'), Buffer.from('w')]);
  expect(fs.readFileSync(file, 'utf8')).toBe('new');
  expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
});

test('a saved generator loads back and computes the same translation', () => {
  const shape = { inputNc: 3, outputNc: 3, ngf: 4, nBlocks: 2 };
  const g = createGenerator(shape, createRng(9), 0.5);
  const dir = path.join(tmp, 'gen');
  saveGenerator(dir, g, shape);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
  const { g: back } = loadGenerator(dir);
  const x = tf.randomUniform([1, 12, 20, 3], -1, 1) as Tensor4D;
  const a = g.forward(x);
  const b = back.forward(x);
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
  tf.dispose([x, a, b]);
  disposeParams(g.params);
  disposeParams(back.params);
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(10));
  expect(() => loadGenerator(dir)).toThrow(ModelFileError);
});
