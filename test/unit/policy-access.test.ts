// The policy's record for one role on one view (src/policy/access.ts): the deciding grant and its
// key, the row filters that bind the role (rowSecurity unless exempt, then the grant's), what a hub
// checks itself, and the claims the response cache key holds.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { parseViewId, serviceOf, viewNameOf } from '../../src/config/view-id.js';
import type { View } from '../../src/engine/view.js';
import { ApiError } from '../../src/errors.js';
import { Policy } from '../../src/policy/policy.js';

const CONFIG = parseConfig(
  `
sources:
  crm: { kind: mysql, url: "mysql://root@127.0.0.1:3306/x" }
  hub: { kind: postgres, url: "postgres://postgres@127.0.0.1:5432/x" }
services:
  fed:
    views:
      v:
        sql: SELECT customer_id, tenant_id FROM crm.customers
        rowSecurity: { filter: "tenant_id = {claims.tenant_id}", exemptRoles: [internal] }
  fedhub:
    engine: hub
    source: hub
    views:
      h:
        key: [customer_id]
        sql: SELECT customer_id, tenant_id FROM crm.customers
        rowSecurity: { filter: "tenant_id = {claims.tenant_id}", exemptRoles: [internal] }
roles:
  external:
    grants:
      fed.*: { read: true, rowFilter: "customer_id in {claims.ids}", maxLimit: 10, explain: true, cacheTtl: 30s, rateLimit: 5/minute }
      fedhub.h: { read: true, fields: [customer_id], masks: {} }
  internal:
    grants:
      "*": { read: true }
  partner:
    grants:
      fed.v: { read: true, fields: [tenant_id] }
`,
  'test.yaml',
  {},
);

const engine = { execute: () => Promise.reject(new Error('unused')), explain: () => Promise.reject(new Error('unused')) };
function view(text: string): View {
  const id = parseViewId(text)!;
  const columns = [
    { name: 'customer_id', type: 'int' as const, nullable: false },
    { name: 'tenant_id', type: 'text' as const, nullable: false },
  ];
  return { id, service: serviceOf(id), name: viewNameOf(id), description: '', key: ['customer_id'], columns, engine };
}

describe('ViewAccess', () => {
  const policy = new Policy(CONFIG);
  const fed = view('fed.v');
  const hub = view('fedhub.h');

  it('carries the deciding grant, its key and what it decides', () => {
    const a = policy.access('external', fed)!;
    expect(a).toMatchObject({
      viewId: 'fed.v',
      role: 'external',
      grantKey: 'fed.*',
      explain: true,
      cacheTtl: 30_000,
      rateLimit: { count: 5 },
    });
    expect(a.schema.maxLimit).toBe(10);
    expect(policy.access('external', fed)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(policy.access('nobody', fed)).toBeUndefined();
  });

  it("binds the view's rowSecurity (unless the role is exempt), then the grant's row filter", () => {
    expect(policy.access('external', fed)!.rowFilters.map((f) => [f.param, f.text])).toEqual([
      ['rowSecurity', 'tenant_id = {claims.tenant_id}'],
      ['rowFilter', 'customer_id in {claims.ids}'],
    ]);
    expect(policy.access('internal', fed)!.rowFilters).toEqual([]);
  });

  it('keeps the claims the row filters read for the cache key; a hub view keeps every claim', () => {
    expect(policy.access('external', fed)!.cacheClaims).toEqual([['ids'], ['tenant_id']]);
    expect(policy.access('external', hub)!.cacheClaims).toBe('all');
  });

  it('keeps every claim for a view that may read a passthrough source, whose own policies may read any', () => {
    const withPassthrough = parseConfig(
      `
sources:
  crm: { kind: mysql, url: "mysql://root@127.0.0.1:3306/x" }
  app: { kind: postgres, url: "postgres://reader@127.0.0.1:5432/x", passthrough: true }
services:
  app: { source: app, tables: [items] }
  crm: { source: crm, tables: [customers] }
  fed: { views: { v: { sql: "SELECT customer_id, tenant_id FROM crm.customers" } } }
roles:
  r: { grants: { "*": { read: true, rowFilter: "tenant_id = {claims.tenant_id}" } } }
`,
      'test.yaml',
      {},
    );
    const p = new Policy(withPassthrough);
    expect(p.access('r', view('app.items'))!.cacheClaims).toBe('all');
    // An SQL view may name any source: while one passes the identity through, every claim counts.
    expect(p.access('r', view('fed.v'))!.cacheClaims).toBe('all');
    // A table service over a store without passthrough keys on what its filters read.
    expect(p.access('r', view('crm.customers'))!.cacheClaims).toEqual([['tenant_id']]);
  });

  it("leaves a hub view's rowSecurity to the store, which checks the caller's claims against it", () => {
    const a = policy.access('external', hub)!;
    expect(a.rowFilters).toEqual([]);
    expect(a.storeRowSecurity!.bind({ tenant_id: 't1' })).toEqual({ op: 'cmp', column: 'tenant_id', cmp: '=', value: 't1' });
    expect(() => a.storeRowSecurity!.bind({})).toThrow(ApiError);
    expect(policy.access('internal', hub)!.storeRowSecurity).toBeUndefined();
  });

  it('hides the key from a role that cannot read every key column, and orders its rows opaquely', () => {
    const open = policy.access('external', fed)!;
    expect([open.key, open.readableKey, open.opaqueOrder]).toEqual([['customer_id'], ['customer_id'], false]);
    const hidden = policy.access('partner', fed)!;
    expect([hidden.key, hidden.readableKey, hidden.opaqueOrder]).toEqual([[], [], true]);
    expect(hidden.rowFilters.map((f) => f.param)).toEqual(['rowSecurity']);
  });
});
