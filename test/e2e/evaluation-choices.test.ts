/**
 * What Evaluate and Assist choose for the user, in browser mode in a real Chromium: a
 * project with a trained run and a newer run that learned nothing (one epoch at a learning rate of
 * 1e-7). Evaluate and Assist open the best run by validation, not the newest, and say so; the
 * averages say how undefined values count and equal the engine's; the page scrolls in one place
 * only; a matrix cell brings its images into view; an image opens in the app's detail view (not a
 * browser tab), where x excludes it and ctrl+z undoes that; Assist asks before accepting the
 * predictions of a run that is not above chance.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { RESULTS_DIR as RESULTS, useBrowserSession } from './harness';
import { createTrainedRun, TINY_TRAINING, type TrainedRun } from '../fixtures/trained-run';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { TrainOptions } from '../../main/contract/calls-train';
import type { RunRecord } from '../../main/contract/calls-data';
import type { Evaluation, PredictedImage } from '../../main/contract/calls-eval';
import type { ImageDetail } from '../../main/contract/contract';
import { RunControl } from '../../main/train/control';
import { createTrainingRun } from '../../main/train/new-run';
import { trainRun } from '../../main/train/train-run';

const SLOW = 90_000;

const session = useBrowserSession();
let dir: string;
let trained: TrainedRun;
let poorRunId: number;

beforeAll(async () => {
  dir = makeTempDir('e2e-eval-choices');
  trained = await createTrainedRun(dir);
  poorRunId = await trainPoorRun(trained);
  trained.registry.closeAll();
}, 240_000);

afterAll(() => removeDir(dir));

/** A newer completed run that cannot have learned: one epoch at lr 1e-7 from random weights. */
async function trainPoorRun(t: TrainedRun): Promise<number> {
  const options = TrainOptions.parse({ ...TINY_TRAINING, mode: 'full', epochs: 1, lr: 1e-7, patience: 0, seed: 2, backend: t.backend.name, augment: { scaleMin: 0.5 } });
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
  if (result.status !== 'completed') throw new Error(`the poor run ${run.id} did not complete: ${result.reason}`);
  return run.id;
}

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
  await page.getByTestId('start-screen').waitFor({ timeout: SLOW });
  await page.getByTestId('open-project-path').fill(trained.file);
  await page.getByTestId('open-project-submit').click();
  await page.getByTestId('project-home').waitFor({ timeout: SLOW });
}

/** The runs as the engine lists them, and the best by validation loss computed here from the same numbers. */
async function runsAndBest(): Promise<{ runs: RunRecord[]; best: RunRecord }> {
  const { runs } = await api<{ runs: RunRecord[] }>('runs.list', { project: trained.file, status: 'completed' });
  const best = [...runs].filter((r) => r.bestValLoss !== null).sort((a, b) => a.bestValLoss! - b.bestValLoss!)[0];
  return { runs, best };
}

