/**
 * Service handlers of importing (main/contract/calls-import.ts). An import is a job of the
 * service's job registry (./jobs.ts): its id can cancel it and names its import.progress events.
 * The work is in main/dataset/import-folder.ts; the sample project's images in main/dataset/sample.ts.
 */
import type { CallArgs, CallOutput } from '../contract/contract';
import type { importCalls } from '../contract/calls-import';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { importFolder } from '../dataset/import-folder';
import { generateSampleFolder } from '../dataset/sample';

export function importHandlers(service: Service): HandlersOf<typeof importCalls> {
  const runImport = (args: CallArgs<'import.folder'>): Promise<CallOutput<'import.folder'>> =>
    service.jobs.run('import', args.jobId, async (job) => {
      const handle = service.projects.get(args.project);
      const result = await importFolder(handle, {
        folder: args.folder,
        labelsFromFolders: args.labelsFromFolders,
        jobId: job.id,
        signal: job.signal,
        onProgress: (p) => job.progress(p),
      });
      service.emit('project.changed', { project: handle.path });
      return result;
    });

  return {
    'import.folder': (args) => runImport(args),
    'import.cancel': ({ jobId }) => ({ cancelled: service.jobs.cancel('import', jobId) }),
    'sample.create': async ({ path: file, imagesPerClass }) => {
      const info = service.projects.create(file, 'Sample shapes');
      const folder = service.projects.sideFolder(file, 'sample-images');
      await generateSampleFolder(folder, imagesPerClass);
      const result = await runImport({ project: file, folder, labelsFromFolders: true });
      return { project: info, folder, import: result };
    },
  };
}
