/**
 * An evaluated image (a mistake, or one of a confusion-matrix cell) in the app's detail view, with
 * the Data tab's labeling keys: number keys relabel, 0 unlabels, x excludes, / searches the classes,
 * ctrl+z undoes; the arrows step through the same list the gallery shows. A labeled or excluded
 * image may leave the list (a fixed mistake is no mistake); the next one then takes its place.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { EvalSplit, PredictedImage } from '../../../main/contract/calls-eval';
import type { ImageDetail } from '../../../main/contract/contract';
import { ImageDetailView } from '../components/ImageDetailView';
import { ImagePages } from '../grid/image-pages';
import { ClassPicker, type PickedClass } from '../labeling/ClassPicker';
import { KeyboardHelp } from '../labeling/KeyboardHelp';
import type { LabelKeyAction } from '../labeling/keys';
import { useLabeling } from '../labeling/use-labeling';
import type { GalleryQuery } from './PredictedGallery';
import { formatPercent } from './eval-format';

/** Each summary is one images.get: small pages keep a step through the list quick. */
const PAGE_SIZE = 20;

export function EvalImageDetail({
  project,
  runId,
  split,
  query,
  startIndex,
  onClose,
}: {
  project: string;
  runId: number;
  split: EvalSplit;
  query: GalleryQuery;
  startIndex: number;
  /** `changed`: an image was labeled or excluded here (the evaluation is out of date) */
  onClose: (changed: boolean) => void;
}) {
  const client = useClient();
  const reportError = useReportError();
  const [index, setIndex] = useState(startIndex);
  const [dialog, setDialog] = useState<null | 'help' | { picker: ImageDetail }>(null);
  const changed = useRef(false);
  const queryKey = JSON.stringify(query);
  /** what the run predicted for each image read so far */
  const predictions = useRef(new Map<number, PredictedImage>());

  // The gallery's list in the gallery's order, each entry the image as the project has it now.
  const pages = useMemo(
    () =>
      new ImagePages(
        async (offset, limit) => {
          const page = await client.call('eval.images', { project, runId, split, ...(JSON.parse(queryKey) as GalleryQuery), order: 'confidence-desc', offset, limit });
          for (const item of page.items) predictions.current.set(item.id, item);
          const items = await Promise.all(page.items.map((item) => client.call('images.get', { project, id: item.id })));
          return { total: page.total, items };
        },
        (err) => reportError(err, 'Cannot read the evaluated images'),
        PAGE_SIZE,
      ),
    [client, project, runId, split, queryKey, reportError],
  );
  useEffect(() => {
    pages.start();
    return () => pages.stop();
  }, [pages]);

  const onChanged = useCallback(() => {
    changed.current = true;
    pages.invalidate();
  }, [pages]);
  const labeling = useLabeling(project, onChanged);
  const classes = labeling.classes ?? [];
  const colors = useMemo(() => new Map(classes.map((c) => [c.id, c.color])), [classes]);
  const classColor = useCallback((classId: number | null) => (classId === null ? undefined : colors.get(classId)), [colors]);

  /** After a change: the next image, unless this one left the list (then the next one is already here). */
  const advanceAfter = async (at: number, imageId: number) => {
    const now = await pages.ensure(at);
    if (now?.id === imageId) setIndex((i) => (i === at && at < (pages.total ?? 0) - 1 ? at + 1 : i));
  };

  const close = () => onClose(changed.current);
  useSyncExternalStore(pages.subscribe, pages.getVersion);
  const shownId = pages.get(index)?.id;
  const prediction = shownId === undefined ? undefined : predictions.current.get(shownId);

  const onLabelKey = async (action: LabelKeyAction, image: ImageDetail) => {
    const at = index;
    let done = false;
    switch (action.kind) {
      case 'assign': {
        const cls = classes[action.position];
        if (cls) done = await labeling.assign([image.id], cls.id);
        break;
      }
      case 'clear':
        done = await labeling.assign([image.id], null);
        break;
      case 'exclude':
        done = await labeling.exclude([image.id], !image.excluded);
        break;
      case 'pick-class':
        setDialog({ picker: image });
        return;
      case 'undo':
        await labeling.undo();
        return;
      case 'redo':
        await labeling.redo();
        return;
      case 'help':
        setDialog('help');
        return;
      case 'next-unlabeled':
        // every evaluated image is labeled: nothing to jump to
        return;
    }
    if (done) await advanceAfter(at, image.id);
  };

  const pick = async (picked: PickedClass) => {
    if (typeof dialog !== 'object' || dialog === null) return;
    const image = dialog.picker;
    setDialog(null);
    let classId: number;
    if (picked.kind === 'existing') classId = picked.cls.id;
    else {
      const created = await labeling.classCall('classes.create', { name: picked.name });
      if (!created) return;
      classId = created.class.id;
    }
    if (await labeling.assign([image.id], classId)) await advanceAfter(index, image.id);
  };

  // The list may have emptied (every mistake fixed): nothing left to show.
  const [empty, setEmpty] = useState(false);
  useEffect(
    () =>
      pages.subscribe(() => {
        if (pages.total === 0) setEmpty(true);
        else if (pages.total !== null && index >= pages.total) setIndex(pages.total - 1);
      }),
    [pages, index],
  );
  useEffect(() => {
    if (empty) onClose(changed.current);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- closes once, when the list empties
  }, [empty]);

  return (
    <>
      <ImageDetailView
        project={project}
        pages={pages}
        index={index}
        onIndexChange={setIndex}
        onClose={close}
        classColor={classColor}
        classes={classes}
        onLabelKey={(action, image) => void onLabelKey(action, image)}
        paused={dialog !== null}
        extra={prediction && <PredictionFacts prediction={prediction} />}
      />
      {typeof dialog === 'object' && dialog !== null && <ClassPicker classes={classes} targets={1} onPick={(p) => void pick(p)} onClose={() => setDialog(null)} />}
      {dialog === 'help' && <KeyboardHelp classes={classes} onClose={() => setDialog(null)} />}
    </>
  );
}

/** What the run's model said about the image, above its facts: the mistake to judge. */
function PredictionFacts({ prediction }: { prediction: PredictedImage }) {
  const verdict = prediction.correct === null ? '' : prediction.correct ? 'correct' : 'mistake';
  return (
    <div className={`detail-prediction ${verdict}`} data-testid="detail-prediction">
      <span className="muted small">predicted</span> <strong>{prediction.predictedClass}</strong> {formatPercent(prediction.confidence)}
      {prediction.trueClass !== null && (
        <span className="muted small">
          {' '}
          · {prediction.correct ? 'right' : `labeled ${prediction.trueClass}`}
        </span>
      )}
      <div className="muted small">
        next:{' '}
        {prediction.top
          .filter((t) => t.className !== prediction.predictedClass)
          .slice(0, 2)
          .map((t) => `${t.className} ${formatPercent(t.probability)}`)
          .join(', ') || '—'}
      </div>
    </div>
  );
}
