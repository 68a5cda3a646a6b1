/**
 * A small folder browser over fs.list, for browser mode where there is no native file dialog.
 * It lists folders and .effitune project files; picking is either a folder or a project file.
 */
import { useEffect, useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';

type Listing = CallOutput<'fs.list'>;

export function FolderBrowser({
  start,
  pick,
  onPick,
  testId,
}: {
  start?: string;
  /** 'folder': the user picks the folder shown; 'project': the user picks a .effitune file. */
  pick: 'folder' | 'project';
  onPick: (path: string) => void;
  testId?: string;
}) {
  const client = useClient();
  const reportError = useReportError();
  const [listing, setListing] = useState<Listing | null>(null);
  const [loading, setLoading] = useState(false);

  const go = async (path?: string) => {
    setLoading(true);
    try {
      setListing(await client.call('fs.list', { path: path || undefined }));
    } catch (err) {
      reportError(err, 'Cannot list the folder');
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void go(start);
    // Only the first folder comes from props; after that the user navigates.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const folders = listing?.entries.filter((e) => e.isDirectory) ?? [];
  const projects = listing?.entries.filter((e) => !e.isDirectory) ?? [];

  return (
    <div className="folder-browser" data-testid={testId ?? 'folder-browser'}>
      <div className="folder-browser-bar">
        <button className="button small" disabled={!listing?.parent || loading} onClick={() => go(listing?.parent ?? undefined)} title="Parent folder">
          ↑ Up
        </button>
        <span className="folder-browser-path" title={listing?.path}>
          {/* rtl keeps the end of a long path in view; bdi keeps the path itself left-to-right */}
          <bdi>{listing?.path ?? 'Loading…'}</bdi>
        </span>
        {pick === 'folder' && listing && (
          <button className="button small primary" data-testid="folder-browser-use" onClick={() => onPick(listing.path)}>
            Use this folder
          </button>
        )}
      </div>
      <ul className="folder-browser-list">
        {folders.map((entry) => (
          <li key={entry.path}>
            <button className="folder-entry" onClick={() => go(entry.path)} data-testid="folder-entry">
              <span className="entry-icon" aria-hidden>
                📁
              </span>
              {entry.name}
            </button>
          </li>
        ))}
        {pick === 'project' &&
          projects.map((entry) => (
            <li key={entry.path}>
              <button className="folder-entry project-entry" onClick={() => onPick(entry.path)} data-testid="project-entry">
                <span className="entry-icon" aria-hidden>
                  ◆
                </span>
                {entry.name}
              </button>
            </li>
          ))}
        {listing && folders.length === 0 && (pick === 'folder' || projects.length === 0) && <li className="muted folder-empty">No sub-folders{pick === 'project' ? ' or projects' : ''} here</li>}
      </ul>
    </div>
  );
}
