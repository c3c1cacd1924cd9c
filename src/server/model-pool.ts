/**
 * The models the server offers, each loaded at most once and kept for the life of the process:
 * loading reads and uploads megabytes of weights, which no request should pay twice.
 *
 * The listing is read from disk on each call (a few small files), so a model trained while the
 * server runs appears without a restart. A loaded model keeps the weights it was loaded with even
 * if training later rewrites its files; its card is the one read at load time, so what a response
 * says about a model matches the weights that produced it.
 */
import { DEFAULT_MODEL_NAME, type ImageLimits } from '../config.ts';
import { findModel, listModels, UnknownModelError, type ModelEntry } from '../store/model-registry.ts';
import { loadTranslator, type Translator } from '../translate/translator.ts';
import { totalIterations } from '../store/model-card.ts';
import type { Logger } from '../log/logger.ts';

export interface ModelPool {
  readonly modelsDir: string;
  /** registered models on disk, sorted by name */
  list(): ModelEntry[];
  /** DEFAULT_MODEL_NAME when installed, else the first model; null when there is none */
  defaultName(): string | null;
  /** the loaded translator for a registered name (or the default for undefined / '') */
  get(name?: string): Translator;
  /** names of the models loaded so far */
  loaded(): string[];
  dispose(): void;
}

export function pickDefault(models: readonly ModelEntry[]): string | null {
  return (models.find((m) => m.name === DEFAULT_MODEL_NAME) ?? models[0])?.name ?? null;
}

export function createModelPool(modelsDir: string, limits: ImageLimits, logger: Logger): ModelPool {
  const cache = new Map<string, Translator>();
  let disposed = false;
  const list = (): ModelEntry[] => listModels(modelsDir);
  const defaultName = (): string | null => pickDefault(list());

  return {
    modelsDir,
    list,
    defaultName,
    get(name) {
      if (disposed) throw new Error('the model pool was disposed');
      const wanted = name || defaultName();
      if (wanted === null) throw new UnknownModelError(name ?? '(default)', []);
      const hit = cache.get(wanted);
      if (hit) return hit;
      // findModel accepts registered names only, so a request can never name a path.
      const entry = findModel(wanted, modelsDir);
      const t0 = performance.now();
      const translator = loadTranslator(entry, limits);
      cache.set(entry.name, translator);
      logger.info('model loaded', { model: entry.name, ms: Math.round(performance.now() - t0), workingSize: translator.workingSize });
      return translator;
    },
    loaded: () => [...cache.keys()],
    dispose() {
      disposed = true;
      for (const t of cache.values()) t.dispose();
      cache.clear();
    },
  };
}

/** What a client needs to choose a model; the full card travels alongside. */
export interface ModelSummary {
  name: string;
  /** the domains it translates between, e.g. horse -> zebra ('A' -> 'B' without a card) */
  from: string;
  to: string;
  /** crop size the model was trained at */
  trainSize: number | null;
  /** default working resolution (longest side) */
  workingSize: number | null;
  iterations: number | null;
  isDefault: boolean;
}

export function summarizeModel(entry: Pick<ModelEntry, 'name' | 'card'>, defaultName: string | null): ModelSummary {
  const c = entry.card;
  return {
    name: entry.name,
    from: c?.domains.a ?? 'A',
    to: c?.domains.b ?? 'B',
    trainSize: c?.trainSize ?? null,
    workingSize: c?.workingSize ?? c?.trainSize ?? null,
    iterations: c ? totalIterations(c) : null,
    isDefault: entry.name === defaultName,
  };
}
