/** A PNG strip of images side by side (real A | fake B | real B, or more), for a glance at progress. */
import { tf, type Tensor4D } from '../tf.ts';
import { encodeImage, tensorToRgb } from '../imaging/codec.ts';

export async function sampleGrid(images: readonly Tensor4D[]): Promise<{ png: Buffer; width: number; height: number }> {
  const row = tf.tidy(() => tf.concat(images.map((t) => tf.slice(t, [0, 0, 0, 0], [1, -1, -1, -1])), 2) as Tensor4D);
  const rgb = tensorToRgb(row);
  row.dispose();
  const png = await encodeImage(rgb.data, rgb.width, rgb.height, 'png');
  return { png, width: rgb.width, height: rgb.height };
}
