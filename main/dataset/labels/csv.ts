/**
 * CSV as spreadsheets write it (RFC 4180): fields separated by commas, quoted with double quotes
 * when they hold commas, quotes or line breaks, a quote inside quotes doubled; CRLF or LF line ends;
 * a UTF-8 byte-order mark at the start tolerated. Each record keeps the line it starts on, so
 * errors can name it. The one CSV writer and reader of the project: labels export and import, and
 * the predictions CSV.
 *
 * Formula injection (OWASP "CSV injection"): a spreadsheet runs a cell that starts with = + - @,
 * a tab or a carriage return as a formula, so a class named `=cmd|calc!A0` would run when the file
 * is opened. Such a cell is written with a single quote in front, which spreadsheets show as text;
 * reading takes that quote off again (unguardCsvCell), so our own files import back unchanged.
 * A value that already starts with quotes before such a character gets one quote more, so the round
 * trip is exact for every value.
 */

export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** All records, blank lines left out. Throws CsvSyntaxError for a quote that is never closed. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let quotedAt = 0;
  let inQuotes = false;
  let sawQuote = false;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0].trim() !== '' || sawQuote) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    sawQuote = false;
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') {
      inQuotes = sawQuote = true;
      quotedAt = line;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
    }
  }
  if (inQuotes) throw new CsvSyntaxError(quotedAt, `line ${quotedAt}: a quoted field is never closed (a " is missing)`);
  if (field !== '' || fields.length > 0 || sawQuote) endRecord();
  return records;
}

/** Cells a spreadsheet would run as a formula, after any quotes our guard put in front. */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/** A cell as written: the formula guard, then double quotes where the field needs them. */
export function formatCsvCell(value: string | null): string {
  if (value === null || value === '') return '';
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** A cell's value as read: the quote the formula guard added taken off (see formatCsvCell). */
export function unguardCsvCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value) ? value.slice(1) : value;
}

/** One CSV line (without its line end), quoting only the fields that need it. */
export function formatCsvRow(fields: readonly (string | null)[]): string {
  return fields.map(formatCsvCell).join(',');
}
