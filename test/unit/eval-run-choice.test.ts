/**
 * The Evaluate screen's pure choices: which finished run opens first (the best by validation, not
 * the newest), whether a run is above chance (Assist asks before accepting its predictions), and
 * the run comparison's settings in words with rounded values.
 */
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../main/contract/calls-data';
import { bestRun, runQuality } from '../../renderer/src/evaluation/best-run';
import { configDiff, configValue, formatNumber, settingLabel } from '../../renderer/src/evaluation/config-diff';

function run(id: number, bestValLoss: number | null, valAcc: number | null, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    createdAt: `2026-12-0${id}T10:00:00.000Z`,
    status: 'completed',
    reason: null,
    config: {},
    backend: 'wasm',
    variant: 'b0',
    resolution: 224,
    classes: ['a', 'b', 'c', 'd'],
    bestEpoch: 0,
    bestValLoss,
    checkpointDir: null,
    updatedAt: '',
    finishedAt: '',
    epochCount: 1,
    lastEpoch: { epoch: 0, trainLoss: 1, trainAcc: 0.5, valLoss: bestValLoss, valAcc, imagesPerSecond: 10, seconds: 1, lr: 1e-3, batch: 8, at: '' },
    baseline: null,
    ...over,
  };
}

describe('the best run', () => {
  it('is the lowest validation loss, not the newest', () => {
    // newest first, as runs.list gives them
    const runs = [run(3, 1.2, 0.3), run(2, 0.4, 0.85), run(1, 0.9, 0.6)];
    expect(bestRun(runs)?.id).toBe(2);
  });

  it('a tie on the loss goes to the higher validation accuracy, then to the newer run', () => {
    expect(bestRun([run(3, 0.5, 0.7), run(2, 0.5, 0.8), run(1, 0.9, 0.9)])?.id).toBe(2);
    expect(bestRun([run(2, 0.5, 0.8), run(3, 0.5, 0.8)])?.id).toBe(3);
  });

  it('only completed runs with a validation loss count', () => {
    expect(bestRun([run(3, 0.1, 0.99, { status: 'failed' }), run(2, null, null), run(1, 0.7, 0.5)])?.id).toBe(1);
    expect(bestRun([run(2, null, null), run(1, null, 0.9)])).toBeNull();
    expect(bestRun([])).toBeNull();
  });
});

describe('above chance', () => {
  it('without the engine baseline: a run at or below 1 / classes is at chance; no validation accuracy is unknown', () => {
    expect(runQuality(run(1, 1, 0.26))).toEqual({ kind: 'ok' });
    expect(runQuality(run(1, 1, 0.25))).toEqual({ kind: 'at-chance', accuracy: 0.25, chance: 0.25, warning: null });
    expect(runQuality(run(1, 1, 0.1))).toMatchObject({ kind: 'at-chance' });
    expect(runQuality(run(1, null, null))).toEqual({ kind: 'unknown' });
    expect(runQuality(run(1, 1, 0.5, { lastEpoch: null }))).toEqual({ kind: 'unknown' });
  });

  it("the engine's baseline decides when there is one (it knows the majority class), and its accuracy ranks ties", () => {
    const baseline = { valAcc: 0.4, chance: 0.25, majority: 0.5, majorityClass: 'a', aboveBaseline: false, warning: 'validation accuracy 40 % is not above always answering "a" (50 %)' };
    expect(runQuality(run(1, 1, 0.9, { baseline }))).toEqual({ kind: 'at-chance', accuracy: 0.4, chance: 0.25, warning: baseline.warning });
    expect(runQuality(run(1, 1, 0.1, { baseline: { ...baseline, aboveBaseline: true, warning: null } }))).toEqual({ kind: 'ok' });
    // equal losses: the kept model's accuracy (baseline) wins over the last epoch's
    expect(bestRun([run(2, 0.5, 0.9, { baseline: { ...baseline, valAcc: 0.6 } }), run(1, 0.5, 0.5, { baseline: { ...baseline, valAcc: 0.7 } })])?.id).toBe(1);
  });
});

describe('comparing configurations', () => {
  it('names the settings in words and rounds the values (augment.ratioMax 1.3333333333333333 reads as a rounded value)', () => {
    const rows = configDiff({ epochs: 10, lr: 0.003, augment: { ratioMax: 4 / 3, flip: true } }, { epochs: 1, lr: 1e-7, augment: { ratioMax: 4 / 3, flip: false } });
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect(byKey.get('augment.ratioMax')).toEqual({ key: 'augment.ratioMax', label: 'augmentation: crop aspect ratio, max', a: '1.333', b: '1.333', differs: false });
    expect(byKey.get('augment.flip')).toMatchObject({ a: 'on', b: 'off', differs: true });
    expect(byKey.get('lr')).toMatchObject({ label: 'learning rate', a: '0.003', b: '1e-7', differs: true });
    expect(byKey.get('epochs')).toMatchObject({ label: 'epochs', a: '10', b: '1', differs: true });
    // the order a person reads a run in: the schedule before the augmentation
    expect(rows.map((r) => r.key)).toEqual(['epochs', 'lr', 'augment.ratioMax', 'augment.flip']);
  });

  it('values apart only beyond the rounding are shown in full, so a differing row never looks equal', () => {
    const [row] = configDiff({ lr: 0.00012345 }, { lr: 0.00012346 });
    expect(row.differs).toBe(true);
    expect(row.a).not.toBe(row.b);
  });

  it('null reads as what it means for the setting; unknown keys get words from their name', () => {
    expect(configValue(null, 'weights')).toBe('none (from scratch)');
    expect(configValue(null, 'batch')).toMatch(/^auto/);
    expect(configValue(undefined, 'lr')).toBe('—');
    // a run from before the setting existed, or one that left it out, trained in float32
    expect(configValue(undefined, 'precision')).toBe('fp32');
    expect(configDiff({ precision: 'mixed' }, {}).find((r) => r.key === 'precision')).toMatchObject({ label: 'precision', a: 'mixed', b: 'fp32', differs: true });
    expect(configValue(['x', 'y'])).toBe('x, y');
    expect(settingLabel('augment.someNewThing')).toBe('augment: some new thing');
    expect(formatNumber(20)).toBe('20');
    expect(formatNumber(1 / 3)).toBe('0.3333');
  });
});
