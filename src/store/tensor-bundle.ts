/**
 * A named set of float32 arrays with a JSON header in one file:
 *   "COOPCUT1" | uint32 LE header length | header JSON | raw little-endian float32 data.
 * One file so that a checkpoint is replaced atomically as a whole.
 */
import fs from 'node:fs';
import { writeFileAtomic } from './atomic-write.ts';

const MAGIC = 'COOPCUT1';

export interface TensorEntry {
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export class CorruptBundleError extends Error {
  constructor(file: string, why: string) {
    super(`${file} is not a readable coopcut checkpoint: ${why}`);
    this.name = 'CorruptBundleError';
  }
}

export function writeBundle(file: string, meta: unknown, tensors: ReadonlyMap<string, TensorEntry>): void {
  const entries: HeaderEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const header = Buffer.from(JSON.stringify({ meta, tensors: entries }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const chunks: Uint8Array[] = [Buffer.from(MAGIC, 'ascii'), len, header];
  for (const t of tensors.values()) chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  writeFileAtomic(file, chunks);
}

export function readBundle<M>(file: string): { meta: M; tensors: Map<string, TensorEntry> } {
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw new CorruptBundleError(file, 'bad magic');
  const headerLen = buf.readUInt32LE(8);
  if (12 + headerLen > buf.length) throw new CorruptBundleError(file, 'truncated header');
  let header: { meta: M; tensors: HeaderEntry[] };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as { meta: M; tensors: HeaderEntry[] };
  } catch {
    throw new CorruptBundleError(file, 'header is not JSON');
  }
  const dataStart = 12 + headerLen;
  const total = header.tensors.reduce((s, e) => s + e.length, 0);
  if (dataStart + total * 4 !== buf.length) throw new CorruptBundleError(file, 'data length mismatch (truncated?)');
  // Copy into an aligned buffer: Float32Array views need 4-byte alignment.
  const data = new Float32Array(total);
  new Uint8Array(data.buffer).set(buf.subarray(dataStart));
  const tensors = new Map<string, TensorEntry>();
  for (const e of header.tensors) tensors.set(e.name, { shape: e.shape, data: data.subarray(e.offset, e.offset + e.length) });
  return { meta: header.meta, tensors };
}
