import { writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READABLE_FORMATS } from '../../src/imaging/codec.ts';
import { createApp, type CoopcutApp } from '../../src/server/app.ts';
import { images, quietLogger, tempModelsDir, type TempModels } from './helpers.ts';

let models: TempModels;
let app: CoopcutApp;

beforeAll(() => {
  models = tempModelsDir([['tiny'], ['tiny-b', { domains: { a: 'summer', b: 'winter' }, workingSize: 48, seed: 1 }]]);
  app = createApp({ modelsDir: models.dir, logger: quietLogger() });
});

afterAll(async () => {
  await app.close();
  models.cleanup();
});

function translate(target: CoopcutApp = app): request.Test {
  return request(target).post('/api/translate').responseType('blob');
}

async function expectImage(body: Buffer, format: 'png' | 'jpeg' | 'webp'): Promise<{ width: number; height: number }> {
  const meta = await sharp(body).metadata();
  expect(meta.format).toBe(format);
  return { width: meta.width, height: meta.height };
}

function errorOf(body: Buffer): { code: string; message: string } {
  const parsed = JSON.parse(body.toString('utf8')) as { error: { code: string; message: string } };
  expect(typeof parsed.error.message).toBe('string');
  expect(parsed.error.message).not.toMatch(/\n\s+at /);
  return parsed.error;
}

describe('GET /healthz and /api/models', () => {
  it('reports the backend, models and an idle queue', async () => {
    const res = await request(app).get('/healthz').expect(200);
    expect(res.body.status).toBe('ok');
    expect(typeof res.body.backend.name).toBe('string');
    expect(res.body.models.available).toEqual(['tiny', 'tiny-b']);
    expect(res.body.models.default).toBe('tiny');
    expect(res.body.queue).toMatchObject({ depth: 0, running: 0, queued: 0, concurrency: 1 });
    expect(typeof res.body.tensors).toBe('number');
  });

  it('lists the models with their cards', async () => {
    const res = await request(app).get('/api/models').expect(200).expect('Content-Type', /json/);
    expect(res.body.default).toBe('tiny');
    expect(res.body.models).toHaveLength(2);
    expect(res.body.models[1]).toMatchObject({ name: 'tiny-b', from: 'summer', to: 'winter', trainSize: 32, workingSize: 48 });
    expect(res.body.models[0].card.dataset.licence).toMatch(/licence/i);
  });
});

