import { expect, test } from 'vitest';
import { epochOf, inDecayPhase, learningRate, lrFactor, totalIters } from '../../src/training/schedule.ts';

const cut = { nEpochs: 200, nEpochsDecay: 200, epochIters: 10 };

test("CUT's linear policy: constant for 200 epochs, then down to 1/201", () => {
  expect(lrFactor(1, cut)).toBe(1);
  expect(lrFactor(200, cut)).toBe(1);
  expect(lrFactor(201, cut)).toBeCloseTo(1 - 1 / 201, 12);
  expect(lrFactor(400, cut)).toBeCloseTo(1 / 201, 12);
  expect(lrFactor(500, cut)).toBeCloseTo(1 / 201, 12);
});

test('the LR steps once per epoch and the decay phase starts after nEpochs', () => {
  expect(epochOf(0, cut)).toBe(1);
  expect(epochOf(9, cut)).toBe(1);
  expect(epochOf(10, cut)).toBe(2);
  expect(learningRate(2e-4, 1999, cut)).toBe(2e-4);
  expect(learningRate(2e-4, 2000, cut)).toBeCloseTo(2e-4 * (200 / 201), 15);
  expect(inDecayPhase(1999, cut)).toBe(false);
  expect(inDecayPhase(2000, cut)).toBe(true);
  expect(totalIters(cut)).toBe(4000);
});
