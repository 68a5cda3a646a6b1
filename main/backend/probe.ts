/**
 * Probing the backend ladder safely: every backend that loads native code or a GPU driver is
 * probed in a child process of its own (probe-child.ts, started through the engine's process
 * launcher, main/workers/process-launcher.ts, so the built app starts its built entry), all at once, so a backend that crashes
 * while loading ends only its child, and the whole probe takes about as long as the slowest one.
 * Missing packages are recognised here without starting anything.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, type BackendProbe, type BackendPurpose, type BackendReport, type SystemInfo } from '../contract/calls-backend';
import { gpuDriverHint, nativeRepairHint, tfjsNodeGpuHint, tfjsNodeHint, webgpuPackageHint } from './install-hints';
import { listNvidiaGpus, nativeInstall, type NativePackage } from './native-tensorflow';
import type { LocalProbe } from './probe-here';
import { PROBE_BACKEND_ENV, PROBE_MARKER } from './probe-protocol';
import { runProbeProcess, type ProbeOutcome } from '../workers/probe-process';
import { cpuDescription } from './start-backend';
import { dawnWarnings, findSwiftShaderIcd, swiftShaderEnv } from './webgpu-dawn';

const require = createRequire(import.meta.url);

/**
 * A probe takes one to three seconds on an idle machine (SwiftShader compiling its shaders on
 * the CPU is the slowest); a child still busy after this is stuck, not slow.
 */
export const PROBE_TIMEOUT_MS = 60_000;

export function systemInfo(): SystemInfo {
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
  };
}

/** Every backend of the ladder, best first, with what it can do here and why not. */
export async function probeBackends(): Promise<BackendProbe> {
  const started = performance.now();
  const backends = await Promise.all(BackendName.options.map((name) => probeBackend(name)));
  return {
    system: systemInfo(),
    backends,
    defaults: { train: defaultBackend(backends, 'train'), infer: defaultBackend(backends, 'infer') },
    elapsedSeconds: seconds(started),
  };
}

/** Whether a report qualifies as the default for a purpose: software GPUs only when forced. */
export function usableFor(report: BackendReport, purpose: BackendPurpose): boolean {
  return report.loads && (purpose === 'train' ? report.canTrain : report.canInfer);
}

export function defaultBackend(reports: BackendReport[], purpose: BackendPurpose): BackendName {
  return reports.find((r) => usableFor(r, purpose) && !r.softwareGpu)?.name ?? 'cpu';
}

export async function probeBackend(name: BackendName): Promise<BackendReport> {
  const started = performance.now();
  const report = await probeByKind(name);
  return { ...report, probeSeconds: seconds(started) };
}

type ReportWithoutTime = Omit<BackendReport, 'probeSeconds'>;

function probeByKind(name: BackendName): Promise<ReportWithoutTime> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return probeNative(name);
    case 'webgpu':
      return probeWebGpu();
    case 'wasm':
      return probeWasm();
    case 'cpu':
      return probeCpu();
  }
}

function notWorking(name: BackendName, installed: boolean, reason: string, install: string | null): ReportWithoutTime {
  return { name, installed, loads: false, canTrain: false, canInfer: false, softwareGpu: false, reason, install, device: null, memoryBytes: null, memorySource: null, env: {} };
}

/** A child's findings as a report; `install` is offered only where something is missing. */
function fromChild(name: BackendName, probe: LocalProbe, install: string | null, env: Record<string, string> = {}): ReportWithoutTime {
  const { loads, canTrain, canInfer, softwareGpu, reason, device, memoryBytes, memorySource, features } = probe;
  return { name, installed: true, loads, canTrain, canInfer, softwareGpu, reason, install: loads && canTrain ? null : install, device, ...(features ? { gpuFeatures: features } : {}), memoryBytes, memorySource, env };
}

async function probeNative(name: 'tfjs-node-gpu' | 'tfjs-node'): Promise<ReportWithoutTime> {
  const pkg: NativePackage = `@tensorflow/${name}`;
  const gpuPackage = name === 'tfjs-node-gpu';
  const { installed } = nativeInstall(pkg);
  if (!installed) {
    if (gpuPackage && !tfjsNodeGpuHint(process.platform)) {
      return notWorking(name, false, `there is no CUDA build of TensorFlow for ${process.platform}; WebGPU is the GPU route here`, null);
    }
    const gpus = gpuPackage ? await listNvidiaGpus() : [];
    const seen = gpus.length > 0 ? ` This machine has an NVIDIA GPU (${gpus[0].name}).` : '';
    return notWorking(name, false, `${pkg} is not installed (an optional dependency).${seen}`, gpuPackage ? tfjsNodeGpuHint(process.platform) : tfjsNodeHint());
  }
  const child = await runProbeChild(name);
  if (!child.result) return notWorking(name, true, child.failure, nativeRepairHint(pkg));
  const report = fromChild(name, child.result, nativeRepairHint(pkg));
  if (gpuPackage && report.loads && !report.device?.startsWith('CUDA')) {
    // It works, on the CPU: as good as tfjs-node, but the user expected a GPU.
    return { ...report, reason: 'libtensorflow found no CUDA device, so this GPU build runs on the CPU', install: nativeRepairHint(pkg) };
  }
  return report;
}

