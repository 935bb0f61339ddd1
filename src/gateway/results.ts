// What the gateway's reads answer: the views a caller may read, one view as the caller sees it,
// and the rows of one query.
import type { ViewId } from '../config/view-id.js';
import type { VisibleColumn } from '../policy/caller-schema.js';
import type { ExportEntry } from '../ops/export-store.js';
import type { Row } from '../values.js';

export interface ViewSummary {
  id: ViewId;
  service: string;
  name: string;
  description: string;
}

export interface ViewDescription extends ViewSummary {
  /** The view's key; empty when a key column is hidden from the caller (its name is not leaked). */
  key: string[];
  /** The key columns the caller may read, in key order (what a row can be cited by). */
  readableKey: string[];
  /** Ties are broken by an opaque keyed hash: a key column is hidden or masked for the caller. */
  opaqueOrder: boolean;
  columns: readonly VisibleColumn[];
  maxLimit: number;
  /** Whether the caller may ask for the plan (explain=true). */
  explain: boolean;
  /** Engine-specific state, e.g. a materialized hub view's last refresh. */
  status?: Record<string, unknown>;
  /** Whether the caller may read rows (false: an aggregate-only grant). */
  read?: boolean;
  /** Whether the caller may aggregate and group, with the least entities per returned group (minGroupSize k). */
  aggregate?: { allowed: boolean; functions: string[]; minGroupSize?: number };
  /** Whether the view can be written at all (docs/writes.md): a single-store table with a unique key. */
  writable?: boolean;
  /** What the caller may write over REST, when it may write at all. */
  write?: WriteRights;
}

/** A caller's write rights on one view, as REST `_schema`, MCP describe_view and OpenAPI state them. */
interface WriteRights {
  insert: boolean;
  update: boolean;
  delete: boolean;
  /** filter= writes, and the most rows one may reach. */
  bulk: boolean;
  maxBulkRows: number;
  /** The columns the caller may set. */
  fields: string[];
  /** Key columns the caller may give on insert. */
  insertKey: string[];
}

export interface QueryResult {
  rows: Row[];
  fields: string[];
  count?: number;
  /** Offset of the next page, when more rows exist (not given when a cursor started the page). */
  next?: number;
  /** The cursor of the next page, when more rows exist (docs/query.md, "Cursors"). */
  nextCursor?: string;
  /** The cursor that continues after the first `shown` rows of this page (MCP may show fewer than it got). */
  cursorAfter?: (shown: number) => string | undefined;
  explain?: unknown;
  /** Aggregates: groups left out because they were built from fewer entities than the grant's minGroupSize. */
  suppressedGroups?: number;
  /** count_only: `count` is the whole answer. */
  countOnly?: true;
  /** The page as governed: where it starts, its size (the client's limit, clamped) and the view's most rows per page. */
  offset: number;
  limit: number;
  maxLimit: number;
}

/** An export as written: the stored entry, and whether rows beyond it matched (the export's row cap). */
export interface ExportResult {
  entry: ExportEntry;
  truncated: boolean;
  /** The most rows one export of this view holds for the caller. */
  maxRows: number;
}
