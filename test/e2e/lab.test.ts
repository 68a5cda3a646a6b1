/**
 * The compound-scaling Lab end to end, in browser mode in a real Chromium: create the sample
 * project and split it, open the Lab tab, start the tiniest search (base φ −10, 24 training and
 * 12 validation images, one epoch, one grid point, no repeats), see its plan and candidate rows,
 * see points appear in the scatter while it trains, wait for it to complete (the baselines, the
 * Pareto front and the verdict drawn), choose the paper's point, keep it as a family, explore φ,
 * hand φ +1.25 of the family to the Train tab, and find the family in the Model tab's custom
 * panel. The second test starts another search, cancels it, reopens the first from the list and
 * resumes the cancelled one.
 */
import { describe, expect, test } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { probeBackend } from '../../main/backend/probe';
import { RESULTS_DIR as RESULTS, useBrowserSession } from './harness';

// The browser, the server and a trainer process per candidate share two CPU cores in CI.
const SLOW = 60_000;
/** base, paper, depth, width, resolution and one compound grid point */
const CANDIDATES = 6;

const session = useBrowserSession();

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();
const points = (page: Page, axis: 'flops' | 'time') => page.getByTestId(`lab-scatter-${axis}`).locator('[data-testid^="lab-point-"]');

async function fillTinySearch(page: Page) {
  await page.getByTestId('lab-subset').fill('24');
  await page.getByTestId('lab-epochs').fill('1');
  await page.getByTestId('lab-repeats').fill('0');
  await page.getByTestId('lab-max-candidates').fill('1');
  await page.getByTestId('lab-more').click();
  await page.getByTestId('lab-base-phi').fill('-10');
  await page.getByTestId('lab-val-subset').fill('12');
}

/** How far the Lab's content runs past its own width (0: no horizontal scroll bar); wide tables scroll in their own box. */
function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const main = document.querySelector('.lab-main')!;
    return Math.max(0, main.scrollWidth - main.clientWidth, document.documentElement.scrollWidth - document.documentElement.clientWidth);
  });
}

