/**
 * The model card: what a model translates, how it was trained and how well it does. Written next to
 * model.json as card.json; the web app's models page and `coopcut info` read it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TrainOptions } from '../config.ts';
import { writeFileAtomic } from './atomic-write.ts';

export const CARD_FILE = 'card.json';

/** Where a warm-started run (--init-from) took its first weights from. */
export interface WarmStartRecord {
  /** the checkpoint file or model folder, as given */
  from: string;
  /** checkpoint: G, D and F; generator: G only (D and F start fresh) */
  kind: 'checkpoint' | 'generator';
  /** iterations that source had been trained for, when it says */
  iterations: number | null;
}

export interface StageRecord {
  name: string;
  iterations: number;
}

export interface EvalRecord {
  kid: number;
  kidSe: number;
  fid: number;
  n: { translated: number; reference: number };
}

export interface ModelCard {
  name: string;
  /** e.g. { a: 'horse', b: 'zebra' }: the model translates a -> b */
  domains: { a: string; b: string };
  /** the crop size the model was trained at */
  trainSize: number;
  /** the default translation resolution (longest side) */
  workingSize: number;
  mode: TrainOptions['mode'];
  preset: TrainOptions['preset'];
  options: TrainOptions;
  parameters: { G: number; D: number; F: number };
  training: {
    iterations: number;
    epochs: number;
    wallClockSeconds: number;
    backend: string;
    stages: StageRecord[];
    datasetSizes: { a: number; b: number };
    skippedFiles: number;
    finished: boolean;
    /** the run these weights started from (--init-from); iterations above count this run only */
    warmStart?: WarmStartRecord;
  };
  dataset: { name: string; licence: string };
  metrics?: Record<string, EvalRecord | Record<string, unknown>>;
  createdAt: string;
  updatedAt: string;
}

/** "horse2zebra" -> horse, zebra; anything else -> A, B (override with --domain-a/--domain-b). */
export function domainsFromDataroot(dataroot: string): { a: string; b: string } {
  const base = path.basename(path.resolve(dataroot));
  const m = /^([A-Za-z]+)2([A-Za-z]+)$/.exec(base);
  return m ? { a: m[1]!, b: m[2]! } : { a: 'A', b: 'B' };
}

export function licenceFor(dataroot: string): string {
  const base = path.basename(path.resolve(dataroot)).toLowerCase();
  if (base === 'horse2zebra') {
    return 'Trained on horse2zebra (CycleGAN release; images from ImageNet): non-commercial research and education use only.';
  }
  return 'Inherits the licence of its training images; check their terms before any use.';
}

/** Iterations behind the weights: this run's plus those of the run it was warm-started from. */
export function totalIterations(card: Pick<ModelCard, 'training'>): number {
  return card.training.iterations + (card.training.warmStart?.iterations ?? 0);
}

export function writeCard(dir: string, card: ModelCard): void {
  writeFileAtomic(path.join(dir, CARD_FILE), JSON.stringify(card, null, 2) + '\n');
}

export function readCard(dir: string): ModelCard | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, CARD_FILE), 'utf8')) as ModelCard;
  } catch {
    return null;
  }
}
