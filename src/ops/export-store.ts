// Exports (MCP export_view, docs/mcp.md "Exports"): the rendered result of one governed query, kept
// in memory under an unguessable id for the identity key that made it. Bounded in count and bytes:
// the least recently used entries are evicted first, and an entry expires `ttlMs` after it was made.
// An entry of another identity key, an expired one and one that never existed all read as absent.
import { randomBytes } from 'node:crypto';
import { ApiError } from '../errors.js';

export interface ExportStoreOptions {
  /** How long an export can be read (default 10 minutes). */
  ttlMs?: number;
  /** Most exports held at once, of all callers (default 100). */
  maxEntries?: number;
  /** Most bytes (UTF-8) held at once, of all callers (default 64 MiB). */
  maxBytes?: number;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

export interface ExportEntry {
  readonly id: string;
  /** The identity key that made it and alone may read it. */
  readonly owner: string;
  /** The view it was made from (service.view), for the audit record of a read. */
  readonly view: string;
  /** The fingerprint of the grant it was made under (src/policy/cursor.ts): another grant, and it is not served. */
  readonly grant: string;
  readonly name: string;
  readonly mimeType: string;
  readonly text: string;
  readonly bytes: number;
  readonly rows: number;
  readonly expiresAt: number;
}

type NewExport = Omit<ExportEntry, 'id' | 'bytes' | 'expiresAt'>;

export class ExportStore {
  readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  /** In least recently used order: a read moves an entry to the end. */
  private readonly entries = new Map<string, ExportEntry>();
  private bytes = 0;

  constructor(opts: ExportStoreOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 100;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
  }

  /** Keeps an export, evicting the least recently used ones it does not fit beside; 413 when it alone is too big. */
  put(e: NewExport): ExportEntry {
    const bytes = Buffer.byteLength(e.text, 'utf8');
    if (bytes > this.maxBytes) {
      throw new ApiError(
        'payload_too_large',
        `the export is ${bytes} bytes, more than the export store holds (${this.maxBytes}); ask for fewer fields or rows (filter)`,
        { bytes, maxBytes: this.maxBytes },
      );
    }
    this.sweep();
    while (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes) this.evict(this.entries.keys().next().value!);
    const entry: ExportEntry = Object.freeze({
      ...e,
      id: randomBytes(18).toString('base64url'),
      bytes,
      expiresAt: this.now() + this.ttlMs,
    });
    this.entries.set(entry.id, entry);
    this.bytes += bytes;
    return entry;
  }

  /** The export, when it exists, has not expired and belongs to `owner`; otherwise undefined, whichever the reason. */
  get(id: string, owner: string): ExportEntry | undefined {
    const e = this.live(id);
    if (!e || e.owner !== owner) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e;
  }

  /** The owner's live exports, oldest first. */
  list(owner: string): ExportEntry[] {
    this.sweep();
    return [...this.entries.values()].filter((e) => e.owner === owner);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(id: string): ExportEntry | undefined {
    const e = this.entries.get(id);
    if (e && e.expiresAt <= this.now()) {
      this.evict(id);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const now = this.now();
    for (const e of [...this.entries.values()]) if (e.expiresAt <= now) this.evict(e.id);
  }

  private evict(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }
}
