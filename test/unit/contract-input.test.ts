/**
 * Every call's input at the door: a NUL byte in any text (a folder, an output path, a weights file,
 * a nested option) is refused as invalid input naming the field, before any work could cut the
 * path short or fail deep inside; a project path keeps its own message.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, parseInput } from '../../main/contract/contract';

function refusal(name: Parameters<typeof parseInput>[0], input: unknown): ApiError {
  try {
    parseInput(name, input);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`${name} accepted ${JSON.stringify(input)}`);
}

describe('call input', () => {
  it('refuses a NUL byte in any text, naming the field', () => {
    expect(refusal('import.folder', { project: 'a.effitune', folder: '/data/x\0y' })).toMatchObject({ code: 'invalid_input', message: 'invalid input for import.folder: folder: cannot contain a NUL byte (\\0)' });
    expect(refusal('export.run', { project: 'a.effitune', runId: 1, format: 'onnx', out: 'out\0dir' }).message).toMatch(/export\.run: out: cannot contain a NUL byte/);
    expect(refusal('weights.importFile', { file: 'b0.h5\0' }).message).toMatch(/weights\.importFile: file: cannot contain a NUL byte/);
    expect(refusal('train.start', { project: 'a.effitune', model: 'b0', weights: 'w\0.h5' }).message).toMatch(/train\.start: weights: cannot contain a NUL byte/);
    // a project path keeps its own words
    expect(refusal('import.folder', { project: 'a\0.effitune', folder: '/data' }).message).toMatch(/project: a project path cannot contain a NUL byte/);
    // and text without one passes
    expect(parseInput('import.folder', { project: 'a.effitune', folder: '/data/x' })).toMatchObject({ folder: '/data/x' });
  });
});
