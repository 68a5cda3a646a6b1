/**
 * Labeling end to end, in browser mode in a real Chromium: a project of 24 unlabeled images (a
 * folder without sub-folders), three classes made in the class manager, 20 images labeled by
 * keyboard alone (arrows and number keys, after one click that focuses the grid), the counts per
 * class checked in the UI and through the HTTP API; two classes merged in the class manager, undo
 * (counts back), redo, undo again; an image excluded with `x`, one moved to another split, a class
 * created from the quick class search, a label given in the detail view (which moves on), and
 * labels imported from a CSV (unknown paths reported with their line) and exported again.
 * Then model-assisted labeling with a tiny trained run (test/fixtures/trained-run.ts): accept a
 * suggestion with one key (stored as a model label naming the run), and relabel a likely label
 * error to the prediction.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { RESULTS_DIR, useBrowserSession } from './harness';
import type { CallInput, CallName, CallOutput } from '../../main/contract/contract';
import { createTrainedRun } from '../fixtures/trained-run';
import { makeTempDir, removeDir } from '../fixtures/temp';

// The browser, the server and the import share two CPU cores in CI: be patient.
const SLOW = 60_000;
const IMAGES = 24;
const CLASSES = ['alpha', 'beta', 'gamma'] as const;
/** The number key pressed for each of the 20 images: 8 alpha, 7 beta, 5 gamma. */
const KEYS = '12312312312312312121'.split('').map(Number);
const EXPECTED = { alpha: 8, beta: 7, gamma: 5 };

const session = useBrowserSession();
let imagesDir: string;
/** label files written and read by the import / export steps */
let filesDir: string;

beforeAll(async () => {
  imagesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-e2e-unlabeled-'));
  filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-e2e-label-files-'));
  await writeLooseImages(imagesDir, IMAGES);
});
afterAll(() => {
  fs.rmSync(imagesDir, { recursive: true, force: true });
  fs.rmSync(filesDir, { recursive: true, force: true });
});

/** A call through the HTTP API of the running app, as a script would make it. */
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
const focusedTile = (page: Page) => page.locator('[data-testid="grid-tile"].focused');

async function apiCounts(project: string): Promise<Record<string, number>> {
  const { classes } = await api('classes.list', { project });
  return Object.fromEntries(classes.map((c) => [c.name, c.count]));
}

async function sidebarCount(page: Page, name: string): Promise<string> {
  const cell = page.getByTestId(`class-count-${name}`);
  return (await cell.count()) === 0 ? 'absent' : cell.innerText();
}

