/**
 * Model build time and inference images/s for EfficientNet-B0 at 224 px, the same batch on every
 * tf.js backend that loads here (cpu, wasm, webgpu). Each backend runs in its own child process so
 * one backend's memory or a crashing GPU driver cannot skew or stop the others; the cpu backend is
 * the reference measured in the same run, and a summary line gives each backend's speed-up over it.
 *
 * WebGPU without a GPU: Dawn finds Chromium's SwiftShader Vulkan driver through
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json. When the Vulkan loader
 * (libvulkan.so.1, Debian package libvulkan1) is missing, SwiftShader's own library, which exports
 * the Vulkan entry points, is offered under that name through LD_LIBRARY_PATH in the child.
 *
 * Options: --batch N (default 8), --runs N timed predictions (default 3), --seconds S to stop timing
 * after (default 120, at least one run), --resolution N (default 224), --model ID (default b0),
 * --backends cpu,wasm,webgpu, --timeout S per backend process (default 600).
 * SwiftShader emulates the GPU on the CPU: expect webgpu to be the slowest here, and at 224 px to
 * hit the timeout on a small machine; it shows that the WebGPU path runs, not how fast a GPU is.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emit, log, machine, option, round } from './lib/report';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SWIFTSHADER_LIB = '/usr/lib/chromium/libvk_swiftshader.so';
const ALL_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
type Backend = (typeof ALL_BACKENDS)[number];

interface Settings {
  model: string;
  resolution: number;
  batch: number;
  runs: number;
  /** stop timing after this many seconds (at least one timed run is always made) */
  seconds: number;
}

interface Measurement {
  backend: Backend;
  ok: boolean;
  reason?: string;
  buildMs?: number;
  firstPredictMs?: number;
  imagesPerSecond?: number;
  /** timed predictions actually made (fewer than --runs when --seconds ran out) */
  timedRuns?: number;
  note?: string;
}

export async function run(args: string[]): Promise<void> {
  const settings: Settings = {
    model: stringOption(args, 'model', 'b0'),
    resolution: option(args, 'resolution', 224),
    batch: option(args, 'batch', 8),
    runs: option(args, 'runs', 3),
    seconds: option(args, 'seconds', 120),
  };
  const backends = stringOption(args, 'backends', ALL_BACKENDS.join(',')).split(',') as Backend[];
  const timeoutMs = option(args, 'timeout', 600) * 1000;
  const results: Measurement[] = [];
  for (const backend of backends) {
    if (!ALL_BACKENDS.includes(backend)) throw new Error(`unknown backend "${backend}"; use ${ALL_BACKENDS.join(', ')}`);
    log(`models: ${backend} …`);
    const result = await measureInChild(backend, settings, timeoutMs);
    results.push(result);
    emit({ bench: 'models', ...settings, ...result, ...machine() });
  }
  const cpu = results.find((r) => r.backend === 'cpu' && r.ok);
  emit({
    bench: 'models',
    summary: true,
    ...settings,
    reference: 'cpu',
    speedupOverCpu: Object.fromEntries(results.filter((r) => r.ok && cpu).map((r) => [r.backend, round(r.imagesPerSecond! / cpu!.imagesPerSecond!, 2)])),
    skipped: Object.fromEntries(results.filter((r) => !r.ok).map((r) => [r.backend, r.reason])),
  });
}

function stringOption(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : (args[at + 1] ?? fallback);
}

// ---------- parent: one child per backend ----------

function measureInChild(backend: Backend, settings: Settings, timeoutMs: number): Promise<Measurement> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const notes: string[] = [];
  if (backend === 'webgpu') {
    if (!env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const loaderDir = vulkanLoaderShim();
    if (loaderDir) {
      env.LD_LIBRARY_PATH = [loaderDir, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
      notes.push('no libvulkan.so.1 on this machine: SwiftShader offered in its place');
    }
  }
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', backend, JSON.stringify(settings)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const result = JSON.parse(line) as Measurement;
        if (notes.length) result[result.ok ? 'note' : 'reason'] = [result.ok ? result.note : result.reason, ...notes].filter(Boolean).join('; ');
        resolve(result);
      } catch {
        const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs / 1000} s` : `exited with ${code ?? signal}: ${lastLine(stderr)}`;
        resolve({ backend, ok: false, reason: why });
      }
    });
  });
}

/** A folder holding libvulkan.so.1 → SwiftShader, when the system has no Vulkan loader but Chromium's SwiftShader is there. */
function vulkanLoaderShim(): string | null {
  const systemLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];
  if (systemLoader.some((p) => fs.existsSync(p)) || !fs.existsSync(SWIFTSHADER_LIB)) return null;
  const dir = path.join(os.tmpdir(), 'effitune-vulkan-shim');
  fs.mkdirSync(dir, { recursive: true });
  const link = path.join(dir, 'libvulkan.so.1');
  if (!fs.existsSync(link)) fs.symlinkSync(SWIFTSHADER_LIB, link);
  return dir;
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim() && !/^=+$|Hi, looks like you are running TensorFlow\.js/.test(l))
      .pop() ?? ''
  ).slice(0, 300);
}

// ---------- child: measure one backend ----------

async function measure(backend: Backend, settings: Settings): Promise<Measurement> {
  const tf = await import('@tensorflow/tfjs-core');
  const { useBackend } = await import('../../main/backend/tfjs-backend');
  const { buildEfficientNet } = await import('../../main/model/builder');
  try {
    await useBackend(backend);
  } catch (err) {
    return { backend, ok: false, reason: (err as Error).message };
  }
  let t = performance.now();
  const model = buildEfficientNet(settings.model, { resolution: settings.resolution, seed: 1 });
  const buildMs = performance.now() - t;
  const x = tf.randomUniform([settings.batch, settings.resolution, settings.resolution, 3], 0, 255, 'float32', 7);
  const predict = async () => {
    const y = model.predict(x) as import('@tensorflow/tfjs-core').Tensor;
    await y.data(); // wait for the backend to finish, not just to queue
    y.dispose();
  };
  t = performance.now();
  await predict(); // first call: kernel/shader compilation and weight upload
  const firstPredictMs = performance.now() - t;
  t = performance.now();
  let timedRuns = 0;
  do {
    await predict();
    timedRuns += 1;
  } while (timedRuns < settings.runs && performance.now() - t < settings.seconds * 1000);
  const seconds = (performance.now() - t) / 1000;
  return {
    backend,
    ok: true,
    buildMs: round(buildMs),
    firstPredictMs: round(firstPredictMs),
    imagesPerSecond: round((settings.batch * timedRuns) / seconds, 2),
    timedRuns,
  };
}

const isChild = process.argv[2] === '--child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isChild) {
  const backend = process.argv[3] as Backend;
  measure(backend, JSON.parse(process.argv[4]) as Settings)
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((err: Error) => process.stdout.write(`${JSON.stringify({ backend, ok: false, reason: err.message })}\n`))
    // the webgpu package keeps Dawn's threads alive; the measurement is done
    .finally(() => process.exit(0));
}
