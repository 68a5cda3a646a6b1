/**
 * The dataset browser end to end, in browser mode in a real Chromium: create a project, import a
 * generated folder (three classes and one broken file), see the grid and the counts per class,
 * open an image; and, separately, the first-run "Create a sample project" button.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startApp } from './harness';
import { ensureRendererBuilt } from '../../scripts/renderer-build.mjs';

const CLASSES = ['circles', 'squares', 'stripes'] as const;
const PER_CLASS = 10;
const RESULTS = path.resolve('test-results');
// The browser, the server and the import share two CPU cores in CI: be patient.
const SLOW = 60_000;

let app: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;
let imagesDir: string;

beforeAll(async () => {
  // Run alone (not through npm test), the spec still needs an up-to-date UI to load.
  await ensureRendererBuilt();
  imagesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-e2e-images-'));
  await writeClassFolders(imagesDir);
  fs.mkdirSync(RESULTS, { recursive: true });
  app = await startApp();
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  fs.rmSync(imagesDir, { recursive: true, force: true });
});

describe('dataset browser', () => {
  test('create a project, import a folder, browse the grid and open an image', { timeout: 300_000 }, async () => {
    const page = await newPage();
    await page.goto(app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });

    await page.getByTestId('new-project-name').fill('E2E shapes');
    await page.getByTestId('new-project-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    await expect.poll(() => page.getByTestId('project-name').innerText()).toContain('E2E shapes');

    await page.getByTestId('import-open').click();
    await page.getByTestId('import-folder-input').fill(imagesDir);
    await page.getByTestId('import-start').click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor({ timeout: 180_000 });
    await page.screenshot({ path: path.join(RESULTS, 'import-summary.png') });
    expect(await page.getByTestId('summary-imported').innerText()).toMatch(new RegExp(`^${CLASSES.length * PER_CLASS}\\b`));
    expect(await page.getByTestId('summary-rejected').innerText()).toMatch(/^1\b/);
    expect(await page.getByTestId('summary-rejections').innerText()).toContain('broken.jpg');
    await page.getByTestId('import-done').click();

    for (const name of CLASSES) {
      await expect.poll(() => page.getByTestId(`class-count-${name}`).innerText(), { timeout: SLOW }).toBe(String(PER_CLASS));
    }
    await expect.poll(() => page.getByTestId('total-images').getAttribute('data-value')).toBe(String(CLASSES.length * PER_CLASS));
    await expect.poll(() => page.getByTestId('total-rejected').getAttribute('data-value')).toBe('1');

    // Every tile on screen shows its thumbnail and a class chip.
    const tiles = page.getByTestId('grid-tile');
    await expect.poll(() => tiles.count(), { timeout: SLOW }).toBeGreaterThan(5);
    await expect.poll(() => loadedThumbnails(page), { timeout: SLOW }).toBeGreaterThan(5);
    expect(CLASSES).toContain(await tiles.first().getByTestId('tile-label').innerText());
    await page.screenshot({ path: path.join(RESULTS, 'dataset-browser-grid.png') });

    // The detail view shows the file the tile stands for; arrows step, Esc closes.
    const firstPath = await tiles.first().getAttribute('title');
    expect(firstPath).toBeTruthy();
    // A click selects a tile; a double-click (or Enter) opens it.
    await tiles.first().dblclick();
    const detail = page.getByTestId('detail-view');
    await detail.waitFor({ timeout: SLOW });
    await expect.poll(() => page.getByTestId('detail-path').innerText(), { timeout: SLOW }).toBe(firstPath);
    expect(firstPath!.startsWith(imagesDir)).toBe(true);
    await expect.poll(() => page.getByTestId('detail-image').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: SLOW }).toBeGreaterThan(0);
    expect(await page.getByTestId('detail-bytes').innerText()).toContain(fs.statSync(firstPath!).size.toLocaleString('en-US'));
    await page.screenshot({ path: path.join(RESULTS, 'dataset-browser-detail.png') });
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('detail-path').innerText(), { timeout: SLOW }).not.toBe(firstPath);
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached', timeout: SLOW });

    // Filters: one class only, then the rejected file with its reason.
    await page.getByTestId('class-row-squares').click();
    await expect.poll(() => page.getByTestId('grid').getAttribute('data-total'), { timeout: SLOW }).toBe(String(PER_CLASS));
    await expect.poll(async () => new Set(await tiles.getByTestId('tile-label').allInnerTexts()), { timeout: SLOW }).toEqual(new Set(['squares']));
    await page.getByTestId('filter-view-rejected').click();
    await expect.poll(() => page.getByTestId('grid').getAttribute('data-total'), { timeout: SLOW }).toBe('1');
    const rejected = page.locator('[data-testid="grid-tile"][data-status="rejected"]');
    await rejected.waitFor({ timeout: SLOW });
    expect(await rejected.getAttribute('title')).toContain('broken.jpg');
    await page.screenshot({ path: path.join(RESULTS, 'dataset-browser-rejected.png') });
    await page.close();
  });

  test('"Create a sample project" on the first-run screen opens a project with classes and images', { timeout: 300_000 }, async () => {
    const page = await newPage();
    await page.goto(app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.screenshot({ path: path.join(RESULTS, 'start-screen.png') });
    await page.getByTestId('sample-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: 240_000 });
    await expect.poll(() => page.getByTestId('class-table').locator('tbody tr').count(), { timeout: SLOW }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => loadedThumbnails(page), { timeout: SLOW }).toBeGreaterThan(5);
    const images = Number(await page.getByTestId('total-images').getAttribute('data-value'));
    expect(images).toBeGreaterThan(0);
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.screenshot({ path: path.join(RESULTS, 'sample-project.png') });
    await page.close();
  });
});

/** Each test gets its own context, so the tab's remembered project does not leak between tests. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  return page;
}

async function loadedThumbnails(page: Page): Promise<number> {
  return page.locator('[data-testid="grid-tile"] img').evaluateAll((imgs) => imgs.filter((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0).length);
}

/** Three class folders of small distinct PNGs (each a different size and colour, so none is a duplicate) and one text file named .jpg. */
async function writeClassFolders(root: string): Promise<void> {
  for (const [c, name] of CLASSES.entries()) {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const width = 64 + i * 4;
      const height = 48 + c * 8;
      const shape =
        name === 'circles'
          ? `<circle cx="${width / 2}" cy="${height / 2}" r="${height / 3}" fill="rgb(${40 + i * 20},80,200)"/>`
          : name === 'squares'
            ? `<rect x="${width / 4}" y="${height / 4}" width="${height / 2}" height="${height / 2}" fill="rgb(200,${60 + i * 15},40)"/>`
            : Array.from({ length: 4 }, (_, k) => `<rect x="0" y="${k * (height / 4)}" width="${width}" height="${height / 8}" fill="rgb(30,${120 + i * 10},60)"/>`).join('');
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#f0f0f0"/>${shape}</svg>`;
      await sharp(Buffer.from(svg)).png().toFile(path.join(dir, `${name}-${i}.png`));
    }
  }
  fs.writeFileSync(path.join(root, CLASSES[0], 'broken.jpg'), 'this is a text file, not a JPEG\n');
}
