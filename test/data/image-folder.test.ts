import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findImages, isImageFileName } from '../../src/data/image-folder.ts';
import { DatasetFolderError, EmptyFolderError, MissingFolderError } from '../../src/imaging/errors.ts';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coopcut-folder-'));
  // Contents do not matter here: listing goes by name, decoding (elsewhere) by content.
  const files = ['b.png', 'a.JPG', 'c.jpeg', 'notes.txt', 'sub/d.webp', 'sub/deeper/e.TIFF', '.hidden.png', '.ipynb_checkpoints/a.png', 'f.bmp'];
  for (const f of files) {
    await mkdir(join(root, 'imgs', f, '..'), { recursive: true });
    await writeFile(join(root, 'imgs', f), 'x');
  }
  await mkdir(join(root, 'empty', 'sub'), { recursive: true });
  await writeFile(join(root, 'empty', 'readme.md'), 'no images');
  await writeFile(join(root, 'plain-file'), 'x');
  // a link back to an ancestor must not loop forever
  await symlink(join(root, 'imgs'), join(root, 'imgs', 'sub', 'loop'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('findImages', () => {
  it('walks recursively, by extension case-insensitively, sorted, skipping hidden entries', async () => {
    const dir = join(root, 'imgs');
    const found = await findImages(dir);
    expect(found).toEqual(['a.JPG', 'b.png', 'c.jpeg', 'f.bmp', 'sub/d.webp', 'sub/deeper/e.TIFF'].map((f) => join(dir, f)));
  });

  it('can stay in the top folder', async () => {
    const dir = join(root, 'imgs');
    expect(await findImages(dir, { recursive: false })).toEqual(['a.JPG', 'b.png', 'c.jpeg', 'f.bmp'].map((f) => join(dir, f)));
  });

  it('names the path of a missing folder', async () => {
    const dir = join(root, 'nowhere', 'trainA');
    const err = await findImages(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFolderError);
    expect(err).toBeInstanceOf(DatasetFolderError);
    expect(err).toMatchObject({ code: 'dataset_folder_missing', path: dir });
    expect((err as Error).message).toContain(dir);
  });

  it('treats a file in place of the folder as missing', async () => {
    await expect(findImages(join(root, 'plain-file'))).rejects.toThrow(/not a folder/);
  });

  it('names the path of a folder without images', async () => {
    const dir = join(root, 'empty');
    const err = await findImages(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmptyFolderError);
    expect(err).toMatchObject({ code: 'dataset_folder_empty', path: dir });
    expect((err as Error).message).toContain(dir);
  });

  it('isImageFileName', () => {
    expect(['x.PNG', 'y.tif', 'z.jpeg', 'w.webp'].every(isImageFileName)).toBe(true);
    expect(['x.gif', 'y.svg', 'png', 'a.png.txt'].some(isImageFileName)).toBe(false);
  });
});
