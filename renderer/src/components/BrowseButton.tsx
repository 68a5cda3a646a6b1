/**
 * "Browse…" next to a path field: the native folder dialog on the desktop, the in-page
 * FolderBrowser (over fs.list) in browser mode, where a page cannot see the disk.
 */
import { useReportError } from '../api/client-context';

export function BrowseButton({ open, onToggleInPage, onPicked, testId }: { open: boolean; onToggleInPage: () => void; onPicked: (path: string) => void; testId?: string }) {
  const reportError = useReportError();
  const pickFolder = window.effitune?.pickFolder;
  const onClick = async () => {
    if (!pickFolder) return onToggleInPage();
    try {
      const picked = await pickFolder();
      if (picked) onPicked(picked);
    } catch (err) {
      reportError(err, 'Cannot open the folder dialog');
    }
  };
  return (
    <button type="button" className="button" onClick={onClick} data-testid={testId}>
      {open ? 'Hide' : 'Browse…'}
    </button>
  );
}
