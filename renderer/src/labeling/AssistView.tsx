/**
 * Model-assisted labeling with a finished run. "Suggestions": the unlabeled images, least
 * confident first (each label given there teaches the model the most), with the run's class and
 * confidence; `a` or Enter accepts the focused suggestion (stored as a model label naming the
 * run) and moves on. "Likely label errors": labeled images a confident prediction disagrees
 * with; `r` or Enter relabels to the prediction, `k` keeps the label (stored: labels.confirm). Number keys assign any
 * class, x excludes, ctrl+z undoes; the list is keyboard-first like the grid.
 * The best run by validation is chosen first. Accepting a run's predictions with one key is only
 * for a run that learned something: one not above chance or the largest class (or not known to be)
 * shows a warning, and its predictions are accepted only after the user confirms.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import type { PredictedImage } from '../../../main/contract/calls-eval';
import type { RunRecord } from '../../../main/contract/calls-data';
import type { Labeling } from './use-labeling';
import { isTypingTarget, labelKeyAction } from './keys';
import { baseName } from '../paths';
import { bestRun, runQuality, type RunQuality } from '../evaluation/best-run';

type Mode = 'suggestions' | 'disagreements';
const PAGE = 100;
/** Fetch more once this few are left on screen. */
const LOW_WATER = 10;

