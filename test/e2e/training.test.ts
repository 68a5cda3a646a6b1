/**
 * Training end to end, in browser mode in a real Chromium: create the sample project, open the
 * Train tab, get a clear error for starting without a split, split it (counts per class and
 * split), start a tiny run (custom φ = −6 at 32 px, full mode, 2 epochs, CPU), pause it, leave
 * the tab and come back to the same paused run, resume it, watch the progress and the live charts, and find it finished in the history with a
 * validation accuracy and its curves.
 */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { RESULTS_DIR as RESULTS, useBrowserSession } from './harness';

// The browser, the server and the trainer process share two CPU cores in CI: be patient.
const SLOW = 60_000;
const EPOCHS = 2;

const session = useBrowserSession();

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

describe('training', () => {
  test('split, a bad start explained, a tiny run with pause/resume, live charts and history', { timeout: 300_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1440, height: 1200 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('sample-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });

    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-screen').waitFor({ timeout: SLOW });

    // A fresh sample project has no split: the panel says so, and starting anyway fails in words.
    await expect.poll(() => text(page, 'split-warning'), { timeout: SLOW }).toContain('no train / validation / test split yet');
    await chooseTinyModel(page);
    await page.getByTestId('train-start').click();
    await expect.poll(() => text(page, 'train-start-error'), { timeout: SLOW }).toMatch(/no images in the train split/);

    // Split 70 / 15 / 15 per class: every class gets training images, the totals add up.
    await page.getByTestId('split-run').click();
    await expect.poll(() => page.getByTestId('split-warning').count(), { timeout: SLOW }).toBe(0);
    const classes = await page.getByTestId('split-table').locator('tbody tr').count();
    expect(classes).toBeGreaterThanOrEqual(2);
    const train = Number(await text(page, 'split-total-train'));
    const val = Number(await text(page, 'split-total-val'));
    expect(train).toBeGreaterThan(0);
    expect(val).toBeGreaterThan(0);
    expect(val).toBeLessThan(train);

    // A batch of 0 is refused by the engine before any work, with the field named.
    await page.getByTestId('train-batch').fill('0');
    await page.getByTestId('train-start').click();
    await expect.poll(() => text(page, 'train-start-error'), { timeout: SLOW }).toMatch(/batch: must be at least 1/);
    await page.getByTestId('train-batch').fill('');

    // The estimate shows the memory of one step for the tiny network.
    await expect.poll(() => text(page, 'estimate-memory'), { timeout: SLOW }).toMatch(/\d+(\.\d)? (MB|GB)/);
    // ... and the time per epoch and in all, measured on the backend the run would use, before it starts.
    await expect.poll(() => text(page, 'estimate-measured'), { timeout: 2 * SLOW }).toMatch(/^About .+ per epoch on \S+ \(measured\), 2 epochs ≈ .+; memory \d+(\.\d)? (MB|GB) at batch \d+/);

    await page.getByTestId('train-start').click();
    const live = page.getByTestId('live-run');
    await live.waitFor({ timeout: SLOW });
    await expect.poll(() => page.getByTestId('train-start-error').count()).toBe(0);
    const runId = Number(await live.getAttribute('data-run-id'));
    expect(runId).toBeGreaterThan(0);
    expect(await text(page, 'live-backend')).toContain('from scratch');

    // Training steps arrive live: a batch loss and images/s.
    await expect.poll(() => text(page, 'live-loss'), { timeout: SLOW }).toMatch(/^\d+\.\d+$/);
    await expect.poll(() => text(page, 'live-rate'), { timeout: SLOW }).toMatch(/^\d/);
    await page.screenshot({ path: path.join(RESULTS, 'training-live.png') });

    // Pause after the current step, then resume.
    await page.getByTestId('train-pause').click();
    await expect.poll(() => live.getAttribute('data-status'), { timeout: SLOW }).toBe('paused');
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    // A trip to the Data tab and back finds the same run again (train.active), still paused.
    await page.getByTestId('tab-data').click();
    await page.getByTestId('project-sidebar').waitFor({ timeout: SLOW });
    await page.getByTestId('tab-train').click();
    await expect.poll(() => live.getAttribute('data-run-id'), { timeout: SLOW }).toBe(String(runId));
    expect(await live.getAttribute('data-status')).toBe('paused');
    await page.getByTestId('train-resume').click();
    await expect.poll(() => live.getAttribute('data-status'), { timeout: SLOW }).toMatch(/running|completed/);

    // The run ends; its charts hold one point per epoch for training and validation.
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 180_000 }).toBe('completed');
    expect(await page.getByTestId('live-chart-loss-train').getAttribute('data-points')).toBe(String(EPOCHS));
    expect(await page.getByTestId('live-chart-acc-val').getAttribute('data-points')).toBe(String(EPOCHS));
    expect(await text(page, 'live-val-acc')).toMatch(/^\d+\.\d %$/);
    expect(await text(page, 'live-notes')).toMatch(/resumed after a pause/);

    // The history lists it as completed with a validation accuracy; clicking it shows its curves.
    const row = page.getByTestId(`history-row-${runId}`);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: SLOW }).toBe('completed');
    expect(await text(page, `history-val-acc-${runId}`)).toMatch(/^\d+\.\d %$/);
    expect(await row.innerText()).toContain('φ −6');
    await row.click();
    const curves = page.getByTestId('run-curves');
    await curves.waitFor({ timeout: SLOW });
    expect(await page.getByTestId('history-chart-loss-val').getAttribute('data-points')).toBe(String(EPOCHS));
    // The next run of this model now has a measured time per epoch.
    await expect.poll(() => text(page, 'estimate-time'), { timeout: SLOW }).toMatch(/per epoch for \d+ training images/);

    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.screenshot({ path: path.join(RESULTS, 'training.png'), fullPage: true });
    await page.close();
  });
});

/** Custom φ = −6 at 32 px, every layer, two epochs: trains in seconds on two CPU cores. */
async function chooseTinyModel(page: Page) {
  await page.getByTestId('train-model').selectOption('custom');
  await page.getByTestId('train-phi').fill('-6');
  await page.getByTestId('train-resolution').fill('32');
  await page.getByTestId('train-mode-full').click();
  await page.getByTestId('train-epochs').fill(String(EPOCHS));
}
