/**
 * The web app in a real browser: Debian's Chromium driven by playwright-core. Skipped, with a
 * message, where /usr/bin/chromium is missing (CI installs it with apt).
 *
 * COOPCUT_SCREENSHOT=1 also translates a horse2zebra test photo with the installed default model
 * (when both exist) and saves docs/screenshot-web.png for the README.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_NAME } from '../../src/config.ts';
import { defaultModelsDir } from '../../src/store/model-registry.ts';
import { createApp, type AppOptions, type CoopcutApp } from '../../src/server/app.ts';
import { images, quietLogger, tempModelsDir, type TempModels } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT_DIR = 'test-output';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser tests skipped: ${CHROMIUM} not found (install Debian's chromium: apt-get install chromium)`);
}

interface Running {
  app: CoopcutApp;
  server: Server;
  url: string;
}

async function start(options: AppOptions): Promise<Running> {
  const app = createApp({ logger: quietLogger(), ...options });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { app, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

async function stop(r: Running): Promise<void> {
  await r.app.close();
  r.server.closeAllConnections();
  await new Promise<void>((res) => r.server.close(() => res()));
}

const profiles: string[] = [];

async function launch(javaScriptEnabled = true): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), 'coopcut-chromium-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    javaScriptEnabled,
    acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A little landscape (sky, field, a brown animal-ish shape) as a JPEG. */
function scene(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#6fa8dc"/><stop offset="1" stop-color="#cfe2f3"/></linearGradient></defs>
    <rect width="240" height="100" fill="url(#sky)"/><rect y="100" width="240" height="60" fill="#6aa84f"/>
    <ellipse cx="120" cy="95" rx="50" ry="22" fill="#7f4f24"/><rect x="85" y="105" width="8" height="35" fill="#7f4f24"/>
    <rect x="145" y="105" width="8" height="35" fill="#7f4f24"/><ellipse cx="172" cy="72" rx="14" ry="22" fill="#7f4f24"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

async function naturalWidth(page: Page, selector: string): Promise<number> {
  return page.locator(selector).evaluate((img) => (img as HTMLImageElement).naturalWidth);
}

describe.skipIf(!hasChromium)('in Chromium', () => {
  let models: TempModels;
  let running: Running;

  beforeAll(async () => {
    models = tempModelsDir([['horse2zebra']]);
    running = await start({ modelsDir: models.dir });
    mkdirSync(OUT_DIR, { recursive: true });
  });

  afterAll(async () => {
    await stop(running);
    models.cleanup();
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
  });

  it('uploads a photo, shows the translation side by side and downloads it', async () => {
    const context = await launch();
    try {
      const page = await context.newPage();
      await page.goto(running.url);
      await expect(page.locator('.model-option').first().textContent()).resolves.toContain('horse → zebra');
      await page.setInputFiles('#image', { name: 'horse.jpg', mimeType: 'image/jpeg', buffer: await scene() });
      await page.locator('#preview').waitFor({ state: 'visible' });
      await page.click('#submit');
      await page.locator('#result').waitFor({ state: 'visible', timeout: 60_000 });
      await page.waitForFunction(() => (document.getElementById('result-translated') as HTMLImageElement).naturalWidth > 0);
      expect(await naturalWidth(page, '#result-translated')).toBe(64);
      expect(await naturalWidth(page, '#result-original')).toBe(240);
      await expect(page.locator('#timing').textContent()).resolves.toMatch(/took [\d.]+ m?s \(inference [\d.]+ m?s\)/);
      expect(await page.locator('#error').isHidden()).toBe(true);
      await page.screenshot({ path: path.join(OUT_DIR, 'browser-result.png'), fullPage: true });

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toBe('horse-zebra.png');
      const file = await download.path();
      const meta = await sharp(readFileSync(file)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 43]);
    } finally {
      await context.close();
    }
  });

  it('shows a readable error for a file that is not a photo', async () => {
    const context = await launch();
    try {
      const page = await context.newPage();
      await page.goto(running.url);
      await page.setInputFiles('#image', { name: 'drawing.jpg', mimeType: 'image/jpeg', buffer: images.svg() });
      await page.click('#submit');
      await page.locator('#error').waitFor({ state: 'visible', timeout: 30_000 });
      await expect(page.locator('#error').textContent()).resolves.toMatch(/svg is not an image format we accept/i);
      expect(await page.locator('#result').isHidden()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('works without JavaScript: the form posts and the result page shows both images', async () => {
    const context = await launch(false);
    try {
      const page = await context.newPage();
      await page.goto(running.url);
      await page.setInputFiles('#image', { name: 'horse.jpg', mimeType: 'image/jpeg', buffer: await scene() });
      await Promise.all([page.waitForURL(/\/translate$/, { timeout: 60_000 }), page.click('#submit')]);
      await expect(page.locator('h1').textContent()).resolves.toContain('Translated with horse2zebra');
      expect(await page.locator('.pair img').count()).toBe(2);
      expect(await naturalWidth(page, '#result-translated')).toBe(64);
      await page.screenshot({ path: path.join(OUT_DIR, 'browser-nojs-result.png'), fullPage: true });
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toBe('horse-zebra.png');
      expect((await sharp(readFileSync(await download.path())).metadata()).format).toBe('png');
    } finally {
      await context.close();
    }
  });
});

const realModel = path.join(defaultModelsDir(), DEFAULT_MODEL_NAME, 'model.json');
const testA = path.resolve('..', 'shared', 'datasets', 'horse2zebra', 'testA');

describe.runIf(hasChromium && process.env.COOPCUT_SCREENSHOT === '1' && existsSync(realModel) && existsSync(testA))(
  'README screenshot with the installed default model',
  () => {
    it('translates a horse2zebra test photo', { timeout: 180_000 }, async () => {
      const running = await start({ modelsDir: defaultModelsDir() });
      const context = await launch();
      try {
        const photo = readdirSync(testA).includes('n02381460_1000.jpg') ? 'n02381460_1000.jpg' : readdirSync(testA).sort()[0]!;
        const page = await context.newPage();
        await page.setViewportSize({ width: 1000, height: 760 });
        await page.goto(running.url);
        await page.setInputFiles('#image', path.join(testA, photo));
        await page.click('#submit');
        await page.locator('#result').waitFor({ state: 'visible', timeout: 150_000 });
        await page.waitForFunction(() => (document.getElementById('result-translated') as HTMLImageElement).naturalWidth > 0);
        await page.locator('#result').scrollIntoViewIfNeeded();
        mkdirSync('docs', { recursive: true });
        await page.screenshot({ path: path.join('docs', 'screenshot-web.png'), fullPage: true });
      } finally {
        await context.close();
        await stop(running);
      }
    });
  },
);
