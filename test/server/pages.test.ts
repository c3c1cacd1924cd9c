import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type CoopcutApp } from '../../src/server/app.ts';
import { metricRows } from '../../src/server/routes/pages.ts';
import { images, quietLogger, tempModelsDir, type TempModels } from './helpers.ts';

let models: TempModels;
let app: CoopcutApp;

const METRICS = { 'test-2026': { kid: 0.0123, kidSe: 0.0011, fid: 65.4, n: { translated: 120, reference: 140 } } };

beforeAll(() => {
  models = tempModelsDir([['horse2zebra', { metrics: METRICS }], ['alpha', { domains: { a: 'apple', b: 'orange' }, warmStart: { from: 'base.ckpt', kind: 'checkpoint', iterations: 100 } }]]);
  app = createApp({ modelsDir: models.dir, logger: quietLogger() });
});

afterAll(async () => {
  await app.close();
  models.cleanup();
});

function dataUrls(html: string): string[] {
  return [...html.matchAll(/src="(data:image\/[a-z]+;base64,[A-Za-z0-9+/=]+)"/g)].map((m) => m[1]!);
}

function noStackTrace(html: string): void {
  expect(html).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  expect(html).not.toContain('node_modules');
}

describe('home page', () => {
  it('offers every model with its direction and training size, the default checked', async () => {
    const res = await request(app).get('/').expect(200).expect('Content-Type', /html/);
    expect(res.text).toContain('action="/translate"');
    expect(res.text).toContain('enctype="multipart/form-data"');
    expect(res.text).toMatch(/value="horse2zebra" checked/);
    expect(res.text).toMatch(/value="alpha">/);
    expect(res.text).toContain('horse → zebra');
    expect(res.text).toContain('apple → orange');
    expect(res.text).toContain('trained at 32 px');
    // a warm-started model counts the iterations of its source too
    expect(res.text).toMatch(/ 42 iterations</);
    expect(res.text).toContain(' 142 iterations');
    expect(res.text).toContain('name="image"');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('says clearly when no models are installed', async () => {
    const empty = tempModelsDir([]);
    const bare = createApp({ modelsDir: empty.dir, logger: quietLogger() });
    const res = await request(bare).get('/').expect(200);
    expect(res.text).toContain('No trained models are installed');
    expect(res.text).not.toContain('id="translate-form"');
    expect((await request(bare).get('/models').expect(200)).text).toContain('No trained models are installed');
    await bare.close();
    empty.cleanup();
  });

  it('serves the stylesheet and the script', async () => {
    await request(app).get('/static/style.css').expect(200).expect('Content-Type', /css/);
    await request(app).get('/static/app.js').expect(200).expect('Content-Type', /javascript/);
  });
});

describe('the plain form POST (no JavaScript)', () => {
  it('returns a page with the original and the translated image and a download link', async () => {
    const res = await request(app)
      .post('/translate')
      .field('model', 'alpha')
      .field('format', 'jpeg')
      .attach('image', await images.jpeg(96, 64), 'fruit.jpg')
      .expect(200)
      .expect('Content-Type', /html/);
    const urls = dataUrls(res.text);
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      const meta = await sharp(Buffer.from(url.split(',')[1]!, 'base64')).metadata();
      expect([meta.width, meta.height]).toEqual([64, 43]);
    }
    expect(urls[1]).toMatch(/^data:image\/jpeg;/);
    expect(res.text).toContain('download="fruit-orange.jpg"');
    expect(res.text).toMatch(/took [\d.]+ m?s/);
    expect(res.text).toContain('apple → orange');
  });

  const failures: Array<[string, () => Promise<Buffer> | Buffer, number, RegExp]> = [
    ['an SVG', () => images.svg(), 415, /svg is not an image format we accept/i],
    ['a truncated JPEG', () => images.truncatedJpeg(), 422, /cannot decode jpeg/i],
    ['a decompression bomb', () => images.pngBomb(), 413, /image too large/i],
    ['an empty file', () => Buffer.alloc(0), 400, /the uploaded file is empty/],
  ];
  for (const [name, make, status, message] of failures) {
    it(`shows ${name} as a readable error page (${status})`, async () => {
      const res = await request(app).post('/translate').attach('image', await make(), 'upload.jpg');
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/html/);
      expect(res.text).toMatch(message);
      expect(res.text).toContain('Back to translating a photo');
      noStackTrace(res.text);
    });
  }

  it('shows a missing file and a bad size as 400 pages', async () => {
    const none = await request(app).post('/translate').field('model', 'alpha').expect(400);
    expect(none.text).toContain('no image uploaded');
    const big = await request(app).post('/translate').field('size', '99999').attach('image', await images.jpeg(), 'a.jpg').expect(400);
    expect(big.text).toMatch(/size must be an integer between 16 and 1024/);
  });

  it('shows an unknown model as a 404 page', async () => {
    const res = await request(app).post('/translate').field('model', 'zzz').attach('image', await images.jpeg(), 'a.jpg').expect(404);
    expect(res.text).toContain('unknown model');
  });
});

describe('models page', () => {
  it('shows each card: domains, options, iterations, metrics and the licence', async () => {
    const res = await request(app).get('/models').expect(200);
    expect(res.text).toContain('horse → zebra');
    expect(res.text).toContain('42 iterations');
    expect(res.text).toContain('42 iterations (warm-started from 100 iterations of base.ckpt)');
    expect(res.text).toContain('trained on 32 px crops');
    expect(res.text).toMatch(/NCE identity on/);
    expect(res.text).toContain('KID 0.0123 ± 0.0011, FID 65.4 (120 translated vs 140 real)');
    expect(res.text).toContain('Test licence: for tests only.');
    expect(res.text).toContain('not evaluated yet');
    expect(res.text).toMatch(/<span class="badge">default<\/span>/);
  });

  it('formats unknown metric records as JSON', () => {
    const card = { metrics: { custom: { coverage: 0.5 } } } as unknown as Parameters<typeof metricRows>[0];
    expect(metricRows(card)).toEqual([{ name: 'custom', text: '{"coverage":0.5}' }]);
    expect(metricRows(null)).toEqual([]);
  });
});

describe('other pages', () => {
  it('answers unknown paths with an HTML 404', async () => {
    const res = await request(app).get('/nowhere').expect(404).expect('Content-Type', /html/);
    expect(res.text).toContain('Not found');
  });

  it('redirects a GET of the form target home', async () => {
    await request(app).get('/translate').expect(303).expect('Location', '/');
  });
});
