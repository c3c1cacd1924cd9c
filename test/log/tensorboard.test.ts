import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/log/crc32c.ts';
import { createSummaryWriter, encodeEvent } from '../../src/log/tensorboard.ts';

// --- a minimal reader, independent of the writer's encoding code --------------------------------

function unmask(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

function readRecords(file: string): Buffer[] {
  const buf = fs.readFileSync(file);
  const records: Buffer[] = [];
  let o = 0;
  while (o < buf.length) {
    const length = Number(buf.readBigUInt64LE(o));
    expect(unmask(buf.readUInt32LE(o + 8))).toBe(crc32c(buf.subarray(o, o + 8)));
    const data = buf.subarray(o + 12, o + 12 + length);
    expect(data.length).toBe(length);
    expect(unmask(buf.readUInt32LE(o + 12 + length))).toBe(crc32c(data));
    records.push(data);
    o += 16 + length;
  }
  expect(o).toBe(buf.length);
  return records;
}

type Field = { wire: 0; value: bigint } | { wire: 1 | 5 | 2; value: Buffer };

function readVarint(buf: Buffer, o: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[o++];
    if (b === undefined) throw new Error('truncated varint');
    v |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [v, o];
    shift += 7n;
  }
}

function decode(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let o = 0;
  while (o < buf.length) {
    const [key, next] = readVarint(buf, o);
    o = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let f: Field;
    if (wire === 0) {
      const [v, n] = readVarint(buf, o);
      f = { wire: 0, value: v };
      o = n;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      f = { wire, value: buf.subarray(o, o + size) };
      o += size;
    } else if (wire === 2) {
      const [len, n] = readVarint(buf, o);
      f = { wire: 2, value: buf.subarray(n, n + Number(len)) };
      o = n + Number(len);
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
    out.set(field, [...(out.get(field) ?? []), f]);
  }
  return out;
}

function one(m: Map<number, Field[]>, field: number): Field {
  const found = m.get(field);
  if (found?.length !== 1 || found[0] === undefined) throw new Error(`field ${field}: expected exactly one`);
  return found[0];
}
const bytes = (f: Field): Buffer => {
  if (f.wire === 0) throw new Error('not a bytes field');
  return f.value;
};
const int = (f: Field): number => {
  if (f.wire !== 0) throw new Error('not a varint field');
  return Number(BigInt.asIntN(64, f.value));
};

interface DecodedValue {
  tag: string;
  simple?: number;
  image?: { height: number; width: number; colorspace: number; png: Buffer };
}

interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: DecodedValue[];
}

function decodeEvent(data: Buffer): DecodedEvent {
  const m = decode(data);
  const ev: DecodedEvent = {
    wallTime: bytes(one(m, 1)).readDoubleLE(0),
    step: int(one(m, 2)),
    values: [],
  };
  if (m.has(3)) ev.fileVersion = bytes(one(m, 3)).toString('utf8');
  if (!m.has(5)) return ev;
  for (const vf of decode(bytes(one(m, 5))).get(1) ?? []) {
    const v = decode(bytes(vf));
    const dv: DecodedValue = { tag: bytes(one(v, 1)).toString('utf8') };
    if (v.has(2)) dv.simple = bytes(one(v, 2)).readFloatLE(0);
    if (v.has(4)) {
      const im = decode(bytes(one(v, 4)));
      dv.image = {
        height: int(one(im, 1)),
        width: int(one(im, 2)),
        colorspace: int(one(im, 3)),
        png: Buffer.from(bytes(one(im, 4))),
      };
    }
    ev.values.push(dv);
  }
  return ev;
}

