/**
 * Evaluation and export end to end, in browser mode in a real Chromium: a project with two
 * finished tiny runs (test/fixtures/trained-run.ts, plus a second, shorter run) is opened in the
 * app; the Evaluate tab shows the metrics and the confusion matrix; clicking a cell shows exactly
 * the images eval.images gives for it (true and predicted class on each); the per-class table
 * sorts; "try an image" predicts a file; two runs are compared; the run history links here; and
 * the export dialog exports ONNX, then TF.js into the same folder after a confirmation.
 * A second page draws a 50-class matrix (synthetic numbers answered in place of eval.run) to
 * check that many class names stay readable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { RESULTS_DIR as RESULTS, useBrowserSession } from './harness';
import { createTrainedRun, TINY_TRAINING, type TrainedRun } from '../fixtures/trained-run';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { TrainOptions } from '../../main/contract/calls-train';
import type { Evaluation, PredictedImage } from '../../main/contract/calls-eval';
import { RunControl } from '../../main/train/control';
import { createTrainingRun } from '../../main/train/new-run';
import { trainRun } from '../../main/train/train-run';

const SLOW = 90_000;
const SECOND_RUN_EPOCHS = 2;

const session = useBrowserSession();
let dir: string;
let trained: TrainedRun;
let secondRunId: number;

beforeAll(async () => {
  dir = makeTempDir('e2e-eval');
  trained = await createTrainedRun(dir);
  secondRunId = await trainSecondRun(trained);
  // The app opens the project file itself; this process lets go of it first.
  trained.registry.closeAll();
}, 240_000);

afterAll(() => removeDir(dir));

/** Another completed run in the same project with fewer epochs, so there is something to compare. */
async function trainSecondRun(t: TrainedRun): Promise<number> {
  const options = TrainOptions.parse({ ...TINY_TRAINING, mode: 'full', epochs: SECOND_RUN_EPOCHS, patience: 0, seed: 2, backend: t.backend.name, augment: { scaleMin: 0.5 } });
  const { run } = createTrainingRun(t.handle, options);
  const result = await trainRun({
    db: t.handle.db,
    runId: run.id,
    checkpointRoot: t.registry.sideFolder(t.file, path.join('runs', String(run.id))),
    backend: t.backend,
    resume: false,
    control: new RunControl(),
    reporter: { started: () => undefined, progress: () => undefined, epoch: () => undefined, status: () => undefined, note: () => undefined },
  });
  if (result.status !== 'completed') throw new Error(`second run ${run.id} did not complete: ${result.reason}`);
  return run.id;
}

/** The contract over HTTP, as the page calls it, to compare what the page shows with the engine's answer. */
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

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

async function openProject(page: Page) {
  await page.goto(session.app.url);
  await page
    .getByTestId('start-screen')
    .waitFor({ timeout: SLOW })
    .catch(async (err) => {
      throw new Error(`no start screen; the page shows: ${(await page.locator('body').innerText()).slice(0, 500)}\nserver log: ${session.app.log().slice(-2000)}`, { cause: err });
    });
  await page.getByTestId('open-project-path').fill(trained.file);
  await page.getByTestId('open-project-submit').click();
  await page.getByTestId('project-home').waitFor({ timeout: SLOW });
}

