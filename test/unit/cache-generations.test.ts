// The generation tokens in every response cache key: one source's token alone, several joined in
// the order given, all sources sorted by name; a write replaces its source's token only.
import { describe, expect, it } from 'vitest';
import { CacheGenerations } from '../../src/ops/cache-generations.js';

describe('CacheGenerations', () => {
  it('names a never-written source 0, and changes only the written source', async () => {
    const g = new CacheGenerations();
    expect(g.token(['app'])).toBe('0');
    expect(g.token(['app', 'crm'])).toBe('0.0');
    await g.bump('app');
    const app = g.token(['app']);
    expect(app).toMatch(/^[\w-]{8}$/);
    expect(g.token(['crm'])).toBe('0');
    expect(g.token(['app', 'crm'])).toBe(`${app}.0`);
    expect(g.token(['crm', 'app'])).toBe(`0.${app}`);
    await g.bump('crm');
    expect(g.token()).toBe(`${app}.${g.token(['crm'])}`);
    await g.bump('app');
    expect(g.token(['app'])).not.toBe(app);
  });
});
