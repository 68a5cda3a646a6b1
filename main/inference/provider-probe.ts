/**
 * Which ONNX Runtime execution providers work here, best first, each tried in a child process of
 * its own (provider-probe-child.ts, started through the engine's process launcher) so a GPU
 * runtime that crashes while loading ends only its child. What needs no process (a provider of
 * another platform, CUDA libraries that are not installed) is answered without one. A WebGPU
 * provider that only finds a software adapter (SwiftShader) is reported as working but is never
 * the default: on the CPU, the CPU provider is faster.
 */
import type { ProviderName, ProviderProbe, ProviderReport } from '../contract/calls-inference';
import { cpuDescription } from '../backend/start-backend';
import { findSwiftShaderIcd, swiftShaderEnv } from '../backend/webgpu-dawn';
import { runProbeProcess, type ProbeOutcome } from '../workers/probe-process';
import { physicalCores } from './physical-cores';
import { PROVIDER_PROBE_ENV, PROVIDER_PROBE_MARKER, type ChildProbe } from './provider-probe-protocol';
import { cudaLibrariesPresent, installHint, onnxRuntimeVersion, platformMismatch, PROVIDER_LABEL, PROVIDER_ORDER } from './providers';

/** A probe takes about a second; SwiftShader compiling its shaders is the slowest. Longer is stuck. */
export const PROVIDER_PROBE_TIMEOUT_MS = 60_000;

let cached: Promise<ProviderProbe> | null = null;

/** The probe of this process's lifetime (providers do not appear while it runs); `fresh` probes again. */
export function probeProviders(options: { fresh?: boolean } = {}): Promise<ProviderProbe> {
  if (options.fresh || !cached) {
    cached = runProviderProbe();
    cached.catch(() => (cached = null));
  }
  return cached;
}

/** The provider inference uses without --provider: the first that loads on real hardware, or null (TF.js). */
export function defaultProvider(reports: readonly ProviderReport[]): ProviderName | null {
  return reports.find((r) => r.loads && !r.software)?.name ?? null;
}

async function runProviderProbe(): Promise<ProviderProbe> {
  const started = performance.now();
  const version = onnxRuntimeVersion();
  const providers = await Promise.all(PROVIDER_ORDER.map((name) => probeProvider(name, version !== null)));
  return { onnxruntime: version, providers, default: defaultProvider(providers), threads: physicalCores(), elapsedSeconds: seconds(started) };
}

async function probeProvider(name: ProviderName, installed: boolean): Promise<ProviderReport> {
  const started = performance.now();
  const report = (fields: Partial<ProviderReport>): ProviderReport => ({
    name,
    loads: false,
    software: false,
    reason: null,
    install: null,
    device: null,
    env: {},
    ...fields,
    probeSeconds: seconds(started),
  });
  if (!installed) return report({ reason: 'onnxruntime-node is not installed', install: 'npm install (onnxruntime-node is one of Effitune\'s dependencies)' });
  const wrongPlatform = platformMismatch(name);
  if (wrongPlatform) return report({ reason: wrongPlatform });
  if (name === 'cuda' && !cudaLibrariesPresent()) {
    return report({ reason: "onnxruntime-node's CUDA provider libraries are not installed (they are a separate download)", install: installHint('cuda') });
  }

  const first = await runProviderChild(name);
  if (first.result?.loads) {
    const software = first.result.software;
    return report({
      loads: true,
      software,
      device: name === 'cpu' ? `${cpuDescription()}; ${physicalCores()} threads (one per physical core)` : first.result.device,
      reason: software ? 'only a software adapter (a CPU emulation of a GPU): correct but slower than the CPU provider, so never the default; --provider webgpu uses it' : null,
      install: software ? installHint('webgpu') : null,
    });
  }
  const why = first.result?.error ?? first.failure;
  // No GPU adapter: with Chromium's SwiftShader the WebGPU path can still be exercised (tests),
  // but only in a process started with its driver (and perhaps its Vulkan loader) in the environment.
  const icd = name === 'webgpu' ? findSwiftShaderIcd() : null;
  if (icd && process.env.VK_ICD_FILENAMES !== icd) {
    const env = swiftShaderEnv(icd, true);
    const software = await runProviderChild(name, env);
    if (software.result?.loads) {
      return report({
        loads: true,
        software: true,
        device: software.result.device ?? 'SwiftShader (software, runs on the CPU)',
        env,
        reason: `no GPU adapter (${why}); Chromium's SwiftShader works as a software adapter: never the default, --provider webgpu uses it`,
        install: installHint('webgpu'),
      });
    }
  }
  return report({ reason: `${PROVIDER_LABEL[name]} did not load: ${why}`, install: installHint(name) });
}

function runProviderChild(name: ProviderName, env: Record<string, string> = {}): Promise<ProbeOutcome<ChildProbe>> {
  return runProbeProcess<ChildProbe>({ entry: 'provider-probe', env: { ...env, [PROVIDER_PROBE_ENV]: name }, marker: PROVIDER_PROBE_MARKER, timeoutMs: PROVIDER_PROBE_TIMEOUT_MS });
}

function seconds(since: number): number {
  return Math.round(performance.now() - since) / 1000;
}
