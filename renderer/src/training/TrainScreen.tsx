/**
 * The Train tab: the split and the setup on the left; the run in progress and the run history on
 * the right. The live run comes from train.* events (use-live-runs.ts); a run already training
 * when the tab opens is picked up again, so switching tabs loses nothing.
 */
import { useCallback, useEffect, useState } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import { useBackendProbe } from '../api/backend-probe';
import { isFinalRunStatus, type SplitSummary } from '../../../main/contract/calls-data';
import type { TrainStarted } from '../../../main/contract/calls-train';
import type { ModelSelection } from '../models/model-selection';
import { SplitPanel } from './SplitPanel';
import { TrainSetup } from './TrainSetup';
import { LiveRunView } from './LiveRun';
import { RunHistory, useRunHistory } from './RunHistory';
import { useLiveRuns } from './use-live-runs';
import { readTrainForm, storeTrainForm, type TrainForm } from './train-form';

export function TrainScreen({ project, model, onModelChange }: { project: string; model: ModelSelection; onModelChange: (next: ModelSelection) => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [form, setForm] = useState<TrainForm>(() => readTrainForm(project));
  const [split, setSplit] = useState<SplitSummary | null>(null);
  const { value: probe, problem: probeProblem } = useBackendProbe();
  const [historyKey, setHistoryKey] = useState(0);
  const [currentRunId, setCurrentRunId] = useState<number | null>(null);
  const [selectedRunId, setSelectedRunId] = useState<number | null>(null);
  const refreshHistory = useCallback(() => setHistoryKey((k) => k + 1), []);
  const history = useRunHistory(project, historyKey);
  const live = useLiveRuns(project, refreshHistory);

  const changeForm = (next: TrainForm) => {
    storeTrainForm(project, next);
    setForm(next);
  };

  const readSplit = useCallback(() => {
    client.call('split.get', { project }).then(setSplit, (err) => reportError(err, 'Cannot read the split'));
  }, [client, project, reportError]);
  useEffect(readSplit, [readSplit]);
  useEvent('project.changed', readSplit);

  useEffect(() => {
    if (live.attached !== null) setCurrentRunId((id) => id ?? live.attached);
  }, [live.attached]);

  const started = (info: TrainStarted) => {
    live.started(info);
    setCurrentRunId(info.run.id);
    refreshHistory();
  };
  const current = currentRunId === null ? null : (live.runs[currentRunId] ?? null);
  const runBusy = current !== null && !isFinalRunStatus(current.status);

  return (
    <main className="train-main">
      <div className="train-screen" data-testid="train-screen">
        <div className="train-column">
          <SplitPanel project={project} summary={split} onSplit={setSplit} />
          <TrainSetup
            project={project}
            model={model}
            onModelChange={onModelChange}
            form={form}
            onFormChange={changeForm}
            probe={probe}
            probeProblem={probeProblem}
            split={split}
            history={history?.map((d) => d.run) ?? []}
            runBusy={runBusy}
            onStarted={started}
          />
        </div>
        <div className="train-column wide">
          {current ? (
            <LiveRunView
              project={project}
              run={current}
              onStatus={(runId, status, reason) => {
                live.statusChanged(runId, status, reason);
                refreshHistory();
              }}
              onResumed={started}
            />
          ) : (
            <section className="card live-run empty" data-testid="live-run-empty">
              <h2>Live run</h2>
              <p className="muted">Start a run to follow its loss, accuracy, speed and time left here. It trains in its own process: the app stays responsive and you can switch tabs.</p>
            </section>
          )}
          <RunHistory project={project} details={history} selectedId={selectedRunId} onSelect={setSelectedRunId} />
        </div>
      </div>
    </main>
  );
}