describe('POST /api/translate', () => {
  it('translates a JPEG to a PNG at the working size, with timing headers and a file name', async () => {
    const res = await translate().attach('image', await images.jpeg(96, 64), 'My Horse.jpg').expect(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['x-model']).toBe('tiny');
    expect(Number(res.headers['x-inference-ms'])).toBeGreaterThan(0);
    expect(Number(res.headers['x-elapsed-ms'])).toBeGreaterThanOrEqual(Number(res.headers['x-inference-ms']));
    expect(res.headers['server-timing']).toMatch(/inference;dur=[\d.]+/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="My-Horse-zebra.png"');
    expect(await expectImage(res.body as Buffer, 'png')).toEqual({ width: 64, height: 43 });
  });

  it('honours model, format and size', async () => {
    const jpeg = await translate()
      .field('model', 'tiny-b')
      .field('format', 'jpeg')
      .field('size', '32')
      .attach('image', await images.png(96, 64), 'field.png')
      .expect(200);
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
    expect(jpeg.headers['x-model']).toBe('tiny-b');
    expect(jpeg.headers['content-disposition']).toContain('filename="field-winter.jpg"');
    expect(await expectImage(jpeg.body as Buffer, 'jpeg')).toEqual({ width: 32, height: 21 });

    const webp = await translate().field('format', 'webp').attach('image', await images.jpeg(), 'a.jpg').expect(200);
    expect(webp.headers['content-type']).toBe('image/webp');
    await expectImage(webp.body as Buffer, 'webp');
  });

  it('uses the model card working size of the chosen model by default', async () => {
    const res = await translate().field('model', 'tiny-b').attach('image', await images.jpeg(64, 96), 'p.jpg').expect(200);
    expect(await expectImage(res.body as Buffer, 'png')).toEqual({ width: 32, height: 48 });
  });

  const accepted: Array<[string, () => Promise<Buffer>, [number, number]]> = [
    ['PNG with alpha', () => images.pngAlpha(48, 32), [64, 43]],
    ['16-bit PNG', () => images.png16(48, 32), [64, 43]],
    ['CMYK JPEG', () => images.cmykJpeg(48, 32), [64, 43]],
    ['WebP', () => images.webp(96, 64), [64, 43]],
    ['TIFF', () => images.tiff(96, 64), [64, 43]],
    // 40x30 frames: the output has the first frame's shape, not the stacked 40x60
    ['animated GIF', () => images.animatedGif(), [64, 48]],
  ];
  for (const [name, make, [w, h]] of accepted) {
    it(`accepts a ${name}`, async () => {
      const res = await translate().attach('image', await make(), 'input.bin').expect(200);
      expect(await expectImage(res.body as Buffer, 'png')).toEqual({ width: w, height: h });
    });
  }

  it.runIf(READABLE_FORMATS.has('avif'))('accepts AVIF', async () => {
    const res = await translate().attach('image', await images.avif(96, 64), 'a.avif').expect(200);
    await expectImage(res.body as Buffer, 'png');
  });

  it('applies the EXIF orientation: a landscape file tagged as rotated comes out portrait', async () => {
    const file = await images.exifRotatedJpeg();
    const stored = await sharp(file).metadata();
    expect([stored.width, stored.height, stored.orientation]).toEqual([80, 40, 6]);
    const res = await translate().attach('image', file, 'rotated.jpg').expect(200);
    expect(await expectImage(res.body as Buffer, 'png')).toEqual({ width: 32, height: 64 });
  });
});

describe('POST /api/translate refuses bad input with the right status, never a 500', () => {
  const cases: Array<[string, (t: request.Test) => request.Test | Promise<request.Response>, number, string]> = [
    ['no file', (t) => t.field('model', 'tiny'), 400, 'missing_file'],
    ['a JSON body', (t) => t.send({ image: 'x' }), 400, 'missing_file'],
    ['an empty file', (t) => t.attach('image', Buffer.alloc(0), 'empty.jpg'), 400, 'empty_file'],
    ['a file in the wrong field', async (t) => t.attach('photo', await images.jpeg(), 'a.jpg'), 400, 'bad_upload'],
    ['two files', async (t) => t.attach('image', await images.jpeg(), 'a.jpg').attach('image', await images.jpeg(), 'b.jpg'), 400, 'bad_upload'],
    ['a PNG declaring 50000x50000', (t) => t.attach('image', images.pngBomb(), 'bomb.png'), 413, 'image_too_large'],
    ['an SVG', (t) => t.attach('image', images.svg(), 'drawing.svg'), 415, 'unsupported_image_type'],
    ['an SVG named .jpg', (t) => t.attach('image', images.svg(), 'photo.jpg'), 415, 'unsupported_image_type'],
    ['a PDF', (t) => t.attach('image', images.pdf(), 'doc.pdf'), 415, 'unsupported_image_type'],
    ['random bytes named .png', (t) => t.attach('image', images.randomBytes(), 'noise.png'), 415, 'unsupported_image_type'],
    ['a truncated JPEG', async (t) => t.attach('image', await images.truncatedJpeg(), 'cut.jpg'), 422, 'invalid_image'],
    ['an unknown model', async (t) => t.field('model', 'nope').attach('image', await images.jpeg(), 'a.jpg'), 404, 'unknown_model'],
    ['a path as model', async (t) => t.field('model', '../../etc/passwd').attach('image', await images.jpeg(), 'a.jpg'), 404, 'unknown_model'],
    ['an unknown format', async (t) => t.field('format', 'bmp').attach('image', await images.jpeg(), 'a.jpg'), 400, 'invalid_parameter'],
    ['a size that is not a number', async (t) => t.field('size', 'big').attach('image', await images.jpeg(), 'a.jpg'), 400, 'invalid_parameter'],
    ['a size below the minimum', async (t) => t.field('size', '4').attach('image', await images.jpeg(), 'a.jpg'), 400, 'invalid_size'],
    ['a size above the cap', async (t) => t.field('size', '5000').attach('image', await images.jpeg(), 'a.jpg'), 400, 'invalid_size'],
    ['a quality of 0', async (t) => t.field('quality', '0').attach('image', await images.jpeg(), 'a.jpg'), 400, 'invalid_parameter'],
    ['a repeated field', async (t) => t.field('size', '32').field('size', '48').attach('image', await images.jpeg(), 'a.jpg'), 400, 'invalid_parameter'],
  ];
  for (const [name, build, status, code] of cases) {
    it(`${name}: ${status} ${code}`, async () => {
      const res = await build(translate());
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(errorOf(res.body as Buffer).code).toBe(code);
    });
  }

  it('a broken multipart body: 400', async () => {
    const res = await translate()
      .set('Content-Type', 'multipart/form-data; boundary=XYZ')
      .send('--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc');
    expect(res.status).toBe(400);
    expect(errorOf(res.body as Buffer).code).toBe('bad_upload');
  });

  it('an upload over the size limit: 413, before it is read into memory', async () => {
    const small = createApp({ modelsDir: models.dir, limits: { maxFileBytes: 10_000 }, logger: quietLogger() });
    const res = await translate(small).attach('image', images.randomBytes(50_000), 'big.jpg');
    expect(res.status).toBe(413);
    expect(errorOf(res.body as Buffer)).toMatchObject({ code: 'image_too_large' });
    await small.close();
  });

  it('an image over the pixel limit: 413', async () => {
    const small = createApp({ modelsDir: models.dir, limits: { maxInputPixels: 1000 }, logger: quietLogger() });
    const res = await translate(small).attach('image', await images.jpeg(96, 64), 'a.jpg');
    expect(res.status).toBe(413);
    expect(errorOf(res.body as Buffer).message).toMatch(/6144 pixels, the limit is 1000/);
    await small.close();
  });

  it('unknown API paths: JSON 404; a GET of /api/translate: 405', async () => {
    const res = await request(app).get('/api/nothing').expect(404).expect('Content-Type', /json/);
    expect(res.body.error.code).toBe('not_found');
    const get = await request(app).get('/api/translate').expect(405).expect('Allow', 'POST');
    expect(get.body.error.code).toBe('method_not_allowed');
  });

  it('a model whose weights are damaged: 500 with a generic message, no path or stack', async () => {
    const broken = tempModelsDir([['broken']]);
    writeFileSync(path.join(broken.dir, 'broken', 'weights.bin'), Buffer.alloc(10));
    const bad = createApp({ modelsDir: broken.dir, logger: quietLogger() });
    const res = await translate(bad).attach('image', await images.jpeg(), 'a.jpg').expect(500);
    const err = errorOf(res.body as Buffer);
    expect(err.code).toBe('model_unavailable');
    expect(err.message).not.toContain(broken.dir);
    await bad.close();
    broken.cleanup();
  });

  it('with no models installed: 404 that says so', async () => {
    const empty = tempModelsDir([]);
    const bare = createApp({ modelsDir: empty.dir, logger: quietLogger() });
    const res = await translate(bare).attach('image', await images.jpeg(), 'a.jpg').expect(404);
    expect(errorOf(res.body as Buffer).message).toMatch(/no trained models/);
    expect((await request(bare).get('/api/models').expect(200)).body).toEqual({ default: null, models: [] });
    await bare.close();
    empty.cleanup();
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('backpressure', () => {
  /** Occupies the only slot (and the waiting line) with jobs that finish when released. */
  function hold(target: CoopcutApp, n: number): { release: () => void; done: Promise<unknown> } {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = Promise.allSettled(Array.from({ length: n }, () => target.context.queue.run(() => gate)));
    return { release, done };
  }

  it('answers 503 with Retry-After when the queue is full', async () => {
    const busy = createApp({ modelsDir: models.dir, queue: { concurrency: 1, maxQueue: 1 }, logger: quietLogger() });
    const held = hold(busy, 2);
    const res = await translate(busy).attach('image', await images.jpeg(), 'a.jpg');
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(errorOf(res.body as Buffer).code).toBe('queue_full');
    held.release();
    await held.done;
    await translate(busy).attach('image', await images.jpeg(), 'a.jpg').expect(200);
    await busy.close();
  });

  it('drops a request that could not start before its deadline: 503, not a hang', async () => {
    const slow = createApp({ modelsDir: models.dir, queue: { concurrency: 1, maxQueue: 4, timeoutMs: 300 }, logger: quietLogger() });
    slow.context.pool.get('tiny');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The holding job gets its own deadline too; it only keeps the slot busy.
    const holding = slow.context.queue.run(() => gate).catch(() => undefined);
    const t0 = Date.now();
    const res = await translate(slow).attach('image', await images.jpeg(), 'a.jpg');
    expect(res.status).toBe(503);
    expect(errorOf(res.body as Buffer)).toMatchObject({ code: 'queue_timeout' });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(slow.context.queue.stats().queued).toBe(0);
    release();
    await holding;
    await slow.close();
  });

  it('after close(): finishes queued work, then refuses with 503 and /healthz says shutting_down', async () => {
    const closing = createApp({ modelsDir: models.dir, logger: quietLogger() });
    const jpeg = await images.jpeg();
    const held = hold(closing, 1);
    const inFlight = Promise.all([1, 2, 3].map(() => translate(closing).attach('image', jpeg, 'a.jpg').then((r) => r.status)));
    await waitFor(() => closing.context.queue.stats().queued === 3);
    const closed = closing.close();
    const late = await translate(closing).attach('image', jpeg, 'a.jpg');
    expect(late.status).toBe(503);
    expect(errorOf(late.body as Buffer).code).toBe('shutting_down');
    expect((await request(closing).get('/healthz').expect(503)).body.status).toBe('shutting_down');
    held.release();
    expect(await inFlight).toEqual([200, 200, 200]);
    await closed;
    await held.done;
  });
});
