/**
 * coopcut translate: an image or a folder of images -> an output folder, through the same
 * Translator as the web app (translate/batch.ts does the work).
 *
 * Exit codes: 0 done (or failures with --allow-failures), 1 some images failed, 2 usage or unsafe
 * paths, 130 interrupted (run the same command again to finish).
 */
import { DEFAULT_MODEL_NAME } from '../config.ts';
import type { OutputFormat } from '../imaging/codec.ts';
import { createProgress, formatDuration, formatRate, type ProgressStream } from '../log/progress.ts';
import { defaultModelsDir, resolveModel } from '../store/model-registry.ts';
import {
  BatchPathError,
  DEFAULT_CONCURRENCY,
  OUTPUT_FORMATS,
  planBatch,
  runBatch,
  type BatchPlan,
  type BatchSummary,
} from '../translate/batch.ts';
import { loadTranslator, type Translator } from '../translate/translator.ts';
import { usageFailure } from './usage-failure.ts';
import { parseFlags, helpText, UsageError, type FlagTable } from './args.ts';

export const TRANSLATE_FLAGS: FlagTable = {
  model: { type: 'string', help: `model name under models/ or a folder with model.json (default ${DEFAULT_MODEL_NAME})` },
  input: { type: 'string', short: 'i', help: 'an image file or a folder of images (required)' },
  output: { type: 'string', short: 'o', help: 'output folder, created if missing; never inside the input (required)' },
  format: { type: 'string', help: 'png | jpeg | webp (default png)' },
  quality: { type: 'int', help: 'jpeg/webp quality 1-100 (default 90)' },
  size: { type: 'int', help: "longest side of the working resolution (default: the model's)" },
  recursive: { type: 'boolean', short: 'r', help: 'walk sub-folders and mirror them into the output' },
  overwrite: { type: 'boolean', help: 'translate again where an output already exists (default: skip it)' },
  concurrency: { type: 'int', help: `images in flight at once, to overlap decode/inference/encode (default ${DEFAULT_CONCURRENCY})` },
  'allow-failures': { type: 'boolean', help: 'exit 0 even when some images could not be translated' },
  models: { type: 'string', help: 'models folder (default: the bundled models/)' },
};

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: ProgressStream;
}

const MAX_CONCURRENCY = 16;

interface TranslateArgs {
  model: string;
  input: string;
  output: string;
  format: OutputFormat;
  quality?: number;
  size?: number;
  recursive: boolean;
  overwrite: boolean;
  concurrency: number;
  allowFailures: boolean;
  modelsDir: string;
}

function isFormat(s: string): s is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(s);
}

/** Flags -> validated arguments; exported for tests. */
export function translateArgs(argv: string[]): TranslateArgs | 'help' {
  const { values, positionals, help } = parseFlags(argv, TRANSLATE_FLAGS);
  if (help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (use --input and --output)`);
  const input = values.input as string | undefined;
  const output = values.output as string | undefined;
  if (!input) throw new UsageError('--input is required (an image file or a folder)');
  if (!output) throw new UsageError('--output is required (a folder)');
  const format = (values.format as string | undefined) ?? 'png';
  if (!isFormat(format)) throw new UsageError(`--format must be png, jpeg or webp, not '${format}'`);
  const quality = values.quality as number | undefined;
  if (quality !== undefined && (quality < 1 || quality > 100)) throw new UsageError('--quality must be between 1 and 100');
  const concurrency = (values.concurrency as number | undefined) ?? DEFAULT_CONCURRENCY;
  if (concurrency < 1 || concurrency > MAX_CONCURRENCY) throw new UsageError(`--concurrency must be between 1 and ${MAX_CONCURRENCY}`);
  return {
    model: (values.model as string | undefined) ?? DEFAULT_MODEL_NAME,
    input,
    output,
    format,
    quality,
    size: values.size as number | undefined,
    recursive: values.recursive === true,
    overwrite: values.overwrite === true,
    concurrency,
    allowFailures: values['allow-failures'] === true,
    modelsDir: (values.models as string | undefined) ?? defaultModelsDir(),
  };
}

export function formatSummary(plan: BatchPlan, summary: BatchSummary): string {
  const lines = [
    `translated ${summary.translated} image${summary.translated === 1 ? '' : 's'} in ${formatDuration(summary.seconds)}` +
      ` (${formatRate(summary.translated / summary.seconds, 'img')}, generator ${formatDuration(summary.inferenceSeconds)}) -> ${plan.outputRoot}`,
  ];
  if (plan.existing.length > 0) lines.push(`kept ${plan.existing.length} existing output${plan.existing.length === 1 ? '' : 's'} (--overwrite to redo them)`);
  if (summary.interrupted) {
    const left = plan.todo.length - summary.translated - summary.failures.length;
    lines.push(`interrupted: ${left} not yet translated; run the same command again to finish`);
  }
  if (summary.failures.length > 0) {
    lines.push(`skipped ${summary.failures.length} file${summary.failures.length === 1 ? '' : 's'} that could not be translated:`);
    const width = Math.min(48, Math.max(...summary.failures.map((f) => f.item.rel.length)));
    for (const f of summary.failures) lines.push(`  ${f.item.rel.padEnd(width)}  ${f.reason.padEnd(22)}  ${f.message}`);
  }
  return lines.join('\n') + '\n';
}


export async function run(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let args: TranslateArgs | 'help';
  let plan: BatchPlan;
  let translator: Translator | undefined;
  try {
    args = translateArgs(argv);
    if (args === 'help') {
      io.stdout.write(helpText('translate', '--input FILE|DIR --output DIR [options]', TRANSLATE_FLAGS));
      return 0;
    }
    const entry = resolveModel(args.model, args.modelsDir);
    plan = await planBatch({ input: args.input, output: args.output, format: args.format, recursive: args.recursive, overwrite: args.overwrite });
    if (plan.todo.length === 0) {
      io.stdout.write(`nothing to do: all ${plan.existing.length} outputs exist in ${plan.outputRoot} (--overwrite to redo them)\n`);
      return 0;
    }
    translator = loadTranslator(entry);
    translator.resolveSize(args.size);
  } catch (err) {
    translator?.dispose();
    const msg = usageFailure(err, [BatchPathError]);
    if (msg === null) throw err;
    io.stderr.write(`coopcut translate: ${msg}\n`);
    return 2;
  }
  const loaded = translator;

  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr.write('\ncoopcut translate: interrupted: finishing the images in flight (again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = createProgress({ total: plan.todo.length, label: 'translate', unit: 'img', stream: io.stderr });
  let failed = 0;
  try {
    const summary = await runBatch(plan, {
      translator: loaded,
      size: args.size,
      quality: args.quality,
      concurrency: args.concurrency,
      signal: controller.signal,
      onResult: (r) => {
        if (!r.ok) failed++;
        progress.tick(1, failed > 0 ? { failed } : undefined);
      },
    });
    progress.done();
    io.stdout.write(formatSummary(plan, summary));
    if (summary.interrupted) return 130;
    return summary.failures.length > 0 && !args.allowFailures ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    loaded.dispose();
  }
}