describe('labeling', () => {
  test('label 20 images by keyboard, merge two classes, undo / redo, exclude, move to a split', { timeout: 400_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('new-project-name').fill('Labeling e2e');
    await page.getByTestId('new-project-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    const project = (await page.locator('.header-path').getAttribute('title'))!;
    expect(project).toMatch(/\.effitune$/);

    // A folder without sub-folders: every image arrives unlabeled.
    await page.getByTestId('import-open').click();
    await page.getByTestId('import-folder-input').fill(imagesDir);
    await page.getByTestId('import-start').click();
    await page.getByTestId('import-summary').waitFor({ timeout: 180_000 });
    await page.getByTestId('import-done').click();
    await expect.poll(() => page.getByTestId('total-unlabeled').getAttribute('data-value'), { timeout: SLOW }).toBe(String(IMAGES));

    // Three classes, made in the class manager.
    await page.getByTestId('manage-classes').click();
    for (const name of CLASSES) {
      await page.getByTestId('class-new-name').fill(name);
      await page.getByTestId('class-new-name').press('Enter');
      await page.getByTestId(`manage-class-${name}`).waitFor({ timeout: SLOW });
    }
    await page.getByTestId('class-manager-close').click();
    await expect.poll(async () => (await api('classes.list', { project })).classes.map((c) => c.name)).toEqual([...CLASSES]);
    await expect.poll(() => page.getByTestId('assign-gamma').count(), { timeout: SLOW }).toBe(1);

    // One click focuses the grid; from here on the keyboard alone labels 20 images.
    const tiles = page.getByTestId('grid-tile');
    await expect.poll(() => tiles.count(), { timeout: SLOW }).toBeGreaterThan(10);
    await tiles.first().click();
    await expect.poll(() => page.getByTestId('grid').getAttribute('data-focus')).toBe('0');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('grid');

    const started = Date.now();
    for (const [i, key] of KEYS.entries()) {
      if (i > 0) await page.keyboard.press('ArrowRight');
      // The grid lists labeled images first (by class, then path), so the focus walks the unlabeled ones.
      const tile = focusedTile(page);
      await expect.poll(() => tile.getAttribute('data-class'), { timeout: SLOW }).toBe('');
      const id = await tile.getAttribute('data-image-id');
      await page.keyboard.press(String(key));
      const name = CLASSES[key - 1];
      // Wait for the grid to show the new label before the next key, as a person would see it.
      await expect.poll(() => page.locator(`[data-testid="grid-tile"][data-image-id="${id}"]`).getAttribute('data-class'), { timeout: SLOW }).toBe(name);
    }
    const labelSeconds = (Date.now() - started) / 1000;
    console.log(`labeled ${KEYS.length} images by keyboard in ${labelSeconds.toFixed(1)} s`);

    for (const [name, count] of Object.entries(EXPECTED)) {
      await expect.poll(() => sidebarCount(page, name), { timeout: SLOW }).toBe(String(count));
    }
    await expect.poll(() => page.getByTestId('total-unlabeled').getAttribute('data-value')).toBe(String(IMAGES - KEYS.length));
    expect(await apiCounts(project)).toEqual(EXPECTED);
    const status = await api('project.status', { project });
    expect(status.labeled).toBe(KEYS.length);
    expect(status.unlabeled).toBe(IMAGES - KEYS.length);
    // Each image's history says a user labeled it.
    const someId = Number(await tiles.first().getAttribute('data-image-id'));
    const history = await api('labels.history', { project, imageId: someId });
    expect(history.entries.at(-1)?.source).toBe('user');
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-grid.png') });

    // n jumps to the next unlabeled image (the grid lists them after the labeled ones).
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByTestId('grid').getAttribute('data-focus')).toBe('0');
    await page.keyboard.press('n');
    await expect.poll(() => page.getByTestId('grid').getAttribute('data-focus'), { timeout: SLOW }).toBe(String(KEYS.length));
    expect(await focusedTile(page).getAttribute('data-class')).toBe('');

    // Shift+End selects from the anchor to the last image; Esc goes back to the focused image alone.
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await expect.poll(() => page.getByTestId('selection-count').getAttribute('data-count')).toBe(String(IMAGES));
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('selection-count').getAttribute('data-count')).toBe('1');

        // The cheat-sheet lists the keys and which class each number gives.
    await page.keyboard.press('?');
    await page.getByTestId('keyboard-help').waitFor({ timeout: SLOW });
    expect(await text(page, 'keyboard-help')).toContain('gamma');
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-keys.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('keyboard-help').waitFor({ state: 'detached', timeout: SLOW });

    // Merge beta into alpha in the class manager; the confirmation says how many images move.
    await page.getByTestId('manage-classes').click();
    await page.getByTestId('class-merge-beta').click();
    await page.getByTestId('class-merge-target-beta').selectOption({ label: 'alpha' });
    await expect.poll(() => text(page, 'class-confirm-text')).toMatch(/Move all 7 images of beta into alpha/);
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-merge-confirm.png') });
    await page.getByTestId('class-confirm-ok').click();
    await expect.poll(() => page.getByTestId('manage-class-beta').count(), { timeout: SLOW }).toBe(0);
    await expect.poll(() => text(page, 'manage-count-alpha'), { timeout: SLOW }).toBe('15');
    expect(await apiCounts(project)).toEqual({ alpha: 15, gamma: 5 });
    // The undo button names what it will undo.
    await expect.poll(() => page.getByTestId('class-manager').getByTestId('undo').innerText(), { timeout: SLOW }).toMatch(/merge class "beta"/i);
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-merged.png') });
    await page.getByTestId('class-manager-close').click();

    // Undo from the keyboard: the counts are back, in the UI and through the API.
    await page.getByTestId('grid').focus();
    await page.keyboard.press('Control+z');
    for (const [name, count] of Object.entries(EXPECTED)) {
      await expect.poll(() => sidebarCount(page, name), { timeout: SLOW }).toBe(String(count));
    }
    expect(await apiCounts(project)).toEqual(EXPECTED);
    // Redo merges again, undo takes it back once more.
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => sidebarCount(page, 'alpha'), { timeout: SLOW }).toBe('15');
    await expect.poll(() => sidebarCount(page, 'beta'), { timeout: SLOW }).toBe('absent');
    expect(await apiCounts(project)).toEqual({ alpha: 15, gamma: 5 });
    await page.getByTestId('label-toolbar').getByTestId('undo').click();
    await expect.poll(() => sidebarCount(page, 'beta'), { timeout: SLOW }).toBe('7');
    expect(await apiCounts(project)).toEqual(EXPECTED);

    // Rename inline (any language) and undo it; reorder (the number keys follow) and put it back.
    await page.getByTestId('manage-classes').click();
    await page.getByTestId('class-rename-gamma').click();
    await page.getByTestId('class-rename-input-gamma').fill('Γάμμα');
    await page.getByTestId('class-rename-input-gamma').press('Enter');
    await expect.poll(async () => (await api('classes.list', { project })).classes.map((c) => c.name), { timeout: SLOW }).toEqual(['alpha', 'beta', 'Γάμμα']);
    await page.getByTestId('manage-class-Γάμμα').waitFor({ timeout: SLOW });
    await page.getByTestId('class-manager').getByTestId('undo').click();
    await page.getByTestId('manage-class-gamma').waitFor({ timeout: SLOW });
    await page.getByTestId('class-down-alpha').click();
    await expect.poll(async () => (await api('classes.list', { project })).classes.map((c) => c.name), { timeout: SLOW }).toEqual(['beta', 'alpha', 'gamma']);
    await expect.poll(() => page.getByTestId('assign-beta').locator('kbd').innerText(), { timeout: SLOW }).toBe('1');
    await page.getByTestId('class-up-alpha').click();
    await expect.poll(async () => (await api('classes.list', { project })).classes.map((c) => c.name), { timeout: SLOW }).toEqual([...CLASSES]);
    await page.getByTestId('class-manager-close').click();

    // Exclude the focused image with x: a badge on its tile, one excluded in the project.
    await page.getByTestId('grid').focus();
    await page.keyboard.press('Home');
    const first = focusedTile(page);
    const excludedId = Number(await first.getAttribute('data-image-id'));
    await page.keyboard.press('x');
    await page.locator(`[data-testid="grid-tile"][data-image-id="${excludedId}"] [data-testid="tile-excluded"]`).waitFor({ timeout: SLOW });
    await expect.poll(async () => (await api('project.status', { project })).excluded).toBe(1);
    await expect.poll(() => page.getByTestId('total-excluded').getAttribute('data-value'), { timeout: SLOW }).toBe('1');
    expect((await api('images.get', { project, id: excludedId })).excluded).toBe(true);

    // Move the next image to the validation split by hand (shift+arrow selects two, the bar moves them).
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await expect.poll(() => page.getByTestId('selection-count').getAttribute('data-count')).toBe('2');
    const movedIds = await page.locator('[data-testid="grid-tile"][aria-selected="true"]').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-image-id'))));
    expect(movedIds).toHaveLength(2);
    await page.getByTestId('move-split').selectOption('val');
    for (const id of movedIds) {
      await expect.poll(async () => (await api('images.get', { project, id })).split, { timeout: SLOW }).toBe('val');
    }
    await expect.poll(() => page.getByTestId('split-count-val').innerText(), { timeout: SLOW }).toBe('2');

    // Lock the test split: the engine says so, and the bar no longer offers to move images into test.
    await page.getByTestId('test-lock').click();
    await expect.poll(async () => (await api('split.get', { project })).locked, { timeout: SLOW }).toBe(true);
    await expect.poll(() => page.getByTestId('test-lock').getAttribute('data-locked'), { timeout: SLOW }).toBe('true');
    expect(await page.getByTestId('move-split').locator('option[value="test"]').isDisabled()).toBe(true);
    await page.getByTestId('test-lock').click();
    await expect.poll(async () => (await api('split.get', { project })).locked, { timeout: SLOW }).toBe(false);

    // The quick class search creates a class from a typed name and labels the focused image.
    await page.getByTestId('grid').focus();
    await page.keyboard.press('End');
    const last = focusedTile(page);
    await expect.poll(() => last.getAttribute('data-class')).toBe('');
    const lastId = await last.getAttribute('data-image-id');
    await page.keyboard.press('/');
    await page.getByTestId('class-picker-input').waitFor({ timeout: SLOW });
    await page.keyboard.type('delta');
    await page.getByTestId('class-picker-create').waitFor({ timeout: SLOW });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator(`[data-testid="grid-tile"][data-image-id="${lastId}"]`).getAttribute('data-class'), { timeout: SLOW }).toBe('delta');
    expect((await apiCounts(project)).delta).toBe(1);

    // The detail view: Enter opens the focused image; a number key labels it and moves on.
    await page.getByTestId('class-row-unlabeled').click();
    await expect.poll(() => page.getByTestId('grid').getAttribute('data-total'), { timeout: SLOW }).toBe(String(IMAGES - KEYS.length - 1));
    await tiles.first().click();
    await page.keyboard.press('Enter');
    await page.getByTestId('detail-view').waitFor({ timeout: SLOW });
    const detailPath = await text(page, 'detail-path');
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-detail.png') });
    await page.keyboard.press('3');
    await expect.poll(() => text(page, 'detail-path'), { timeout: SLOW }).not.toBe(detailPath);
    await expect.poll(() => apiCounts(project).then((c) => c.gamma), { timeout: SLOW }).toBe(EXPECTED.gamma + 1);
    await page.keyboard.press('Escape');
    await page.getByTestId('detail-view').waitFor({ state: 'detached', timeout: SLOW });
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-final.png') });

    // Deleting a class says how many images become unlabeled; undo brings it back with its image.
    await page.getByTestId('manage-classes').click();
    await page.getByTestId('class-delete-delta').click();
    await expect.poll(() => text(page, 'class-confirm-text')).toMatch(/Delete delta\? 1 image will become unlabeled/);
    await page.getByTestId('class-confirm-ok').click();
    await expect.poll(() => page.getByTestId('total-unlabeled').getAttribute('data-value'), { timeout: SLOW }).toBe('3');
    expect((await apiCounts(project)).delta).toBeUndefined();
    await page.getByTestId('class-manager').getByTestId('undo').click();
    await expect.poll(() => page.getByTestId('total-unlabeled').getAttribute('data-value'), { timeout: SLOW }).toBe('2');
    expect((await apiCounts(project)).delta).toBe(1);
    await page.getByTestId('class-manager-close').click();

        // Labels from a CSV: the two images still unlabeled get a new class; an unknown path is reported with its line.
    const left = (await api('images.list', { project, filter: { unlabeled: true } })).items.map((i) => i.path);
    expect(left).toHaveLength(2);
    const csv = path.join(filesDir, 'labels.csv');
    fs.writeFileSync(csv, ['path,class', ...left.map((p) => `${p},epsilon`), `${path.join(imagesDir, 'not-there.png')},epsilon`].join('\n') + '\n');
    await page.getByTestId('label-files').click();
    await page.getByTestId('label-import-file-input').fill(csv);
    await page.getByTestId('label-import-start').click();
    await page.getByTestId('label-import-result').waitFor({ timeout: SLOW });
    expect(await page.getByTestId('label-import-labeled').getAttribute('data-value')).toBe('2');
    expect(await page.getByTestId('label-import-unknown-count').getAttribute('data-value')).toBe('1');
    expect(await text(page, 'label-import-unknown')).toMatch(/line 4[\s\S]*not-there\.png/);
    expect(await text(page, 'label-import-result')).toContain('created epsilon');
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-import.png') });
    expect((await apiCounts(project)).epsilon).toBe(2);
    await expect.poll(() => page.getByTestId('total-unlabeled').getAttribute('data-value'), { timeout: SLOW }).toBe('0');

    // ... and out again: every labeled image in a CSV.
    await page.getByTestId('label-files-tab-export').click();
    const exported = path.join(filesDir, 'export.csv');
    await page.getByTestId('label-export-file-input').fill(exported);
    await page.getByTestId('label-export-start').click();
    await page.getByTestId('label-export-result').waitFor({ timeout: SLOW });
    const labeledNow = (await api('project.status', { project })).labeled;
    const exportedLines = fs.readFileSync(exported, 'utf8').trim().split('\n');
    expect(exportedLines.length - 1).toBeGreaterThanOrEqual(labeledNow);
    expect(await text(page, 'label-export-result')).toContain(`${exportedLines.length - 1} rows`);
    await page.getByTestId('label-files-close').click();

    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.close();
  });
});

