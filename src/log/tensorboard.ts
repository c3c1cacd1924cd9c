/**
 * TensorBoard event files without TensorFlow: TFRecord-framed `Event` protobufs, encoded by hand.
 * Only the handful of fields TensorBoard needs for scalars and images are written (field numbers
 * from tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto).
 *
 * Records are buffered in memory and written with one synchronous write per flush, so a killed
 * process leaves only whole records on disk and loses at most the records since the last flush.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { maskedCrc32c } from './crc32c.ts';

export interface SummaryWriter {
  /** the event file being written */
  readonly path: string;
  scalar(tag: string, value: number, step: number): void;
  /** several scalars of one step in a single event (e.g. all losses of an iteration) */
  scalars(values: Record<string, number>, step: number): void;
  /** an already-encoded PNG; width and height are what TensorBoard shows before decoding */
  image(tag: string, png: Buffer, width: number, height: number, step: number): void;
  flush(): void;
  close(): void;
}

export interface SummaryWriterOptions {
  /** flush after this many buffered records (default 20) */
  flushEvery?: number;
  /** flush on the next write once this much time has passed since the last flush (default 2000) */
  flushMs?: number;
  /** clock in milliseconds, for wall_time and the file name; tests pin it */
  now?: () => number;
}

export class SummaryWriterClosedError extends Error {
  constructor(file: string) {
    super(`summary writer for ${file} is closed`);
    this.name = 'SummaryWriterClosedError';
  }
}

// --- protobuf wire format: just the pieces the two messages need --------------------------------

const Wire = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;
type Wire = (typeof Wire)[keyof typeof Wire];

function varint(value: bigint): Buffer {
  // int64 fields carry negatives as their 64-bit two's complement (ten bytes), as protobuf does.
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function key(field: number, wire: Wire): Buffer {
  return varint(BigInt((field << 3) | wire));
}

function intField(field: number, value: number): Buffer {
  return Buffer.concat([key(field, Wire.Varint), varint(BigInt(Math.trunc(value)))]);
}

function doubleField(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return Buffer.concat([key(field, Wire.Fixed64), b]);
}

function floatField(field: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return Buffer.concat([key(field, Wire.Fixed32), b]);
}

function bytesField(field: number, value: Buffer | string): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([key(field, Wire.Bytes), varint(BigInt(data.length)), data]);
}

// --- messages -----------------------------------------------------------------------------------

/** PNG colorspace code TensorBoard expects for RGB (summary.proto Image.colorspace). */
const COLORSPACE_RGB = 3;

function scalarValue(tag: string, value: number): Buffer {
  return Buffer.concat([bytesField(1, tag), floatField(2, value)]);
}

function imageValue(tag: string, png: Buffer, width: number, height: number): Buffer {
  const image = Buffer.concat([
    intField(1, height),
    intField(2, width),
    intField(3, COLORSPACE_RGB),
    bytesField(4, png),
  ]);
  return Buffer.concat([bytesField(1, tag), bytesField(4, image)]);
}

interface EventFields {
  wallTime: number;
  step: number;
  fileVersion?: string;
  /** encoded Summary.Value messages */
  values?: Buffer[];
}

export function encodeEvent(e: EventFields): Buffer {
  const parts = [doubleField(1, e.wallTime), intField(2, e.step)];
  if (e.fileVersion !== undefined) parts.push(bytesField(3, e.fileVersion));
  if (e.values !== undefined) parts.push(bytesField(5, Buffer.concat(e.values.map((v) => bytesField(1, v)))));
  return Buffer.concat(parts);
}

/** TFRecord framing: uint64 length, masked CRC of the length, data, masked CRC of the data. */
export function frameRecord(data: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([header, data, footer]);
}

// --- writer -------------------------------------------------------------------------------------

function eventFilePath(logdir: string, nowMs: number): string {
  const base = `events.out.tfevents.${Math.floor(nowMs / 1000)}.${os.hostname()}`;
  // Two writers started in the same second would interleave in one file; TensorBoard reads any
  // file whose name contains "tfevents", so a suffix keeps them apart.
  let candidate = path.join(logdir, base);
  for (let n = 1; fs.existsSync(candidate); n++) candidate = path.join(logdir, `${base}.${process.pid}.${n}`);
  return candidate;
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

export function createSummaryWriter(logdir: string, options: SummaryWriterOptions = {}): SummaryWriter {
  const now = options.now ?? Date.now;
  const flushEvery = options.flushEvery ?? 20;
  const flushMs = options.flushMs ?? 2000;
  fs.mkdirSync(logdir, { recursive: true });
  const file = eventFilePath(logdir, now());
  const fd = fs.openSync(file, 'a');
  let pending: Buffer[] = [];
  let lastFlush = now();
  let closed = false;

  const flush = (): void => {
    if (closed || pending.length === 0) return;
    const data = Buffer.concat(pending);
    pending = [];
    writeAll(fd, data);
    lastFlush = now();
  };

  const push = (event: EventFields): void => {
    if (closed) throw new SummaryWriterClosedError(file);
    pending.push(frameRecord(encodeEvent(event)));
    if (pending.length >= flushEvery || now() - lastFlush >= flushMs) flush();
  };

  const values = (vs: Buffer[], step: number): void => push({ wallTime: now() / 1000, step, values: vs });

  // TensorBoard identifies the format from this first event, so it goes to disk straight away.
  push({ wallTime: now() / 1000, step: 0, fileVersion: 'brain.Event:2' });
  flush();

  return {
    path: file,
    scalar: (tag, value, step) => values([scalarValue(tag, value)], step),
    scalars: (record, step) =>
      values(Object.entries(record).map(([tag, value]) => scalarValue(tag, value)), step),
    image: (tag, png, width, height, step) => values([imageValue(tag, png, width, height)], step),
    flush,
    close: () => {
      if (closed) return;
      flush();
      closed = true;
      fs.closeSync(fd);
    },
  };
}
