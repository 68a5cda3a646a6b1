/**
 * The inference engine: a model folder (a run's model, an imported weights folder) run by ONNX
 * Runtime on the best execution provider, or on one the caller forces. Opening a model converts it
 * once (onnx-file.ts, cached by weights digest) and creates one InferenceSession per ONNX file and
 * provider; sessions are kept while their model is unchanged (the last few are kept, older ones
 * released) and released when their project closes (releaseUnder) or the engine closes.
 *
 * ONNX Runtime's Node binding runs a session synchronously on the calling thread, so the engine is
 * meant for worker processes (the predictor, the trainer, the estimator), never the service's.
 * Concurrent callers of one model share its session: each run is one synchronous call, so two
 * evaluations interleave batch by batch and never run inside one another.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { ApiError } from '../contract/contract';
import type { InferenceRecord, ProviderName, ProviderProbe } from '../contract/calls-inference';
import { STARTUP_ONLY_ENV } from '../backend/webgpu-dawn';
import type * as tfl from '@tensorflow/tfjs-layers';
import { onnxFileFor, onnxFileForModel, softmaxRows, type GraphCut, type OnnxFile } from './onnx-file';
import { physicalCores } from './physical-cores';
import { probeProviders } from './provider-probe';
import { INPUT_NAME, OUTPUT_NAME } from './onnx';

type Ort = typeof import('onnxruntime-node');

/** Sessions kept open at once: the models a predictor switches between (a run's model, its features, an earlier run). */
const KEPT_SESSIONS = 4;

export interface OpenOptions {
  /** where the converted ONNX files are cached (beside the run, or in the app's data folder) */
  cacheDir: string;
  /** force an execution provider; default: the best that loads on real hardware */
  provider?: ProviderName;
}

/** A model opened on ONNX Runtime: run batches of NHWC RGB pixels 0..255. */
export interface InferenceModel {
  readonly onnx: OnnxFile;
  readonly record: InferenceRecord;
  /** values per image: classes, feature size or trunk activations */
  readonly outputSize: number;
  /** [count × outputSize]: probabilities for the whole model (softmax applied when needed), else raw outputs */
  run(pixels: Float32Array, count: number): Promise<Float32Array>;
}

interface SessionEntry {
  key: string;
  session: Promise<InferenceSession>;
  lastUsed: number;
}

export class InferenceEngine {
  private readonly sessions = new Map<string, SessionEntry>();
  private ort: Promise<Ort> | null = null;

  constructor(private readonly probe: () => Promise<ProviderProbe> = () => probeProviders()) {}

  /** The provider a model would run on here: the forced one if it loads, else the default; null when ONNX Runtime cannot run (callers fall back to TF.js). */
  async chooseProvider(requested?: ProviderName): Promise<ProviderName | null> {
    const probe = await this.probe();
    if (requested) {
      const report = probe.providers.find((p) => p.name === requested);
      if (!report?.loads) throw new ApiError('invalid_input', `provider: ${requested} does not load here: ${report?.reason ?? 'unknown provider'}${report?.install ? ` (to get it: ${report.install})` : ''}`);
      this.applyEnv(report.env);
      return requested;
    }
    return probe.default;
  }

  /** Open `modelDir` cut as asked on ONNX Runtime; null when ONNX Runtime cannot run here and no provider was forced. */
  async open(modelDir: string, cut: GraphCut, options: OpenOptions): Promise<InferenceModel | null> {
    const provider = await this.chooseProvider(options.provider);
    if (provider === null) return null;
    return this.openFile(await onnxFileFor(modelDir, cut, options.cacheDir), provider);
  }

  /** The same for a model in memory (the trainer's frozen backbone or trunk); cached by the cut part's weights. */
  async openModel(model: tfl.LayersModel, cut: GraphCut, options: OpenOptions): Promise<InferenceModel | null> {
    const provider = await this.chooseProvider(options.provider);
    if (provider === null) return null;
    return this.openFile(await onnxFileForModel(model, cut, options.cacheDir), provider);
  }

  private async openFile(onnx: OnnxFile, provider: ProviderName): Promise<InferenceModel> {
    const threads = provider === 'cpu' ? physicalCores() : null;
    const session = await this.session(onnx.file, provider, threads);
    const ort = await this.loadOrt();
    const outputSize = onnx.output.reduce((a, b) => a * b, 1);
    const [height, width, channels] = onnx.input;
    const perImage = height * width * channels;
    return {
      onnx,
      record: { engine: 'onnxruntime', provider, threads },
      outputSize,
      async run(pixels, count) {
        if (pixels.length !== count * perImage) throw new ApiError('invalid_input', `inference: ${count} images of ${height}×${width}×${channels} need ${count * perImage} values, got ${pixels.length}`);
        const input = new ort.Tensor('float32', pixels, [count, height, width, channels]);
        const result = await session.run({ [INPUT_NAME]: input });
        const output = result[OUTPUT_NAME];
        try {
          // the tensor's data may view memory ONNX Runtime reuses: copy it out
          const values = Float32Array.from(output.data as Float32Array);
          return onnx.needsSoftmax ? softmaxRows(values, outputSize) : values;
        } finally {
          output.dispose();
          input.dispose();
        }
      },
    };
  }

  /** Sessions open now (each ONNX file and provider has at most one). */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** Release the sessions of ONNX files under `dir` (a closed project's folder). */
  async releaseUnder(dir: string): Promise<void> {
    const doomed = [...this.sessions.values()].filter((e) => e.key.split('|')[0].startsWith(dir));
    await Promise.all(doomed.map((e) => this.release(e)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((e) => this.release(e)));
  }

  private async session(file: string, provider: ProviderName, threads: number | null): Promise<InferenceSession> {
    const key = `${file}|${provider}|${threads ?? ''}`;
    let entry = this.sessions.get(key);
    if (!entry) {
      entry = { key, session: this.createSession(file, provider, threads), lastUsed: performance.now() };
      this.sessions.set(key, entry);
      const created = entry;
      // a failed session is not kept: the next open tries again (the file may have been rebuilt)
      entry.session.catch(() => this.sessions.get(key) === created && this.sessions.delete(key));
      await this.evictOldest(created);
    }
    entry.lastUsed = performance.now();
    return entry.session;
  }

  private async createSession(file: string, provider: ProviderName, threads: number | null): Promise<InferenceSession> {
    const ort = await this.loadOrt();
    try {
      return await ort.InferenceSession.create(file, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
      });
    } catch (err) {
      throw new ApiError('internal', `ONNX Runtime (${provider}) could not open ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  /** Release the least recently used sessions beyond KEPT_SESSIONS, never the one just made. */
  private async evictOldest(keep: SessionEntry): Promise<void> {
    const byAge = [...this.sessions.values()].filter((e) => e !== keep).sort((a, b) => a.lastUsed - b.lastUsed);
    await Promise.all(byAge.slice(0, Math.max(0, byAge.length + 1 - KEPT_SESSIONS)).map((e) => this.release(e)));
  }

  private async release(entry: SessionEntry): Promise<void> {
    this.sessions.delete(entry.key);
    await entry.session.then(
      (s) => s.release(),
      () => undefined,
    );
  }

  private loadOrt(): Promise<Ort> {
    this.ort ??= import('onnxruntime-node');
    return this.ort;
  }

  /** A forced provider's environment (SwiftShader's driver for software WebGPU), where it can still take effect. */
  private applyEnv(env: Record<string, string>): void {
    for (const [name, value] of Object.entries(env)) if (!STARTUP_ONLY_ENV.has(name) && process.env[name] === undefined) process.env[name] = value;
  }
}
