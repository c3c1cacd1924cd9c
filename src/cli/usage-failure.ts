/**
 * Errors a command reports as a usage problem (exit code 2, one line, no stack): bad flags, an
 * unknown or damaged model, a bad size, missing or empty image folders. Anything else is a bug.
 */
import { ImagingError } from '../imaging/errors.ts';
import { ModelFileError } from '../store/generator-file.ts';
import { UnknownModelError } from '../store/model-registry.ts';
import { InvalidSizeError } from '../translate/translator.ts';
import { UsageError } from './args.ts';

type ErrorClass = abstract new (...args: never[]) => Error;

const COMMON: readonly ErrorClass[] = [UsageError, UnknownModelError, ModelFileError, InvalidSizeError, ImagingError];

/** The message to print for a usage failure, or null when `err` is not one (rethrow it). */
export function usageFailure(err: unknown, extra: readonly ErrorClass[] = []): string | null {
  return [...COMMON, ...extra].some((cls) => err instanceof cls) ? (err as Error).message : null;
}