describe('evaluation', () => {
  test('matrix, a cell and its images, sorting, try an image, comparison, export', { timeout: 420_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await openProject(page);

    await page.getByTestId('tab-evaluate').click();
    await page.getByTestId('eval-screen').waitFor({ timeout: SLOW });
    // Both runs are listed; pick the fixture's (longer) run on the test split.
    await page.getByTestId(`eval-run-${secondRunId}`).waitFor();
    await page.getByTestId(`eval-run-${trained.runId}`).click();
    await page.getByTestId('eval-split-test').click();
    const evaluationView = page.getByTestId('evaluation');
    await expect.poll(() => evaluationView.getAttribute('data-run-id').catch(() => null), { timeout: SLOW }).toBe(String(trained.runId));

    const expected = await api<Evaluation>('eval.run', { project: trained.file, runId: trained.runId, split: 'test' });
    expect(await text(page, 'metric-images')).toBe(String(expected.images));
    expect(await text(page, 'metric-accuracy')).toBe(`${((expected.accuracy ?? 0) * 100).toFixed(1)} %`);

    // The matrix: one cell per pair of classes, counts as the engine computed them.
    const matrix = page.getByTestId('confusion-matrix');
    expect(await matrix.getAttribute('data-classes')).toBe(String(expected.classes.length));
    const n = expected.classes.length;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(await page.getByTestId(`confusion-matrix-cell-${i}-${j}`).getAttribute('data-count')).toBe(String(expected.confusion[i][j]));

    // A mistake cell when there is one (else the fullest diagonal cell): exactly its images.
    const cells = expected.confusion.flatMap((row, i) => row.map((count, j) => ({ i, j, count })));
    const mistake = cells.filter((c) => c.i !== c.j && c.count > 0).sort((a, b) => b.count - a.count)[0];
    const cell = mistake ?? cells.filter((c) => c.count > 0).sort((a, b) => b.count - a.count)[0];
    await page.getByTestId(`confusion-matrix-cell-${cell.i}-${cell.j}`).click();
    const gallery = page.getByTestId('cell-gallery');
    await gallery.waitFor({ timeout: SLOW });
    const items = gallery.getByTestId('gallery-item');
    await expect.poll(() => items.count(), { timeout: SLOW }).toBe(cell.count);
    expect(await gallery.getAttribute('data-total')).toBe(String(cell.count));
    const trueClass = expected.classes[cell.i];
    const predictedClass = expected.classes[cell.j];
    const shown = await items.evaluateAll((els) => els.map((el) => ({ id: Number(el.getAttribute('data-image-id')), t: el.getAttribute('data-true'), p: el.getAttribute('data-predicted') })));
    expect(shown.every((s) => s.t === trueClass && s.p === predictedClass)).toBe(true);
    const fromApi = await api<{ total: number; items: PredictedImage[] }>('eval.images', { project: trained.file, runId: trained.runId, split: 'test', trueClass, predictedClass, limit: 1000 });
    expect(fromApi.total).toBe(cell.count);
    expect(shown.map((s) => s.id).sort((a, b) => a - b)).toEqual(fromApi.items.map((it) => it.id).sort((a, b) => a - b));
    expect(await text(page, 'cell-images-title')).toContain(trueClass);
    // Thumbnails load (the media URL carries the token).
    await expect.poll(() => gallery.locator('img').evaluateAll((imgs) => imgs.every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0)), { timeout: SLOW }).toBe(true);
    await page.screenshot({ path: path.join(RESULTS, 'evaluation.png') });

    // A row name: every image of that true class, whatever it was predicted as.
    await page.getByTestId('confusion-matrix-row-0').click();
    const rowTotal = expected.confusion[0].reduce((s, v) => s + v, 0);
    await expect.poll(() => text(page, 'cell-images-title')).toBe(`All images of ${expected.classes[0]}`);
    await expect.poll(() => gallery.getAttribute('data-total'), { timeout: SLOW }).toBe(String(rowTotal));
    await expect.poll(() => items.evaluateAll((els) => els.map((el) => el.getAttribute('data-true'))), { timeout: SLOW }).toEqual(Array(rowTotal).fill(expected.classes[0]));

    // Row-normalised: the tooltip-free cell text of a full row sums to about 100.
    await page.getByTestId('confusion-matrix-normalized').click();
    await expect.poll(() => page.getByTestId('confusion-matrix-normalized').getAttribute('aria-pressed')).toBe('true');
    await matrix.screenshot({ path: path.join(RESULTS, 'evaluation-matrix-normalized.png') });
    await page.getByTestId('confusion-matrix-counts').click();

    // The per-class table sorts by F1 (high first), again (low first), and by name.
    const column = (col: string) => page.getByTestId('per-class-row').evaluateAll((rows, c) => rows.map((r) => r.querySelector(`[data-col="${c}"]`)?.textContent ?? ''), col);
    const numbers = (values: string[]) => values.filter((v) => v !== '—').map(Number);
    await page.getByTestId('per-class-sort-f1').click();
    expect(await page.getByTestId('per-class-table').getAttribute('data-sort')).toBe('f1-desc');
    const down = numbers(await column('f1'));
    expect(down).toEqual([...down].sort((a, b) => b - a));
    await page.getByTestId('per-class-sort-f1').click();
    const up = numbers(await column('f1'));
    expect(up).toEqual([...up].sort((a, b) => a - b));
    await page.getByTestId('per-class-sort-support').click();
    const support = numbers(await column('support'));
    expect(support).toEqual([...support].sort((a, b) => b - a));
    await page.getByTestId('per-class-sort-className').click();
    const names = await page.getByTestId('per-class-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-class') ?? ''));
    expect(names).toEqual([...expected.classes].sort((a, b) => a.localeCompare(b)));

    // Mistakes, most confident first.
    const mistakes = expected.confusion.reduce((s, row, i) => s + row.reduce((t, v, j) => t + (i === j ? 0 : v), 0), 0);
    if (mistakes > 0) {
      const tiles = page.getByTestId('mistakes-gallery').getByTestId('gallery-item');
      await expect.poll(() => tiles.count(), { timeout: SLOW }).toBe(Math.min(60, mistakes));
      expect(await tiles.evaluateAll((els) => els.every((el) => el.getAttribute('data-true') !== el.getAttribute('data-predicted')))).toBe(true);
    } else {
      await page.getByTestId('mistakes-gallery-empty').waitFor({ timeout: SLOW });
    }

    await page.getByTestId('mistakes-gallery').or(page.getByTestId('mistakes-gallery-empty')).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(RESULTS, 'evaluation-lower.png') });

    // Try an image: a file of the project, picked with the file input.
    const className = expected.classes[0];
    await page.getByTestId('try-image-input').setInputFiles(trained.files[className][0]);
    const bars = page.getByTestId('try-image-top').locator('li');
    await expect.poll(() => bars.count(), { timeout: SLOW }).toBeGreaterThan(0);
    expect(expected.classes).toContain(await bars.first().getAttribute('data-class'));
    await page.getByTestId('try-image').screenshot({ path: path.join(RESULTS, 'evaluation-try-image.png') });
    // …and a file dropped on the panel.
    const dropped = trained.files[expected.classes[1]][0];
    await page.getByTestId('try-image').locator('.drop-zone').evaluate(
      (zone, { base64, name }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: 'image/png' }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      { base64: fs.readFileSync(dropped).toString('base64'), name: path.basename(dropped) },
    );
    await expect.poll(() => page.getByTestId('try-image').innerText(), { timeout: SLOW }).toContain(path.basename(dropped));
    await expect.poll(() => bars.count(), { timeout: SLOW }).toBeGreaterThan(0);

    // Compare with the second run: the epochs differ, both matrices and both curves are drawn.
    await page.getByTestId('eval-view-compare').click();
    await page.getByTestId('run-comparison').waitFor({ timeout: SLOW });
    await page.getByTestId('compare-run-b').selectOption(String(secondRunId));
    await expect.poll(() => page.getByTestId('compare-config').innerText(), { timeout: SLOW }).toMatch(/epochs/);
    const epochsRow = page.getByTestId('compare-config-row').filter({ hasText: /^epochs/ });
    expect(await epochsRow.getAttribute('data-differs')).toBe('true');
    await page.getByTestId('compare-matrix-b').waitFor({ timeout: SLOW });
    await page.getByTestId('compare-matrix-a').waitFor({ timeout: SLOW });
    expect(await page.getByTestId('compare-chart-loss-b-val').getAttribute('data-points')).toBe(String(SECOND_RUN_EPOCHS));
    const first = await api<{ epochs: unknown[] }>('runs.get', { project: trained.file, id: trained.runId });
    expect(await page.getByTestId('compare-chart-loss-a-val').getAttribute('data-points')).toBe(String(first.epochs.length));
    await page.screenshot({ path: path.join(RESULTS, 'evaluation-compare.png') });
    await page.getByTestId('compare-matrix-b').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(RESULTS, 'evaluation-compare-matrices.png') });

    // Saving the heatmap as SVG downloads a standalone SVG file.
    await page.getByTestId('eval-view-evaluation').click();
    await page.getByTestId('evaluation').waitFor({ timeout: SLOW });
    const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('confusion-matrix-save-svg').click()]);
    const svgText = fs.readFileSync(await svgDownload.path());
    expect(svgText.toString()).toMatch(/^<\?xml[\s\S]*<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svgText.toString()).toContain(expected.classes[0]);
    const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('confusion-matrix-save-png').click()]);
    const png = fs.readFileSync(await pngDownload.path());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    await pngDownload.saveAs(path.join(RESULTS, 'evaluation-saved-matrix.png'));
    // A curve saved as PNG carries its title and legend.
    await page.getByTestId('eval-view-compare').click();
    await page.getByTestId('compare-chart-loss').waitFor({ timeout: SLOW });
    const [chartDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-chart-loss-save-png').click()]);
    expect(chartDownload.suggestedFilename()).toMatch(/loss\.png$/);
    await chartDownload.saveAs(path.join(RESULTS, 'evaluation-saved-loss-chart.png'));
    await page.getByTestId('eval-view-evaluation').click();

    // The run history in the Train tab opens a run's evaluation.
    await page.getByTestId('tab-train').click();
    await page.getByTestId(`history-row-${secondRunId}`).click();
    await page.getByTestId('history-evaluate').click();
    await expect.poll(() => text(page, 'eval-title'), { timeout: SLOW }).toContain(`#${secondRunId}`);
    await page.getByTestId(`eval-run-${trained.runId}`).click();

    // Export ONNX into a new folder, then TF.js into the same one: replaced only after confirming.
    const out = path.join(dir, 'exported');
    await page.getByTestId('eval-export-open').click();
    await page.getByTestId('export-dialog').waitFor();
    await page.getByTestId('export-format-onnx').click();
    await page.getByTestId('export-out').fill(out);
    await page.getByTestId('export-start').click();
    const result = page.getByTestId('export-result');
    await result.waitFor({ timeout: 180_000 });
    expect(await result.getAttribute('data-format')).toBe('onnx');
    expect(await text(page, 'export-result-dir')).toBe(out);
    expect(await page.getByTestId('export-files').innerText()).toMatch(/\.onnx/);
    await page.getByTestId('export-precision-none').waitFor();
    expect(fs.existsSync(out)).toBe(true);
    await page.getByTestId('export-history-row').first().waitFor({ timeout: SLOW });
    await page.getByTestId('export-dialog').screenshot({ path: path.join(RESULTS, 'evaluation-export-onnx.png') });

    await page.getByTestId('export-again').click();
    await page.getByTestId('export-format-tfjs').click();
    await page.getByTestId('export-quantize-uint8').click();
    await expect.poll(() => page.getByTestId('export-out').inputValue()).toBe(out);
    await page.getByTestId('export-start').click();
    await page.getByTestId('export-confirm').waitFor({ timeout: SLOW });
    await page.getByTestId('export-dialog').screenshot({ path: path.join(RESULTS, 'evaluation-export-confirm.png') });
    await page.getByTestId('export-confirm-replace').click();
    await expect.poll(() => result.getAttribute('data-format').catch(() => null), { timeout: 180_000 }).toBe('tfjs');
    expect(await page.getByTestId('export-files').innerText()).toMatch(/model\.json/);
    // The precision table: float32 and uint8, each with a size.
    await page.getByTestId('export-precision-uint8').waitFor();
    expect(await page.getByTestId('export-precision-none').innerText()).toMatch(/\d+(\.\d)? (B|KB|MB)/);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    await expect.poll(() => page.getByTestId('export-history-row').count(), { timeout: SLOW }).toBeGreaterThanOrEqual(2);
    await page.getByTestId('export-dialog').screenshot({ path: path.join(RESULTS, 'evaluation-export-tfjs.png') });
    await page.getByTestId('export-done').click();
    await expect.poll(() => page.getByTestId('export-dialog').count()).toBe(0);
    // Escape closes the dialog too.
    await page.getByTestId('eval-export-open').click();
    await page.getByTestId('export-dialog').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('export-dialog').count()).toBe(0);

    expect(await page.getByTestId('error-toast').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('a 50-class matrix stays readable (synthetic numbers in place of eval.run)', { timeout: 120_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const classes = Array.from({ length: 50 }, (_, i) => `${['scratch', 'dent', 'crack', 'stain', 'missing-screw'][i % 5]}-${['front-panel', 'hinge', 'bottom-left-corner-area', 'lid'][i % 4]}-${i}`);
    // A plausible matrix: mostly right, some neighbours confused.
    const confusion = classes.map((_, i) => classes.map((__, j) => (i === j ? 20 + (i % 7) : Math.abs(i - j) === 1 ? i % 3 : 0)));
    const fake: Evaluation = {
      project: trained.file,
      runId: trained.runId,
      split: 'test',
      classes,
      images: confusion.flat().reduce((s, v) => s + v, 0),
      accuracy: 0.9,
      loss: 0.3,
      topK: [{ k: 1, accuracy: 0.9 }, { k: 5, accuracy: 0.99 }],
      perClass: classes.map((className, i) => ({ className, precision: 0.9, recall: 0.9, f1: 0.9, support: confusion[i].reduce((s, v) => s + v, 0), predicted: confusion.reduce((s, row) => s + row[i], 0) })),
      macro: { precision: 0.9, recall: 0.9, f1: 0.9 },
      weighted: { precision: 0.9, recall: 0.9, f1: 0.9 },
      confusion,
      skipped: [],
      backend: null,
      computedAt: new Date().toISOString(),
      cached: true,
      seconds: 0,
    };
    await page.route('**/api/call/eval.run', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: true, value: fake }) }));
    await page.route('**/api/call/eval.images', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: true, value: { total: 0, items: [] } }) }));
    await openProject(page);
    await page.getByTestId('tab-evaluate').click();
    const matrix = page.getByTestId('confusion-matrix');
    await expect.poll(() => matrix.getAttribute('data-classes').catch(() => null), { timeout: SLOW }).toBe('50');

    // Column names do not overlap each other; row names do not overlap each other.
    const boxes = async (prefix: string) => Promise.all(classes.map((_, i) => page.getByTestId(`confusion-matrix-${prefix}-${i}`).boundingBox()));
    const rows = await boxes('row');
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.y).toBeGreaterThanOrEqual(rows[i - 1]!.y + rows[i - 1]!.height - 1);
    const cols = await boxes('col');
    for (let i = 1; i < cols.length; i++) expect(cols[i]!.x).toBeGreaterThan(cols[i - 1]!.x);
    // Long names are cut, the full name is in the tooltip.
    const longest = classes.reduce((a, b) => (b.length > a.length ? b : a));
    const index = classes.indexOf(longest);
    // (the SVG <text> holds its <title> first, then the label shown)
    expect(await page.getByTestId(`confusion-matrix-row-${index}`).textContent()).toMatch(/…$/);
    expect(await page.getByTestId(`confusion-matrix-row-${index}`).locator('title').textContent()).toContain(longest);
    await matrix.screenshot({ path: path.join(RESULTS, 'evaluation-matrix-50.png') });

    // An engine error is shown in words where the evaluation would be, with a way to try again.
    await page.unroute('**/api/call/eval.run');
    await page.route('**/api/call/eval.run', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: false, error: { code: 'io_error', message: 'cannot read the model folder /x/model: disk unplugged' } }) }),
    );
    await page.getByTestId('eval-split-val').click();
    await expect.poll(() => text(page, 'eval-error'), { timeout: SLOW }).toMatch(/Cannot evaluate run #\d+ on the validation split: cannot read the model folder \/x\/model: disk unplugged/);
    await page.close();
  });

  test('a project without a finished run says how to get one', { timeout: 120_000 }, async () => {
    const page = await session.browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(session.app.url);
    await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
    await page.getByTestId('new-project-name').fill('Nothing trained');
    await page.getByTestId('new-project-folder').fill(dir);
    await page.getByTestId('new-project-create').click();
    await page.getByTestId('project-home').waitFor({ timeout: SLOW });
    await page.getByTestId('tab-evaluate').click();
    await expect.poll(() => text(page, 'eval-empty'), { timeout: SLOW }).toMatch(/No finished run[\s\S]*Train/);
    await page.screenshot({ path: path.join(RESULTS, 'evaluation-empty.png') });
    await page.close();
  });
});
