/**
 * The trained models under a models/ folder: each subfolder with a model.json and a card.json.
 * Requests name models by their registered name only; a name is never joined to a path unchecked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readCard, type ModelCard } from './model-card.ts';
import { readModelJson } from './generator-file.ts';

export interface ModelEntry {
  name: string;
  dir: string;
  card: ModelCard | null;
}

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class UnknownModelError extends Error {
  readonly code = 'unknown_model';
  constructor(name: string, known: readonly string[]) {
    super(`unknown model '${name}'${known.length ? ` (available: ${known.join(', ')})` : ' (no trained models are installed)'}`);
    this.name = 'UnknownModelError';
  }
}

export function defaultModelsDir(): string {
  return process.env.COOPCUT_MODELS_DIR ?? path.resolve(import.meta.dirname, '..', '..', 'models');
}

/** Models with a readable generator, sorted by name. Broken folders are skipped, not fatal. */
export function listModels(modelsDir: string = defaultModelsDir()): ModelEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(modelsDir);
  } catch {
    return [];
  }
  const out: ModelEntry[] = [];
  for (const name of names.sort()) {
    if (!MODEL_NAME_PATTERN.test(name)) continue;
    const dir = path.join(modelsDir, name);
    try {
      readModelJson(dir);
    } catch {
      continue;
    }
    out.push({ name, dir, card: readCard(dir) });
  }
  return out;
}

/** Look a model up by registered name (never by path). */
export function findModel(name: string, modelsDir: string = defaultModelsDir()): ModelEntry {
  const models = listModels(modelsDir);
  const hit = MODEL_NAME_PATTERN.test(name) ? models.find((m) => m.name === name) : undefined;
  if (!hit) throw new UnknownModelError(name, models.map((m) => m.name));
  return hit;
}

/** A CLI argument may be a registered name or a folder holding model.json. */
export function resolveModel(nameOrDir: string, modelsDir: string = defaultModelsDir()): ModelEntry {
  if (fs.existsSync(path.join(nameOrDir, 'model.json'))) {
    const dir = path.resolve(nameOrDir);
    readModelJson(dir);
    return { name: path.basename(dir), dir, card: readCard(dir) };
  }
  return findModel(nameOrDir, modelsDir);
}