describe('model-assisted labeling', () => {
  let dir: string | undefined;
  afterAll(() => removeDir(dir));

  test('accept a suggestion with one key; relabel a likely label error', { timeout: 400_000 }, async () => {
    dir = makeTempDir('e2e-assist');
    const trained = await createTrainedRun(dir);
    // The app opens the project file itself; this process lets go of it first.
    trained.registry.closeAll();
    const project = trained.file;
    await api('project.open', { path: project });
    // Six images lose their label (suggestions), two get a wrong one (likely label errors).
    const { items } = await api('images.list', { project, filter: { status: 'ok' }, limit: 1000 });
    const byClass = new Map<string, number[]>();
    for (const image of items) byClass.set(image.className!, [...(byClass.get(image.className!) ?? []), image.id]);
    const [first, second] = [...byClass.keys()];
    const unlabeled = [...byClass.values()].flatMap((ids) => ids.slice(0, 2));
    await api('labels.set', { project, imageIds: unlabeled, class: null });
    const wrong = byClass.get(first)!.slice(2, 4);
    await api('labels.set', { project, imageIds: wrong, class: second });

    const page = await session.browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('open-project-path').fill(project);
    await page.getByTestId('open-project-submit').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });

    await page.getByTestId('assist-open').click();
    await page.getByTestId('assist-view').waitFor({ timeout: SLOW });
    const rows = page.getByTestId('assist-row');
    await expect.poll(() => rows.count(), { timeout: SLOW }).toBe(unlabeled.length);
    // Least confident first, as the engine orders them.
    const expected = await api('assist.suggestions', { project, runId: trained.runId });
    expect(await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-image-id'))))).toEqual(expected.items.map((i) => i.id));
    await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-assist-suggestions.png') });

    // `a` accepts the focused suggestion: labeled as predicted, from the model, and the list moves on.
    const top = expected.items[0];
    await page.getByTestId('assist-list').focus();
    await page.keyboard.press('a');
    await expect.poll(() => rows.count(), { timeout: SLOW }).toBe(unlabeled.length - 1);
    const accepted = await api('images.get', { project, id: top.id });
    expect(accepted.className).toBe(top.predictedClass);
    const history = await api('labels.history', { project, imageId: top.id });
    expect(history.entries.at(-1)?.source).toBe('model');

    // Likely label errors at 50 % confidence: the UI lists what the engine finds; r relabels to the prediction.
    await page.getByTestId('assist-mode-disagreements').click();
    await page.getByTestId('assist-min-confidence').selectOption('0.5');
    const errors = await api('assist.disagreements', { project, runId: trained.runId, minConfidence: 0.5 });
    console.log(`likely label errors at 50 %: ${errors.total}, of them mislabeled on purpose: ${wrong.filter((id) => errors.items.some((i) => i.id === id)).length} of ${wrong.length}`);
    if (errors.total === 0) {
      await page.getByTestId('assist-empty').waitFor({ timeout: SLOW });
    } else {
      await expect.poll(() => rows.count(), { timeout: SLOW }).toBe(Math.min(errors.total, 100));
      await page.screenshot({ path: path.join(RESULTS_DIR, 'labeling-assist-errors.png') });
      const firstError = errors.items[0];
      await page.getByTestId('assist-list').focus();
      await page.keyboard.press('r');
      await expect.poll(() => api('images.get', { project, id: firstError.id }).then((i) => i.className), { timeout: SLOW }).toBe(firstError.predictedClass);
      await expect.poll(() => rows.count(), { timeout: SLOW }).toBe(Math.min(errors.total, 100) - 1);
      if (errors.total > 1) {
        // k keeps the next one's label: stored, so the engine no longer lists it
        const kept = errors.items[1];
        const historyBefore = (await api('labels.history', { project, imageId: kept.id })).entries.length;
        await page.keyboard.press('k');
        await expect
          .poll(() => api('labels.history', { project, imageId: kept.id }).then((h) => (h.entries.length > historyBefore ? h.entries.at(-1) : null)), { timeout: SLOW })
          .toMatchObject({ fromClass: kept.trueClass, toClass: kept.trueClass });
        const left = await api('assist.disagreements', { project, runId: trained.runId, minConfidence: 0.5 });
        expect(left.items.map((i) => i.id)).not.toContain(kept.id);
      }
    }
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.close();
  });
});

/** Loose images (no class folders), each a different size and colour so none is a duplicate. */
async function writeLooseImages(dir: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const width = 48 + (i % 6) * 6;
    const height = 40 + Math.floor(i / 6) * 6;
    const hue = Math.round((i * 360) / count);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="hsl(${hue},70%,60%)"/><circle cx="${width / 2}" cy="${height / 2}" r="${(height / 3) | 0}" fill="hsl(${(hue + 180) % 360},70%,35%)"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(path.join(dir, `image-${String(i).padStart(2, '0')}.png`));
  }
}
