// Audit records read from an audit file (`sink: file`) while the server may still be writing it:
// only whole lines count, since a batch being written can show only its first part to a reader.
import { existsSync, readFileSync } from 'node:fs';

export function auditFileRecords<T = Record<string, unknown>>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}
