/**
 * The open project: header (name, rename, tabs, import, close); the Data tab (labeling/DataTab)
 * shows totals and counts per class and split, sources, the filtered thumbnail grid with its
 * selection, labeling keys and detail view, and the model-assisted labeling view; the
 * Model tab shows the model picker; the Train tab the training setup, live run and run history; the
 * Lab tab the compound-scaling searches (lab/LabScreen).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import type { ImageFilter, ProjectInfo, ProjectStatus } from '../../../main/contract/contract';
import { ImagePages } from '../grid/image-pages';
import { ImportDialog } from '../components/ImportDialog';
import { toImageFilter, type FilterState } from '../components/FilterBar';
import { DataTab } from '../labeling/DataTab';
import { ModelPicker } from '../models/ModelPicker';
import { CUSTOM, useModelSelection } from '../models/model-selection';
import { formatPhi } from '../models/format';
import { TrainScreen } from '../training/TrainScreen';
import { EvaluateScreen } from '../evaluation/EvaluateScreen';
import { useEvaluationRequests } from '../evaluation/open-evaluation';
import { LabScreen } from '../lab/LabScreen';

/** How often counts and grid follow a running import (they refresh fully when it ends). */
const LIVE_REFRESH_MS = 1500;

export function ProjectHome({ project, onRenamed, onClosed }: { project: ProjectInfo; onRenamed: (info: ProjectInfo) => void; onClosed: () => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [status, setStatus] = useState<ProjectStatus | null>(null);
  const [filter, setFilter] = useState<FilterState>({ view: 'ok', classFilter: 'all', search: '' });
  const [importing, setImporting] = useState(false);
  const [tab, setTab] = useState<'data' | 'model' | 'train' | 'evaluate' | 'lab'>('data');
  useEvaluationRequests(project.path, () => setTab('evaluate'));
  const [model, setModel] = useModelSelection(project.path);

  const refreshStatus = useCallback(async () => {
    try {
      setStatus(await client.call('project.status', { project: project.path }));
    } catch (err) {
      reportError(err, 'Cannot read the project totals');
    }
  }, [client, project.path, reportError]);

  useEffect(() => {
    void refreshStatus();
  }, [refreshStatus]);

  const imageFilter: ImageFilter = useMemo(() => toImageFilter(filter), [filter]);
  const filterKey = JSON.stringify(imageFilter);
  const pages = useMemo(
    () => new ImagePages((offset, limit) => client.call('images.list', { project: project.path, filter: JSON.parse(filterKey) as ImageFilter, offset, limit }), (err) => reportError(err, 'Cannot load images')),
    [client, project.path, filterKey, reportError],
  );
  useEffect(() => {
    pages.start();
    return () => pages.stop();
  }, [pages]);

  const refreshAll = useCallback(() => {
    void refreshStatus();
    pages.invalidate();
  }, [refreshStatus, pages]);

  // The event names the project by the path the engine resolved; refreshing on any change is cheap
  // and avoids missing one because the same file was spelled two ways.
  useEvent('project.changed', refreshAll);

  const lastLiveRefresh = useRef(0);
  useEvent('import.progress', (progress) => {
    const now = Date.now();
    if (progress.phase === 'importing' && now - lastLiveRefresh.current > LIVE_REFRESH_MS) {
      lastLiveRefresh.current = now;
      refreshAll();
    }
  });


  const close = async () => {
    try {
      await client.call('project.close', { project: project.path });
      onClosed();
    } catch (err) {
      reportError(err, 'Cannot close the project');
    }
  };

  return (
    <div className="project-home" data-testid="project-home">
      <header className="app-header">
        <span className="brand">Effitune</span>
        <ProjectName project={project} onRenamed={onRenamed} />
        <div className="segmented header-tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'data'} className={tab === 'data' ? 'active' : ''} onClick={() => setTab('data')} data-testid="tab-data">
            Data
          </button>
          <button role="tab" aria-selected={tab === 'model'} className={tab === 'model' ? 'active' : ''} onClick={() => setTab('model')} data-testid="tab-model">
            Model<span className="count">{model.variant === CUSTOM ? `φ ${formatPhi(model.custom.phi)}` : model.variant.toUpperCase()}</span>
          </button>
          <button role="tab" aria-selected={tab === 'train'} className={tab === 'train' ? 'active' : ''} onClick={() => setTab('train')} data-testid="tab-train">
            Train
          </button>
          <button role="tab" aria-selected={tab === 'evaluate'} className={tab === 'evaluate' ? 'active' : ''} onClick={() => setTab('evaluate')} data-testid="tab-evaluate">
            Evaluate
          </button>
          <button role="tab" aria-selected={tab === 'lab'} className={tab === 'lab' ? 'active' : ''} onClick={() => setTab('lab')} data-testid="tab-lab" title="Compound-scaling lab: find α, β, γ for these images">
            Lab
          </button>
        </div>
        <span className="header-path muted small mono" title={project.path}>
          {project.path}
        </span>
        <div className="header-actions">
          <button className="button primary" onClick={() => setImporting(true)} data-testid="import-open">
            Import folder…
          </button>
          <button className="button" onClick={close} data-testid="project-close">
            Close project
          </button>
        </div>
      </header>
      {tab === 'model' ? (
        <main className="model-main">
          <ModelPicker selection={model} onChange={setModel} project={project.path} />
        </main>
      ) : tab === 'train' ? (
        <TrainScreen project={project.path} model={model} onModelChange={setModel} />
      ) : tab === 'evaluate' ? (
        <EvaluateScreen project={project.path} />
      ) : tab === 'lab' ? (
        <LabScreen
          project={project.path}
          batch={model.batch}
          onTrain={(custom) => {
            // the family's model becomes the project's model: the Train tab and the Model tab show it
            setModel({ ...model, variant: CUSTOM, custom });
            setTab('train');
          }}
        />
      ) : (
        <DataTab project={project.path} status={status} filter={filter} onFilterChange={setFilter} pages={pages} onChanged={refreshAll} />
      )}
      {importing && <ImportDialog project={project.path} startFolder={status?.sources.at(-1)?.folder} onClose={() => setImporting(false)} />}
    </div>
  );
}

function ProjectName({ project, onRenamed }: { project: ProjectInfo; onRenamed: (info: ProjectInfo) => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [editing, setEditing] = useState<string | null>(null);
  // Enter saves and unmounts the input, which may also fire blur: save once.
  const saving = useRef(false);

  const save = async () => {
    if (saving.current) return;
    saving.current = true;
    const name = editing?.trim();
    setEditing(null);
    if (!name || name === project.name) return;
    try {
      onRenamed(await client.call('project.rename', { project: project.path, name }));
    } catch (err) {
      reportError(err, 'Cannot rename the project');
    } finally {
      saving.current = false;
    }
  };

  if (editing !== null) {
    return (
      <input
        className="project-name-input"
        data-testid="project-name-input"
        value={editing}
        autoFocus
        onChange={(e) => setEditing(e.target.value)}
        onBlur={save}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void save();
          if (e.key === 'Escape') setEditing(null);
        }}
      />
    );
  }
  return (
    <button className="project-name" data-testid="project-name" title="Rename" onClick={() => setEditing(project.name)}>
      {project.name}
      <span className="edit-hint" aria-hidden>
        ✎
      </span>
    </button>
  );
}
