/**
 * Pretrained weights end to end, in browser mode in a real Chromium: on the Model tab a download
 * of B0's published file fails at once offline (the weights mirror is a closed local port), in
 * words that point at the import; a real Keras applications .h5 of a tiny network (φ = −8,
 * written by the test) is dropped on the import box (its file:// URI, as a file manager drags it)
 * and lands in the cache; the Train setup then offers it as the default weights, a top-block run
 * starts from them (not from scratch) and completes, and the Evaluate tab opens on it.
 * The second test: the setup (model, mode, φ, weights) survives a reload and a new tab.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureRendererBuilt } from '../../scripts/renderer-build.mjs';
import { launchBrowser, RESULTS_DIR as RESULTS, startApp, type RunningApp } from './harness';
import { writeTinyKerasH5 } from '../fixtures/model/tiny-weights-file';
import { makeTempDir, removeDir } from '../fixtures/temp';

const SLOW = 60_000;

let app: RunningApp;
let browser: Browser;
let dir: string;
let weightsFile: string;

/** A local port nobody listens on: the weights mirror is unreachable, as on an offline machine. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dir = makeTempDir('e2e-weights');
  weightsFile = path.join(dir, 'efficientnet_phi-8_notop.h5');
  await writeTinyKerasH5(weightsFile, { variant: 'phi=-8', includeTop: false, seed: 3 });
  await ensureRendererBuilt();
  app = await startApp({ env: { EFFITUNE_WEIGHTS_URL: `http://127.0.0.1:${await closedPort()}/` } });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  removeDir(dir);
});

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

describe('pretrained weights', () => {
  test('offline download explained, import by drop, a pretrained top-block run, then Evaluate', { timeout: 300_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(app.url);
    await page.getByTestId('sample-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });

    // B0 (the default model): its published files can be downloaded, but not from here
    await page.getByTestId('tab-model').click();
    const panel = page.getByTestId('weights-panel');
    await expect.poll(() => panel.getAttribute('data-variant'), { timeout: SLOW }).toBe('b0');
    const started = Date.now();
    await page.getByTestId('weights-start-notop').click();
    await expect.poll(() => page.getByTestId('weights-download-notop').getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await text(page, 'weights-status-notop')).toMatch(/cannot reach 127\.0\.0\.1:\d+: offline\?/);
    expect(await text(page, 'weights-offline-hint')).toContain('import it here');
    await page.screenshot({ path: path.join(RESULTS, 'weights-offline.png') });

    // the tiny network the file holds: φ = −8 at 32 px, chosen in the Train setup
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-model').selectOption('custom');
    await page.getByTestId('train-phi').fill('-8');
    await page.getByTestId('train-resolution').fill('32');
    await page.getByTestId('train-epochs').fill('1');
    await expect.poll(() => text(page, 'train-weights-note'), { timeout: SLOW }).toMatch(/^From scratch: no pretrained weights/);
    // the mode left to itself follows the weights: from scratch it is full (head and top would freeze a random backbone)
    expect(await page.getByTestId('train-mode-full').getAttribute('aria-checked')).toBe('true');
    expect(await text(page, 'train-mode-words')).toMatch(/^Chosen because there are no pretrained weights/);

    // back on the Model tab, drop the .h5 as a file manager drags it (a file:// URI)
    await page.getByTestId('tab-model').click();
    await expect.poll(() => panel.getAttribute('data-variant'), { timeout: SLOW }).toBe('phi=-8');
    expect(await text(page, 'weights-none-published')).toContain('No published weights');
    const drop = await page.evaluateHandle((uri) => {
      const data = new DataTransfer();
      data.setData('text/uri-list', uri);
      return data;
    }, pathToFileURL(weightsFile).href);
    await page.getByTestId('weights-drop').dispatchEvent('drop', { dataTransfer: drop });
    expect(await page.getByTestId('weights-import-path').inputValue()).toBe(weightsFile);
    await expect.poll(() => page.getByTestId('weights-import-result').getAttribute('data-state'), { timeout: SLOW }).toBe('done');
    expect(await text(page, 'weights-import-result')).toContain('Imported · efficientnet_phi-8_notop.h5 · no classifier');
    await expect.poll(() => page.getByTestId('weights-local-entry').count()).toBe(1);
    await expect.poll(() => text(page, 'variant-weights-custom'), { timeout: SLOW }).toContain('no top');
    await panel.screenshot({ path: path.join(RESULTS, 'weights-imported.png') });

    // the Train setup now starts from them by default
    await page.getByTestId('tab-train').click();
    await expect.poll(() => text(page, 'train-weights-note'), { timeout: SLOW }).toBe('Starts from Imported · efficientnet_phi-8_notop.h5 · no classifier.');
    // and with pretrained weights it is head; this run chooses top blocks
    expect(await page.getByTestId('train-mode-head').getAttribute('aria-checked')).toBe('true');
    expect(await text(page, 'train-mode-words')).toMatch(/^Chosen for the pretrained weights/);
    await page.getByTestId('train-mode-top').click();
    expect(await text(page, 'train-mode-words')).toMatch(/^Top blocks/);
    await page.getByTestId('split-run').click();
    await expect.poll(() => page.getByTestId('split-warning').count(), { timeout: SLOW }).toBe(0);
    await page.getByTestId('train-start').click();
    const live = page.getByTestId('live-run');
    await live.waitFor({ timeout: SLOW });
    await expect.poll(() => page.getByTestId('live-backend').innerText(), { timeout: SLOW }).toMatch(/ on /);
    expect(await text(page, 'live-backend')).not.toContain('from scratch');
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 180_000 }).toBe('completed');
    const runId = Number(await live.getAttribute('data-run-id'));
    await page.screenshot({ path: path.join(RESULTS, 'weights-trained.png'), fullPage: true });

    // the finished run's model is offered as a start of the next one
    await expect.poll(() => page.getByTestId('train-weights').locator(`option[value="run:${runId}"]`).count(), { timeout: SLOW }).toBe(1);

    await page.getByTestId('tab-evaluate').click();
    await page.getByTestId('eval-screen').waitFor({ timeout: SLOW });
    await expect.poll(() => page.getByTestId(`eval-run-${runId}`).getAttribute('aria-pressed'), { timeout: SLOW }).toBe('true');
    // its predictions on the validation split: computed with the run's model
    await expect.poll(() => page.getByTestId('evaluation').getAttribute('data-run-id'), { timeout: 2 * SLOW }).toBe(String(runId));
    await page.screenshot({ path: path.join(RESULTS, 'weights-evaluate.png') });
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.close();
  });

  test('the training setup is kept per project: after a reload and in a new tab', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByTestId('new-project-name').fill('Setup kept');
    await page.getByTestId('new-project-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    const projectPath = (await page.locator('.header-path').getAttribute('title'))!;
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-model').selectOption('custom');
    await page.getByTestId('train-phi').fill('-6.5');
    await page.getByTestId('train-mode-full').click();
    await page.getByTestId('train-epochs').fill('3');
    await page.getByTestId('train-weights').selectOption('none');

    const expectSetup = async (p: Page) => {
      await p.getByTestId('project-home').waitFor({ timeout: SLOW });
      expect(await text(p, 'tab-model')).toContain('φ −6.5');
      await p.getByTestId('tab-train').click();
      await expect.poll(() => p.getByTestId('train-phi').inputValue(), { timeout: SLOW }).toBe('-6.5');
      expect(await p.getByTestId('train-mode-full').getAttribute('aria-checked')).toBe('true');
      expect(await p.getByTestId('train-epochs').inputValue()).toBe('3');
      expect(await p.getByTestId('train-weights').inputValue()).toBe('none');
    };
    await page.reload();
    await expectSetup(page);

    // a new tab opens on the start screen; the same project brings the same setup back
    const second = await context.newPage();
    await second.goto(app.url);
    await second.getByTestId('open-project-path').fill(projectPath);
    await second.getByTestId('open-project-submit').click();
    await expectSetup(second);
    await second.screenshot({ path: path.join(RESULTS, 'weights-setup-kept.png') });
    await context.close();
  });
});