async function probeWebGpu(): Promise<ReportWithoutTime> {
  try {
    require.resolve('webgpu');
  } catch {
    return notWorking('webgpu', false, 'the webgpu package (Dawn) is not installed', webgpuPackageHint());
  }
  const driverHint = gpuDriverHint(process.platform);
  const first = await runProbeChild('webgpu');
  const firstReason = first.result?.reason ?? first.failure;
  if (first.result?.loads && !first.result.softwareGpu) return fromChild('webgpu', first.result, driverHint);

  // No hardware adapter: try SwiftShader, if a Chromium install brought it, so the report can
  // say "WebGPU works, in software" (and tests can exercise WebGPU without a GPU).
  const icd = findSwiftShaderIcd();
  const why = withDawnWarnings(firstReason, first.stderr);
  // A child that got as far as naming a device found an adapter that then failed.
  const noAdapterWhy = first.result?.device ? `${first.result.device} fails: ${why}` : why;
  if (!first.result?.loads && icd && process.env.VK_ICD_FILENAMES !== icd) {
    const env = swiftShaderEnv(icd, /libvulkan/.test(first.stderr));
    const software = await runProbeChild('webgpu', env);
    if (software.result?.loads) {
      const usable = software.result.canTrain ? 'it works' : `it can infer only (${software.result.reason})`;
      const reason = `${noAdapterWhy}. SwiftShader, a Vulkan driver that runs on the CPU, is a software adapter: ${usable}, but slower than the CPU backends, so it is used only when forced (--backend webgpu)`;
      return { ...fromChild('webgpu', software.result, driverHint, env), reason, install: driverHint };
    }
    const softwareWhy = withDawnWarnings(software.result?.reason ?? software.failure, software.stderr);
    return notWorking('webgpu', true, `${noAdapterWhy}. SwiftShader at ${icd} did not work either: ${softwareWhy}`, driverHint);
  }
  if (first.result?.loads) {
    // Only a software adapter, found without help (VK_ICD_FILENAMES set by the user, or lavapipe).
    const reason = `the only adapter is a software one (runs on the CPU): slower than the CPU backends, so it is used only when forced (--backend webgpu)`;
    return { ...fromChild('webgpu', first.result, driverHint), reason: first.result.reason ? `${reason}; ${first.result.reason}` : reason, install: driverHint };
  }
  if (first.result) return { ...fromChild('webgpu', first.result, driverHint), reason: noAdapterWhy };
  return notWorking('webgpu', true, noAdapterWhy, driverHint);
}

function withDawnWarnings(reason: string, stderr: string): string {
  const warnings = dawnWarnings(stderr);
  return warnings.length > 0 ? `${reason}: ${warnings.map((w) => w.replace(/\.$/, '')).join('; ')}` : reason;
}

async function probeWasm(): Promise<ReportWithoutTime> {
  const child = await runProbeChild('wasm');
  if (!child.result) return notWorking('wasm', true, child.failure, null);
  // Nothing to install gives WASM gradient kernels; the reason says what it lacks.
  return { ...fromChild('wasm', child.result, null) };
}

/** The plain JS backend always works; it is checked in this process without being activated. */
async function probeCpu(): Promise<ReportWithoutTime> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!tf.findBackendFactory('cpu')) return notWorking('cpu', false, '@tensorflow/tfjs-backend-cpu did not register its backend', `npm install @tensorflow/tfjs-backend-cpu@${tf.version_core}`);
  return {
    name: 'cpu',
    installed: true,
    loads: true,
    canTrain: true,
    canInfer: true,
    softwareGpu: false,
    reason: null,
    install: null,
    device: `${cpuDescription()} (JavaScript)`,
    memoryBytes: os.totalmem(),
    memorySource: 'system memory',
    env: {},
  };
}

type ChildOutcome = ProbeOutcome<LocalProbe>;

/** Probe one backend in a child process with this process's environment plus `env`. */
export function runProbeChild(name: BackendName, env: Record<string, string> = {}, timeoutMs = PROBE_TIMEOUT_MS): Promise<ChildOutcome> {
  return runProbeProcess<LocalProbe>({ entry: 'probe', env: { ...env, [PROBE_BACKEND_ENV]: name }, marker: PROBE_MARKER, timeoutMs });
}

function seconds(since: number): number {
  return Math.round(performance.now() - since) / 1000;
}
