/**
 * Finding a Python that has PyTorch, and running the bundle's train.py --predict with it. The
 * interpreter is the one named (the call's python, then $EFFITUNE_PYTHON), else the first of
 * python3, /usr/bin/python3, python that imports torch, numpy and PIL: a pyenv or venv python3 on
 * the PATH often lacks the system's torch, so each is tried rather than trusting the first.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../contract/contract';

export interface PythonWithTorch {
  python: string;
  torch: string;
}

const CANDIDATES = ['python3', '/usr/bin/python3', 'python'];
const PROBE = 'import torch, numpy, PIL; print(torch.__version__)';

/** The first interpreter that has torch, or null with why each candidate failed. */
export function findPythonWithTorch(named?: string): { found: PythonWithTorch | null; tried: string[] } {
  const explicit = named ?? process.env.EFFITUNE_PYTHON;
  const tried: string[] = [];
  for (const python of explicit ? [explicit] : CANDIDATES) {
    const probe = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
    if (probe.status === 0) return { found: { python, torch: probe.stdout.trim() }, tried };
    const why = probe.error ? (probe.error as NodeJS.ErrnoException).code ?? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
    tried.push(`${python}: ${why}`);
  }
  return { found: null, tried };
}

/** `python train.py --predict PIXELS --weights W --out-json F` in the bundle; the probabilities, one row per image. */
export async function predictWithTorch(python: string, bundleDir: string, pixels: string, weights: string): Promise<{ probabilities: number[][]; torch: string; device: string }> {
  const outJson = path.join(bundleDir, 'out', `predict-${process.pid}.json`);
  fs.mkdirSync(path.dirname(outJson), { recursive: true });
  const args = [path.join(bundleDir, 'train.py'), '--predict', pixels, '--weights', weights, '--out-json', outJson, '--device', 'cpu', '--impl', 'builtin'];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(python, args, { cwd: bundleDir, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
  try {
    if (code !== 0) throw new ApiError('internal', `train.py --predict failed (exit ${code}) with ${python}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    return JSON.parse(fs.readFileSync(outJson, 'utf8'));
  } finally {
    fs.rmSync(outJson, { force: true });
  }
}
