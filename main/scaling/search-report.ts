/**
 * A search as scale.get answers it: the stored search and candidates, with what follows from them —
 * the groups by coefficient set, the two Pareto fronts and the verdict in words.
 */
import type { SearchReport } from '../contract/calls-scaling';
import type { Database } from '../project/database';
import { paretoFront } from './pareto';
import { listCandidates, type SearchRow } from './search-store';
import { groupCandidates, judge } from './statistics';

export function buildReport(db: Database, project: string, search: SearchRow, live: boolean): SearchReport {
  const candidates = listCandidates(db, search.id);
  const groups = groupCandidates(candidates);
  // one point per coefficient set that finished: its mean over seeds, at its first candidate
  const finished = groups.filter((g) => g.meanAcc !== null && g.candidates.every((id) => candidates.find((c) => c.id === id)?.state === 'finished'));
  const paretoFlops = paretoFront(finished.map((g) => ({ id: g.candidates[0], accuracy: g.meanAcc!, cost: g.flops })));
  const paretoTime = paretoFront(finished.filter((g) => g.secondsPerImage !== null).map((g) => ({ id: g.candidates[0], accuracy: g.meanAcc!, cost: g.secondsPerImage! })));
  const { best, noise, verdict } = judge(groups, candidates, search.plan.subset.val, search.plan.repeats);
  return {
    id: search.id,
    project,
    createdAt: search.createdAt,
    updatedAt: search.updatedAt,
    status: search.status,
    reason: search.reason,
    live,
    elapsedSeconds: search.elapsedSeconds,
    plan: search.plan,
    candidates,
    groups,
    paretoFlops,
    paretoTime,
    best,
    noise,
    verdict,
  };
}
