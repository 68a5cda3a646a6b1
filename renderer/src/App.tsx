/**
 * The shell: reads app.info, then shows the start screen or the open project. In browser mode the
 * open project is remembered for the tab, so a reload lands where the user was.
 */
import { useEffect, useState } from 'react';
import { useClient, useReportError, errorMessage } from './api/client-context';
import type { CallOutput, ProjectInfo } from '../../main/contract/contract';
import { StartScreen } from './screens/StartScreen';
import { ProjectHome } from './screens/ProjectHome';

const OPEN_PROJECT_KEY = 'effitune.openProject';

export function App() {
  const client = useClient();
  const reportError = useReportError();
  const [info, setInfo] = useState<CallOutput<'app.info'> | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [project, setProject] = useState<ProjectInfo | null>(null);

  useEffect(() => {
    (async () => {
      setInfo(await client.call('app.info', {}));
      const remembered = sessionStorage.getItem(OPEN_PROJECT_KEY);
      if (remembered) {
        try {
          setProject(await client.call('project.open', { path: remembered }));
        } catch (err) {
          sessionStorage.removeItem(OPEN_PROJECT_KEY);
          reportError(err, 'Cannot reopen the last project');
        }
      }
    })().catch((err) => setFailure(errorMessage(err)));
  }, [client, reportError]);

  const show = (next: ProjectInfo | null) => {
    if (next) sessionStorage.setItem(OPEN_PROJECT_KEY, next.path);
    else sessionStorage.removeItem(OPEN_PROJECT_KEY);
    setProject(next);
  };

  if (failure) return <FatalMessage message={`Effitune cannot start: ${failure}`} />;
  if (!info) return <div className="loading-screen muted">Starting Effitune…</div>;
  if (!project) return <StartScreen info={info} onOpened={show} />;
  return <ProjectHome key={project.path} project={project} onRenamed={show} onClosed={() => show(null)} />;
}

export function FatalMessage({ message }: { message: string }) {
  return (
    <div className="fatal" data-testid="fatal">
      <h1>Effitune</h1>
      <p>{message}</p>
    </div>
  );
}
