/** The `effitune train` flags as the contract's input, negative option values, and the progress line. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { TrainOptions } from '../../main/contract/calls-train';
import { configFromFlags, renderTrainProgress, trainCommand } from '../../main/cli/commands/train';
import { parseCommandArgs } from '../../main/cli/main';

describe('effitune train flags', () => {
  it('--model custom --phi -3 becomes the compound-scaled model "phi=-3" (a negative value is the option\'s value)', () => {
    const { values } = parseCommandArgs(trainCommand, ['p.effitune', '--model', 'custom', '--phi', '-3', '--lr', '1e-4', '--epochs', '5', '--no-augment']);
    const input = configFromFlags(values);
    expect(input).toMatchObject({ model: 'phi=-3', lr: 1e-4, epochs: 5, augment: false });
    // no --mode: the contract leaves it to the weights (resolveTrainConfig: full here, from scratch)
    expect(TrainOptions.parse(input)).toMatchObject({ model: 'phi=-3', seed: 1 });
    expect(TrainOptions.parse(input).mode).toBeUndefined();
    expect(configFromFlags(parseCommandArgs(trainCommand, ['p', '--model', 'custom', '--phi=-2.5', '--gamma', '1.2']).values).model).toBe('phi=-2.5,gamma=1.2');
  });

  it('no --model: the error says it is required and what it can be', () => {
    const result = TrainOptions.safeParse(configFromFlags(parseCommandArgs(trainCommand, ['p']).values));
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ path: ['model'], message: 'is required: b0..b7, v2-b0..v2-l, or a custom φ' });
  });

  it('--allow-random-backbone opts in to head/top mode without weights; left out, nothing is sent', () => {
    expect(configFromFlags(parseCommandArgs(trainCommand, ['p', '--model', 'b0', '--mode', 'top', '--allow-random-backbone']).values)).toMatchObject({ mode: 'top', allowRandomBackbone: true });
    expect(configFromFlags(parseCommandArgs(trainCommand, ['p', '--model', 'b0']).values).allowRandomBackbone).toBeUndefined();
  });

  it('refuses --phi without --model custom, and custom without --phi', () => {
    expect(() => configFromFlags({ model: 'b0', phi: '-3' })).toThrow(ApiError);
    expect(() => configFromFlags({ model: 'custom' })).toThrow(/needs --phi/);
  });

  it('passes text that is not a number through, so the contract names the flag', () => {
    const parsed = TrainOptions.safeParse(configFromFlags({ model: 'b0', batch: 'lots' }));
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0].path).toEqual(['batch']);
  });
});

describe('progress line', () => {
  it('shows epoch, batch, loss, accuracy, speed and ETA', () => {
    const line = renderTrainProgress(
      { project: 'p', runId: 1, phase: 'training', epoch: 1, epochs: 5, batchIndex: 3, batchesPerEpoch: 6, step: 9, loss: 0.6931, accuracy: 0.75, lr: 1e-3, batch: 8, imagesPerSecond: 12.34, etaSeconds: 95, elapsedSeconds: 10 },
      120,
    );
    expect(line).toBe('[##########..........] epoch 2/5 · batch 3/6 · loss 0.693 · acc 75% · 12.3 img/s · ETA 1m35s');
  });
});
