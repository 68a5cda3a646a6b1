/**
 * The compound-scaling lab on a laptop: a coarse search on a generated 10-class, 1,000-image
 * project (5 shapes × 2 colour families, 40×40 PNG with clutter; split val 0.2, test 0.2), then the
 * found coefficients against the paper's (B0's) at the same φ — so about the same FLOPs — on the
 * TEST split, which the search never saw.
 *
 *   npm run bench -- scaling [--per-class 100] [--grid coarse] [--budget-minutes M] [--options JSON]
 *                            [--scale-up 2] [--up-epochs 8]
 *
 * --scale-up φ then trains the found family and the paper's family at that φ above the same base
 * (about the same FLOPs), from scratch on the whole train split for --up-epochs epochs, and scores
 * both on the test split: whether the coefficients found small still win when scaled up.
 * --options '{"subset":200,"epochs":2}' passes search options (see SearchOptions in
 * main/contract/calls-scaling.ts) on top of the defaults. Output: one JSON line per candidate, then
 * a summary line with the search's wall time and the two test accuracies.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Service } from '../../main/service/service';
import { mulberry32 } from '../../main/dataset/sample';
import { cacheDir, emit, log, machine, option } from './lib/report';
import { makeTempDir, removeDir } from '../fixtures/temp';

const SHAPES = ['circle', 'square', 'triangle', 'cross', 'ring'] as const;
const FAMILIES = [
  { name: 'warm', hues: [0, 20, 40] },
  { name: 'cool', hues: [180, 210, 240] },
] as const;
const SIZE = 40;

function shapeSvg(shape: string, hue: number, random: () => number): string {
  const r = SIZE * (0.22 + random() * 0.12);
  const cx = r + 2 + random() * (SIZE - 2 * r - 4);
  const cy = r + 2 + random() * (SIZE - 2 * r - 4);
  const fill = `hsl(${hue + Math.round((random() - 0.5) * 20)}, ${60 + Math.round(random() * 40)}%, ${40 + Math.round(random() * 20)}%)`;
  const background = `hsl(${Math.round(random() * 360)}, ${Math.round(random() * 25)}%, ${70 + Math.round(random() * 25)}%)`;
  const clutter = Array.from({ length: 2 }, () => `<line x1="${random() * SIZE}" y1="${random() * SIZE}" x2="${random() * SIZE}" y2="${random() * SIZE}" stroke="hsl(0,0%,${Math.round(random() * 60)}%)" stroke-width="1"/>`).join('');
  const shapes: Record<string, string> = {
    circle: `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`,
    square: `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${fill}"/>`,
    triangle: `<polygon points="${cx},${cy - r} ${cx - r},${cy + r} ${cx + r},${cy + r}" fill="${fill}"/>`,
    cross: `<path d="M${cx - r} ${cy}H${cx + r}M${cx} ${cy - r}V${cy + r}" stroke="${fill}" stroke-width="${r / 2}"/>`,
    ring: `<circle cx="${cx}" cy="${cy}" r="${r * 0.8}" fill="none" stroke="${fill}" stroke-width="${r / 3}"/>`,
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><rect width="${SIZE}" height="${SIZE}" fill="${background}"/>${clutter}${shapes[shape]}</svg>`;
}

async function writeImages(folder: string, perClass: number): Promise<void> {
  const done = path.join(folder, '.complete');
  if (fs.existsSync(done)) return;
  const random = mulberry32(2026);
  for (const family of FAMILIES) {
    for (const shape of SHAPES) {
      const dir = path.join(folder, `${family.name}-${shape}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const hue = family.hues[Math.floor(random() * family.hues.length)];
        await sharp(Buffer.from(shapeSvg(shape, hue, random))).png().toFile(path.join(dir, `${i}.png`));
      }
    }
  }
  fs.writeFileSync(done, '');
}

export async function run(args: string[]): Promise<void> {
  const perClass = option(args, 'per-class', 100);
  const text = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
  const extra = JSON.parse(text('options', '{}')) as Record<string, unknown>;
  const budget = args.includes('--budget-minutes') ? option(args, 'budget-minutes', 30) : undefined;
  const images = path.join(cacheDir('bench-scaling'), `shapes10-${perClass}`);
  await writeImages(images, perClass);
  const tmp = makeTempDir('bench-scaling');
  const service = new Service({ mode: 'cli', dataDir: path.join(tmp, 'home') });
  try {
    const project = path.join(tmp, 'scaling.effitune');
    await service.call('project.create', { path: project });
    await service.call('import.folder', { project, folder: images, labelsFromFolders: true });
    await service.call('split.run', { project, val: 0.2, test: 0.2, seed: 1 });
    const began = performance.now();
    const started = await service.call('scale.start', { project, grid: text('grid', 'coarse'), ...(budget ? { budgetMinutes: budget } : {}), ...extra });
    log(`search ${started.id}: ${started.candidates.length} candidates, base φ ${started.plan.basePhi}, subset ${JSON.stringify(started.plan.subset)}, rungs ${started.plan.rungs}`);
    service.onEvent((event, payload) => {
      const p = payload as { candidate?: { position: number; role: string; state: string; valAcc: number | null } | null };
      if (event === 'scale.updated' && p.candidate) log(`  [${p.candidate.position + 1}] ${p.candidate.role} ${p.candidate.state} ${p.candidate.valAcc ?? ''}`);
    });
    const report = await service.call('scale.wait', { project, searchId: started.id });
    const wallSeconds = (performance.now() - began) / 1000;
    const common = { bench: 'scaling', perClass, classes: 10, images: perClass * 10, ...machine() };
    for (const c of report.candidates) {
      emit({ ...common, candidate: c.position + 1, role: c.role, alpha: c.alpha, beta: c.beta, gamma: c.gamma, resolution: c.resolution, mflops: round(c.flops / 1e6, 2), params: c.params, state: c.state, epochs: c.epochsDone, valAcc: c.valAcc, msPerImage: c.secondsPerImage === null ? null : round(c.secondsPerImage * 1000, 1), peakMiB: c.peakMemoryBytes === null ? null : round(c.peakMemoryBytes / 2 ** 20), repeatOf: c.repeatOf });
    }
    // the found coefficients and the paper's, on the test split the search never used
    const test = async (candidateId: number | undefined) => {
      const c = report.candidates.find((x) => x.id === candidateId);
      if (!c || c.runId === null || c.state !== 'finished') return null;
      const evaluation = await service.call('eval.run', { project, runId: c.runId, split: 'test' });
      return { candidate: c.position + 1, role: c.role, alpha: c.alpha, beta: c.beta, gamma: c.gamma, mflops: round(c.flops / 1e6, 2), valAcc: c.valAcc, testAcc: evaluation.accuracy === null ? null : round(evaluation.accuracy, 3) };
    };
    const paper = report.candidates.find((c) => c.role === 'paper' && c.repeatOf === null);
    const upPhi = args.includes('--scale-up') ? option(args, 'scale-up', 2) : null;
    let scaledUp: Record<string, unknown> | null = null;
    if (upPhi !== null && report.best) {
      const upEpochs = option(args, 'up-epochs', 8);
      const family = async (alpha: number, beta: number, gamma: number) => {
        const model = `phi=${upPhi},alpha=${alpha},beta=${beta},gamma=${gamma},base=${report.plan.basePhi}`;
        const figures = await service.call('models.describe', { variant: model, batch: 32 });
        const began = performance.now();
        const started = await service.call('train.start', { project, model, mode: 'full', epochs: upEpochs, batch: report.plan.batch, resolution: figures.resolution });
        const outcome = await service.call('train.wait', { project, runId: started.run.id });
        const evaluation = await service.call('eval.run', { project, runId: started.run.id, split: 'test' });
        return { model, resolution: figures.resolution, mflops: round(figures.flops / 1e6, 2), status: outcome.run.status, valAcc: outcome.final?.valAcc ?? null, testAcc: evaluation.accuracy, minutes: round((performance.now() - began) / 60_000, 1) };
      };
      const b = report.best;
      scaledUp = { phi: upPhi, epochs: upEpochs, found: await family(b.alpha, b.beta, b.gamma), paper: await family(1.2, 1.1, 1.15) };
      log(`scaled up to φ ${upPhi}: ${JSON.stringify(scaledUp)}`);
    }
    emit({
      ...common,
      summary: true,
      status: report.status,
      reason: report.reason,
      wallMinutes: round(wallSeconds / 60, 1),
      trainedMinutes: round(report.elapsedSeconds / 60, 1),
      candidates: report.candidates.length,
      plan: report.plan,
      best: report.best,
      found: await test(report.best?.candidateId),
      paper: await test(paper?.id),
      noise: report.noise,
      verdict: report.verdict,
      scaledUp,
    });
  } finally {
    service.close();
    removeDir(tmp);
  }
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
