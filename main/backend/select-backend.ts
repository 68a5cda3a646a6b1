/**
 * Choosing the backend for a run, in the process that will compute (the trainer): probe safely
 * (child processes), then start the choice here. Forced (--backend): that one or an error saying
 * why not. Default: the best of the ladder that loads and can do the job; a software GPU is never
 * a default because it is slower than the CPU backends.
 */
import { ApiError } from '../contract/contract';
import type { BackendName, BackendPurpose, BackendReport } from '../contract/calls-backend';
import { probeBackend, probeBackends, usableFor } from './probe';
import { useBackend, type ActiveBackend } from './tfjs-backend';
import { STARTUP_ONLY_ENV } from './webgpu-dawn';

export interface SelectBackendOptions {
  force?: BackendName;
  purpose: BackendPurpose;
}

export interface SelectedBackend {
  name: BackendName;
  /** The probe's report for the chosen backend. */
  report: BackendReport;
  active: ActiveBackend;
  /** Better backends of the ladder that were not taken, and why (empty when forced). */
  passedOver: { name: BackendName; reason: string }[];
}

export async function selectBackend(options: SelectBackendOptions): Promise<SelectedBackend> {
  return options.force ? selectForced(options.force, options.purpose) : selectDefault(options.purpose);
}

async function selectForced(name: BackendName, purpose: BackendPurpose): Promise<SelectedBackend> {
  const report = await probeBackend(name);
  const toUse = report.install ? ` To use it: ${report.install}.` : '';
  if (!report.loads) throw new ApiError('not_found', `the ${name} backend does not load here: ${report.reason ?? 'no reason given'}.${toUse}`, report);
  if (!usableFor(report, purpose)) throw new ApiError('not_found', `the ${name} backend cannot ${purpose} here: ${report.reason ?? 'no reason given'}.${toUse}`, report);
  applyBackendEnv(report);
  return { name, report, active: await useBackend(name), passedOver: [] };
}

async function selectDefault(purpose: BackendPurpose): Promise<SelectedBackend> {
  const { backends } = await probeBackends();
  const passedOver: SelectedBackend['passedOver'] = [];
  for (const report of backends) {
    if (!usableFor(report, purpose) || report.softwareGpu) {
      passedOver.push({ name: report.name, reason: report.reason ?? `it cannot ${purpose} here` });
      continue;
    }
    try {
      applyBackendEnv(report);
      return { name: report.name, report, active: await useBackend(report.name), passedOver };
    } catch (err) {
      // It worked in the probe's child but not here: take the next one and say why.
      passedOver.push({ name: report.name, reason: (err as Error).message });
    }
  }
  throw new ApiError('internal', `no backend can ${purpose} here: ${passedOver.map((p) => `${p.name}: ${p.reason}`).join('; ')}`);
}

/**
 * Give this process the environment the probe needed for the backend (SwiftShader's driver
 * manifest, say). Variables the dynamic linker reads only at start cannot be set now: then the
 * process has to be started with them, which is what the error says.
 */
export function applyBackendEnv(report: BackendReport): void {
  const missing = Object.entries(report.env).filter(([key, value]) => STARTUP_ONLY_ENV.has(key) && process.env[key] !== value);
  if (missing.length > 0) {
    const words = missing.map(([key, value]) => `${key}=${value}`).join(' ');
    throw new ApiError('not_found', `the ${report.name} backend works here only in a process started with ${words} (${report.device ?? 'its driver'} needs it)`, report);
  }
  for (const [key, value] of Object.entries(report.env)) process.env[key] = value;
}
