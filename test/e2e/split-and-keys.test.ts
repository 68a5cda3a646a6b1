/**
 * The split from the Data tab and the keys of the labeling bar, in browser mode in a real Chromium:
 * the sample project shows its "no split yet" warning once on the Train tab; from the Data tab's
 * sidebar the Split dialog refuses a fraction it cannot use (in words) and splits 60 / 25 / 15
 * (the engine stores those fractions, the sidebar counts follow); ten classes, the tenth labeled
 * with 0 and listed under 0 in the keyboard help; Esc closes the class manager right after it
 * opens; and the labeling bar keeps its height when "Undid: …" appears.
 */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { RESULTS_DIR, useBrowserSession } from './harness';
import type { CallInput, CallName, CallOutput } from '../../main/contract/contract';

// The browser, the server and the sample's images share two CPU cores in CI: be patient.
const SLOW = 60_000;

const session = useBrowserSession();

async function api<N extends CallName>(name: N, input: CallInput<N>): Promise<CallOutput<N>> {
  const response = await fetch(`http://127.0.0.1:${session.app.port}/api/call/${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.app.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const reply = (await response.json()) as { ok: true; value: CallOutput<N> } | { ok: false; error: { message: string } };
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value;
}

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();
const occurrences = (haystack: string, needle: RegExp) => (haystack.match(new RegExp(needle.source, 'g')) ?? []).length;

describe('split fractions and labeling keys', () => {
  test('split 60 / 25 / 15 from the Data tab; the 10th class on 0; Esc closes the class manager; the bar keeps its height', { timeout: 300_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('sample-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    const project = (await page.locator('.header-path').getAttribute('title'))!;

    // The Train tab says once that there is no split (not once more in the engine's words).
    await page.getByTestId('tab-train').click();
    await expect.poll(() => text(page, 'split-warning'), { timeout: SLOW }).toContain('no train / validation / test split yet');
    const panel = await text(page, 'split-panel');
    expect(occurrences(panel, /split yet/)).toBe(1);
    await page.getByTestId('split-panel').screenshot({ path: path.join(RESULTS_DIR, 'split-train-tab.png') });

    // The Data tab's sidebar opens the same panel; a fraction it cannot use is refused in words.
    await page.getByTestId('tab-data').click();
    await page.getByTestId('sidebar-split-open').click();
    const dialog = page.getByTestId('split-dialog');
    await dialog.waitFor({ timeout: SLOW });
    await dialog.getByTestId('split-val').fill('90');
    await dialog.getByTestId('split-test').fill('15');
    await expect.poll(() => text(page, 'split-fraction-problem')).toMatch(/must stay below 100 %/);
    expect(await dialog.getByTestId('split-run').isDisabled()).toBe(true);
    await dialog.getByTestId('split-val').fill('25');
    await expect.poll(() => text(page, 'split-train-share')).toBe('train 60 %');
    expect(await dialog.getByTestId('split-fraction-problem').count()).toBe(0);
    await expect.poll(() => dialog.getByTestId('split-run').innerText()).toBe('Split 60 / 25 / 15');
    await dialog.getByTestId('split-run').click();
    await expect.poll(async () => (await api('split.get', { project })).params, { timeout: SLOW }).toMatchObject({ val: 0.25, test: 0.15 });
    const split = await api('split.get', { project });
    await expect.poll(() => text(page, 'split-current'), { timeout: SLOW }).toMatch(/Validation 25 %, test 15 %/);
    expect(Number(await dialog.getByTestId('split-total-val').innerText())).toBe(split.totals.val);
    // 25 % of each class in validation (the engine rounds per class), more than the default 15 % would give.
    expect(split.totals.val).toBeGreaterThan(split.totals.test);
    await dialog.screenshot({ path: path.join(RESULTS_DIR, 'split-data-dialog.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: SLOW });
    await expect.poll(() => page.getByTestId('split-count-val').innerText(), { timeout: SLOW }).toBe(String(split.totals.val));

    // Ten classes: the tenth gets the 0 key, in the bar, in the keyboard help and in the grid.
    const existing = (await api('classes.list', { project })).classes.length;
    for (let i = existing; i < 10; i++) await api('classes.create', { project, name: `extra-${i + 1}` });
    const classes = (await api('classes.list', { project })).classes;
    expect(classes).toHaveLength(10);
    const tenth = classes[9].name;
    await expect.poll(() => page.getByTestId(`assign-${tenth}`).locator('kbd').innerText().catch(() => null), { timeout: SLOW }).toBe('0');

    const tiles = page.getByTestId('grid-tile');
    await expect.poll(() => tiles.count(), { timeout: SLOW }).toBeGreaterThan(3);
    await tiles.first().click();
    const id = Number(await page.locator('[data-testid="grid-tile"].focused').getAttribute('data-image-id'));
    const toolbar = page.getByTestId('label-toolbar');
    const heightBefore = (await toolbar.boundingBox())!.height;
    await toolbar.screenshot({ path: path.join(RESULTS_DIR, 'split-keys-toolbar.png') });
    await page.keyboard.press('0');
    await expect.poll(async () => (await api('images.get', { project, id })).className, { timeout: SLOW }).toBe(tenth);
    // The grid moves the image among the tenth class's (out of view); the sidebar counts it there.
    await expect.poll(() => text(page, `class-count-${tenth}`), { timeout: SLOW }).toBe('1');

    // Undo: the bar says what it undid, and keeps its height (nothing below it jumps).
    await page.keyboard.press('Control+z');
    await expect.poll(() => text(page, 'last-edit'), { timeout: SLOW }).toMatch(/^Undid: /);
    await expect.poll(async () => (await api('images.get', { project, id })).className, { timeout: SLOW }).not.toBe(tenth);
    await toolbar.screenshot({ path: path.join(RESULTS_DIR, 'split-keys-toolbar-undid.png') });
    expect((await toolbar.boundingBox())!.height).toBe(heightBefore);

    await page.keyboard.press('?');
    const help = page.getByTestId('keyboard-help');
    await help.waitFor({ timeout: SLOW });
    expect(await help.innerText()).toMatch(/0 is the 10th class/);
    expect(await help.locator('.key-classes li', { hasText: tenth }).locator('kbd').innerText()).toBe('0');
    await help.screenshot({ path: path.join(RESULTS_DIR, 'split-keys-help.png') });
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached', timeout: SLOW });

    // Esc closes the class manager at once, before anything in it was clicked.
    await page.getByTestId('manage-classes').click();
    await page.getByTestId('class-manager').waitFor({ timeout: SLOW });
    await page.keyboard.press('Escape');
    await page.getByTestId('class-manager').waitFor({ state: 'detached', timeout: SLOW });

    expect(await page.getByTestId('error-toast').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
