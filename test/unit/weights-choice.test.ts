/**
 * The Train setup's weights choice (renderer/src/models/weights-choice.ts): auto takes the model's
 * pretrained weights (published ones first) or trains from scratch; a choice of another model's
 * weights falls back to auto; a completed run offers its model folder. And the path of a dropped
 * file (weights-words.ts), from a file manager's file:// URI or Electron's File.path.
 */
import { describe, expect, it } from 'vitest';
import type { LocalWeights } from '../../main/contract/calls-models';
import type { RunRecord } from '../../main/contract/calls-data';
import { resolveWeights } from '../../renderer/src/models/weights-choice';
import { droppedPath } from '../../renderer/src/models/weights-words';

const entry = (id: string, variant: string, extra: Partial<LocalWeights> = {}): LocalWeights => ({
  id,
  variant,
  includeTop: false,
  classes: null,
  format: 'keras-h5',
  file: `/home/me/.effitune/weights/${id}/${id}.h5`,
  bytes: 1000,
  md5: id,
  source: 'import',
  origin: `/media/usb/${id}.h5`,
  verified: false,
  timmModel: null,
  addedAt: '2026-12-01T10:00:00Z',
  ...extra,
});

// only the fields resolveWeights reads are filled in with care; the record grows with other issues
const run = (id: number, variant: string, status: RunRecord['status']): RunRecord =>
  ({
    id,
    createdAt: '',
    status,
    reason: null,
    config: {},
    backend: 'wasm',
    variant,
    resolution: 32,
    classes: ['a', 'b'],
    bestEpoch: 0,
    bestValLoss: 1,
    checkpointDir: `/p/x.effitune.d/runs/${id}`,
    updatedAt: '',
    finishedAt: null,
    epochCount: 1,
    lastEpoch: null,
  }) as Partial<RunRecord> as RunRecord;

describe('resolveWeights', () => {
  const cache = [entry('import-b0', 'b0'), entry('efficientnetb0_notop', 'b0', { source: 'download', verified: true }), entry('import-phi', 'phi=-8')];

  it('auto: the published file first, else the newest; from scratch when none; waiting while the cache is read', () => {
    expect(resolveWeights({ kind: 'auto' }, 'b0', cache, []).path).toBe(cache[1].file);
    expect(resolveWeights({ kind: 'auto' }, 'phi=-8', cache, [])).toMatchObject({ path: cache[2].file, words: 'Starts from Imported · import-phi.h5 · no classifier.' });
    expect(resolveWeights({ kind: 'auto' }, 'b3', cache, [])).toMatchObject({ path: undefined, words: expect.stringMatching(/^From scratch: no pretrained weights/) });
    expect(resolveWeights({ kind: 'auto' }, 'b0', null, [])).toMatchObject({ path: undefined, pending: true });
  });

  it("a chosen file of another model falls back to auto; an earlier completed run's model folder; a path; none", () => {
    expect(resolveWeights({ kind: 'cache', id: 'import-b0' }, 'b0', cache, [])).toMatchObject({ path: cache[0].file, effective: { kind: 'cache', id: 'import-b0' } });
    expect(resolveWeights({ kind: 'cache', id: 'import-b0' }, 'phi=-8', cache, [])).toMatchObject({ path: cache[2].file, effective: { kind: 'auto' } });
    const runs = [run(3, 'phi=-8', 'completed'), run(4, 'phi=-8', 'failed')];
    expect(resolveWeights({ kind: 'run', runId: 3 }, 'phi=-8', cache, runs).path).toBe('/p/x.effitune.d/runs/3/model');
    expect(resolveWeights({ kind: 'run', runId: 4 }, 'phi=-8', cache, runs).effective).toEqual({ kind: 'auto' });
    expect(resolveWeights({ kind: 'file', path: ' /w/b0.h5 ' }, 'b0', cache, []).path).toBe('/w/b0.h5');
    expect(resolveWeights({ kind: 'file', path: '' }, 'b0', cache, []).problem).toMatch(/give the path/);
    expect(resolveWeights({ kind: 'none' }, 'b0', cache, []).path).toBeUndefined();
  });
});

describe('droppedPath', () => {
  const drop = (data: Record<string, string>, files: unknown[] = []) => ({ getData: (type: string) => data[type] ?? '', files }) as unknown as DataTransfer;

  it('reads file:// URIs (POSIX, Windows, UNC), a pasted path, and Electron File.path; null otherwise', () => {
    expect(droppedPath(drop({ 'text/uri-list': '# comment\r\nfile:///home/me/My%20weights/b0.h5\r\n' }))).toBe('/home/me/My weights/b0.h5');
    expect(droppedPath(drop({ 'text/uri-list': 'file:///C:/weights/b0.h5' }))).toBe('C:/weights/b0.h5');
    expect(droppedPath(drop({ 'text/uri-list': 'file://server/share/b0.h5' }))).toBe('\\\\server\\share\\b0.h5');
    expect(droppedPath(drop({ 'text/plain': '/data/b0.safetensors' }))).toBe('/data/b0.safetensors');
    expect(droppedPath(drop({}, [{ name: 'b0.h5', path: '/tmp/b0.h5' }]))).toBe('/tmp/b0.h5');
    expect(droppedPath(drop({ 'text/uri-list': 'https://example.com/b0.h5', 'text/plain': 'b0.h5' }, [{ name: 'b0.h5' }]))).toBeNull();
  });
});
