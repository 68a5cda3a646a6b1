/**
 * The first-run / start screen: shown whenever no project is open. A newcomer can make a sample
 * project with one click; everyone else creates, opens or reopens a project file.
 */
import { useEffect, useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { CallOutput, ProjectInfo, RecentProject } from '../../../main/contract/contract';
import { FolderBrowser } from '../components/FolderBrowser';
import { BrowseButton } from '../components/BrowseButton';
import { joinPath, safeFileName } from '../paths';

type AppInfo = CallOutput<'app.info'>;

export function StartScreen({ info, onOpened }: { info: AppInfo; onOpened: (project: ProjectInfo) => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [recent, setRecent] = useState<RecentProject[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    client.call('project.recent', {}).then(
      (r) => setRecent(r.projects),
      (err) => reportError(err, 'Cannot read the recent projects'),
    );
  }, [client, reportError]);

  /** Runs one action at a time and shows its failure in words (the engine's message names the file). */
  const run = async (label: string, failure: string, action: () => Promise<ProjectInfo>) => {
    setBusy(label);
    try {
      onOpened(await action());
    } catch (err) {
      reportError(err, failure);
    } finally {
      setBusy(null);
    }
  };

  const createSample = () =>
    run('Creating the sample project', 'Cannot create the sample project', async () => {
      const file = await freshProjectPath(info, 'Sample shapes');
      const result = await client.call('sample.create', { path: file });
      return result.project;
    });

  const freshProjectPath = async (appInfo: AppInfo, base: string) => {
    const listing = await client.call('fs.list', { path: appInfo.dataDir });
    const taken = new Set(listing.entries.map((e) => e.name));
    for (let n = 1; ; n++) {
      const name = `${base}${n === 1 ? '' : ` ${n}`}.effitune`;
      if (!taken.has(name)) return joinPath(appInfo.dataDir, name, appInfo.platform);
    }
  };

  return (
    <div className="start-screen" data-testid="start-screen">
      <header className="start-header">
        <h1>Effitune</h1>
        <p className="muted">Fine-tune EfficientNet image classifiers on your own image folders, on this machine.</p>
      </header>

      {busy && (
        <div className="banner" data-testid="start-busy">
          <span className="spinner" aria-hidden /> {busy}…
        </div>
      )}

      <div className="start-grid">
        <section className="card sample-card">
          <h2>New here?</h2>
          <p>Make a small project of generated shapes in a few classes and see the app working, no data of your own needed.</p>
          <button className="button primary large" data-testid="sample-create" disabled={busy !== null} onClick={createSample}>
            Create a sample project
          </button>
          <p className="muted small">It is saved in {info.dataDir}</p>
        </section>

        <NewProjectCard info={info} disabled={busy !== null} onCreate={(path, name) => run(`Creating ${path}`, 'Cannot create the project', () => client.call('project.create', { path, name }))} />

        <OpenProjectCard info={info} disabled={busy !== null} onOpen={(path) => run(`Opening ${path}`, 'Cannot open the project', () => client.call('project.open', { path }))} />

        <section className="card recent-card" data-testid="recent-projects">
          <h2>Recent projects</h2>
          {recent === null && <p className="muted">Loading…</p>}
          {recent?.length === 0 && <p className="muted">None yet.</p>}
          <ul className="recent-list">
            {recent?.map((p) => (
              <li key={p.path}>
                <button
                  className={`recent-entry${p.exists ? '' : ' missing'}`}
                  disabled={!p.exists || busy !== null}
                  title={p.exists ? p.path : `${p.path} no longer exists`}
                  data-testid="recent-project"
                  onClick={() => run(`Opening ${p.path}`, 'Cannot open the project', () => client.call('project.open', { path: p.path }))}
                >
                  <span className="recent-name">{p.name}</span>
                  <span className="recent-path">{p.path}</span>
                  <span className="recent-date">{p.exists ? formatDate(p.openedAt) : 'file not found'}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}

function NewProjectCard({ info, disabled, onCreate }: { info: AppInfo; disabled: boolean; onCreate: (path: string, name: string) => void }) {
  const [name, setName] = useState('');
  const [folder, setFolder] = useState(info.dataDir);
  const [browsing, setBrowsing] = useState(false);
  const fileName = safeFileName(name);
  const path = fileName ? joinPath(folder, `${fileName}.effitune`, info.platform) : '';
  return (
    <section className="card">
      <h2>New project</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (path) onCreate(path, name.trim());
        }}
      >
        <label className="field">
          <span>Name</span>
          <input data-testid="new-project-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Defects on the line" />
        </label>
        <label className="field">
          <span>Save in folder</span>
          <div className="input-row">
            <input data-testid="new-project-folder" value={folder} onChange={(e) => setFolder(e.target.value)} />
            <BrowseButton open={browsing} onToggleInPage={() => setBrowsing((b) => !b)} onPicked={setFolder} />
          </div>
        </label>
        {browsing && (
          <FolderBrowser
            start={folder}
            pick="folder"
            onPick={(p) => {
              setFolder(p);
              setBrowsing(false);
            }}
          />
        )}
        {path && <p className="muted small path-preview">{path}</p>}
        <button className="button primary" type="submit" data-testid="new-project-create" disabled={disabled || !path}>
          Create project
        </button>
      </form>
    </section>
  );
}

function OpenProjectCard({ info, disabled, onOpen }: { info: AppInfo; disabled: boolean; onOpen: (path: string) => void }) {
  const [path, setPath] = useState('');
  const [browsing, setBrowsing] = useState(false);
  return (
    <section className="card">
      <h2>Open project</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (path.trim()) onOpen(path.trim());
        }}
      >
        <label className="field">
          <span>Project file (.effitune)</span>
          <div className="input-row">
            <input data-testid="open-project-path" value={path} onChange={(e) => setPath(e.target.value)} placeholder={joinPath(info.dataDir, 'My project.effitune', info.platform)} />
            <button type="button" className="button" onClick={() => setBrowsing((b) => !b)}>
              {browsing ? 'Hide' : 'Browse…'}
            </button>
          </div>
        </label>
        {browsing && (
          <FolderBrowser
            start={info.dataDir}
            pick="project"
            onPick={(p) => {
              setPath(p);
              setBrowsing(false);
            }}
          />
        )}
        <button className="button primary" type="submit" data-testid="open-project-submit" disabled={disabled || !path.trim()}>
          Open
        </button>
      </form>
    </section>
  );
}

function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