describe('compound-scaling lab', () => {
  test('a tiny search from the Lab tab: live rows and points, the chart, a family chosen and trained, the family in the Model tab', { timeout: 900_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1440, height: 1100 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('sample-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });

    // The search compares candidates on the validation split: split first (Train tab).
    await page.getByTestId('tab-train').click();
    await page.getByTestId('split-run').click();
    await expect.poll(() => page.getByTestId('split-warning').count(), { timeout: SLOW }).toBe(0);

    await page.getByTestId('tab-lab').click();
    await page.getByTestId('lab-screen').waitFor({ timeout: SLOW });
    await expect.poll(() => text(page, 'lab-empty'), { timeout: SLOW }).toContain('No search yet');

    // A field that is not a number is named before anything is sent; the engine's ranges come back in words.
    await page.getByTestId('lab-epochs').fill('1.5');
    expect(await page.getByTestId('lab-start').isDisabled()).toBe(true);
    await page.getByTestId('lab-epochs').fill('0');
    await page.getByTestId('lab-start').click();
    await expect.poll(() => text(page, 'lab-start-error'), { timeout: SLOW }).toMatch(/epochs: must be at least 1/);

    await fillTinySearch(page);
    // mixed precision where the adapter has no shader-f16 (SwiftShader) cannot be chosen, and the option says why (the engine refuses it too: scale-cli)
    if (!(await probeBackend('webgpu')).gpuFeatures?.includes('shader-f16')) {
      const mixed = page.getByTestId('lab-precision').locator('option[value="mixed"]');
      await expect.poll(() => mixed.isDisabled(), { timeout: SLOW }).toBe(true);
      expect(await mixed.innerText()).toMatch(/mixed \(float16\) · (this GPU has no shader-f16|WebGPU cannot train here)/);
      expect(await page.getByTestId('lab-precision').inputValue()).toBe('fp32');
    }
    await page.getByTestId('lab-start').click();
    const status = page.getByTestId('lab-status');
    await status.waitFor({ timeout: SLOW });
    const searchId = Number(await status.getAttribute('data-search'));
    expect(searchId).toBeGreaterThan(0);
    expect(await text(page, 'lab-plan-base')).toMatch(/B0 at φ −10 — given/);
    expect(await text(page, 'lab-plan-rungs')).toMatch(/^1 epoch;/);
    expect(await page.getByTestId('lab-candidates').locator('tbody tr').count()).toBe(CANDIDATES);
    for (const role of ['base', 'paper', 'depth', 'width', 'resolution', 'compound']) {
      expect(await page.getByTestId('lab-candidates').locator(`tbody tr[data-role="${role}"]`).count()).toBe(1);
    }
    // the search is in the list, open; a second search cannot start beside it
    expect(await page.getByTestId(`lab-search-${searchId}`).getAttribute('aria-current')).toBe('true');
    await expect.poll(() => page.getByTestId('lab-start').isDisabled(), { timeout: SLOW }).toBe(true);

    // Candidates train one after another; each shows up as a point as soon as it has an accuracy.
    await expect.poll(() => page.getByTestId('lab-candidates').locator('tbody tr[data-state="training"]').count(), { timeout: SLOW }).toBe(1);
    await expect.poll(() => points(page, 'flops').count(), { timeout: 300_000 }).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: path.join(RESULTS, 'lab-live.png'), fullPage: true });

    await expect.poll(() => status.getAttribute('data-status'), { timeout: 600_000 }).toBe('completed');
    await expect.poll(() => points(page, 'flops').count(), { timeout: SLOW }).toBe(CANDIDATES);
    expect(await page.getByTestId('lab-candidates').locator('tbody tr[data-state="finished"]').count()).toBe(CANDIDATES);
    // (a baseline can be level — the same accuracy as the base — so "attached", not "visible")
    for (const role of ['depth', 'width', 'resolution']) await page.getByTestId(`lab-baseline-${role}`).waitFor({ state: 'attached', timeout: SLOW });
    expect(Number(await page.getByTestId('lab-front').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('lab-verdict').innerText()).toMatch(/best: /);
    expect(await text(page, 'lab-noise')).toMatch(/^Noise: .* ±\d+\.\d pp apart/);
    expect(await page.getByTestId('lab-cancel').isDisabled()).toBe(true);
    await expect.poll(() => page.getByTestId('lab-start').isDisabled(), { timeout: SLOW }).toBe(false);
    // the best point is ringed and chosen by default
    const best = page.getByTestId('lab-scatter-flops').locator('[data-best="true"]');
    expect(await best.count()).toBe(1);
    expect(await best.getAttribute('aria-pressed')).toBe('true');

    // Saved as SVG (standalone, its legend inside) and PNG, like the other charts.
    const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('lab-save-svg').click()]);
    expect(svgDownload.suggestedFilename()).toBe(`search-${searchId}-accuracy-against-flops.svg`);
    const svgText = fs.readFileSync(await svgDownload.path()).toString();
    expect(svgText).toMatch(/^<\?xml[\s\S]*<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svgText).toContain('resolution only');
    const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('lab-save-png').click()]);
    expect(fs.readFileSync(await pngDownload.path()).subarray(1, 4).toString()).toBe('PNG');
    await pngDownload.saveAs(path.join(RESULTS, 'lab-saved-scatter.png'));

    // The same points against the measured time per image.
    await page.getByTestId('lab-axis-time').click();
    await expect.poll(() => points(page, 'time').count(), { timeout: SLOW }).toBe(CANDIDATES);
    await page.getByTestId('lab-axis-flops').click();

    // Choose the paper's point with the keyboard, keep it as a family.
    const paper = page.getByTestId('lab-scatter-flops').locator('[data-role="paper"]');
    await paper.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => text(page, 'lab-chosen-coefficients')).toBe('α 1.2 · β 1.1 · γ 1.15');
    const paperId = Number((await paper.getAttribute('data-testid'))!.replace('lab-point-', ''));
    expect(await page.getByTestId(`lab-choose-${paperId}`).isChecked()).toBe(true);
    await page.getByTestId('lab-use').click();
    const explorer = page.getByTestId('lab-explorer');
    await explorer.waitFor({ timeout: SLOW });
    const familyName = await text(page, 'lab-family-name');
    expect(familyName.length).toBeGreaterThan(0);
    expect(await page.getByTestId('lab-use').innerText()).toContain('Kept as a family');
    await expect.poll(() => page.getByTestId('lab-explore-variant-row').count(), { timeout: SLOW }).toBe(8);
    expect(await page.getByTestId('lab-explore-family-row').count()).toBeGreaterThan(0);
    await page.getByTestId('lab-explore-chart').locator('svg').waitFor({ timeout: SLOW });
    // the slider picks one model of the family: φ +1.25
    await page.getByTestId('lab-explore-slider').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => text(page, 'lab-explore-phi')).toBe('+1.25');
    await expect.poll(() => text(page, 'lab-explore-picked'), { timeout: SLOW }).toMatch(/\d+ px · \d+ blocks/);
    await page.getByTestId('lab-metric-trainingMemoryBytes').click();
    expect(await page.getByTestId('lab-explore-chart').getAttribute('data-metric')).toBe('trainingMemoryBytes');
    await page.screenshot({ path: path.join(RESULTS, 'lab-completed.png'), fullPage: true });
    await page.getByTestId('lab-results').screenshot({ path: path.join(RESULTS, 'lab-results.png') });
    expect(await horizontalOverflow(page)).toBe(0);
    await page.getByTestId('lab-family').screenshot({ path: path.join(RESULTS, 'lab-family.png') });

    // "Train this model": the Train tab with φ +1.25 of the family selected ...
    await page.getByTestId('lab-train-model').click();
    await page.getByTestId('train-screen').waitFor({ timeout: SLOW });
    expect(await page.getByTestId('train-model').inputValue()).toBe('custom');
    expect(await page.getByTestId('train-phi').inputValue()).toBe('1.25');
    // ... and the Model tab's custom panel shows the family with its base.
    await page.getByTestId('tab-model').click();
    await page.getByTestId('custom-panel').waitFor({ timeout: SLOW });
    const familySelect = page.getByTestId('custom-family');
    await expect.poll(async () => (await familySelect.locator('option:checked').innerText()).startsWith(familyName), { timeout: SLOW }).toBe(true);
    expect(await text(page, 'custom-base')).toBe('base φ −10');
    expect(await text(page, 'phi-value')).toBe('+1.25');
    expect(await page.getByTestId('alpha-input').inputValue()).toBe('1.2');
    await expect.poll(() => text(page, 'custom-resolution'), { timeout: SLOW }).toMatch(/^\d+$/);
    await page.screenshot({ path: path.join(RESULTS, 'lab-model-tab.png'), fullPage: true });
    // Choosing "none" drops the base: φ scales B0 again.
    await familySelect.selectOption('');
    await expect.poll(() => page.getByTestId('custom-base').count()).toBe(0);

    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.close();
  });

  test('cancel and resume a search; earlier searches open from the list', { timeout: 300_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1440, height: 1100 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(session.app.url);
    await page.getByTestId('recent-project').first().click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    await page.getByTestId('tab-lab').click();
    const status = page.getByTestId('lab-status');
    // the newest search opens by default
    await status.waitFor({ timeout: SLOW });
    const first = Number(await status.getAttribute('data-search'));
    expect(await status.getAttribute('data-status')).toBe('completed');

    // two epochs make a search that is still running when cancelled (a new page has a fresh localStorage: fill the form again)
    await fillTinySearch(page);
    await page.getByTestId('lab-epochs').fill('2');
    await page.getByTestId('lab-start').click();
    await expect.poll(async () => Number(await status.getAttribute('data-search')), { timeout: SLOW }).toBeGreaterThan(first);
    const second = Number(await status.getAttribute('data-search'));
    await expect.poll(() => page.getByTestId('lab-cancel').isDisabled(), { timeout: SLOW }).toBe(false);
    await page.getByTestId('lab-cancel').click();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 120_000 }).toBe('stopped');
    expect(await text(page, 'lab-status-reason')).toMatch(/cancelled by the user/);
    expect(await page.getByTestId('lab-resume').isDisabled()).toBe(false);
    await page.screenshot({ path: path.join(RESULTS, 'lab-stopped.png'), fullPage: true });
    // a narrow window stacks the columns; nothing runs off the side
    await page.setViewportSize({ width: 960, height: 1000 });
    await page.screenshot({ path: path.join(RESULTS, 'lab-narrow.png') });
    expect(await horizontalOverflow(page)).toBe(0);
    await page.setViewportSize({ width: 1440, height: 1100 });

    // the first search opens from the list with its results, then the cancelled one again
    await page.getByTestId(`lab-search-${first}`).click();
    await expect.poll(async () => Number(await status.getAttribute('data-search')), { timeout: SLOW }).toBe(first);
    expect(await points(page, 'flops').count()).toBe(CANDIDATES);
    await page.getByTestId(`lab-search-${second}`).click();
    await expect.poll(async () => Number(await status.getAttribute('data-search')), { timeout: SLOW }).toBe(second);

    // Resume goes on, then it is stopped again so nothing trains after the test.
    await page.getByTestId('lab-resume').click();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: SLOW }).toBe('running');
    await expect.poll(() => page.getByTestId('lab-cancel').isDisabled(), { timeout: SLOW }).toBe(false);
    await page.getByTestId('lab-cancel').click();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 120_000 }).toMatch(/stopped|completed/);
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.close();
  });
});
