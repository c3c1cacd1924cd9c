/**
 * Sample translations for the README: each input above its translations (one row per model), side
 * by side, one PNG.
 * usage: npx tsx data/sample-strip.ts --model NAME|DIR[,NAME|DIR...] --out FILE.png [--tile N] IMAGE...
 * Each image is translated at the first model's working size; --tile shrinks the shown tiles (default:
 * that size) so that a model working at 512 px still gives a strip a README can show.
 */
import fs from 'node:fs';
import sharp, { type OverlayOptions } from 'sharp';
import { resolveModel } from '../src/store/model-registry.ts';
import { loadTranslator } from '../src/translate/translator.ts';
import { decodeImage, type RgbImage } from '../src/imaging/codec.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const models = (arg('model') ?? 'horse2zebra').split(',');
const out = arg('out') ?? 'samples.png';
const inputs = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const translators = models.map((m) => loadTranslator(resolveModel(m)));
// every row at the first model's working size, so the tiles line up
const side = translators[0]!.workingSize;
const tile = Number(arg('tile') ?? side);
if (!Number.isInteger(tile) || tile < 16 || tile > side) throw new Error(`--tile must be an integer in [16, ${side}]`);
const raw = (img: RgbImage): Promise<Buffer> =>
  sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(tile, tile, { fit: 'fill' })
    .png()
    .toBuffer();
const tiles: OverlayOptions[] = [];
for (const [i, file] of inputs.entries()) {
  const input = await decodeImage(file, { resize: { fit: 'exact', width: side, height: side } });
  tiles.push({ input: await raw(input), left: i * tile, top: 0 });
  for (const [row, translator] of translators.entries()) {
    tiles.push({ input: await raw(translator.translateRgb(input)), left: i * tile, top: (row + 1) * tile });
  }
}
const strip = await sharp({
  create: { width: tile * inputs.length, height: tile * (1 + translators.length), channels: 3, background: { r: 255, g: 255, b: 255 } },
})
  .composite(tiles)
  .png()
  .toBuffer();
fs.writeFileSync(out, strip);
for (const t of translators) t.dispose();
process.stdout.write(
  `${out}: ${inputs.length} inputs translated by ${translators.map((t) => t.name).join(', ')} at ${side}px, shown at ${tile}px\n`,
);
