/**
 * Custom families: coefficients chosen from a search (or given by hand), kept in the project with
 * the base they were measured above. A family at φ is the custom variant
 * "phi=<φ>,alpha=..,beta=..,gamma=..,base=<base φ>", trained and exported like any other.
 */
import { ApiError } from '../contract/contract';
import type { ScalingFamily } from '../contract/calls-scaling';
import type { Database } from '../project/database';
import { customVariant } from '../model/variants';
import { getCandidate, getSearch } from './search-store';
import { buildReport } from './search-report';

interface RawFamily {
  id: number;
  name: string;
  alpha: number;
  beta: number;
  gamma: number;
  base_phi: number;
  search_id: number | null;
  candidate_id: number | null;
  created_at: string;
}

export function listFamilies(db: Database): ScalingFamily[] {
  return (db.prepare('SELECT * FROM scaling_families ORDER BY id DESC').all() as RawFamily[]).map(toFamily);
}

function toFamily(r: RawFamily): ScalingFamily {
  return {
    id: r.id,
    name: r.name,
    alpha: r.alpha,
    beta: r.beta,
    gamma: r.gamma,
    basePhi: r.base_phi,
    searchId: r.search_id,
    candidateId: r.candidate_id,
    createdAt: r.created_at,
    example: customVariant({ phi: 1, alpha: r.alpha, beta: r.beta, gamma: r.gamma, basePhi: r.base_phi }).id,
  };
}

/** Keep a search result's coefficients as a family; the same coefficients and base again answer the family kept before. */
export function chooseFamily(db: Database, project: string, searchId: number, candidateId: number | undefined, name: string | undefined): ScalingFamily {
  const search = getSearch(db, searchId);
  let id = candidateId;
  if (id === undefined) {
    const best = buildReport(db, project, search, false).best;
    if (!best) throw new ApiError('invalid_input', `search ${searchId} has no finished candidate yet: wait for one, or name a candidate`);
    id = best.candidateId;
  }
  const candidate = getCandidate(db, searchId, id);
  if (candidate.role === 'base') throw new ApiError('invalid_input', `candidate ${id} is the base network itself (α = β = γ = 1): it does not scale; choose another`);
  const basePhi = search.plan.basePhi;
  const same = (db.prepare('SELECT * FROM scaling_families WHERE alpha = ? AND beta = ? AND gamma = ? AND base_phi = ?').get(candidate.alpha, candidate.beta, candidate.gamma, basePhi) as RawFamily | undefined);
  if (same && name === undefined) return toFamily(same);
  const chosenName = name ?? `search ${searchId}: α ${candidate.alpha}, β ${candidate.beta}, γ ${candidate.gamma}`;
  if (db.prepare('SELECT 1 FROM scaling_families WHERE name = ?').get(chosenName)) {
    throw new ApiError('already_exists', `name: a family called "${chosenName}" already exists in this project; choose another name`);
  }
  const row = db
    .prepare('INSERT INTO scaling_families (name, search_id, candidate_id, alpha, beta, gamma, base_phi, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *')
    .get(chosenName, searchId, candidate.id, candidate.alpha, candidate.beta, candidate.gamma, basePhi, new Date().toISOString()) as RawFamily;
  return toFamily(row);
}
