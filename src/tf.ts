/**
 * The only module that imports TensorFlow.js.
 *
 * Picks the fastest backend that loads: @tensorflow/tfjs-node-gpu (CUDA), then @tensorflow/tfjs-node
 * (native TensorFlow on the CPU), then pure-JS @tensorflow/tfjs. The pure-JS fallback is ~200x slower
 * for these networks, so it is announced loudly on stderr, never silently.
 *
 * COOPCUT_BACKEND=gpu|native|js forces one (and fails loudly if it does not load).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import type * as TFJS from '@tensorflow/tfjs';

export type {
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Variable,
  Rank,
  NamedTensorMap,
  Scalar,
} from '@tensorflow/tfjs';

/** The tfjs-node extras we use (summary writer, fileSystem IO); absent on pure JS. */
export interface NodeExtras {
  io: { fileSystem: (path: string | string[]) => TFJS.io.IOHandler };
}

export type BackendKind = 'tensorflow-gpu' | 'tensorflow' | 'cpu-js';

export interface BackendInfo {
  /** tfjs backend name as reported by tf.getBackend() */
  name: string;
  kind: BackendKind;
  /** npm package that provided it */
  package: string;
  tfjsVersion: string;
  threads: number;
  /** why faster backends were not used, for the record */
  fallbacks: string[];
}

const require = createRequire(import.meta.url);
// TensorFlow's C++ INFO/WARNING chatter (oneDNN, CPU feature notes) is noise for CLI users.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

interface Loaded {
  tf: typeof TFJS;
  node: NodeExtras | null;
  info: BackendInfo;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

function load(): Loaded {
  const forced = process.env.COOPCUT_BACKEND;
  const candidates: Array<{ key: string; pkg: string; kind: BackendKind }> = [
    { key: 'gpu', pkg: '@tensorflow/tfjs-node-gpu', kind: 'tensorflow-gpu' },
    { key: 'native', pkg: '@tensorflow/tfjs-node', kind: 'tensorflow' },
    { key: 'js', pkg: '@tensorflow/tfjs', kind: 'cpu-js' },
  ];
  const fallbacks: string[] = [];
  for (const c of candidates) {
    if (forced && forced !== c.key) continue;
    // Without a CUDA driver the GPU build cannot work; skip it rather than dlopen CUDA libraries.
    if (c.key === 'gpu' && !forced && !hasCudaDriver()) {
      fallbacks.push(`${c.pkg}: no CUDA driver`);
      continue;
    }
    try {
      const mod = require(c.pkg) as typeof TFJS & Partial<NodeExtras>;
      const tf = mod;
      const node = c.kind === 'cpu-js' ? null : { io: { fileSystem: (mod as unknown as NodeExtras).io.fileSystem } };
      if (c.kind === 'cpu-js') tf.setBackend('cpu');
      const info: BackendInfo = {
        name: tf.getBackend(),
        kind: c.kind,
        package: c.pkg,
        tfjsVersion: tf.version.tfjs,
        threads: threadCount(c.kind),
        fallbacks,
      };
      if (c.kind === 'cpu-js') warnPureJs(fallbacks);
      return { tf, node, info };
    } catch (err) {
      fallbacks.push(`${c.pkg}: ${firstLine(err)}`);
      if (forced) {
        throw new Error(`COOPCUT_BACKEND=${forced} but ${c.pkg} does not load: ${firstLine(err)}`, { cause: err });
      }
    }
  }
  throw new Error(`no TensorFlow.js backend loads:\n  ${fallbacks.join('\n  ')}`);
}

function hasCudaDriver(): boolean {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/cuda/lib64', '/usr/lib']) {
    try {
      require('node:fs').accessSync(`${dir}/libcuda.so.1`);
      return true;
    } catch {
      /* try the next place */
    }
  }
  return false;
}

function threadCount(kind: BackendKind): number {
  if (kind === 'cpu-js') return 1;
  const env = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isFinite(env) && env > 0 ? env : os.availableParallelism();
}

function warnPureJs(fallbacks: string[]): void {
  if (process.env.COOPCUT_QUIET_BACKEND) return;
  const bar = '#'.repeat(78);
  process.stderr.write(
    [
      bar,
      '#  coopcut: NATIVE TENSORFLOW IS NOT AVAILABLE - RUNNING ON PURE JAVASCRIPT.',
      '#  Training and translation will be roughly 200x slower.',
      ...fallbacks.map((f) => `#    ${f}`),
      '#  Fix: npm rebuild (or set TF_WHEEL=/path/to/tensorflow_cpu-2.21.0-*.whl and run',
      '#  bash src/setup/native-tf.sh).',
      bar,
      '',
    ].join('\n'),
  );
}

const loaded = load();

export const tf = loaded.tf;
export const tfNode = loaded.node;
export const backend: BackendInfo = loaded.info;
