// Rows as CSV (RFC 4180) and as JSON Lines / NDJSON: the one place both surfaces write rows in a
// format other than the JSON envelope (REST `Accept: text/csv` / `application/x-ndjson`, the MCP
// export_view tool). Values are written from the value model exactly as JSON writes them (toJson:
// 64-bit integers as exact digits, numeric as its decimal text, timestamps as their canonical text).
import { toJson, type Row, type Value } from './values.js';

export const ROW_FORMATS = {
  csv: { mimeType: 'text/csv', extension: 'csv' },
  jsonl: { mimeType: 'application/x-ndjson', extension: 'jsonl' },
} as const;

export type RowFormat = keyof typeof ROW_FORMATS;

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: quoted when it holds a comma, a quote, CR or LF (quotes doubled); "" for an empty string. */
function csvText(text: string): string {
  if (text === '') return '""';
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A value as one CSV field: NULL (and what JSON writes as null, a NaN float) is the empty field,
 * so an empty string is written `""` to stay distinct from it; strings as their text; every other
 * value as its JSON text (numbers, bigints as exact digits, booleans, JSON objects and arrays).
 */
function csvField(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return csvText(v);
  const json = toJson(v);
  return json === 'null' ? '' : csvText(json);
}

/** RFC 4180: a header row of the field names, then one record per row; every line ends in CRLF. */
function toCsv(fields: readonly string[], rows: readonly Row[]): string {
  const lines = [fields.map(csvText).join(',')];
  for (const row of rows) lines.push(fields.map((f) => csvField(row[f] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** One JSON object per line (the same JSON as the REST envelope's rows), each line ending in LF. */
function toJsonLines(fields: readonly string[], rows: readonly Row[]): string {
  let out = '';
  for (const row of rows) out += `${toJson(Object.fromEntries(fields.map((f) => [f, row[f] ?? null])))}\n`;
  return out;
}

export function formatRows(format: RowFormat, fields: readonly string[], rows: readonly Row[]): string {
  return format === 'csv' ? toCsv(fields, rows) : toJsonLines(fields, rows);
}
