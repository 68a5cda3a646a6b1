/**
 * `effitune scale …`: the compound-scaling lab from the terminal. `scale search` plans a search,
 * trains its candidates (a line per candidate as it changes, on stderr) and prints the table, the
 * Pareto sets and the verdict; Ctrl-C stops it after the current step, and `scale resume` goes on
 * with the finished candidates kept. `scale choose` keeps a result as a family, `scale explore`
 * shows how a family grows with φ against B0..B7.
 */
import type { Candidate, SearchReport, ScalingFamily } from '../../contract/calls-scaling';
import { ApiError } from '../../contract/contract';
import type { Client } from '../../contract/client';
import type { Command, CommandInput, CommandResult } from '../command';
import { formatSeconds } from '../durations';
import { EXIT } from '../exit-codes';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { formatTable } from '../text-table';
import { formatBytes } from './models';

const SEARCH_FIELDS = {
  phi: '--phi',
  basePhi: '--base-phi',
  budgetFlops: '--budget-flops',
  budgetMinutes: '--budget-minutes',
  grid: '--grid',
  maxCandidates: '--max-candidates',
  subset: '--subset',
  valSubset: '--val-subset',
  epochs: '--epochs',
  seed: '--seed',
  repeats: '--repeats',
  tolerance: '--tolerance',
  batch: '--batch',
  backend: '--backend',
  precision: '--precision',
  searchId: 'SEARCH',
  candidateId: '--candidate',
};

export const scaleSearch: Command = {
  words: ['scale', 'search'],
  args: ['project'],
  optionsUsage: '[--budget-flops F | --budget-minutes M] [--phi 1] [--base-phi B] [--grid coarse|fine] [--subset N] [--epochs E] [--repeats N]',
  summary: 'Search the compound-scaling coefficients α, β, γ (α·β²·γ² ≈ 2) that suit this project, on a subset of it',
  details: [
    'Trains, one after another, small models one step φ above a tiny base network: the grid points under the constraint, depth,',
    'width and resolution alone, and the paper\'s α 1.2, β 1.1, γ 1.15 — same seed, same stratified subset, never the test split.',
    'The lower half of the grid points is left out after each rung (successive halving); the best are trained again with another seed.',
    '--budget-flops F    multiply-adds per image of the largest candidate (e.g. 40e6): chooses the base; default base φ -8 (72 px)',
    '--budget-minutes M  training time of the whole search: nothing starts once it is used up (resume with a larger one goes on)',
    '--phi X             the step the candidates are compared at (default 1, as in the paper) · --base-phi B: the base network',
    '--grid G            coarse (8 grid points, default) or fine (more) · --max-candidates N: at most N grid points',
    '--subset N          training images per candidate (default 400) · --val-subset N: validation images (default 200)',
    '--epochs E          epochs of a candidate that survives every rung (default 4) · --repeats N: best repeated with seed+1 (default 2)',
    '--seed N · --batch N (default 32, the same for all) · --backend NAME · --tolerance X (|α·β²·γ² − 2| / 2, default 0.05)',
    '--precision P       fp32 (default) or mixed: every candidate in float16 activations on the WebGPU engine (a GPU with shader-f16)',
    'Ctrl-C stops the search after its current step; `effitune scale resume PROJECT SEARCH` continues it.',
  ],
  options: {
    phi: { type: 'string' },
    'base-phi': { type: 'string' },
    'budget-flops': { type: 'string' },
    'budget-minutes': { type: 'string' },
    grid: { type: 'string' },
    'max-candidates': { type: 'string' },
    subset: { type: 'string' },
    'val-subset': { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    repeats: { type: 'string' },
    tolerance: { type: 'string' },
    batch: { type: 'string' },
    backend: { type: 'string' },
    precision: { type: 'string' },
  },
  fields: SEARCH_FIELDS,
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    const v = input.values;
    const n = (name: string) => numberOrText(v[name]);
    const client = input.client();
    return follow(input, client, project, () =>
      client.call(
        'scale.start',
        fromFlags({
          project,
          phi: n('phi'),
          basePhi: n('base-phi'),
          budgetFlops: n('budget-flops'),
          budgetMinutes: n('budget-minutes'),
          grid: v.grid,
          maxCandidates: n('max-candidates'),
          subset: n('subset'),
          valSubset: n('val-subset'),
          epochs: n('epochs'),
          seed: n('seed'),
          repeats: n('repeats'),
          tolerance: n('tolerance'),
          batch: n('batch'),
          backend: v.backend,
          precision: v.precision,
        }),
      ),
    );
  },
};

