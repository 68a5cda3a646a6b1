/**
 * The model picker end to end, in browser mode in a real Chromium: create a project, open the
 * Model tab, read B0's published figures in the table, move the φ slider and see the custom
 * network's resolution and parameters follow, and break α·β²·γ² ≈ 2 to get the warning.
 */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { RESULTS_DIR as RESULTS, useBrowserSession } from './harness';

const SLOW = 30_000;

const session = useBrowserSession();

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

describe('model picker', () => {
  test('variants table, φ slider and the α·β²·γ² check', { timeout: 120_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('new-project-name').fill('E2E models');
    await page.getByTestId('new-project-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });

    await page.getByTestId('tab-model').click();
    await page.getByTestId('model-picker').waitFor({ timeout: SLOW });

    // B0 as published: 5,288,548 parameters at 224 px, 77.1 % top-1; the default batch is 32.
    await expect.poll(() => text(page, 'variant-params-b0'), { timeout: SLOW }).toBe('5.29 M');
    expect(await text(page, 'variant-resolution-b0')).toBe('224 px');
    expect(await text(page, 'variant-top1-b0')).toBe('77.1 %');
    expect(await text(page, 'variant-params-b7')).toBe('66.35 M');
    expect(await page.getByTestId('batch-input').inputValue()).toBe('32');
    for (const id of ['b0', 'b7', 'v2-b0', 'v2-s', 'v2-m', 'v2-l']) {
      await page.getByTestId(`plot-point-${id}`).waitFor();
      // no weights were downloaded into this fresh data folder
      expect(await text(page, `variant-weights-${id}`)).toBe('not here');
    }

    // Training memory is linear in the batch size: doubling it doubles B0's figure (up to rounding).
    const memoryAt32 = parseMemory(await text(page, 'variant-memory-b0'));
    await page.getByTestId('batch-input').fill('64');
    await expect.poll(async () => parseMemory(await text(page, 'variant-memory-b0')), { timeout: SLOW }).toBeCloseTo(memoryAt32 * 2, 0);

    // φ = 0 is B0 exactly; the custom row and the panel agree.
    await expect.poll(() => text(page, 'custom-resolution'), { timeout: SLOW }).toBe('224');
    expect(await text(page, 'custom-params')).toBe('5.29');
    expect(await text(page, 'variant-params-custom')).toBe('5.29 M');

    // Slide φ up by four quarter steps (φ = 1): resolution and parameters grow.
    const slider = page.getByTestId('phi-slider');
    await slider.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => text(page, 'phi-value')).toBe('+1');
    await expect.poll(() => text(page, 'custom-resolution'), { timeout: SLOW }).toBe(String(8 * Math.round((224 * 1.15) / 8)));
    expect(Number(await text(page, 'custom-params'))).toBeGreaterThan(5.29);
    expect(await text(page, 'custom-depth')).toBe('1.200');
    expect(await text(page, 'custom-width')).toBe('1.100');

    // Then down to φ = −2: a smaller network than B0.
    for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowLeft');
    await expect.poll(() => text(page, 'phi-value')).toBe('−2');
    await expect.poll(async () => Number(await text(page, 'custom-resolution')), { timeout: SLOW }).toBeLessThan(224);
    expect(Number(await text(page, 'custom-params'))).toBeLessThan(5.29);

    // The paper's constants meet α·β²·γ² ≈ 2 (1.920).
    const check = page.getByTestId('constraint-check');
    expect(await check.getAttribute('data-state')).toBe('ok');
    expect(await text(page, 'constraint-product')).toBe('1.920');

    // Select the custom network, as training will use it.
    await page.getByTestId('custom-use').click();
    await expect.poll(() => text(page, 'picker-choice-name')).toContain('Custom φ = −2');
    expect(await page.getByTestId('variant-row-custom').getAttribute('aria-selected')).toBe('true');

    // Constants that break the constraint: α·β²·γ² = 1.5·1.3²·1.3² ≈ 4.28, a warning says what it means.
    await page.getByTestId('alpha-input').fill('1.5');
    await page.getByTestId('beta-input').fill('1.3');
    await page.getByTestId('gamma-input').fill('1.3');
    await expect.poll(() => check.getAttribute('data-state')).toBe('warn');
    expect(await text(page, 'constraint-product')).toBe('4.284');
    expect(await check.innerText()).toContain('instead of ≈ 2');
    await expect.poll(() => text(page, 'custom-depth')).toBe((1.5 ** -2).toFixed(3));
    await expect.poll(() => text(page, 'variant-resolution-custom'), { timeout: SLOW }).toBe(`${8 * Math.round((224 * 1.3 ** -2) / 8)} px`);

    // Back to φ = +1 with the warning still shown, for a screenshot of the whole picker.
    await slider.focus();
    for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => text(page, 'phi-value')).toBe('+1');
    await expect.poll(() => page.getByTestId('custom-result').getAttribute('aria-busy')).toBe('false');
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.screenshot({ path: path.join(RESULTS, 'model-picker.png'), fullPage: true });

    // A plot point selects its variant too.
    await page.getByTestId('plot-point-b3').click();
    await expect.poll(() => page.getByTestId('variant-row-b3').getAttribute('aria-selected')).toBe('true');
    expect(await text(page, 'tab-model')).toContain('B3');

    // The choice survives a trip to the data tab.
    await page.getByTestId('tab-data').click();
    await page.getByTestId('project-sidebar').waitFor({ timeout: SLOW });
    await page.getByTestId('tab-model').click();
    await expect.poll(() => page.getByTestId('variant-row-b3').getAttribute('aria-selected'), { timeout: SLOW }).toBe('true');
    expect(await page.getByTestId('batch-input').inputValue()).toBe('64');
    await page.close();
  });
});

/** "21.7 GB" / "512 MB" / "1.9 TB" → GB. */
function parseMemory(value: string): number {
  const [number, unit] = value.trim().split(/\s+/);
  return Number(number) * ({ MB: 1 / 1024, GB: 1, TB: 1024 } as Record<string, number>)[unit];
}
