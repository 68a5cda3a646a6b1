/**
 * The weights cache: downloads against a local node:http server (with Range support, a mode that
 * breaks the connection half-way, one that ignores ranges, one that trickles), resume from the
 * .part file, MD5 check that leaves nothing behind on a mismatch, offline errors, locks, and
 * "import from file" of real-format files written by the test (Keras .h5, timm .safetensors).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { useBackend } from '../../main/backend/tfjs-backend';
import { buildEfficientNet } from '../../main/model/builder';
import { catalogueAt, catalogueWithStatus, findPretrained, PRETRAINED_FILES, type PublishedWeightsFile } from '../../main/model/manager/catalogue';
import { WeightsStore, type DownloadProgress } from '../../main/model/manager/weights-store';
import { importWeights } from '../../main/model/weights/import';
import { randomB0 } from '../fixtures/model/reference-efficientnet';
import { IMAGENET_MEAN, IMAGENET_STD, timmTensors, writeKerasH5, writeSafetensors } from '../fixtures/model/weight-files';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { kerasLayersOfModel as kerasLayersOf } from '../fixtures/model/tiny-weights-file';

// ---------- a file server with the failure modes a download meets ----------

type Mode = 'normal' | 'break-half' | 'ignore-range' | 'trickle' | 'missing';

interface TestServer {
  url: string;
  files: Map<string, Buffer>;
  mode: Mode;
  /** Range header of every request, null when there was none */
  ranges: (string | null)[];
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  const state: TestServer = { url: '', files: new Map(), mode: 'normal', ranges: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const body = state.files.get(name);
    state.ranges.push(req.headers.range ?? null);
    if (!body || state.mode === 'missing') {
      res.writeHead(404).end('no such file');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range && state.mode !== 'ignore-range') {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': body.length });
    }
    const rest = body.subarray(start);
    if (state.mode === 'break-half') {
      // send half of what is left, then drop the connection as a flaky network would
      res.write(rest.subarray(0, Math.floor(rest.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
    } else if (state.mode === 'trickle') {
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed || at >= rest.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(rest.subarray(at, at + 1024));
        at += 1024;
      }, 10);
      res.on('close', () => clearInterval(timer));
    } else {
      res.end(rest);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

const md5 = (bytes: Uint8Array) => crypto.createHash('md5').update(bytes).digest('hex');

/** Pseudo-random bytes standing in for a weights file (content does not matter to the transfer). */
function fakeWeights(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

let server: TestServer;
let tmp: string;
let payload: Buffer;
let catalogue: PublishedWeightsFile[];

beforeAll(async () => {
  await useBackend('cpu');
  server = await startServer();
  payload = fakeWeights(300_000, 7);
  server.files.set('efficientnetb0_notop.h5', payload);
  server.files.set('efficientnetb1_notop.h5', fakeWeights(1000, 8));
  catalogue = [
    { variant: 'b0', includeTop: false, fileName: 'efficientnetb0_notop.h5', url: 'unused', md5: md5(payload), format: 'keras-h5' },
    // the server's b1 file is not what the catalogue promises: a damaged mirror
    { variant: 'b1', includeTop: false, fileName: 'efficientnetb1_notop.h5', url: 'unused', md5: '0'.repeat(32), format: 'keras-h5' },
  ];
});

afterAll(async () => {
  await server?.close();
});

let dirs: string[] = [];
function newStore(extra: Partial<ConstructorParameters<typeof WeightsStore>[0]> = {}): WeightsStore {
  tmp = makeTempDir('weights-manager');
  dirs.push(tmp);
  return new WeightsStore({ dir: path.join(tmp, 'weights'), baseUrl: server.url, catalogue, timeoutMs: 3000, ...extra });
}

afterEach(() => {
  server.mode = 'normal';
  server.ranges = [];
  for (const d of dirs) removeDir(d);
  dirs = [];
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

function partFile(store: WeightsStore, name: string): string {
  return path.join(store.dir, '.partial', `${name}.part`);
}

// ---------- catalogue ----------

describe('the catalogue of published files', () => {
  it('has Keras applications URLs and MD5s for B0..B7 and V2, with and without classifier', () => {
    expect(PRETRAINED_FILES).toHaveLength(30);
    const b0notop = findPretrained(PRETRAINED_FILES, 'b0', false)!;
    expect(b0notop).toMatchObject({ fileName: 'efficientnetb0_notop.h5', url: 'https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5', md5: '50bc09e76180e00e4465e1a485ddc09d' });
    expect(findPretrained(PRETRAINED_FILES, 'efficientnetb7', true)).toMatchObject({ fileName: 'efficientnetb7.h5', md5: '8c03f828fec3ef71311cd463b6759d99' });
    expect(findPretrained(PRETRAINED_FILES, 'v2-s', false)).toMatchObject({
      url: 'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-s_notop.h5',
      md5: 'af0682fb74e8c54910f2d4393339c070',
    });
    expect(findPretrained(PRETRAINED_FILES, 'phi=-4', true)).toBeNull();
    for (const f of PRETRAINED_FILES) expect(f.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(PRETRAINED_FILES.map((f) => f.md5)).size).toBe(30);
  });

  it('a mirror base URL moves every URL but keeps the checksums', () => {
    const mirrored = catalogueAt('http://mirror.local/keras', PRETRAINED_FILES);
    expect(findPretrained(mirrored, 'v2-b0', true)).toMatchObject({ url: 'http://mirror.local/keras/efficientnetv2-b0.h5', md5: '21ecbf6da12460d5c40bb2f29ceb2188' });
    expect(mirrored.map((f) => f.md5)).toEqual(PRETRAINED_FILES.map((f) => f.md5));
  });
});

// ---------- downloads ----------

describe('download', () => {
  it('fetches the file with progress, checks the MD5 and renames it into the cache', async () => {
    const store = newStore();
    const events: DownloadProgress[] = [];
    const result = await store.download('b0', false, { onProgress: (p) => events.push(p) });
    expect(result).toMatchObject({ alreadyPresent: false, downloadedBytes: payload.length, resumedFrom: 0 });
    expect(result.weights).toMatchObject({ id: 'efficientnetb0_notop', variant: 'b0', includeTop: false, md5: md5(payload), bytes: payload.length, source: 'download', verified: true });
    expect(fs.readFileSync(result.weights.file).equals(payload)).toBe(true);
    expect(path.dirname(path.dirname(result.weights.file))).toBe(store.dir);
    const phases = events.map((e) => e.phase);
    expect(phases[0]).toBe('connecting');
    expect(phases).toContain('downloading');
    expect(phases.slice(-2)).toEqual(['verifying', 'done']);
    expect(events.at(-1)).toMatchObject({ receivedBytes: payload.length, totalBytes: payload.length });
    expect(fs.readdirSync(path.join(store.dir, '.partial'))).toEqual([]);
    expect(fs.readdirSync(store.dir).filter((n) => n.startsWith('.staging'))).toEqual([]);

    expect(store.list().map((w) => w.id)).toEqual(['efficientnetb0_notop']);
    expect(store.find('efficientnetb0', false)?.file).toBe(result.weights.file);
    expect(store.find('b0', true)).toBeNull();
    expect(catalogueWithStatus(store.catalogue, store.list()).map((f) => f.local)).toEqual([true, false]);

    const requests = server.ranges.length;
    const again = await store.download('b0', false);
    expect(again).toMatchObject({ alreadyPresent: true, downloadedBytes: 0 });
    expect(server.ranges.length).toBe(requests); // nothing fetched the second time
  });

  it('resumes an interrupted transfer from the .part file with an HTTP Range request', async () => {
    const store = newStore();
    server.mode = 'break-half';
    const broken = await rejection(store.download('b0', false));
    expect(broken.code).toBe('io_error');
    expect(broken.message).toMatch(/broke off after \d+ of 300000 bytes.*download again to resume/);
    const kept = fs.statSync(partFile(store, 'efficientnetb0_notop.h5')).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(payload.length);
    expect(store.list()).toEqual([]);

    server.mode = 'normal';
    const result = await store.download('b0', false);
    expect(server.ranges.at(-1)).toBe(`bytes=${kept}-`);
    expect(result).toMatchObject({ resumedFrom: kept, downloadedBytes: payload.length - kept });
    expect(fs.readFileSync(result.weights.file).equals(payload)).toBe(true);
    expect(fs.existsSync(partFile(store, 'efficientnetb0_notop.h5'))).toBe(false);
  });

  it('starts over when the server ignores the range, and finishes a part file that is already complete', async () => {
    const store = newStore();
    const part = partFile(store, 'efficientnetb0_notop.h5');
    fs.mkdirSync(path.dirname(part), { recursive: true });
    fs.writeFileSync(part, Buffer.from('garbage that is not the start of the file'));
    server.mode = 'ignore-range';
    const restarted = await store.download('b0', false);
    expect(server.ranges.at(-1)).toMatch(/^bytes=\d+-$/);
    expect(restarted.resumedFrom).toBe(0);
    expect(fs.readFileSync(restarted.weights.file).equals(payload)).toBe(true);

    const other = newStore();
    const otherPart = partFile(other, 'efficientnetb0_notop.h5');
    fs.mkdirSync(path.dirname(otherPart), { recursive: true });
    fs.writeFileSync(otherPart, payload); // killed after the last byte, before the rename
    server.mode = 'normal';
    const finished = await other.download('b0', false);
    expect(finished.weights.md5).toBe(md5(payload));
    expect(finished.downloadedBytes).toBe(0);
  });

  it('a file whose MD5 differs from the published one is deleted: nothing in the cache, no .part', async () => {
    const store = newStore();
    const err = await rejection(store.download('b1', false));
    expect(err.code).toBe('io_error');
    expect(err.message).toMatch(/efficientnetb1_notop\.h5 from http:\/\/127\.0\.0\.1:\d+\/efficientnetb1_notop\.h5 has MD5 [0-9a-f]{32}, not the published 0{32}.*deleted/);
    expect(store.list()).toEqual([]);
    expect(fs.readdirSync(path.join(store.dir, '.partial'))).toEqual([]);
    expect(fs.readdirSync(store.dir).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('says what the server answered, and what to do offline', async () => {
    const store = newStore();
    server.mode = 'missing';
    const missing = await rejection(store.download('b0', false));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toMatch(/answered 404 .* for http:\/\/127\.0\.0\.1:\d+\/efficientnetb0_notop\.h5/);

    // a port nobody listens on: the machine is "offline" for this URL
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = newStore({ baseUrl: `http://127.0.0.1:${port}/` });
    const started = Date.now();
    const err = await rejection(offline.download('b0', false));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('io_error');
    expect(err.message).toContain(`cannot reach 127.0.0.1:${port}: offline? Use \`effitune weights import <file>\``);

    const noPublished = await rejection(offline.download('phi=-4', true));
    expect(noPublished.code).toBe('not_found');
    expect(noPublished.message).toMatch(/no published weights exist for EfficientNet φ=-4/);
  });

  it('can be cancelled (the partial file stays for resuming) and runs once per file at a time', async () => {
    const store = newStore();
    server.mode = 'trickle';
    const controller = new AbortController();
    let started!: () => void;
    const receiving = new Promise<void>((resolve) => (started = resolve));
    const part = partFile(store, 'efficientnetb0_notop.h5');
    const first = store.download('b0', false, {
      signal: controller.signal,
      // cancel once bytes are on disk (received bytes may still sit in the write stream's buffer)
      onProgress: (p) => {
        if (p.phase === 'downloading' && fs.existsSync(part) && fs.statSync(part).size > 0) started();
      },
    });
    await receiving;
    const second = await rejection(store.download('b0', false));
    expect(second.code).toBe('busy');
    expect(second.message).toMatch(/efficientnetb0_notop\.h5 is already being downloaded \(process \d+\)/);
    controller.abort();
    const cancelled = await rejection(first);
    expect(cancelled.code).toBe('cancelled');
    expect(fs.statSync(partFile(store, 'efficientnetb0_notop.h5')).size).toBeGreaterThan(0);
    expect(fs.existsSync(`${partFile(store, 'efficientnetb0_notop.h5')}.lock`)).toBe(false);

    // a lock left by a process that no longer exists does not block the next download
    fs.writeFileSync(`${partFile(store, 'efficientnetb0_notop.h5')}.lock`, '2147483646');
    server.mode = 'normal';
    const resumed = await store.download('b0', false);
    expect(resumed.resumedFrom).toBeGreaterThan(0);
    expect(fs.readFileSync(resumed.weights.file).equals(payload)).toBe(true);
  });

  it('requireWeights() explains the ways to get weights when there are none', () => {
    const store = newStore({ catalogue: PRETRAINED_FILES });
    expect(() => store.requireWeights('b0', false)).toThrow(
      /no pretrained weights for EfficientNet-B0 \(without classifier\) on this machine: download them with `effitune weights download b0 --notop` \(needs internet\), import .*, or train from scratch/,
    );
    expect(() => store.requireWeights('phi=-4', true)).toThrow(/no pretrained weights for EfficientNet φ=-4 \(with classifier\) on this machine: import a weights file/);
  });
});

// ---------- import from file ----------


describe('importFile', () => {
  it('checks a Keras .h5 by building the model, then copies it into the cache once', async () => {
    const store = newStore();
    const model = buildEfficientNet('phi=-8', { classes: 3, resolution: 32, seed: 5 });
    const file = path.join(tmp, 'tiny.h5');
    await writeKerasH5(file, kerasLayersOf(model));
    model.dispose();

    const result = await store.importFile(file, { variant: 'phi=-8' });
    expect(result.alreadyPresent).toBe(false);
    expect(result.weights).toMatchObject({ variant: 'phi=-8', includeTop: true, classes: 3, format: 'keras-h5', source: 'import', origin: file, verified: false, timmModel: null });
    expect(result.weights.id).toMatch(/^import-phi_-8-[0-9a-f]{12}$/);
    expect(fs.readFileSync(result.weights.file).equals(fs.readFileSync(file))).toBe(true);
    expect(result.notes.join(' ')).toMatch(/variance slot/);
    expect((await store.importFile(file, { variant: 'phi=-8' })).alreadyPresent).toBe(true);
    expect(store.list()).toHaveLength(1);

    // the cached copy imports like the original
    const reloaded = await importWeights({ file: result.weights.file, variant: 'phi=-8' });
    expect(reloaded.headLoaded).toBe(true);
    reloaded.model.dispose();
  });

  it('refuses files that do not load, naming the problem, and keeps nothing', async () => {
    const store = newStore();
    const model = buildEfficientNet('phi=-8', { includeTop: false, resolution: 32, seed: 6 });
    const file = path.join(tmp, 'tiny_notop.h5');
    await writeKerasH5(file, kerasLayersOf(model));
    model.dispose();

    const wrongVariant = await rejection(store.importFile(file, { variant: 'phi=-7' }));
    expect(wrongVariant.code).toBe('invalid_input');
    expect(wrongVariant.message).toContain(file);

    const truncated = path.join(tmp, 'truncated.h5');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const damaged = await rejection(store.importFile(truncated, { variant: 'phi=-8' }));
    expect(damaged.code).toBe('invalid_input');
    expect(damaged.message).toContain(truncated);

    const text = path.join(tmp, 'weights.bin');
    fs.writeFileSync(text, 'not weights');
    expect((await rejection(store.importFile(text))).message).toMatch(/neither an HDF5 \(\.h5\) file nor a \.safetensors file/);
    expect((await rejection(store.importFile(path.join(tmp, 'nope.h5')))).code).toBe('not_found');
    expect(store.list()).toEqual([]);

    const ok = await store.importFile(file, { variant: 'phi=-8' });
    expect(ok.weights).toMatchObject({ includeTop: false, classes: null });
    expect(ok.weights.id).toMatch(/^import-phi_-8-notop-/);
  });

  it('a byte-identical copy of a published file takes the published entry (verified)', async () => {
    const model = buildEfficientNet('phi=-8', { includeTop: false, resolution: 32, seed: 7 });
    const dir = makeTempDir('weights-published');
    dirs.push(dir);
    const file = path.join(dir, 'copied-from-usb.h5');
    await writeKerasH5(file, kerasLayersOf(model));
    model.dispose();
    const published: PublishedWeightsFile = { variant: 'phi=-8', includeTop: false, fileName: 'tiny_notop.h5', url: 'unused', md5: md5(fs.readFileSync(file)), format: 'keras-h5' };
    const store = newStore({ catalogue: [published] });

    const result = await store.importFile(file);
    expect(result.weights).toMatchObject({ id: 'tiny_notop', variant: 'phi=-8', verified: true, source: 'import' });
    expect(path.basename(result.weights.file)).toBe('tiny_notop.h5');
    const download = await store.download('phi=-8', false);
    expect(download.alreadyPresent).toBe(true);

    const mismatch = await rejection(store.importFile(file, { variant: 'b0' }));
    expect(mismatch.message).toMatch(/is the published tiny_notop\.h5 \(EfficientNet φ=-8\), not EfficientNet-B0/);
  });

  it('keeps a timm .safetensors under its architecture name, with the hub config.json', async () => {
    const store = newStore();
    const hub = path.join(tmp, 'hub');
    fs.mkdirSync(hub);
    const file = path.join(hub, 'model.safetensors');
    writeSafetensors(file, timmTensors(randomB0(3, 10)));
    fs.writeFileSync(path.join(hub, 'config.json'), JSON.stringify({ architecture: 'tf_efficientnet_b0', pretrained_cfg: { tag: 'ns_jft_in1k', mean: IMAGENET_MEAN, std: IMAGENET_STD } }));

    const result = await store.importFile(file);
    expect(result.weights).toMatchObject({ variant: 'b0', includeTop: true, classes: 10, format: 'timm-safetensors', timmModel: 'tf_efficientnet_b0.ns_jft_in1k' });
    expect(path.basename(result.weights.file)).toBe('tf_efficientnet_b0.ns_jft_in1k.safetensors');
    expect(fs.existsSync(path.join(path.dirname(result.weights.file), 'config.json'))).toBe(true);
    expect(store.find('b0', true)?.id).toBe(result.weights.id);

    const bare = path.join(tmp, 'weights.safetensors');
    fs.copyFileSync(file, bare);
    const unnamed = await rejection(store.importFile(bare));
    expect(unnamed.message).toMatch(/cannot tell which timm model/);
    const named = await store.importFile(bare, { timmModel: 'efficientnet_b0' });
    expect(named.weights.timmModel).toBe('efficientnet_b0');
    expect(path.basename(named.weights.file)).toBe('efficientnet_b0.safetensors');
  });
});

// ---------- through the contract ----------

describe('the model calls of the service', () => {
  it('describe a custom compound scaling, list the cache and download with weights.progress events', async () => {
    const { Service } = await import('../../main/service/service');
    const dir = makeTempDir('weights-service');
    dirs.push(dir);
    const service = new Service({ mode: 'cli', dataDir: dir, weightsBaseUrl: server.url });
    try {
      const custom = await service.call('models.describe', { custom: { phi: -2, alpha: 1.3 }, batch: 4 });
      expect(custom).toMatchObject({ id: 'phi=-2,alpha=1.3,beta=1.1,gamma=1.15', batch: 4, top1: null, weights: [], pretrained: [] });
      expect(custom.scaling?.flopsGrowthPerPhi).toBeCloseTo(1.3 * 1.1 ** 2 * 1.15 ** 2, 10);
      await expect(service.call('models.describe', { variant: 'b0', custom: { phi: 1 }, batch: 4 })).rejects.toThrow(/give either variant or custom/);
      await expect(service.call('models.describe', { variant: 'b0', batch: 0 })).rejects.toThrow(/batch/);

      const listed = await service.call('weights.list', {});
      expect(listed.dir).toBe(path.join(dir, 'weights'));
      expect(listed.weights).toEqual([]);
      expect(listed.catalogue).toHaveLength(30);
      expect(listed.catalogue[0]).toEqual({ variant: 'b0', includeTop: true, fileName: 'efficientnetb0.h5', url: `${server.url}efficientnetb0.h5`, md5: '902e53a9f72be733fc0bcb005b3ebbac', local: false });

      // the server's bytes are not Keras' file: progress events flow, then the checksum refuses it
      const events: unknown[] = [];
      service.onEvent((event, payload) => event === 'weights.progress' && events.push(payload));
      await expect(service.call('weights.download', { variant: 'b0', includeTop: false, jobId: 'job-1' })).rejects.toThrow(/not the published 50bc09e76180e00e4465e1a485ddc09d/);
      expect(events[0]).toMatchObject({ jobId: 'job-1', variant: 'b0', includeTop: false, fileName: 'efficientnetb0_notop.h5', phase: 'connecting' });
      expect(events.at(-1)).toMatchObject({ jobId: 'job-1', phase: 'failed', receivedBytes: payload.length });
      expect(await service.call('weights.cancel', { jobId: 'job-1' })).toEqual({ cancelled: false });
    } finally {
      service.close();
    }
  });
});
