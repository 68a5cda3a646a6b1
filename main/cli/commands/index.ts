/**
 * The command table. A new command is one entry here (and its module beside this one); the
 * runner, help, --json and error handling come for free.
 */
import type { Command } from '../command';
import { doctorCommand } from './doctor';
import { exportCommand } from './export';
import { predictCommand } from './predict';
import { evalCommand } from './eval';
import { handoffExport, handoffImport } from './handoff';
import { helpCommand } from './help';
import { importFolderCommand } from './import';
import { inferCommand } from './infer';
import { classesCommand } from './classes';
import { labelCommand } from './label';
import { labelsExport, labelsExportFolders } from './labels';
import { editsCommand, redoCommand, undoCommand } from './undo';
import { modelsDescribe, modelsList } from './models';
import { projectCreate, projectList, projectRename } from './project';
import { sampleCommand } from './sample';
import { SCALE_COMMANDS } from './scale';
import { serveCommand } from './serve';
import { splitCommand } from './split';
import { statusCommand } from './status';
import { runsCommand, runsDelete, trainCommand } from './train';
import { weightsDownload, weightsImport, weightsList } from './weights';

export const COMMANDS: Command[] = [
  projectCreate,
  projectRename,
  projectList,
  importFolderCommand,
  statusCommand,
  sampleCommand,
  splitCommand,
  labelCommand,
  classesCommand,
  undoCommand,
  redoCommand,
  editsCommand,
  labelsExport,
  labelsExportFolders,
  trainCommand,
  runsCommand,
  runsDelete,
  evalCommand,
  ...SCALE_COMMANDS,
  serveCommand,
  modelsList,
  modelsDescribe,
  weightsList,
  weightsDownload,
  weightsImport,
  inferCommand,
  exportCommand,
  handoffExport,
  handoffImport,
  predictCommand,
  doctorCommand,
  helpCommand(() => COMMANDS),
];
