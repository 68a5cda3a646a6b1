/** The Train setup's engine choice ("Steps on") reaches train.start only where it means something. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FORM, toTrainOptions, type TrainForm } from '../../renderer/src/training/train-form';
import { TrainOptions } from '../../main/contract/calls-train';

const options = (form: Partial<TrainForm>) => toTrainOptions({ ...DEFAULT_FORM, ...form }, 'phi=-8').options;

describe('train form: the engine choice', () => {
  it('is sent for full and top runs on webgpu, and the contract takes it', () => {
    expect(options({ backend: 'webgpu', mode: 'full', engine: 'tfjs' }).engine).toBe('tfjs');
    expect(options({ backend: 'webgpu', mode: 'top', engine: 'effitune' }).engine).toBe('effitune');
    expect(TrainOptions.parse(options({ backend: 'webgpu', mode: 'full', engine: 'tfjs' })).engine).toBe('tfjs');
  });

  it('is left to the engine when not chosen, on other backends and in head mode', () => {
    expect(options({ backend: 'webgpu', mode: 'full', engine: '' }).engine).toBeUndefined();
    // a choice left over from webgpu must not follow the run to wasm (effitune would be refused there)
    expect(options({ backend: 'wasm', mode: 'full', engine: 'effitune' }).engine).toBeUndefined();
    expect(options({ backend: 'webgpu', mode: 'head', engine: 'effitune' }).engine).toBeUndefined();
  });
});

describe('train form: the mode', () => {
  it('left open, it is full from scratch and head on weights; chosen, it is kept', () => {
    expect(options({}).mode).toBe('full');
    expect(options({ backend: 'webgpu', engine: 'tfjs' }).engine).toBe('tfjs'); // full: the engine choice applies
    expect(toTrainOptions(DEFAULT_FORM, 'b0', '/w/efficientnetb0_notop.h5').options.mode).toBe('head');
    expect(toTrainOptions({ ...DEFAULT_FORM, mode: 'top' }, 'b0', '/w/efficientnetb0_notop.h5').options.mode).toBe('top');
    expect(options({ mode: 'head' }).mode).toBe('head');
  });
});

describe('train form: the precision', () => {
  it('mixed is sent where the Effitune engine trains, and fp32 (the default) is never sent', () => {
    expect(options({ backend: 'webgpu', mode: 'full', precision: 'mixed' }).precision).toBe('mixed');
    expect(options({ backend: 'webgpu', mode: 'top', engine: 'effitune', precision: 'mixed' }).precision).toBe('mixed');
    expect(TrainOptions.parse(options({ backend: 'webgpu', mode: 'full', precision: 'mixed' })).precision).toBe('mixed');
    expect(options({ backend: 'webgpu', mode: 'full', precision: 'fp32' }).precision).toBeUndefined();
  });

  it('a mixed choice left over does not follow the run where TF.js trains (it would be refused there)', () => {
    expect(options({ backend: 'wasm', mode: 'full', precision: 'mixed' }).precision).toBeUndefined();
    expect(options({ backend: 'webgpu', mode: 'head', precision: 'mixed' }).precision).toBeUndefined();
    expect(options({ backend: 'webgpu', mode: 'full', engine: 'tfjs', precision: 'mixed' }).precision).toBeUndefined();
  });
});

describe('train form: the precision with the backend on auto', () => {
  const withDefault = (form: Partial<TrainForm>, defaultBackend: 'webgpu' | 'wasm') => toTrainOptions({ ...DEFAULT_FORM, ...form }, 'phi=-8', undefined, defaultBackend).options;
  it('applies where auto means webgpu (a machine with a GPU), not where it means a CPU backend', () => {
    expect(withDefault({ mode: 'full', precision: 'mixed' }, 'webgpu').precision).toBe('mixed');
    expect(withDefault({ mode: 'full', precision: 'mixed' }, 'wasm').precision).toBeUndefined();
    // the engine choice is asked only with webgpu chosen: a leftover tfjs does not hide it on auto
    expect(withDefault({ mode: 'full', engine: 'tfjs', precision: 'mixed' }, 'webgpu').precision).toBe('mixed');
    expect(withDefault({ mode: 'head', precision: 'mixed' }, 'webgpu').precision).toBeUndefined();
  });
});
