/**
 * weights.importFile given a folder (what the UI's folder picker answers): the only weights file in
 * it is imported; a folder with none or with several is refused, naming the folder and the files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { WeightsStore } from '../../main/model/manager/weights-store';
import { writeTinyKerasH5 } from '../fixtures/model/tiny-weights-file';
import { makeTempDir, removeDir } from '../fixtures/temp';

let tmp: string;
let store: WeightsStore;

beforeAll(() => {
  tmp = makeTempDir('weights-import-folder');
  store = new WeightsStore({ dir: path.join(tmp, 'cache'), catalogue: [] });
});
afterAll(() => removeDir(tmp));

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('importFile of a folder', () => {
  it('imports the one weights file a folder holds, and refuses a folder with none or several', { timeout: 60_000 }, async () => {
    const folder = path.join(tmp, 'usb-stick');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'README.txt'), 'weights for the line camera');
    const empty = await rejection(store.importFile(folder, { variant: 'phi=-8' }));
    expect(empty.code).toBe('not_found');
    expect(empty.message).toBe(`the folder ${folder} holds no .h5 or .safetensors weights file`);

    await writeTinyKerasH5(path.join(folder, 'tiny_notop.h5'), { variant: 'phi=-8' });
    const imported = await store.importFile(folder, { variant: 'phi=-8' });
    expect(imported.weights).toMatchObject({ variant: 'phi=-8', includeTop: false, format: 'keras-h5', origin: path.join(folder, 'tiny_notop.h5') });

    fs.copyFileSync(path.join(folder, 'tiny_notop.h5'), path.join(folder, 'copy.h5'));
    const several = await rejection(store.importFile(folder, { variant: 'phi=-8' }));
    expect(several.code).toBe('invalid_input');
    expect(several.message).toBe(`the folder ${folder} holds several weights files (copy.h5, tiny_notop.h5); name the file`);
  });
});
