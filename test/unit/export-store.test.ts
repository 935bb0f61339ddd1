// The export store's bounds (docs/mcp.md, "Exports"): bytes and count, least recently used out
// first, expiry, an export too big for the whole store refused, and an owner's entries only.
import { describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/errors.js';
import { ExportStore } from '../../src/ops/export-store.js';

const entry = (owner: string, text: string) => ({ owner, view: 's.v', grant: 'g', name: 'v.csv', mimeType: 'text/csv', text, rows: 1 });

describe('ExportStore', () => {
  it('evicts the least recently used entries until a new one fits the byte bound', () => {
    const store = new ExportStore({ maxBytes: 30 });
    const a = store.put(entry('k', 'a'.repeat(10)));
    const b = store.put(entry('k', 'b'.repeat(10)));
    const c = store.put(entry('k', 'c'.repeat(10)));
    expect(store.get(a.id, 'k')).toBeDefined(); // a is now the most recently used
    store.put(entry('k', 'd'.repeat(15)));
    expect(store.get(b.id, 'k')).toBeUndefined();
    expect(store.get(c.id, 'k')).toBeUndefined();
    expect(store.get(a.id, 'k')?.text).toBe('a'.repeat(10));
    expect(store.size).toBe(2);
  });

  it('counts bytes in UTF-8 and refuses one export larger than the store with a 413', () => {
    const store = new ExportStore({ maxBytes: 8 });
    expect(store.put(entry('k', 'éé')).bytes).toBe(4);
    const err = (() => {
      try {
        store.put(entry('k', 'ééééé'));
      } catch (e) {
        return e as ApiError;
      }
    })();
    expect(err?.status).toBe(413);
    expect(err?.message).toContain('10 bytes, more than the export store holds (8)');
  });

  it('gives an entry to its owner only, until it expires', () => {
    let now = 1_000;
    const store = new ExportStore({ ttlMs: 100, now: () => now });
    const e = store.put(entry('key:a', 'x'));
    expect(e.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(store.get(e.id, 'key:b')).toBeUndefined();
    expect(store.list('key:b')).toEqual([]);
    now += 99;
    expect(store.get(e.id, 'key:a')).toBe(e);
    expect(store.list('key:a')).toEqual([e]);
    now += 1;
    expect(store.get(e.id, 'key:a')).toBeUndefined();
    expect(store.size).toBe(0);
  });
});
