/**
 * One run on one split: metrics, the confusion matrix with the images of the chosen cell (or row,
 * or column), the per-class table, the most confident mistakes and "try an image". A cell's
 * images scroll into view when it is clicked; an image opens in the detail view, to relabel or
 * exclude it.
 */
import { useEffect, useRef, useState } from 'react';
import type { RunRecord } from '../../../main/contract/calls-data';
import type { EvalSplit } from '../../../main/contract/calls-eval';
import { ConfusionMatrix, type CellChoice } from './ConfusionMatrix';
import { EvalImageDetail } from './EvalImageDetail';
import { MetricsSummary } from './MetricsSummary';
import { PerClassTable } from './PerClassTable';
import { PredictedGallery, type GalleryQuery } from './PredictedGallery';
import { TryImagePanel } from './TryImagePanel';
import { useEvaluation } from './use-evaluation';
import { ProviderPicker } from './ProviderPicker';
import { useInferenceProvider } from './use-inference-provider';

const SPLIT_NAMES: Record<EvalSplit, string> = { train: 'training', val: 'validation', test: 'test' };

export function EvaluationView({ project, run, split }: { project: string; run: RunRecord; split: EvalSplit }) {
  const providerChoice = useInferenceProvider();
  const { evaluation, loading, problem, progress, recompute, refresh } = useEvaluation(project, run.id, split, providerChoice.provider);
  const [choice, setChoice] = useState<CellChoice | null>(null);
  const [detail, setDetail] = useState<{ query: GalleryQuery; index: number } | null>(null);
  /** bumps when labels changed in the detail view: the galleries read their lists again */
  const [galleryVersion, setGalleryVersion] = useState(0);
  const cellImages = useRef<HTMLElement>(null);
  // A click on the matrix fills the panel below it: bring the panel into view.
  useEffect(() => {
    if (choice) cellImages.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }, [choice]);

  const closeDetail = (changed: boolean) => {
    setDetail(null);
    if (!changed) return;
    setGalleryVersion((v) => v + 1);
    refresh();
  };

  if (problem)
    return (
      <section className="card">
        <p className="inline-error" data-testid="eval-error">
          Cannot evaluate run #{run.id} on the {SPLIT_NAMES[split]} split: {problem}
        </p>
        <button className="button" onClick={recompute}>
          Try again
        </button>
      </section>
    );
  if (loading || !evaluation)
    return (
      <section className="card" data-testid="eval-computing">
        <p className="muted">
          <span className="spinner" /> Evaluating run #{run.id} on the {SPLIT_NAMES[split]} split
          {progress && progress.total > 0 ? `: ${progress.done} of ${progress.total} images predicted` : '…'}
        </p>
        {progress && progress.total > 0 && (
          <div className="progress-bar">
            <div className="progress-fill" style={{ width: `${(100 * progress.done) / progress.total}%` }} />
          </div>
        )}
      </section>
    );

  const e = evaluation;
  return (
    <div className="evaluation" data-testid="evaluation" data-run-id={e.runId} data-split={e.split}>
      {e.images === 0 && (
        <p className="inline-warning card" data-testid="eval-no-images">
          The {SPLIT_NAMES[split]} split has no usable images{e.skipped.length ? ` (${e.skipped.length} skipped, see below)` : ''}. Split the data in the Train tab, or pick the other split.
        </p>
      )}
      {/* Many classes: the matrix gets the full width, the metrics go below it. */}
      <div className={`eval-grid${e.classes.length > 12 ? ' wide-matrix' : ''}`}>
        <section className="card eval-matrix-card">
          <ConfusionMatrix classes={e.classes} confusion={e.confusion} selected={choice} onSelect={setChoice} saveName={`run ${e.runId} ${e.split} confusion matrix`} />
        </section>
        <div className="eval-side">
          <section className="card">
            <div className="section-head">
              <h2>Metrics on the {SPLIT_NAMES[split]} split</h2>
              <button className="button small" onClick={recompute} title="Predict the split again instead of reading the stored evaluation" data-testid="eval-recompute">
                Recompute
              </button>
            </div>
            <ProviderPicker choice={providerChoice} />
            <MetricsSummary evaluation={e} />
          </section>
          <section className="card">
            <h2>Per class</h2>
            <PerClassTable rows={e.perClass} activeClass={choice && !choice.predictedClass ? choice.trueClass : undefined} onPickClass={(trueClass) => setChoice({ trueClass })} />
          </section>
        </div>
      </div>
      {choice && (
        <section className="card cell-images" ref={cellImages} data-testid="cell-images">
          <div className="section-head">
            <h2 data-testid="cell-images-title">{choiceTitle(choice)}</h2>
            <button className="button small" onClick={() => setChoice(null)} data-testid="cell-images-close">
              Close
            </button>
          </div>
          <PredictedGallery project={project} runId={e.runId} split={split} query={choice} testId="cell-gallery" version={galleryVersion} onOpen={(index) => setDetail({ query: choice, index })} />
        </section>
      )}
      <section className="card">
        <h2>Mistakes, most confident first</h2>
        <p className="muted small">Confident mistakes are often label errors or classes that look alike: check these first. Click one to relabel (1–9) or exclude (x) it.</p>
        <PredictedGallery project={project} runId={e.runId} split={split} query={{ mistakesOnly: true }} testId="mistakes-gallery" version={galleryVersion} onOpen={(index) => setDetail({ query: { mistakesOnly: true }, index })} />
      </section>
      <section className="card">
        <h2>Try an image</h2>
        <TryImagePanel project={project} runId={e.runId} provider={providerChoice.provider} />
      </section>
      {detail && <EvalImageDetail project={project} runId={e.runId} split={split} query={detail.query} startIndex={detail.index} onClose={closeDetail} />}
    </div>
  );
}

function choiceTitle({ trueClass, predictedClass }: CellChoice): string {
  if (trueClass && predictedClass) return trueClass === predictedClass ? `${trueClass}, predicted correctly` : `True ${trueClass}, predicted as ${predictedClass}`;
  if (trueClass) return `All images of ${trueClass}`;
  return `All images predicted as ${predictedClass}`;
}
