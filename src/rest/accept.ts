// Content negotiation for rows (docs/rest.md, "Formats"): JSON (the envelope, the default), CSV or
// NDJSON, chosen from the Accept header by quality (RFC 9110 12.5.1). An exact media type beats
// `text/*`, which beats `*/*`; among equals JSON wins. No Accept header, or one that allows JSON
// through a wildcard, is JSON.
import { ApiError } from '../errors.js';
import type { RowFormat } from '../row-formats.js';

type RowsFormat = 'json' | RowFormat;

const OFFERED: readonly { format: RowsFormat; type: string }[] = [
  { format: 'json', type: 'application/json' },
  { format: 'csv', type: 'text/csv' },
  { format: 'jsonl', type: 'application/x-ndjson' },
];

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseRanges(header: string): Range[] {
  const out: Range[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.split(';').map((p) => p.trim());
    const m = /^([\w.+*-]+)\/([\w.+*-]+)$/.exec(media ?? '');
    if (!m) continue;
    let q = 1;
    for (const p of params) {
      const qm = /^q\s*=\s*([01](?:\.\d{0,3})?)$/i.exec(p);
      if (qm) q = Number(qm[1]);
    }
    out.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q });
  }
  return out;
}

// How specifically r names type: 3 exactly, 2 by its type with any subtype, 1 by any type; 0 not at all.
function specificity(r: Range, type: string): number {
  const [t, s] = type.split('/') as [string, string];
  if (r.type === t && r.subtype === s) return 3;
  if (r.type === t && r.subtype === '*') return 2;
  if (r.type === '*' && r.subtype === '*') return 1;
  return 0;
}

/** The rows' format for this Accept header; 406 (in the JSON envelope) when it allows none of them. */
export function negotiateRows(accept: string | undefined): RowsFormat {
  if (accept === undefined || accept.trim() === '') return 'json';
  const ranges = parseRanges(accept);
  let best: { format: RowsFormat; q: number } | undefined;
  for (const offer of OFFERED) {
    // The most specific range that names the type decides its quality.
    let q = 0;
    let spec = 0;
    for (const r of ranges) {
      const s = specificity(r, offer.type);
      if (s > spec) [spec, q] = [s, r.q];
    }
    if (spec > 0 && q > 0 && (!best || q > best.q)) best = { format: offer.format, q };
  }
  if (best) return best.format;
  throw new ApiError(
    'not_acceptable',
    `rows are served as ${OFFERED.map((o) => o.type).join(', ')}; the Accept header allows none of them`,
    { accept, available: OFFERED.map((o) => o.type) },
  );
}
