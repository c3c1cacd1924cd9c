/**
 * Warm start (--init-from): a new run whose networks begin with the weights of an earlier one,
 * with fresh Adam states, iteration 0 and a fresh LR schedule. This is how a model is fine-tuned on
 * a new pair of folders, or trained further with a new schedule, which --resume cannot do: resume
 * continues the saved run exactly, schedule included.
 *
 * The source is a checkpoint file, or a model folder (or registered name): its checkpoint when it
 * has one (G, D and F), otherwise its generator alone (model.json + weights.bin; D and F keep their
 * fresh initialisation). Shapes must match the new run's networks; a mismatch is a clear error
 * before any training.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf.ts';
import type { NetworkOptions } from '../config.ts';
import type { Networks } from '../models/networks.ts';
import { assignParams, CheckpointMismatchError, type CheckpointMeta } from '../store/checkpoint.ts';
import { loadGenerator } from '../store/generator-file.ts';
import { readCard, type WarmStartRecord } from '../store/model-card.ts';
import { resolveModel } from '../store/model-registry.ts';
import { readBundle } from '../store/tensor-bundle.ts';

export class WarmStartError extends Error {
  constructor(source: string, why: string) {
    super(`--init-from ${source}: ${why}`);
    this.name = 'WarmStartError';
  }
}

type Source = { kind: 'checkpoint'; file: string } | { kind: 'generator'; dir: string };

/** Which weights `source` names: a checkpoint file, a folder's checkpoint, or a folder's generator. */
export function locateWarmStart(source: string, modelsDir: string): Source {
  if (fs.existsSync(source) && fs.statSync(source).isFile()) return { kind: 'checkpoint', file: source };
  let dir: string;
  if (fs.existsSync(source) && fs.statSync(source).isDirectory()) {
    dir = source;
  } else {
    try {
      dir = resolveModel(source, modelsDir).dir;
    } catch (err) {
      throw new WarmStartError(source, (err as Error).message);
    }
  }
  const ckpt = path.join(dir, 'checkpoint', 'latest.ckpt');
  if (fs.existsSync(ckpt)) return { kind: 'checkpoint', file: ckpt };
  if (fs.existsSync(path.join(dir, 'model.json'))) return { kind: 'generator', dir };
  throw new WarmStartError(source, 'neither a checkpoint nor a model folder (no checkpoint/latest.ckpt or model.json)');
}

function sameNetworks(a: NetworkOptions, b: NetworkOptions): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Overwrite `nets`' weights from `source`; returns what was loaded, for the model card. */
export function applyWarmStart(source: string, nets: Networks, net: NetworkOptions, modelsDir: string): WarmStartRecord {
  const where = locateWarmStart(source, modelsDir);
  try {
    if (where.kind === 'checkpoint') {
      const { meta, tensors } = readBundle<CheckpointMeta>(where.file);
      if (meta.options?.net && !sameNetworks(meta.options.net, net)) {
        throw new WarmStartError(
          source,
          `its networks (${JSON.stringify(meta.options.net)}) differ from this run's (${JSON.stringify(net)}); use the same --preset`,
        );
      }
      for (const p of [nets.g.params, nets.d.params, nets.f.params]) assignParams(p, tensors);
      return { from: source, kind: 'checkpoint', iterations: meta.iteration ?? null };
    }
    const { g } = loadGenerator(where.dir);
    try {
      tf.tidy(() => {
        for (const [name, v] of nets.g.params) {
          const w = g.params.get(name);
          if (!w) throw new CheckpointMismatchError(`missing ${name}`);
          if (w.shape.join('x') !== v.shape.join('x')) {
            throw new CheckpointMismatchError(`${name} has shape ${w.shape.join('x')}, expected ${v.shape.join('x')}`);
          }
          v.assign(w);
        }
      });
    } finally {
      tf.dispose([...g.params.values()]);
    }
    return { from: source, kind: 'generator', iterations: readCard(where.dir)?.training.iterations ?? null };
  } catch (err) {
    if (err instanceof CheckpointMismatchError) throw new WarmStartError(source, `${err.message}; use the same --preset`);
    throw err;
  }
}