export function AssistView({ project, labeling, thumbUrl, fullUrl, onHelp }: { project: string; labeling: Labeling; thumbUrl: (id: number) => string; fullUrl: (id: number) => string; onHelp: () => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [runs, setRuns] = useState<RunRecord[] | null>(null);
  const [runId, setRunId] = useState<number | null>(null);
  /** the run whose poor predictions the user chose to accept anyway */
  const [trustedRun, setTrustedRun] = useState<number | null>(null);
  /** a key asked to accept while that needs confirming: point at the warning */
  const [nudged, setNudged] = useState(false);
  const [mode, setMode] = useState<Mode>('suggestions');
  const [minConfidence, setMinConfidence] = useState(0.9);
  const [list, setList] = useState<{ total: number; items: PredictedImage[] } | null>(null);
  const [loading, setLoading] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [focus, setFocus] = useState(0);
  /** images answered in this session (accepted, relabeled, kept): never shown again */
  const handled = useRef(new Set<number>());
  const listRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    client.call('runs.list', { project, status: 'completed' }).then(
      ({ runs }) => {
        setRuns(runs);
        setRunId((id) => id ?? (bestRun(runs) ?? runs[0])?.id ?? null);
      },
      (err) => reportError(err, 'Cannot list the training runs'),
    );
  }, [client, project, reportError]);

  useEvent('predict.progress', (p) => {
    if (p.purpose === 'assist' && p.runId === runId) setProgress({ done: p.done, total: p.total });
  });

  /** Only the answer to the latest request counts: switching mode or threshold quickly must not show an older list. */
  const latestLoad = useRef(0);
  const load = useCallback(async () => {
    if (runId === null) return;
    const request = ++latestLoad.current;
    setLoading(true);
    try {
      const page =
        mode === 'suggestions'
          ? await client.call('assist.suggestions', { project, runId, order: 'uncertain', limit: PAGE })
          : await client.call('assist.disagreements', { project, runId, minConfidence, limit: PAGE });
      if (request !== latestLoad.current) return;
      const items = page.items.filter((i) => !handled.current.has(i.id));
      setList({ total: page.total - (page.items.length - items.length), items });
    } catch (err) {
      if (request !== latestLoad.current) return;
      reportError(err, mode === 'suggestions' ? 'Cannot get suggestions' : 'Cannot find likely label errors');
      setList(null);
    } finally {
      if (request === latestLoad.current) {
        setLoading(false);
        setProgress(null);
      }
    }
  }, [client, project, runId, mode, minConfidence, reportError]);

  useEffect(() => {
    handled.current = new Set();
    setFocus(0);
    setList(null);
    void load();
  }, [load]);

  const items = list?.items ?? [];
  const current = items[Math.min(focus, items.length - 1)];

  useEffect(() => {
    listRef.current?.querySelector('.assist-row.focused')?.scrollIntoView({ block: 'nearest' });
  }, [focus, current?.id]);

  // Keyboard first: once a list is there, its keys work without a click.
  const hasList = items.length > 0;
  useEffect(() => {
    if (hasList) listRef.current?.focus({ preventScroll: true });
  }, [hasList, mode]);

  /** Take the image off the list (answered) and top the list up when it runs low. */
  const done = (id: number) => {
    handled.current.add(id);
    setList((l) => (l ? { total: l.total - 1, items: l.items.filter((i) => i.id !== id) } : l));
    setFocus((f) => Math.max(0, Math.min(f, items.length - 2)));
    if (list && items.length - 1 < LOW_WATER && list.total - 1 > items.length - 1) void load();
  };

  /**
   * Move on at once (a second key press must not answer the same image again); should the call
   * fail, the error is shown and the list is read again, so the image comes back.
   */
  const answer = async (item: PredictedImage, work: () => Promise<boolean>) => {
    done(item.id);
    if (!(await work())) void reload();
  };

  const run = runs?.find((r) => r.id === runId) ?? null;
  const best = runs ? bestRun(runs) : null;
  const quality: RunQuality = run ? runQuality(run) : { kind: 'unknown' };
  const needsConfirm = run !== null && quality.kind !== 'ok' && trustedRun !== run.id;
  useEffect(() => setNudged(false), [runId]);

  const accept = (item: PredictedImage) => {
    if (needsConfirm) {
      setNudged(true);
      return;
    }
    if (runId !== null) void answer(item, () => labeling.assign([item.id], item.predictedClass, { runId }));
  };

  /** "Keep": the label is right; stored (labels.confirm), so the run does not flag it again until the label changes. */
  const keep = (item: PredictedImage) =>
    void answer(item, () =>
      client.call('labels.confirm', { project, imageIds: [item.id] }).then(
        () => true,
        (err) => {
          reportError(err, 'Cannot keep the label');
          return false;
        },
      ),
    );

  const onKey = async (e: React.KeyboardEvent) => {
    if (isTypingTarget(e.target) || !current) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === 'ArrowDown' || key === 'ArrowRight') setFocus((f) => Math.min(f + 1, items.length - 1));
    else if (key === 'ArrowUp' || key === 'ArrowLeft') setFocus((f) => Math.max(f - 1, 0));
    else if (!e.ctrlKey && !e.metaKey && (key === 'Enter' || key === 'a' || (mode === 'disagreements' && key === 'r'))) accept(current);
    else if (!e.ctrlKey && !e.metaKey && mode === 'disagreements' && key === 'k') keep(current);
    else if (!e.ctrlKey && !e.metaKey && (key === 'k' || key === 's')) done(current.id);
    else {
      const action = labelKeyAction(e);
      if (!action) return;
      e.preventDefault();
      if (action.kind === 'assign') {
        const cls = labeling.classes?.[action.position];
        if (cls) void answer(current, () => labeling.assign([current.id], cls.id));
      } else if (action.kind === 'clear' && mode === 'disagreements') {
        void answer(current, () => labeling.assign([current.id], null));
      } else if (action.kind === 'exclude') {
        void answer(current, () => labeling.exclude([current.id], true));
      } else if (action.kind === 'undo') {
        // An undone label brings its image back; read the list again.
        if (await labeling.undo()) void reload();
      } else if (action.kind === 'redo') {
        if (await labeling.redo()) void reload();
      } else if (action.kind === 'help') onHelp();
      return;
    }
    e.preventDefault();
  };

  const reload = () => {
    handled.current = new Set();
    return load();
  };

  if (runs === null) return <div className="assist-view muted">Loading runs…</div>;
  if (runs.length === 0) {
    return (
      <div className="assist-view assist-empty" data-testid="assist-view">
        <p className="muted">No finished training run yet. Train a model on the labels you have (Train tab); it can then suggest classes for the unlabeled images and point at likely label errors.</p>
      </div>
    );
  }

  return (
    <div className="assist-view" data-testid="assist-view">
      <div className="assist-bar">
        <label className="small">
          Run{' '}
          <select className="select" value={runId ?? ''} onChange={(e) => setRunId(Number(e.target.value))} data-testid="assist-run">
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                #{r.id} · {r.variant} {r.resolution}px · {r.classes.length} classes{r.lastEpoch?.valAcc != null ? ` · val ${(r.lastEpoch.valAcc * 100).toFixed(0)} %` : ''}
                {r.id === best?.id ? ' · best' : ''}
              </option>
            ))}
          </select>
        </label>
        {best && (
          <span className="muted small" data-testid="assist-run-choice" data-best-run={best.id}>
            {best.id === runId ? (
              'best run by validation loss'
            ) : (
              <>
                best by validation: #{best.id}{' '}
                <button className="button small" onClick={() => setRunId(best.id)} data-testid="assist-pick-best">
                  use it
                </button>
              </>
            )}
          </span>
        )}
        <div className="segmented" role="tablist">
          <button role="tab" aria-selected={mode === 'suggestions'} className={mode === 'suggestions' ? 'active' : ''} onClick={() => setMode('suggestions')} data-testid="assist-mode-suggestions">
            Suggestions{mode === 'suggestions' && list ? <span className="count">{list.total.toLocaleString('en-US')}</span> : null}
          </button>
          <button role="tab" aria-selected={mode === 'disagreements'} className={mode === 'disagreements' ? 'active' : ''} onClick={() => setMode('disagreements')} data-testid="assist-mode-disagreements">
            Likely label errors{mode === 'disagreements' && list ? <span className="count">{list.total.toLocaleString('en-US')}</span> : null}
          </button>
        </div>
        {mode === 'disagreements' && (
          <label className="small">
            predicted with at least{' '}
            <select className="select" value={minConfidence} onChange={(e) => setMinConfidence(Number(e.target.value))} data-testid="assist-min-confidence">
              {[0.5, 0.7, 0.8, 0.9, 0.95, 0.99].map((v) => (
                <option key={v} value={v}>
                  {v * 100} %
                </option>
              ))}
            </select>
          </label>
        )}
        <button className="button small" onClick={() => void reload()} disabled={loading}>
          Refresh
        </button>
        <span className="muted small assist-keys">
          {mode === 'suggestions' ? (
            <>
              <kbd>a</kbd>/<kbd>Enter</kbd> accept · <kbd>1–9</kbd> other class · <kbd>s</kbd> skip · <kbd>x</kbd> exclude
            </>
          ) : (
            <>
              <kbd>r</kbd>/<kbd>Enter</kbd> relabel to prediction · <kbd>k</kbd> keep label · <kbd>1–9</kbd> other class
            </>
          )}
        </span>
      </div>
      {run && needsConfirm && <PoorRunWarning run={run} quality={quality} nudged={nudged} onConfirm={() => setTrustedRun(run.id)} />}
      {loading && !list ? (
        <p className="muted assist-loading" data-testid="assist-loading">
          <span className="spinner" /> {progress && progress.total > 0 ? `Predicting ${progress.done} of ${progress.total} images…` : 'Reading the predictions…'}
        </p>
      ) : items.length === 0 ? (
        <p className="muted assist-loading" data-testid="assist-empty">
          {mode === 'suggestions' ? 'No unlabeled images left to suggest for.' : `No labeled image disagrees with a prediction of at least ${minConfidence * 100} %.`}
        </p>
      ) : (
        <div className="assist-body">
          <div className="assist-list" ref={listRef} tabIndex={0} onKeyDown={onKey} role="listbox" aria-label={mode === 'suggestions' ? 'Suggestions' : 'Likely label errors'} data-testid="assist-list">
            {items.map((item, i) => (
              <div
                key={item.id}
                role="option"
                aria-selected={i === focus}
                className={`assist-row${i === focus ? ' focused' : ''}`}
                onClick={() => setFocus(i)}
                data-testid="assist-row"
                data-image-id={item.id}
              >
                <img src={thumbUrl(item.id)} alt="" loading="lazy" />
                <div className="assist-row-text">
                  <span className="tile-name" title={item.path}>
                    {baseName(item.path)}
                  </span>
                  {mode === 'disagreements' && (
                    <span className="small">
                      labeled <strong>{item.trueClass}</strong>
                    </span>
                  )}
                  <span className="small">
                    {mode === 'disagreements' ? 'predicted ' : 'suggests '}
                    <strong style={{ color: classColor(labeling, item.predictedClass) }} data-testid="assist-predicted">
                      {item.predictedClass}
                    </strong>{' '}
                    <span className="muted">{pct(item.confidence)}</span>
                  </span>
                </div>
                <ConfidenceBar value={item.confidence} />
              </div>
            ))}
          </div>
          {current && (
            <div className="assist-preview">
              <img src={fullUrl(current.id)} alt={current.path} className="pixelated" />
              <div className="assist-preview-facts">
                <span className="mono wrap small">{current.path}</span>
                <table className="table small">
                  <tbody>
                    {current.top.map((t) => (
                      <tr key={t.className}>
                        <td>
                          <span className="swatch" style={{ background: classColor(labeling, t.className) }} />
                          {t.className}
                        </td>
                        <td className="num">{pct(t.probability)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <div className="dialog-actions">
                  {mode === 'disagreements' && (
                    <button className="button" onClick={() => keep(current)} data-testid="assist-keep">
                      <kbd>k</kbd> Keep {current.trueClass}
                    </button>
                  )}
                  <button className="button primary" onClick={() => accept(current)} disabled={needsConfirm} title={needsConfirm ? 'This run is not known to beat chance: confirm in the warning above first' : undefined} data-testid="assist-accept">
                    <kbd>{mode === 'suggestions' ? 'a' : 'r'}</kbd> {mode === 'suggestions' ? 'Accept' : 'Relabel to'} {current.predictedClass}
                  </button>
                </div>
              </div>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

/** A run not known to beat chance: its suggestions are junk until shown otherwise; accepting them takes a click. */
function PoorRunWarning({ run, quality, nudged, onConfirm }: { run: RunRecord; quality: RunQuality; nudged: boolean; onConfirm: () => void }) {
  return (
    <div className={`inline-warning assist-poor-run${nudged ? ' nudged' : ''}`} role="alert" data-testid="assist-poor-run">
      <span>
        {quality.kind === 'at-chance'
          ? `Run #${run.id}: ${quality.warning ?? `validation accuracy ${pct(quality.accuracy)} is not above chance (${pct(quality.chance)} with ${run.classes.length} classes)`}. Its suggestions are likely wrong.`
          : `Run #${run.id} has no validation accuracy, so nothing shows that its suggestions beat guessing.`}{' '}
        {nudged ? 'Accepting is off until you confirm. ' : ''}Label by number keys, or pick a better run.
      </span>
      <button className="button small" onClick={onConfirm} data-testid="assist-poor-run-confirm">
        Accept its suggestions anyway
      </button>
    </div>
  );
}

function ConfidenceBar({ value }: { value: number }) {
  return (
    <span className="confidence-bar" title={`confidence ${pct(value)}`}>
      <span style={{ width: `${Math.round(value * 100)}%` }} />
    </span>
  );
}

function pct(p: number): string {
  return `${(p * 100).toFixed(p >= 0.995 || p < 0.1 ? 1 : 0)} %`;
}

function classColor(labeling: Labeling, name: string): string | undefined {
  return labeling.classes?.find((c) => c.name === name)?.color;
}
