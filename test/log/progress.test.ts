import { describe, expect, it } from 'vitest';
import {
  createProgress,
  formatDuration,
  formatFields,
  formatRate,
  renderBar,
  renderProgressLine,
} from '../../src/log/progress.ts';

interface FakeStream {
  chunks: string[];
  isTTY: boolean;
  columns?: number;
  write(s: string): boolean;
}

function fakeStream(tty: boolean, columns?: number): FakeStream {
  const chunks: string[] = [];
  return { chunks, isTTY: tty, columns, write: (s: string) => (chunks.push(s), true) };
}

describe('formatting', () => {
  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45.4)).toBe('45s');
    expect(formatDuration(27 * 60 + 10)).toBe('27m10s');
    expect(formatDuration(3600 + 2 * 60 + 3)).toBe('1h02m03s');
    expect(formatDuration(2 * 86400 + 3 * 3600 + 59)).toBe('2d03h');
    expect(formatDuration(NaN)).toBe('--');
    expect(formatDuration(Infinity)).toBe('--');
  });

  it('formats rates, switching to s/it when slow', () => {
    expect(formatRate(2.3149)).toBe('2.31 it/s');
    expect(formatRate(0.25)).toBe('4.00 s/it');
    expect(formatRate(12, 'img')).toBe('12.00 img/s');
    expect(formatRate(0)).toBe('-- it/s');
    expect(formatRate(NaN)).toBe('-- it/s');
  });

  it('renders bars', () => {
    expect(renderBar(0, 10)).toBe('[>         ]');
    expect(renderBar(0.5, 10)).toBe('[=====>    ]');
    expect(renderBar(1, 10)).toBe('[==========]');
    expect(renderBar(1.7, 4)).toBe('[====]');
    expect(renderBar(-1, 4)).toBe('[>   ]');
  });

  it('formats fields', () => {
    expect(formatFields({ G: 1.2344, D: 0.2512, NCE: 3.21, lr: 2e-4, stage: 'coop', it: 7 })).toBe(
      'G 1.234 D 0.251 NCE 3.210 lr 2.00e-4 stage coop it 7',
    );
  });

  it('renders the whole line', () => {
    const line = renderProgressLine({
      label: 'train',
      done: 1234,
      total: 5000,
      rate: 2.31,
      seconds: 27 * 60 + 10,
      final: false,
      width: 11,
      unit: 'it',
      fields: { G: 1.234, D: 0.251, NCE: 3.21 },
    });
    expect(line).toBe('train  1234/5000 [==>        ] 24.7% 2.31 it/s ETA 27m10s | G 1.234 D 0.251 NCE 3.210');
  });
});

describe('createProgress', () => {
  it('prints a full line at most every intervalMs when not a TTY, and a final line', () => {
    let t = 0;
    const s = fakeStream(false);
    const p = createProgress({ total: 100, label: 'translate', stream: s, intervalMs: 5000, now: () => t, width: 10 });
    for (let i = 0; i < 100; i++) {
      t += 100; // 10 it/s
      p.tick(1, { loss: i / 100 });
    }
    p.done();
    p.done();
    p.tick();
    // 10 s of work: lines at 5 s and 10 s, plus the final one.
    expect(s.chunks).toEqual([
      'translate   50/100 [=====>    ] 50.0% 10.00 it/s ETA 5s | loss 0.490\n',
      'translate  100/100 [==========] 100.0% 10.00 it/s ETA 0s | loss 0.990\n',
      'translate  100/100 [==========] 100.0% 10.00 it/s in 10s | loss 0.990\n',
    ]);
  });

  it('tick merges fields, set replaces them', () => {
    let t = 0;
    const s = fakeStream(false);
    const p = createProgress({ total: 10, label: 'train', stream: s, intervalMs: 0, now: () => t, width: 4 });
    t += 1000;
    p.tick(1, { a: 1 });
    t += 1000;
    p.tick(1, { b: 2 });
    expect(s.chunks.at(-1)).toMatch(/\| a 1 b 2\n$/);
    t += 1000;
    p.set(3, { c: 3 });
    expect(s.chunks.at(-1)).toMatch(/\| c 3\n$/);
  });

  it('follows a rate change within the window', () => {
    let t = 0;
    const s = fakeStream(false);
    const p = createProgress({ total: 10_000, label: 'train', stream: s, intervalMs: 1000, now: () => t });
    for (let i = 0; i < 600; i++) {
      t += 100;
      p.tick(); // 10 it/s for 60 s
    }
    for (let i = 0; i < 600; i++) {
      t += 50;
      p.tick(); // then 20 it/s for 30 s
    }
    // The window spans the last ~30 s (plus one older sample), so the old rate has all but washed out.
    const rate = Number(/([\d.]+) it\/s/.exec(s.chunks.at(-1) ?? '')?.[1]);
    expect(rate).toBeGreaterThan(19.5);
    expect(rate).toBeLessThanOrEqual(20);
  });

  it('redraws one line with \\r on a TTY, throttled, and ends with a newline', () => {
    let t = 0;
    const s = fakeStream(true);
    const p = createProgress({ total: 10, label: 'x', stream: s, now: () => t });
    p.set(1);
    t += 100;
    p.set(2); // within 200 ms of start: not drawn
    t += 150;
    p.set(3, { G: 1 });
    p.done();
    expect(s.chunks).toHaveLength(2);
    expect(s.chunks.every((c) => c.startsWith('\r') && c.includes('\x1b[K'))).toBe(true);
    expect(s.chunks[0]).toContain('3/10');
    expect(s.chunks[0]?.endsWith('\n')).toBe(false);
    expect(s.chunks[1]?.endsWith('\n')).toBe(true);
  });

  it('cuts a TTY line to the terminal width so \\r can overwrite it', () => {
    let t = 0;
    const s = fakeStream(true, 20);
    const p = createProgress({ total: 10, label: 'a-long-label', stream: s, now: () => t });
    t += 1000;
    p.set(5, { G: 1.5 });
    expect(s.chunks[0]).toBe('\ra-long-label   5/10\x1b[K');
  });
});
