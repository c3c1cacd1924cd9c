/**
 * The generator in standard TensorFlow.js artefact form: model.json (topology = the generator's
 * construction options, plus a weights manifest) and a binary weight shard. Anything that can run
 * src/models/generator.ts (Node or a browser) rebuilds the network from the options and loads the
 * weights with tf.io.decodeWeights.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf.ts';
import { createGenerator, type Generator, type GeneratorShape } from '../models/generator.ts';
import { createRng } from '../util/rng.ts';
import { writeFileAtomic } from './atomic-write.ts';

export const GENERATOR_FORMAT = 'coopcut-resnet-generator';
export const WEIGHTS_FILE = 'weights.bin';

export interface GeneratorTopology {
  class_name: 'CutResnetGenerator';
  config: GeneratorShape & { antialias: true; antialiasUp: true; normalization: 'instance'; padding: 'reflect' };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface ModelJson {
  format: typeof GENERATOR_FORMAT;
  generatedBy: string;
  convertedBy: null;
  modelTopology: GeneratorTopology;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

export class ModelFileError extends Error {
  constructor(dir: string, why: string) {
    super(`cannot load the generator in ${dir}: ${why}`);
    this.name = 'ModelFileError';
  }
}

export function saveGenerator(dir: string, g: Generator, shape: GeneratorShape): void {
  const specs: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, v] of g.params) {
    specs.push({ name, shape: v.shape, dtype: 'float32' });
    const data = v.dataSync() as Float32Array;
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  const json: ModelJson = {
    format: GENERATOR_FORMAT,
    generatedBy: 'coopcut',
    convertedBy: null,
    modelTopology: {
      class_name: 'CutResnetGenerator',
      config: {
        inputNc: shape.inputNc,
        outputNc: shape.outputNc,
        ngf: shape.ngf,
        nBlocks: shape.nBlocks,
        antialias: true,
        antialiasUp: true,
        normalization: 'instance',
        padding: 'reflect',
      },
    },
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };
  // Weights first, then the manifest that points at them: a reader never sees a manifest whose
  // weights are not there yet.
  writeFileAtomic(path.join(dir, WEIGHTS_FILE), chunks);
  writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(json, null, 1));
}

export function readModelJson(dir: string): ModelJson {
  const file = path.join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelFileError(dir, `model.json unreadable (${(err as Error).message})`);
  }
  if (json.format !== GENERATOR_FORMAT) throw new ModelFileError(dir, `unknown format ${String(json.format)}`);
  return json;
}

export function loadGenerator(dir: string): { g: Generator; shape: GeneratorShape } {
  const json = readModelJson(dir);
  const c = json.modelTopology.config;
  const shape: GeneratorShape = { inputNc: c.inputNc, outputNc: c.outputNc, ngf: c.ngf, nBlocks: c.nBlocks };
  const specs = json.weightsManifest.flatMap((m) => m.weights);
  const buffers = json.weightsManifest.flatMap((m) =>
    m.paths.map((p) => {
      const resolved = path.resolve(dir, p);
      if (path.dirname(resolved) !== path.resolve(dir)) throw new ModelFileError(dir, `weight path ${p} leaves the model folder`);
      return fs.readFileSync(resolved);
    }),
  );
  const all = Buffer.concat(buffers);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (all.length !== expected) throw new ModelFileError(dir, `weights are ${all.length} bytes, the manifest says ${expected}`);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const named = tf.io.decodeWeights(ab, specs);
  // Initialisation is overwritten at once; a fixed seed keeps construction cheap and deterministic.
  const g = createGenerator(shape, createRng(0), 0.02);
  try {
    for (const [name, v] of g.params) {
      const t = named[name];
      if (!t) throw new ModelFileError(dir, `weight ${name} missing`);
      if (t.shape.join('x') !== v.shape.join('x')) throw new ModelFileError(dir, `weight ${name} has shape ${t.shape.join('x')}`);
      v.assign(t);
    }
  } finally {
    tf.dispose(Object.values(named));
  }
  return { g, shape };
}
