/**
 * Everything about one image, over the grid: the full image and its facts. Esc closes; the left and
 * right arrows step through the images of the current filter, in grid order; the labeling keys
 * (number keys, 0, x, n, /, ctrl+z) work here too, and labeling moves on to the next image.
 */
import { useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { ImageDetail } from '../../../main/contract/contract';
import type { ClassInfo } from '../../../main/contract/calls-labels';
import type { ImagePages } from '../grid/image-pages';
import { formatBytes } from '../paths';
import { classKey, labelKeyAction, NUMBER_KEY_CLASSES, type LabelKeyAction } from '../labeling/keys';

export function ImageDetailView({
  project,
  pages,
  index,
  onIndexChange,
  onClose,
  classColor,
  classes,
  onLabelKey,
  paused,
  extra,
}: {
  project: string;
  pages: ImagePages;
  index: number;
  onIndexChange: (index: number) => void;
  onClose: () => void;
  classColor: (classId: number | null) => string | undefined;
  /** the classes in their order: the number keys and the label buttons */
  classes: ClassInfo[];
  onLabelKey: (action: LabelKeyAction, image: ImageDetail) => void;
  /** a dialog is open over the view: its keys are not ours */
  paused: boolean;
  /** what the opener knows about the image shown (the Evaluate tab: what the model predicted) */
  extra?: ReactNode;
}) {
  const client = useClient();
  const reportError = useReportError();
  const [loaded, setLoaded] = useState<{ index: number; detail: ImageDetail } | null>(null);
  const [imageFailed, setImageFailed] = useState(false);
  const total = pages.total ?? 0;
  // A label change refreshes the pages: read the image again so its label shows at once.
  const version = useSyncExternalStore(pages.subscribe, pages.getVersion);

  useEffect(() => {
    let current = true;
    setImageFailed(false);
    (async () => {
      const summary = pages.get(index) ?? (await pages.ensure(index));
      if (!summary) throw new Error(`image number ${index + 1} of the list could not be loaded`);
      const full = await client.call('images.get', { project, id: summary.id });
      if (current) setLoaded({ index, detail: full });
    })().catch((err) => current && reportError(err, 'Cannot show the image'));
    return () => {
      current = false;
    };
  }, [client, project, pages, index, version, reportError]);

  const shown = loaded?.index === index ? loaded.detail : null;

  useEffect(() => {
    if (paused) return;
    const onKey = (e: KeyboardEvent) => {
      const action = labelKeyAction(e);
      if (action) {
        e.preventDefault();
        if (shown) onLabelKey(action, shown);
        return;
      }
      if (e.key === 'Escape') onClose();
      else if (e.key === 'ArrowLeft' && index > 0) onIndexChange(index - 1);
      else if (e.key === 'ArrowRight' && index < total - 1) onIndexChange(index + 1);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, total, onClose, onIndexChange, onLabelKey, shown, paused]);

  const color = shown ? classColor(shown.classId) : undefined;

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="detail-view" role="dialog" aria-modal="true" aria-label="Image detail" data-testid="detail-view" onClick={(e) => e.stopPropagation()}>
        <div className="detail-image">
          {shown && !imageFailed && (
            <img
              key={shown.id}
              src={client.mediaUrl('full', project, shown.id)}
              alt={shown.path}
              // Small images are blown up to the view: show their real pixels rather than a blur.
              className={(shown.width ?? 0) < 400 && (shown.height ?? 0) < 400 ? 'pixelated' : undefined}
              onError={() => setImageFailed(true)}
              data-testid="detail-image"
            />
          )}
          {shown && imageFailed && (
            <div className="detail-no-image">
              <strong>This image cannot be shown.</strong>
              <span>{shown.reason ?? (shown.missing ? 'The file is missing.' : 'The file could not be read.')}</span>
            </div>
          )}
          {!shown && <span className="spinner" aria-label="Loading" />}
          <button className="nav-button prev" disabled={index <= 0} onClick={() => onIndexChange(index - 1)} aria-label="Previous image" data-testid="detail-prev">
            ‹
          </button>
          <button className="nav-button next" disabled={index >= total - 1} onClick={() => onIndexChange(index + 1)} aria-label="Next image" data-testid="detail-next">
            ›
          </button>
        </div>
        <aside className="detail-facts">
          <div className="detail-head">
            <span className="muted small">
              {index + 1} of {total.toLocaleString('en-US')}
            </span>
            <button className="icon-button" onClick={onClose} aria-label="Close" data-testid="detail-close">
              ×
            </button>
          </div>
          {shown && extra}
          {shown && (
            <dl>
              <dt>Path</dt>
              <dd className="mono wrap" data-testid="detail-path">
                {shown.path}
              </dd>
              <dt>Label</dt>
              <dd data-testid="detail-label">
                <span className={`label-chip${shown.className ? '' : ' unlabeled'}`} style={color ? { background: color } : undefined}>
                  {shown.className ?? 'unlabeled'}
                </span>
                {shown.labelSource && <span className="muted small"> from {shown.labelSource}</span>}
                {shown.excluded && (
                  <span className="excluded-chip" data-testid="detail-excluded">
                    excluded
                  </span>
                )}
                <div className="detail-label-buttons">
                  {classes.slice(0, NUMBER_KEY_CLASSES).map((c, i) => (
                    <button
                      key={c.id}
                      className={`class-button${shown.classId === c.id ? ' current' : ''}`}
                      onClick={() => onLabelKey({ kind: 'assign', position: i }, shown)}
                      title={`Label as ${c.name} and go to the next image (${classKey(i)})`}
                      data-testid={`detail-assign-${c.name}`}
                    >
                      <kbd>{classKey(i)}</kbd>
                      <span className="swatch" style={{ background: c.color }} />
                      <span className="class-button-name">{c.name}</span>
                    </button>
                  ))}
                  <button className="class-button" onClick={() => onLabelKey({ kind: 'pick-class' }, shown)} title="Search the classes, or create one (/)">
                    <kbd>/</kbd> {classes.length > NUMBER_KEY_CLASSES ? 'more…' : 'other…'}
                  </button>
                </div>
              </dd>
              <dt>Split</dt>
              <dd>{shown.split ?? <span className="muted">not assigned</span>}</dd>
              <dt>Status</dt>
              <dd data-testid="detail-status">
                {shown.status}
                {shown.missing && ' (file missing)'}
                {shown.reason && !shown.duplicateOf && <div className="muted small">{shown.reason}</div>}
                {shown.duplicateOf && (
                  <div className="small">
                    duplicate of <span className="mono wrap">{shown.duplicateOf.path}</span>
                  </div>
                )}
              </dd>
              <dt>Size</dt>
              <dd data-testid="detail-bytes">{formatBytes(shown.bytes)}</dd>
              <dt>Dimensions</dt>
              <dd>{shown.width && shown.height ? `${shown.width} × ${shown.height} px` : <span className="muted">unknown</span>}</dd>
              <dt>Format</dt>
              <dd>{shown.format ?? <span className="muted">unknown</span>}</dd>
              <dt>Hash</dt>
              <dd className="mono wrap small">{shown.hash ?? '—'}</dd>
              <dt>Modified</dt>
              <dd>{shown.modifiedAt ? new Date(shown.modifiedAt).toLocaleString() : '—'}</dd>
              <dt>Imported</dt>
              <dd>{new Date(shown.importedAt).toLocaleString()}</dd>
            </dl>
          )}
          <p className="muted small keys-hint">← → previous / next · 1–9, 0 label and next · Backspace unlabel · x exclude · n next unlabeled · Ctrl+Z undo · ? keys · Esc close</p>
        </aside>
      </div>
    </div>
  );
}

