import { expect, test } from 'vitest';
import { markdownTable, runModeCoverage, stillGrey } from '../../src/experiments/mode-coverage.ts';
import { DEFAULT_PALETTE_8, relativeForeground, renderShape, shapeMask, type Rgb } from '../../src/data/synthetic-shapes.ts';

const square = { kind: 'square' as const, cx: 12, cy: 14, r: 5 };

test('a square still nearer the grey input than any palette colour counts as still grey', () => {
  const mask = shapeMask(square, 32);
  const palette = DEFAULT_PALETTE_8;
  expect(stillGrey(renderShape(square, 32, [160, 160, 160]), mask, palette)).toBe(true);
  expect(stillGrey(renderShape(square, 32, [150, 170, 150]), mask, palette)).toBe(true);
  const nearBlue: Rgb = [palette[2]![0] + 20, palette[2]![1] - 20, palette[2]![2]];
  expect(stillGrey(renderShape(square, 32, nearBlue), mask, palette)).toBe(false);
});

test('the relative foreground finds the square even on a shifted background', () => {
  const img = renderShape(square, 32, [200, 40, 40], [60, 60, 90]);
  expect(Array.from(relativeForeground(img))).toEqual(Array.from(shapeMask(square, 32)));
});

test('a miniature benchmark run reports both methods with timings', async () => {
  const report = await runModeCoverage({ seeds: 1, iters: 4, coopIters: 2, trainA: 8, trainB: 16, testA: 8 });
  expect(report.runs.map((r) => r.method)).toEqual(['cut', 'coopinit']);
  for (const r of report.runs) {
    expect(r.histogram).toHaveLength(8);
    expect(r.histogram.reduce((a, b) => a + b, 0) + r.unassigned).toBe(8);
    expect(r.stillGrey).toBeGreaterThanOrEqual(0);
    expect(r.tv).toBeGreaterThanOrEqual(0);
    expect(r.tv).toBeLessThanOrEqual(1);
  }
  expect(Object.keys(report.runs[1]!.msPerIter).sort()).toEqual(['adversarial', 'cooperative']);
  expect(report.table).toBe(markdownTable(report.summary, 8, 8));
  expect(report.table).toMatch(/\| coopinit \| 1 \|/);
}, 120_000);
