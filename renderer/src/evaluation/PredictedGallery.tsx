/**
 * Thumbnails of evaluated images with what the run predicted (eval.images): the images of a
 * confusion-matrix cell, a class, or the mistakes, most confident first, a page at a time. A tile
 * opens the image in the app's detail view (`onOpen`, with its place in this list).
 */
import { useEffect, useState } from 'react';
import { errorMessage, useClient } from '../api/client-context';
import type { EvalSplit, PredictedImage } from '../../../main/contract/calls-eval';
import { formatPercent } from './eval-format';
import { baseName } from '../paths';

const PAGE = 60;

export interface GalleryQuery {
  trueClass?: string;
  predictedClass?: string;
  mistakesOnly?: boolean;
}

export function PredictedGallery({
  project,
  runId,
  split,
  query,
  testId,
  onOpen,
  version = 0,
}: {
  project: string;
  runId: number;
  split: EvalSplit;
  query: GalleryQuery;
  testId: string;
  /** open the image at this index of the list (eval.images with the same query and order) */
  onOpen: (index: number) => void;
  /** bump to read the list again (labels changed) */
  version?: number;
}) {
  const client = useClient();
  const [items, setItems] = useState<PredictedImage[] | null>(null);
  const [total, setTotal] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const queryKey = JSON.stringify(query);

  const load = async (offset: number) => {
    const page = await client.call('eval.images', { project, runId, split, ...(JSON.parse(queryKey) as GalleryQuery), order: 'confidence-desc', offset, limit: PAGE });
    setTotal(page.total);
    return page.items;
  };

  useEffect(() => {
    let current = true;
    setItems(null);
    setProblem(null);
    load(0).then(
      (page) => current && setItems(page),
      (err) => current && setProblem(errorMessage(err)),
    );
    return () => {
      current = false;
    };
    // load reads only what the key lists
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, project, runId, split, queryKey, version]);

  const more = async () => {
    if (!items) return;
    setLoadingMore(true);
    try {
      const page = await load(items.length);
      setItems([...items, ...page]);
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setLoadingMore(false);
    }
  };

  if (problem) return <p className="inline-error" data-testid={`${testId}-error`}>Cannot load the images: {problem}</p>;
  if (items === null)
    return (
      <p className="muted" data-testid={`${testId}-loading`}>
        <span className="spinner" /> Loading the images…
      </p>
    );
  if (items.length === 0)
    return (
      <p className="muted" data-testid={`${testId}-empty`}>
        {query.mistakesOnly ? 'No mistakes on this split.' : 'No images here.'}
      </p>
    );
  return (
    <div className="predicted-gallery" data-testid={testId} data-total={total}>
      <ul className="gallery-grid">
        {items.map((item, index) => (
          <GalleryTile key={item.id} project={project} item={item} onOpen={() => onOpen(index)} />
        ))}
      </ul>
      <p className="muted small gallery-foot">
        {items.length < total ? `${items.length} of ${total} shown` : `${total} image${total === 1 ? '' : 's'}`}
        {items.length < total && (
          <button type="button" className="button small" onClick={more} disabled={loadingMore} data-testid={`${testId}-more`}>
            {loadingMore ? 'Loading…' : `Show ${Math.min(PAGE, total - items.length)} more`}
          </button>
        )}
      </p>
    </div>
  );
}

function GalleryTile({ project, item, onOpen }: { project: string; item: PredictedImage; onOpen: () => void }) {
  const client = useClient();
  const others = item.top
    .filter((t) => t.className !== item.predictedClass)
    .slice(0, 3)
    .map((t) => `${t.className} ${formatPercent(t.probability)}`)
    .join(', ');
  const verdict = item.correct === null ? 'unlabeled' : item.correct ? 'correct' : 'mistake';
  return (
    <li
      className={`gallery-tile ${verdict}`}
      data-testid="gallery-item"
      data-image-id={item.id}
      data-true={item.trueClass ?? ''}
      data-predicted={item.predictedClass}
      title={`${item.path}\ntrue: ${item.trueClass ?? 'unlabeled'}\npredicted: ${item.predictedClass} (${formatPercent(item.confidence)})${others ? `\nnext: ${others}` : ''}`}
    >
      <button type="button" className="gallery-thumb" onClick={onOpen} aria-label={`Open ${baseName(item.path)}: label or exclude it`} data-testid="gallery-open">
        <img src={client.mediaUrl('thumb', project, item.id)} alt={baseName(item.path)} loading="lazy" />
        <span className="gallery-confidence" title="confidence of the predicted class">
          {formatPercent(item.confidence)}
        </span>
      </button>
      <span className="gallery-line">
        <span className="muted">true</span> <span className="gallery-class">{item.trueClass ?? '—'}</span>
      </span>
      <span className="gallery-line">
        <span className="muted">pred</span> <span className="gallery-class predicted">{item.predictedClass}</span>
      </span>
    </li>
  );
}