export const scaleResume: Command = {
  words: ['scale', 'resume'],
  args: ['project', 'search'],
  optionsUsage: '[--budget-minutes M]',
  summary: 'Continue a stopped or interrupted search: finished candidates are kept, a half-trained one goes on from its last epoch',
  options: { 'budget-minutes': { type: 'string' } },
  fields: SEARCH_FIELDS,
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    const client = input.client();
    const searchId = searchArg(input);
    return follow(input, client, project, () => client.call('scale.resume', fromFlags({ project, searchId, budgetMinutes: numberOrText(input.values['budget-minutes']) })));
  },
};

export const scaleList: Command = {
  words: ['scale', 'list'],
  args: ['project'],
  summary: "A project's compound-scaling searches and their best coefficients",
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    const { searches } = await input.client().call('scale.list', { project });
    if (searches.length === 0) return { json: { searches }, text: 'No searches yet: effitune scale search PROJECT starts one.' };
    const rows = searches.map((s) => [
      s.id,
      s.status + (s.live ? ' (here)' : ''),
      s.createdAt.slice(0, 16).replace('T', ' '),
      `φ ${s.plan.phi} above base φ ${s.plan.basePhi}`,
      formatSeconds(s.elapsedSeconds),
      s.best ? `${coefficients(s.best)} ${pct(s.best.meanAcc)}` : '-',
    ]);
    return { json: { searches }, text: formatTable(['search', 'status', 'started', 'scaling', 'trained', 'best'], rows) };
  },
};

export const scaleShow: Command = {
  words: ['scale', 'show'],
  args: ['project', 'search'],
  summary: 'One search: its candidates, Pareto sets, best coefficients and what the results say',
  fields: SEARCH_FIELDS,
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    const report = await input.client().call('scale.get', fromFlags({ project, searchId: searchArg(input) }));
    return { json: report, text: formatReport(report) };
  },
};

export const scaleChoose: Command = {
  words: ['scale', 'choose'],
  args: ['project', 'search'],
  optionsUsage: '[--candidate ID] [--name NAME]',
  summary: "Keep a search result's α, β, γ (default the best) as a custom family of the project, to train at any φ",
  options: { candidate: { type: 'string' }, name: { type: 'string' } },
  fields: SEARCH_FIELDS,
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    const { family } = await input
      .client()
      .call('scale.choose', fromFlags({ project, searchId: searchArg(input), candidateId: numberOrText(input.values.candidate), name: input.values.name }));
    return { json: { family }, text: formatFamily(family) };
  },
};

export const scaleFamilies: Command = {
  words: ['scale', 'families'],
  args: ['project'],
  summary: "A project's custom families (coefficients chosen from searches)",
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    const { families } = await input.client().call('scale.families', { project });
    if (families.length === 0) return { json: { families }, text: 'No families yet: effitune scale choose PROJECT SEARCH keeps one.' };
    return { json: { families }, text: families.map(formatFamily).join('\n\n') };
  },
};

