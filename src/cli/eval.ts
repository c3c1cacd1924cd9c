/**
 * coopcut eval: KID and FID of a model on test folders, with the identity and real-vs-real rows
 * (metrics/evaluate.ts), written into the model card unless --no-write.
 *
 * Exit codes: 0 done, 2 usage (bad flags, unknown model, missing or too small folders).
 */
import { DEFAULT_MODEL_NAME } from '../config.ts';
import { createProgress, type Progress } from '../log/progress.ts';
import {
  DEFAULT_FLOOR_SPLITS,
  EVAL_METRICS_KEY,
  EvalSetTooSmallError,
  evaluate,
  formatEvalTable,
  writeEvalToCard,
} from '../metrics/evaluate.ts';
import { releaseInceptionFeatures } from '../metrics/inception.ts';
import { defaultModelsDir, resolveModel } from '../store/model-registry.ts';
import { loadTranslator, type Translator } from '../translate/translator.ts';
import { usageFailure } from './usage-failure.ts';
import { parseFlags, helpText, UsageError, type FlagTable } from './args.ts';
import type { CliIo } from './translate.ts';

export const EVAL_FLAGS: FlagTable = {
  model: { type: 'string', help: `model name under models/ or a folder with model.json (default ${DEFAULT_MODEL_NAME})` },
  testA: { type: 'string', help: 'source-domain test images, translated by the model (required)' },
  testB: { type: 'string', help: 'target-domain test images, the reference (required)' },
  size: { type: 'int', help: "working resolution, longest side (default: the model's)" },
  splits: { type: 'int', help: `random testB halvings for the real-vs-real floor (default ${DEFAULT_FLOOR_SPLITS})` },
  seed: { type: 'int', help: 'seed of the floor splits (default 0)' },
  json: { type: 'boolean', help: 'print the result as JSON instead of a table' },
  'no-write': { type: 'boolean', help: "do not record the result in the model's card.json" },
  models: { type: 'string', help: 'models folder (default: the bundled models/)' },
};


export async function run(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed;
  let entry;
  let translator: Translator | undefined;
  try {
    parsed = parseFlags(argv, EVAL_FLAGS);
    if (parsed.help) {
      io.stdout.write(helpText('eval', '--testA DIR --testB DIR [options]', EVAL_FLAGS));
      return 0;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    if (!parsed.values.testA) throw new UsageError('--testA is required (the images to translate)');
    if (!parsed.values.testB) throw new UsageError('--testB is required (real images of the target domain)');
    const splits = parsed.values.splits as number | undefined;
    if (splits !== undefined && splits < 1) throw new UsageError('--splits must be at least 1');
    entry = resolveModel(
      (parsed.values.model as string | undefined) ?? DEFAULT_MODEL_NAME,
      (parsed.values.models as string | undefined) ?? defaultModelsDir(),
    );
    translator = loadTranslator(entry);
    translator.resolveSize(parsed.values.size as number | undefined);
  } catch (err) {
    translator?.dispose();
    const msg = usageFailure(err, [EvalSetTooSmallError]);
    if (msg === null) throw err;
    io.stderr.write(`coopcut eval: ${msg}\n`);
    return 2;
  }
  const loaded = translator;
  const { values } = parsed;
  // Created at the first report, when the number of images is known.
  const bar: { progress?: Progress } = {};
  try {
    const report = await evaluate(loaded, {
      testA: values.testA as string,
      testB: values.testB as string,
      size: values.size as number | undefined,
      floorSplits: values.splits as number | undefined,
      seed: values.seed as number | undefined,
      onProgress: (done, total) => {
        bar.progress ??= createProgress({ total, label: 'eval', unit: 'img', stream: io.stderr });
        bar.progress.set(done);
      },
    });
    bar.progress?.done();
    if (values['no-write'] !== true) {
      const card = writeEvalToCard(entry.dir, report);
      io.stderr.write(
        card ? `recorded in ${entry.dir}/card.json (metrics.${EVAL_METRICS_KEY})\n` : `${entry.dir} has no card.json; result not recorded\n`,
      );
    }
    io.stdout.write(values.json === true ? JSON.stringify(report, null, 2) + '\n' : formatEvalTable(report));
    return 0;
  } catch (err) {
    const msg = usageFailure(err, [EvalSetTooSmallError]);
    if (msg === null) throw err;
    io.stderr.write(`coopcut eval: ${msg}\n`);
    return 2;
  } finally {
    loaded.dispose();
    await releaseInceptionFeatures();
  }
}