describe('evaluation choices', () => {
  test('Evaluate opens the best run, one scrollbar, a cell scrolls into view, an image opens in the detail view', { timeout: 300_000 }, async () => {
    const { runs, best } = await runsAndBest();
    // the point of the test: the best run is not the newest one
    expect(runs[0].id).toBe(poorRunId);
    expect(best.id).toBe(trained.runId);

    const page = await session.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await openProject(page);
    await page.getByTestId('tab-evaluate').click();
    const evaluationView = page.getByTestId('evaluation');
    await expect.poll(() => evaluationView.getAttribute('data-run-id').catch(() => null), { timeout: SLOW }).toBe(String(best.id));
    expect(await text(page, 'eval-title')).toContain(`#${best.id}`);
    expect(await page.getByTestId(`eval-run-${best.id}`).getAttribute('data-best')).toBe('true');
    expect(await page.getByTestId(`eval-run-${poorRunId}`).getAttribute('data-best')).toBe('false');
    await page.getByTestId(`eval-run-${best.id}`).getByTestId('eval-run-best').waitFor();
    expect(await page.getByTestId('eval-run-choice').getAttribute('data-best-run')).toBe(String(best.id));
    expect(await text(page, 'eval-run-choice')).toMatch(new RegExp(`best run[\\s\\S]*#${best.id}, val loss`));

    // The averages: as the engine computed them, with the convention said next to them.
    const expected = await api<Evaluation>('eval.run', { project: trained.file, runId: best.id, split: 'test' });
    expect(await text(page, 'metric-macro-f1')).toBe(expected.macro.f1!.toFixed(3));
    expect(await text(page, 'metrics-averages-note')).toMatch(/zero_division=0[\s\S]*counts as 0/);

    // Only the tab's panel scrolls: the document itself fits the window.
    const documentOverflow = () => page.evaluate(() => document.scrollingElement!.scrollHeight - document.scrollingElement!.clientHeight);
    expect(await documentOverflow()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(RESULTS, 'evaluation-best-run.png') });

    // Another run: marked as not the best, with the way back.
    await page.getByTestId(`eval-run-${poorRunId}`).click();
    await expect.poll(() => evaluationView.getAttribute('data-run-id').catch(() => null), { timeout: SLOW }).toBe(String(poorRunId));
    expect(await text(page, 'eval-run-choice')).toMatch(/Not the best run/);
    await page.getByTestId('eval-run-pick-best').click();
    await expect.poll(() => evaluationView.getAttribute('data-run-id').catch(() => null), { timeout: SLOW }).toBe(String(best.id));
    await page.getByTestId('confusion-matrix').waitFor({ timeout: SLOW });

    // A cell click brings its images into the window.
    const cells = expected.confusion.flatMap((row, i) => row.map((count, j) => ({ i, j, count })));
    const cell = cells.filter((c) => c.count > 0).sort((a, b) => b.count - a.count)[0];
    await page.getByTestId(`confusion-matrix-cell-${cell.i}-${cell.j}`).click();
    const gallery = page.getByTestId('cell-gallery');
    await gallery.waitFor({ timeout: SLOW });
    await expect
      .poll(
        async () => {
          const box = await page.getByTestId('cell-images').boundingBox();
          return box !== null && box.y >= 0 && box.y < 900 - 100;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(await documentOverflow()).toBeLessThanOrEqual(0);

    // A tile opens the app's detail view of that image, in this page.
    const first = gallery.getByTestId('gallery-item').first();
    const imageId = Number(await first.getAttribute('data-image-id'));
    const before = await api<ImageDetail>('images.get', { project: trained.file, id: imageId });
    expect(before.excluded).toBe(false);
    await first.getByTestId('gallery-open').click();
    const detail = page.getByTestId('detail-view');
    await detail.waitFor({ timeout: SLOW });
    await expect.poll(() => text(page, 'detail-path'), { timeout: SLOW }).toBe(before.path);
    expect(page.context().pages()).toHaveLength(1);
    await page.screenshot({ path: path.join(RESULTS, 'evaluation-detail-view.png') });

    // Its keys: x excludes the image (it leaves the evaluated list), ctrl+z brings it back.
    await page.keyboard.press('x');
    await expect.poll(async () => (await api<ImageDetail>('images.get', { project: trained.file, id: imageId })).excluded, { timeout: SLOW }).toBe(true);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await api<ImageDetail>('images.get', { project: trained.file, id: imageId })).excluded, { timeout: SLOW }).toBe(false);
    await page.keyboard.press('Escape');
    await expect.poll(() => detail.count()).toBe(0);
    // The gallery reads its list again: the image is back in its cell.
    const cellImages = await api<{ items: PredictedImage[] }>('eval.images', { project: trained.file, runId: best.id, split: 'test', trueClass: expected.classes[cell.i], predictedClass: expected.classes[cell.j], limit: 1000 });
    expect(cellImages.items.map((i) => i.id)).toContain(imageId);
    await expect.poll(() => gallery.getByTestId('gallery-item').count(), { timeout: SLOW }).toBe(cell.count);

    // A mistake opens the same way (when the run made one).
    const mistakes = page.getByTestId('mistakes-gallery').getByTestId('gallery-open');
    if ((await api<{ total: number }>('eval.images', { project: trained.file, runId: best.id, split: 'test', mistakesOnly: true, limit: 1 })).total > 0) {
      await mistakes.first().click();
      await detail.waitFor({ timeout: SLOW });
      await page.keyboard.press('Escape');
      await expect.poll(() => detail.count()).toBe(0);
    }

    expect(await page.getByTestId('error-toast').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('Assist opens the best run and asks before accepting the predictions of a run at chance', { timeout: 180_000 }, async () => {
    const { best } = await runsAndBest();
    const poor = (await api<{ run: RunRecord }>('runs.get', { project: trained.file, id: poorRunId })).run;
    const page = await session.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await openProject(page);
    await page.getByTestId('assist-open').click();
    const picker = page.getByTestId('assist-run');
    await picker.waitFor({ timeout: SLOW });
    expect(await picker.inputValue()).toBe(String(best.id));
    expect(await picker.locator(`option[value="${best.id}"]`).textContent()).toMatch(/· best$/);
    expect(await text(page, 'assist-run-choice')).toMatch(/best run/);

    await picker.selectOption(String(poorRunId));
    await expect.poll(() => text(page, 'assist-run-choice')).toMatch(new RegExp(`best by validation: #${best.id}`));
    // the engine's verdict on the run against guessing (chance, and the largest class)
    const valAcc = poor.baseline?.valAcc ?? poor.lastEpoch?.valAcc ?? null;
    const flagged = poor.baseline ? !poor.baseline.aboveBaseline : valAcc === null || valAcc <= 1 / poor.classes.length;
    const warning = page.getByTestId('assist-poor-run');
    if (flagged) {
      await warning.waitFor({ timeout: SLOW });
      expect(await warning.innerText()).toMatch(valAcc === null ? /no validation accuracy/ : /not above/);
      await page.screenshot({ path: path.join(RESULTS, 'assist-poor-run.png') });
      await page.getByTestId('assist-poor-run-confirm').click();
      await expect.poll(() => warning.count()).toBe(0);
    } else {
      // the 1e-7 run beat chance by luck on this draw: then it is not flagged
      expect(await warning.count()).toBe(0);
    }
    await page.getByTestId('assist-pick-best').click();
    expect(await picker.inputValue()).toBe(String(best.id));
    expect(await warning.count()).toBe(0);

    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
