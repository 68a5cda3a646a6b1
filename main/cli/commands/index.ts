/**
 * The command table. A new command is one entry here (and its module beside this one); the
 * runner, help, --json and error handling come for free.
 */
import type { Command } from '../command';
import { helpCommand } from './help';
import { importFolderCommand } from './import';
import { projectCreate, projectList, projectRename } from './project';
import { sampleCommand } from './sample';
import { serveCommand } from './serve';
import { statusCommand } from './status';

export const COMMANDS: Command[] = [
  projectCreate,
  projectRename,
  projectList,
  importFolderCommand,
  statusCommand,
  sampleCommand,
  serveCommand,
  helpCommand(() => COMMANDS),
];
