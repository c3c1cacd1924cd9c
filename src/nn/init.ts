import type { Rng } from '../util/rng.ts';

/**
 * Xavier-normal weights scaled by `gain` (facts 1.8: CUT uses gain 0.02, i.e.
 * std = 0.02 * sqrt(2 / (fan_in + fan_out))). Fans follow PyTorch: for a conv,
 * fan_in = in * kh * kw and fan_out = out * kh * kw.
 */
export function xavierNormal(count: number, fanIn: number, fanOut: number, gain: number, rng: Rng): Float32Array {
  const std = gain * Math.sqrt(2 / (fanIn + fanOut));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal() * std;
  return out;
}
