/**
 * How well a generator translated synthetic squares: mean colour distance of the square to the
 * target colour before and after, and the overlap of the output's foreground with the input's square.
 */
import path from 'node:path';
import { tf } from '../../src/tf.ts';
import type { Generator } from '../../src/models/generator.ts';
import { decodeImage, rgbToTensor, tensorToRgb } from '../../src/imaging/codec.ts';
import { maskIoU, meanColour, relativeForeground, shapeMask, type Rgb, type ShapeRecord } from '../../src/data/synthetic-shapes.ts';

export interface SquareScore {
  before: number;
  after: number;
  iou: number;
}

const dist = (a: Rgb, b: Rgb): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

export async function scoreSquares(g: Generator, dir: string, records: readonly ShapeRecord[], target: Rgb): Promise<SquareScore> {
  let before = 0;
  let after = 0;
  let iou = 0;
  for (const rec of records) {
    const img = await decodeImage(path.join(dir, rec.file));
    const x = rgbToTensor(img.data, img.width, img.height);
    const y = g.forward(x);
    const out = tensorToRgb(y);
    tf.dispose([x, y]);
    const truth = shapeMask(rec.shape, img.width, img.height);
    before += dist(meanColour(img, truth), target);
    after += dist(meanColour(out, truth), target);
    iou += maskIoU(relativeForeground(out), truth);
  }
  const n = records.length;
  return { before: before / n, after: after / n, iou: iou / n };
}
