/** Which label file format a file is: the one asked for, else its extension (.csv, .json). */
import path from 'node:path';
import { ApiError } from '../../contract/contract';

export type LabelFileFormat = 'csv' | 'json';

export function labelFileFormat(file: string, format: LabelFileFormat | undefined): LabelFileFormat {
  if (format) return format;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new ApiError('invalid_input', `file: cannot tell the format of ${file} from its extension "${ext}"; name it .csv or .json, or give the format (csv or json)`);
}
