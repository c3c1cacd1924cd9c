/**
 * Finding the images of a dataset folder (CUT's data/image_folder.py, facts 1.10): a recursive
 * walk, chosen by extension, sorted by full path so that indices are stable across machines.
 *
 * The extension only decides what is listed; what a file is gets decided by its content when it is
 * decoded (imaging/codec.ts). BMP is listed because CUT lists it, but sharp cannot decode it, so
 * such files are skipped with a warning at decode time. CUT's .ppm is left out for the same reason.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { EmptyFolderError, MissingFolderError } from '../imaging/errors.ts';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff']);

export interface FindImagesOptions {
  recursive?: boolean;
}

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

// Code-unit order, like Python's sorted() on str, rather than a locale-dependent collation.
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function walk(dir: string, recursive: boolean, seen: Set<string>, out: string[]): Promise<void> {
  // Symlinked folders are followed (datasets are often assembled from links); `seen` stops cycles.
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    // Hidden entries are skipped: .ipynb_checkpoints holds stale copies, ._x.jpg are macOS resource forks.
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const kind = entry.isSymbolicLink() ? await stat(path).catch(() => null) : entry;
    if (kind === null) continue;
    if (kind.isDirectory()) {
      if (recursive) await walk(path, recursive, seen, out);
    } else if (kind.isFile() && isImageFileName(entry.name)) {
      out.push(path);
    }
  }
}

/** Sorted image paths under `dir`; MissingFolderError / EmptyFolderError name the folder. */
export async function findImages(dir: string, opts: FindImagesOptions = {}): Promise<string[]> {
  if (!(await isDirectory(dir))) {
    const exists = await stat(dir).then(
      () => true,
      () => false,
    );
    throw new MissingFolderError(dir, exists ? 'not a folder' : 'folder does not exist');
  }
  const out: string[] = [];
  await walk(dir, opts.recursive ?? true, new Set(), out);
  if (out.length === 0) {
    throw new EmptyFolderError(dir, `folder contains no images (${[...IMAGE_EXTENSIONS].join(', ')})`);
  }
  return out.sort(byCodeUnit);
}
