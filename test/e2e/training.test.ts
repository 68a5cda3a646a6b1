/**
 * Training end to end, in browser mode in a real Chromium: create the sample project, open the
 * Train tab, get a clear error for starting without a split, split it (counts per class and
 * split), start a tiny run (custom φ = −6 at 32 px, full mode, 2 epochs, CPU), pause it, leave
 * the tab and come back to the same paused run, resume it, watch the progress and the live charts, and find it finished in the history with a
 * validation accuracy and its curves.
 * The second test, in the same project: a head-mode start without weights is refused in words; a
 * run that learns nothing (a vanishing learning rate) is marked "no better than guessing" in the
 * live panel and the history, never a plain "Completed"; and it is deleted from the history, its
 * folder too, after a confirmation.
 */
import { describe, expect, test } from 'vitest';
import fs from 'node:fs';
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

    // On webgpu, full mode: who computes the steps, and in what precision; mixed needs shader-f16,
    // which the probe lists (SwiftShader has none: the choice is there but refused in words).
    const probe = await api<{ backends: { name: string; canTrain: boolean; gpuFeatures?: string[] }[]; defaults: { train: string } }>('backend.probe', {});
    const webgpu = probe.backends.find((b) => b.name === 'webgpu')!;
    if (webgpu.canTrain) {
      await page.getByTestId('train-backend').selectOption('webgpu');
      await page.getByTestId('train-engine').waitFor({ timeout: SLOW });
      const mixed = page.getByTestId('train-precision').locator('option[value="mixed"]');
      const hasF16 = (webgpu.gpuFeatures ?? []).includes('shader-f16');
      expect(await mixed.isDisabled()).toBe(!hasF16);
      expect(await mixed.innerText()).toMatch(hasF16 ? /^mixed \(float16 activations\)$/ : /this GPU has no shader-f16/);
      // on auto, the choice is there where auto means webgpu (a machine with a GPU), not where it means a CPU backend
      await page.getByTestId('train-backend').selectOption('');
      await expect.poll(() => page.getByTestId('train-precision').count()).toBe(probe.defaults.train === 'webgpu' ? 1 : 0);
    }

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

describe('defaults that cannot fail silently, and deleting runs', () => {
  test('a refused head start, a run no better than guessing marked so, and its deletion with its files', { timeout: 240_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1440, height: 1200 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(session.app.url);
    await page.getByTestId('recent-project').first().click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    const project = (await api<{ projects: { path: string }[] }>('project.recent', {})).projects[0].path;
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-screen').waitFor({ timeout: SLOW });
    await chooseTinyModel(page);

    // Head mode keeps the whole backbone frozen: without pretrained weights it is refused, with both ways out.
    await page.getByTestId('train-mode-head').click();
    await page.getByTestId('train-start').click();
    await expect.poll(() => text(page, 'train-start-error'), { timeout: SLOW }).toMatch(/weights: mode head keeps the whole backbone frozen, and without pretrained weights that backbone is random.*or use mode full/);
    await page.screenshot({ path: path.join(RESULTS, 'training-refused-head.png') });

    // A zero classifier at a vanishing learning rate answers one class for every image: chance at best.
    await page.getByTestId('train-mode-full').click();
    await page.getByTestId('train-epochs').fill('1');
    await page.getByTestId('train-lr').fill('1e-12');
    await page.getByTestId('train-start').click();
    const live = page.getByTestId('live-run');
    await live.waitFor({ timeout: SLOW });
    const runId = Number(await live.getAttribute('data-run-id'));
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 180_000 }).toBe('completed');
    const status = page.getByTestId('live-status');
    await expect.poll(() => status.getAttribute('data-baseline'), { timeout: SLOW }).toBe('not-above');
    expect(await status.innerText()).toMatch(/no better than guessing/i);
    expect(await text(page, 'live-baseline')).toMatch(/^Validation accuracy \d+\.\d % is not above (chance|always answering)/);
    const row = page.getByTestId(`history-row-${runId}`);
    await expect.poll(() => row.getAttribute('data-baseline'), { timeout: SLOW }).toBe('not-above');
    expect(await text(page, `history-guessing-${runId}`)).toMatch(/no better than guessing/);
    await page.screenshot({ path: path.join(RESULTS, 'training-guessing.png'), fullPage: true });

    // Deleting asks first, then removes the run from the history, the live panel and the disk.
    const folder = path.join(`${project}.d`, 'runs', String(runId));
    expect(fs.existsSync(folder)).toBe(true);
    await row.click();
    await page.getByTestId('history-delete').click();
    const confirm = page.getByTestId('history-delete-confirm');
    await confirm.waitFor({ timeout: SLOW });
    expect(await confirm.innerText()).toContain(`Delete run #${runId} for good?`);
    await page.screenshot({ path: path.join(RESULTS, 'training-delete-confirm.png'), fullPage: true });
    await page.getByTestId('history-delete-confirm-button').click();
    await expect.poll(() => row.count(), { timeout: SLOW }).toBe(0);
    await page.getByTestId('live-run-empty').waitFor({ timeout: SLOW });
    expect(fs.existsSync(folder)).toBe(false);
    await expect(api('runs.get', { project, id: runId })).rejects.toThrow(/there is no training run/);
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.close();
  });
});

/** The contract over HTTP, as the page calls it. */
async function api<T>(name: string, input: unknown): Promise<T> {
  const response = await fetch(new URL(`/api/call/${name}`, session.app.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session.app.token}` },
    body: JSON.stringify(input),
  });
  const reply = (await response.json()) as { ok: true; value: T } | { ok: false; error: { message: string } };
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value;
}

/** Custom φ = −6 at 32 px, every layer, two epochs: trains in seconds on two CPU cores. */
async function chooseTinyModel(page: Page) {
  await page.getByTestId('train-model').selectOption('custom');
  await page.getByTestId('train-phi').fill('-6');
  await page.getByTestId('train-resolution').fill('32');
  await page.getByTestId('train-mode-full').click();
  await page.getByTestId('train-epochs').fill(String(EPOCHS));
}
