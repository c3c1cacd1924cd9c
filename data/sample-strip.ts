/**
 * Sample translations for the README: each input above its translation, side by side, one PNG.
 * usage: npx tsx data/sample-strip.ts --model NAME|DIR --out FILE.png IMAGE...
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

const model = arg('model') ?? 'horse2zebra';
const out = arg('out') ?? 'samples.png';
const inputs = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const translator = loadTranslator(resolveModel(model));
const side = translator.workingSize;
const tiles: OverlayOptions[] = [];
for (const [i, file] of inputs.entries()) {
  const input = await decodeImage(file, { resize: { fit: 'exact', width: side, height: side } });
  const output = translator.translateRgb(input);
  const raw = (img: RgbImage): Promise<Buffer> =>
    sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  tiles.push({ input: await raw(input), left: i * side, top: 0 }, { input: await raw(output), left: i * side, top: side });
}
const strip = await sharp({
  create: { width: side * inputs.length, height: side * 2, channels: 3, background: { r: 255, g: 255, b: 255 } },
})
  .composite(tiles)
  .png()
  .toBuffer();
fs.writeFileSync(out, strip);
translator.dispose();
process.stdout.write(`${out}: ${inputs.length} translations with ${translator.name} at ${side}px\n`);