export const scaleExplore: Command = {
  words: ['scale', 'explore'],
  args: [],
  optionsUsage: '--alpha A --beta B --gamma G [--base-phi P] [--phis X,Y,…] [--project P --search N] [--batch N]',
  summary: 'How depth, width, resolution, FLOPs, parameters, memory and time grow with φ for coefficients, against B0..B7',
  details: ['--project P --search N: the time column from the speeds that search measured (else none)', '--phis: the φ to show (default: where the family matches each of B0..B7 in FLOPs)'],
  options: {
    alpha: { type: 'string' },
    beta: { type: 'string' },
    gamma: { type: 'string' },
    'base-phi': { type: 'string' },
    phis: { type: 'string' },
    project: { type: 'string' },
    search: { type: 'string' },
    batch: { type: 'string' },
  },
  fields: { alpha: '--alpha', beta: '--beta', gamma: '--gamma', basePhi: '--base-phi', phis: '--phis', searchId: '--search', batch: '--batch' },
  async run(input) {
    const v = input.values;
    for (const name of ['alpha', 'beta', 'gamma'] as const) if (v[name] === undefined) throw new ApiError('invalid_input', `--${name} is required (e.g. --alpha 1.2 --beta 1.1 --gamma 1.15)`);
    const phis = typeof v.phis === 'string' ? v.phis.split(',').map((p) => numberOrText(p.trim())) : undefined;
    const result = await input.client().call(
      'scale.explore',
      fromFlags({
        alpha: numberOrText(v.alpha),
        beta: numberOrText(v.beta),
        gamma: numberOrText(v.gamma),
        basePhi: numberOrText(v['base-phi']),
        phis,
        batch: numberOrText(v.batch),
        project: resolvePathArg(typeof v.project === 'string' ? v.project : undefined),
        searchId: numberOrText(v.search),
      }),
    );
    const row = (r: (typeof result.family)[number]) => [
      r.label,
      r.resolution,
      r.depth.toFixed(2),
      r.width.toFixed(2),
      r.blocks,
      `${(r.params / 1e6).toFixed(2)} M`,
      `${(r.flops / 1e6).toFixed(1)} M`,
      formatBytes(r.trainingMemoryBytes),
      r.secondsPerImage === null ? '-' : `${(r.secondsPerImage * 1000).toFixed(1)} ms`,
    ];
    const header = ['', 'px', 'depth', 'width', 'blocks', 'params', 'FLOPs', 'train memory', 'time/img'];
    const text = [formatTable(header, [...result.family.map(row), ...result.variants.map(row)]), '', result.timeBasis].join('\n');
    return { json: result, text };
  },
};

export const SCALE_COMMANDS = [scaleSearch, scaleResume, scaleList, scaleShow, scaleChoose, scaleFamilies, scaleExplore];

function searchArg(input: CommandInput): unknown {
  return numberOrText(input.positionals[1]);
}