// --- tests --------------------------------------------------------------------------------------

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coopcut-tb-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('encodeEvent', () => {
  it('matches hand-encoded protobuf bytes', () => {
    const value = Buffer.from([0x0a, 0x01, 0x61, 0x15, 0x00, 0x00, 0x80, 0x3f]); // tag "a", 1.0f
    const got = encodeEvent({ wallTime: 1.5, step: 3, values: [value] });
    const want = Buffer.concat([
      Buffer.from([0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]), // wall_time 1.5
      Buffer.from([0x10, 0x03]), // step 3
      Buffer.from([0x2a, 0x0a, 0x0a, 0x08]), // summary { value { ... } }
      value,
    ]);
    expect(got.equals(want)).toBe(true);
  });

  it('encodes negative and large int64 steps as protobuf does', () => {
    const neg = encodeEvent({ wallTime: 0, step: -1 }).subarray(9);
    expect([...neg]).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const big = encodeEvent({ wallTime: 0, step: 2 ** 40 }).subarray(9);
    expect(int(one(decode(big), 2))).toBe(2 ** 40);
  });
});

describe('createSummaryWriter', () => {
  it('writes scalars and images that decode back', () => {
    let clock = 1_700_000_000_123;
    const w = createSummaryWriter(path.join(dir, 'run'), { now: () => clock });
    expect(path.basename(w.path)).toBe(`events.out.tfevents.1700000000.${os.hostname()}`);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff)),
    ]);
    w.scalar('loss/G', 1.25, 10);
    clock += 500;
    w.scalars({ 'loss/D': 0.25, 'loss/NCE': 3.5 }, 11);
    w.image('samples/fake_B', png, 64, 32, 12);
    w.close();

    const events = readRecords(w.path).map(decodeEvent);
    expect(events).toHaveLength(4);
    const [first, g, dn, img] = events;
    expect(first?.fileVersion).toBe('brain.Event:2');
    expect(first?.step).toBe(0);
    expect(first?.wallTime).toBeCloseTo(1_700_000_000.123, 3);
    expect(g).toMatchObject({ step: 10, values: [{ tag: 'loss/G', simple: 1.25 }] });
    expect(g?.fileVersion).toBeUndefined();
    expect(dn?.step).toBe(11);
    expect(dn?.wallTime).toBeCloseTo(1_700_000_000.623, 3);
    expect(dn?.values).toEqual([
      { tag: 'loss/D', simple: 0.25 },
      { tag: 'loss/NCE', simple: 3.5 },
    ]);
    expect(img?.step).toBe(12);
    expect(img?.values[0]?.tag).toBe('samples/fake_B');
    expect(img?.values[0]?.image).toMatchObject({ height: 32, width: 64, colorspace: 3 });
    expect(img?.values[0]?.image?.png.equals(png)).toBe(true);
  });

  it('stores simple_value as a 32-bit float', () => {
    const w = createSummaryWriter(dir);
    w.scalar('x', 0.1, 1);
    w.close();
    const ev = decodeEvent(readRecords(w.path)[1] as Buffer);
    expect(ev.values[0]?.simple).toBe(Math.fround(0.1));
  });

  it('leaves only whole records on disk before a flush, and writes the rest on flush', () => {
    const w = createSummaryWriter(dir, { flushEvery: 100, flushMs: 60_000 });
    for (let i = 1; i <= 5; i++) w.scalar('x', i, i);
    // As if the process were killed now: the header event is on disk, the buffered ones are not.
    expect(readRecords(w.path)).toHaveLength(1);
    w.flush();
    expect(readRecords(w.path).map(decodeEvent).map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5]);
    w.close();
  });

  it('flushes by count', () => {
    const w = createSummaryWriter(dir, { flushEvery: 2, flushMs: 60_000 });
    w.scalar('x', 1, 1);
    expect(readRecords(w.path)).toHaveLength(1);
    w.scalar('x', 2, 2);
    expect(readRecords(w.path)).toHaveLength(3);
    w.close();
  });

  it('keeps two writers started in the same second in separate files', () => {
    const now = (): number => 1_700_000_000_000;
    const a = createSummaryWriter(dir, { now });
    const b = createSummaryWriter(dir, { now });
    expect(a.path).not.toBe(b.path);
    expect(path.basename(b.path)).toContain('tfevents');
    a.close();
    b.close();
  });

  it('refuses writes after close and tolerates a second close', () => {
    const w = createSummaryWriter(dir);
    w.close();
    w.close();
    expect(() => w.scalar('x', 1, 1)).toThrow(/closed/);
  });
});
