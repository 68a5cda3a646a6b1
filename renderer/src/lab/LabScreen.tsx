/**
 * The Lab tab: the compound-scaling lab. On the left a new search's setup and the project's
 * searches (the newest open by default); on the right the open search — status, plan, the
 * accuracy-against-cost scatter with the verdict, the live candidate table — and the family
 * panel that keeps the chosen coefficients and explores φ for the model to train.
 */
import { useEffect, useState } from 'react';
import type { SearchReport } from '../../../main/contract/calls-scaling';
import type { CustomScaling } from '../models/model-selection';
import { formatPhi } from '../models/format';
import { formatDate } from '../training/train-format';
import { FamilyPanel } from './FamilyPanel';
import { formatAccuracy, formatCoefficients, STATUS_WORDS } from './lab-format';
import { readLabForm, storeLabForm, type LabForm } from './lab-form';
import { SearchSetup } from './SearchSetup';
import { SearchResults, SearchStatusCard } from './SearchView';
import { useSearches, type SearchSummary } from './use-searches';
import './lab.css';

export function LabScreen({ project, batch, onTrain }: { project: string; batch: number; onTrain: (scaling: CustomScaling) => void }) {
  const searches = useSearches(project);
  const [form, setForm] = useState<LabForm>(() => readLabForm(project));
  const { report } = searches;
  const [selectedId, setSelectedId] = useState<number | null>(null);
  // a newly opened search starts at its best candidate; the user's click holds until another search opens
  const bestId = report?.best?.candidateId ?? null;
  useEffect(() => setSelectedId(null), [report?.id]);
  const chosenId = selectedId ?? bestId;

  const changeForm = (next: LabForm) => {
    storeLabForm(project, next);
    setForm(next);
  };
  // the open search's status follows its events at once; the list's entries are read again a moment later
  const running = (searches.list ?? []).some((s) => s.id !== report?.id && s.status === 'running' && s.live) || (report?.status === 'running' && report.live);

  return (
    <main className="lab-main">
      <div className="lab-screen" data-testid="lab-screen">
        <div className="lab-column">
          <SearchSetup project={project} form={form} onFormChange={changeForm} busy={running} onStarted={searches.adopt} />
          <SearchList list={searches.list} openId={searches.openId} onOpen={searches.open} />
        </div>
        <div className="lab-column wide">
          {report ? (
            <OpenSearch project={project} report={report} chosenId={chosenId} onChoose={setSelectedId} onReport={searches.adopt} onRefresh={searches.refresh} batch={batch} onTrain={onTrain} />
          ) : (
            <section className="card lab-empty" data-testid="lab-empty">
              <h2>Compound-scaling lab</h2>
              <p className="muted">
                {searches.list === null || searches.openId !== null
                  ? 'Reading the searches…'
                  : 'No search yet. A search finds the depth, width and resolution coefficients (α, β, γ) that suit these images: set a budget on the left and start one. Each candidate trains in its own process; you can switch tabs meanwhile.'}
              </p>
            </section>
          )}
        </div>
      </div>
    </main>
  );
}

function OpenSearch(props: { project: string; report: SearchReport; chosenId: number | null; onChoose: (id: number) => void; onReport: (r: SearchReport) => void; onRefresh: () => void; batch: number; onTrain: (scaling: CustomScaling) => void }) {
  const { project, report, chosenId, onChoose, onReport, onRefresh, batch, onTrain } = props;
  return (
    <>
      <SearchStatusCard project={project} report={report} onReport={onReport} onRefresh={onRefresh} />
      <SearchResults report={report} selectedId={chosenId} onSelect={onChoose} />
      <FamilyPanel project={project} report={report} candidateId={chosenId} batch={batch} onTrain={onTrain} />
    </>
  );
}

function SearchList({ list, openId, onOpen }: { list: SearchSummary[] | null; openId: number | null; onOpen: (id: number) => void }) {
  return (
    <section className="card lab-searches" data-testid="lab-searches">
      <h2>Searches</h2>
      {list === null ? (
        <p className="muted small">
          <span className="spinner" /> Reading…
        </p>
      ) : list.length === 0 ? (
        <p className="muted small">None yet in this project.</p>
      ) : (
        <ul className="lab-search-list">
          {list.map((s) => (
            <li key={s.id}>
              <button type="button" className={`lab-search-entry${s.id === openId ? ' active' : ''}`} aria-current={s.id === openId} onClick={() => onOpen(s.id)} data-testid={`lab-search-${s.id}`} data-status={s.status}>
                <span className="lab-search-title">
                  #{s.id} <span className={`status-chip status-${s.status}`}>{STATUS_WORDS[s.status]}</span>
                </span>
                <span className="muted small">
                  {formatDate(s.createdAt)} · {s.plan.grid}, base φ {formatPhi(s.plan.basePhi)}
                </span>
                {s.best && (
                  <span className="small">
                    best {formatCoefficients(s.best)} · {formatAccuracy(s.best.meanAcc)}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