/** Start (or resume) a search, print its candidates as they change, wait for its end; Ctrl-C stops it. */
async function follow(input: CommandInput, client: Client, project: string, begin: () => Promise<SearchReport>): Promise<CommandResult> {
  let searchId: number | null = null;
  let stopping = false;
  const seen = new Map<number, string>();
  const stopEvents = client.on('scale.updated', (event) => {
    if (event.project !== project || (searchId !== null && event.searchId !== searchId) || !event.candidate) return;
    const line = candidateLine(event.candidate);
    if (seen.get(event.candidate.id) === line) return;
    seen.set(event.candidate.id, line);
    if (!input.json) input.stderr.write(`${line}\n`);
  });
  const onInterrupt = () => {
    if (stopping || searchId === null) process.exit(EXIT.interrupted);
    stopping = true;
    input.stderr.write(`Stopping search ${searchId} after the current step... (press Ctrl-C again to quit at once)\n`);
    client.call('scale.cancel', { project, searchId }).catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  try {
    const started = await begin();
    searchId = started.id;
    if (!input.json) {
      const p = started.plan;
      input.stderr.write(
        `Search ${started.id}: ${started.candidates.length} candidates at φ ${p.phi} above base φ ${p.basePhi} (${p.basePhiReason}); ` +
          `${p.subset.train} training / ${p.subset.val} validation images, rungs after epoch ${p.rungs.join(', ')}, ${p.repeats} repeat(s) with seed ${p.repeatSeed}\n`,
      );
      for (const note of p.notes) input.stderr.write(`  ${note}\n`);
    }
    const report = await client.call('scale.wait', { project, searchId });
    const exitCode = report.status === 'completed' ? 0 : report.status === 'failed' ? EXIT.internal : EXIT.interrupted;
    return { json: report, text: formatReport(report), exitCode };
  } finally {
    process.off('SIGINT', onInterrupt);
    stopEvents();
  }
}

function candidateLine(c: Candidate): string {
  const acc = c.valAcc === null ? '' : ` val acc ${pct(c.valAcc)}`;
  return `  [${c.position + 1}] ${label(c)} ${c.resolution} px: ${c.state}${c.epochsDone ? ` (${c.epochsDone} epochs)` : ''}${acc}${c.reason && c.state === 'failed' ? ` — ${c.reason}` : ''}`;
}

function label(c: Pick<Candidate, 'role' | 'alpha' | 'beta' | 'gamma' | 'repeatOf'>): string {
  const name = c.role === 'compound' ? `α ${c.alpha} β ${c.beta} γ ${c.gamma}` : c.role === 'paper' ? 'paper (α 1.2 β 1.1 γ 1.15)' : c.role === 'base' ? 'base' : `${c.role} alone`;
  return c.repeatOf === null ? name : `${name}, seed 2`;
}

export function formatReport(report: SearchReport): string {
  const pareto = new Set(report.paretoFlops);
  const rows = report.candidates.map((c) => [
    c.position + 1,
    label(c),
    c.constraint.toFixed(3),
    c.resolution,
    `${(c.flops / 1e6).toFixed(1)} M`,
    `${(c.params / 1e6).toFixed(2)} M`,
    c.state,
    c.epochsDone,
    c.valAcc === null ? '-' : pct(c.valAcc),
    c.secondsPerImage === null ? '-' : `${(c.secondsPerImage * 1000).toFixed(1)} ms`,
    c.peakMemoryBytes === null ? '-' : formatBytes(c.peakMemoryBytes),
    pareto.has(c.id) ? '*' : '',
  ]);
  const p = report.plan;
  return [
    `Search ${report.id}: ${report.status}${report.reason ? ` — ${report.reason}` : ''}`,
    `  φ ${p.phi} above base φ ${p.basePhi}; ${p.subset.train} training / ${p.subset.val} validation images; ${p.epochs} epochs, rungs ${p.rungs.join(', ')}; batch ${p.batch} on ${p.backend ?? (p.precision === 'mixed' ? 'webgpu' : 'the best backend here')}${p.precision === 'mixed' ? ', mixed precision' : ''}; trained ${formatSeconds(report.elapsedSeconds)}`,
    '',
    formatTable(['#', 'candidate', 'αβ²γ²', 'px', 'FLOPs', 'params', 'state', 'epochs', 'val acc', 'time/img', 'peak mem', 'pareto'], rows, '  '),
    '',
    ...report.verdict.map((line) => `  ${line}`),
    ...(report.best ? ['', `  effitune scale choose ${report.project} ${report.id}   keeps ${coefficients(report.best)} as a family`] : []),
  ].join('\n');
}

function formatFamily(f: ScalingFamily): string {
  return [
    `Family ${f.id} "${f.name}": α ${f.alpha}, β ${f.beta}, γ ${f.gamma} above base φ ${f.basePhi}`,
    `  train it: effitune train PROJECT --model custom --phi 1 --alpha ${f.alpha} --beta ${f.beta} --gamma ${f.gamma} --base-phi ${f.basePhi} --mode full`,
    `  (φ 1 is the size the search measured; each +1 about doubles the FLOPs)`,
  ].join('\n');
}

function coefficients(b: { alpha: number; beta: number; gamma: number }): string {
  return `α ${b.alpha}, β ${b.beta}, γ ${b.gamma}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}
