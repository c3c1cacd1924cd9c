/**
 * Folder translation (journey 3): plan which files to translate and where each output goes, then
 * run them through the same Translator as the web app.
 *
 * Safety: the output folder may be neither the input folder nor inside it, and no output path may
 * resolve (through symlinks) to an input file, so a run can never overwrite what it reads.
 *
 * Resumability: an output that already exists is skipped unless `overwrite`, and every output is
 * written to a hidden temp file and renamed into place, so an interrupted run leaves either a
 * complete file or none, and running the same command again finishes the job.
 *
 * Overlap: `concurrency` images are in flight at once. TensorFlow ops run synchronously on the main
 * thread, while sharp decodes and encodes on libuv's thread pool, so while the generator works on
 * one image the others are being read, decoded, encoded and written.
 */
import { lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { findImages } from '../data/image-folder.ts';
import { ImagingError } from '../imaging/errors.ts';
import type { OutputFormat } from '../imaging/codec.ts';
import type { Translator } from './translator.ts';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp'];
export const OUTPUT_EXTENSIONS: Record<OutputFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp' };
/**
 * Each image takes a dozen asynchronous steps (stat, read, header, decode, encode, open, write,
 * sync, rename), and each step needs the main thread to start the next, which it can do only between
 * generator calls; with four images in flight the next input is decoded by the time the generator is
 * free (measured: idle wait per image 26 ms at 1, 13 ms at 2, 4 ms at 4, 3 ms at 8).
 */
export const DEFAULT_CONCURRENCY = 4;

export type BatchPathErrorCode = 'input_missing' | 'output_not_folder' | 'unsafe_output';

export class BatchPathError extends Error {
  readonly code: BatchPathErrorCode;
  constructor(code: BatchPathErrorCode, message: string) {
    super(message);
    this.name = 'BatchPathError';
    this.code = code;
  }
}

export interface PlanOptions {
  /** an image file or a folder of images */
  input: string;
  /** folder that receives the outputs (created if missing) */
  output: string;
  format: OutputFormat;
  /** walk sub-folders and mirror them into the output (default false: top level only) */
  recursive?: boolean;
  /** translate again even where an output exists */
  overwrite?: boolean;
}

export interface BatchItem {
  input: string;
  output: string;
  /** input path relative to the input folder, for reports */
  rel: string;
}

export interface BatchPlan {
  /** the input folder (a single-file input: its folder) */
  inputRoot: string;
  outputRoot: string;
  format: OutputFormat;
  /** to translate */
  todo: BatchItem[];
  /** outputs that already exist and are kept */
  existing: BatchItem[];
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** realpath of a path that may not exist yet: its nearest existing ancestor, resolved, plus the rest. */
async function realpathLoose(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const parent = path.dirname(p);
    if (parent === p) return p;
    return path.join(await realpathLoose(parent), path.basename(p));
  }
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Output names: the input's relative path with the format's extension. Where two inputs would land
 * on one output (a.jpg and a.png), each keeps its own extension in front (a.jpg.png, a.png.png), so
 * nothing is silently overwritten and the names stay stable from run to run.
 */
export function outputRelPaths(rels: readonly string[], format: OutputFormat): string[] {
  const ext = OUTPUT_EXTENSIONS[format];
  const plain = rels.map((rel) => path.join(path.dirname(rel), path.parse(rel).name + ext));
  const count = new Map<string, number>();
  for (const p of plain) count.set(p, (count.get(p) ?? 0) + 1);
  return rels.map((rel, i) => {
    const p = plain[i]!;
    return (count.get(p) ?? 0) > 1 ? rel + ext : p;
  });
}

async function inputFiles(input: string, recursive: boolean): Promise<{ root: string; files: string[]; single: boolean }> {
  const s = await stat(input).catch(() => null);
  if (s === null) throw new BatchPathError('input_missing', `${input}: no such file or folder`);
  if (s.isDirectory()) return { root: input, files: await findImages(input, { recursive }), single: false };
  // A file named explicitly is taken whatever its extension; decoding decides what it is.
  return { root: path.dirname(input), files: [input], single: true };
}

/** Which inputs to translate and where each goes; throws BatchPathError on an unsafe layout. */
export async function planBatch(opts: PlanOptions): Promise<BatchPlan> {
  const input = path.resolve(opts.input);
  const outputRoot = path.resolve(opts.output);
  const { root, files, single } = await inputFiles(input, opts.recursive ?? false);

  const outStat = await stat(outputRoot).catch(() => null);
  if (outStat !== null && !outStat.isDirectory()) {
    throw new BatchPathError('output_not_folder', `${opts.output}: the output must be a folder`);
  }
  const realOut = await realpathLoose(outputRoot);
  const realIn = await realpath(input);
  if (!single && isInside(realOut, realIn)) {
    throw new BatchPathError(
      'unsafe_output',
      `the output folder ${opts.output} is ${realOut === realIn ? 'the input folder' : 'inside the input folder'}; choose a folder outside ${opts.input}`,
    );
  }
  const realInputs = new Set(await Promise.all(files.map((f) => realpath(f))));

  const rels = files.map((f) => path.relative(root, f));
  const outRels = outputRelPaths(rels, opts.format);
  const realDirs = new Map<string, Promise<string>>();
  const todo: BatchItem[] = [];
  const existing: BatchItem[] = [];
  for (let i = 0; i < files.length; i++) {
    const item: BatchItem = { input: files[i]!, output: path.join(outputRoot, outRels[i]!), rel: rels[i]! };
    // Resolve the output's folder as it is on disk: a symlinked sub-folder could lead back into the input.
    const dir = path.dirname(item.output);
    let realDir = realDirs.get(dir);
    if (realDir === undefined) {
      realDir = realpathLoose(dir);
      realDirs.set(dir, realDir);
    }
    const resolved = path.join(await realDir, path.basename(item.output));
    const there = await exists(item.output);
    const target = there ? await realpath(item.output).catch(() => resolved) : resolved;
    if (realInputs.has(target) || realInputs.has(resolved) || (!single && isInside(resolved, realIn))) {
      throw new BatchPathError('unsafe_output', `${item.output} would overwrite an input (${item.input})`);
    }
    if (there && !opts.overwrite) existing.push(item);
    else todo.push(item);
  }
  return { inputRoot: root, outputRoot, format: opts.format, todo, existing };
}

// --- running ------------------------------------------------------------------------------------

export type FailureReason = 'invalid_image' | 'unsupported_image_type' | 'image_too_large' | 'write_failed' | 'error';

export interface BatchFailure {
  item: BatchItem;
  reason: FailureReason;
  message: string;
}

export type ItemResult =
  | { ok: true; item: BatchItem; width: number; height: number; inferenceMs: number }
  | ({ ok: false } & BatchFailure);

export interface BatchOptions {
  translator: Pick<Translator, 'translateBuffer'>;
  /** longest side of the working resolution (default: the model's) */
  size?: number;
  quality?: number;
  /** images in flight at once (default DEFAULT_CONCURRENCY; 1 = strictly one after another) */
  concurrency?: number;
  /** stops taking new images; the ones in flight are finished */
  signal?: AbortSignal;
  onResult?: (result: ItemResult) => void;
}

export interface BatchSummary {
  translated: number;
  failures: BatchFailure[];
  /** true when the signal stopped the run before every image was tried */
  interrupted: boolean;
  seconds: number;
  /** time spent in the generator */
  inferenceSeconds: number;
}

/** Errors that every following write would hit too: stop instead of failing each image in turn. */
const FATAL_WRITE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

export class OutputWriteError extends Error {
  constructor(file: string, cause: unknown) {
    super(`cannot write ${file}: ${(cause as Error).message}`, { cause });
    this.name = 'OutputWriteError';
  }
}

let tempCounter = 0;

/** Temp file in the target's folder (a rename within one file system is atomic), then rename. */
export async function writeFileAtomicAsync(file: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  // Hidden, so that a leftover from a killed run is never listed as an image or taken for an output.
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${tempCounter++}`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      // Without it a crash soon after the rename can leave an empty file that the next run would skip.
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function failureOf(item: BatchItem, err: unknown): BatchFailure {
  if (err instanceof ImagingError && (err.code === 'invalid_image' || err.code === 'unsupported_image_type' || err.code === 'image_too_large')) {
    // The message names the absolute path; the report names the file relative to the input.
    const prefix = err.file === undefined ? '' : `${err.file}: `;
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return { item, reason: err.code, message };
  }
  return { item, reason: 'error', message: (err as Error).message ?? String(err) };
}

async function translateOne(item: BatchItem, format: OutputFormat, opts: BatchOptions): Promise<ItemResult> {
  let result;
  try {
    result = await opts.translator.translateBuffer(item.input, { format, size: opts.size, quality: opts.quality });
  } catch (err) {
    return { ok: false, ...failureOf(item, err) };
  }
  try {
    await writeFileAtomicAsync(item.output, result.data);
  } catch (err) {
    if (FATAL_WRITE_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw new OutputWriteError(item.output, err);
    return { ok: false, item, reason: 'write_failed', message: (err as Error).message };
  }
  return { ok: true, item, width: result.width, height: result.height, inferenceMs: result.inferenceMs };
}

/** Translate the plan's `todo` list; bad inputs are reported in the summary, not thrown. */
export async function runBatch(plan: BatchPlan, opts: BatchOptions): Promise<BatchSummary> {
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const start = performance.now();
  const failures: BatchFailure[] = [];
  let translated = 0;
  let inferenceMs = 0;
  let next = 0;
  let fatal: unknown = null;

  const worker = async (): Promise<void> => {
    while (fatal === null && !opts.signal?.aborted) {
      const item = plan.todo[next++];
      if (item === undefined) return;
      let r: ItemResult;
      try {
        r = await translateOne(item, plan.format, opts);
      } catch (err) {
        fatal = err;
        return;
      }
      if (r.ok) {
        translated++;
        inferenceMs += r.inferenceMs;
      } else {
        failures.push({ item: r.item, reason: r.reason, message: r.message });
      }
      opts.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, plan.todo.length)) }, worker));
  if (fatal !== null) throw fatal;

  failures.sort((a, b) => (a.item.rel < b.item.rel ? -1 : a.item.rel > b.item.rel ? 1 : 0));
  return {
    translated,
    failures,
    interrupted: next < plan.todo.length,
    seconds: (performance.now() - start) / 1000,
    inferenceSeconds: inferenceMs / 1000,
  };
}
