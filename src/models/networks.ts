/** G, D and F of one CUT model, built together from the network options and a seed. */
import type { NetworkOptions } from '../config.ts';
import { createRng, hashSeed } from '../util/rng.ts';
import { createGenerator, tapChannels, type Generator } from './generator.ts';
import { createDiscriminator, type Discriminator } from './discriminator.ts';
import { createPatchSampler, type PatchSampler } from './patch-sampler.ts';
import { disposeParams, type ParamSet } from '../nn/params.ts';

export interface Networks {
  g: Generator;
  d: Discriminator;
  f: PatchSampler;
}

export function createNetworks(net: NetworkOptions, seed: number): Networks {
  // Separate streams per network, so that changing D's width does not change G's initial weights.
  const g = createGenerator(net, createRng(hashSeed(seed, 1)), net.initGain);
  const d = createDiscriminator(net, createRng(hashSeed(seed, 2)), net.initGain);
  // F is created eagerly from the known tap widths; the official code builds it lazily on the first
  // batch ("data-dependent init") and then applies the same Xavier init, so the weights' law is equal.
  const f = createPatchSampler(tapChannels(g, net.nceLayers), net.netFNc, createRng(hashSeed(seed, 3)), net.initGain);
  return { g, d, f };
}

export function allParams(nets: Networks): Record<'G' | 'D' | 'F', ParamSet> {
  return { G: nets.g.params, D: nets.d.params, F: nets.f.params };
}

export function disposeNetworks(nets: Networks): void {
  for (const p of Object.values(allParams(nets))) disposeParams(p);
}
