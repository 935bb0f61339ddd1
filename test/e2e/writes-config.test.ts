// The write configuration (docs/writes.md): a strict schema, and `viewgate check` refusing a grant
// whose write does not fit its view (a federated view, a table without a unique key, a masked or
// hidden or key column listed, an unknown reference, no read) and warning about a writable join-key
// column without write.references. Against a real PostgreSQL database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/commands/check.js';
import { parseConfig } from '../../src/config/load.js';
import { createWriteStore, writeConfig, type WriteStore } from '../support/write-fixture.js';

let store: WriteStore;

beforeAll(async () => {
  store = await createWriteStore('postgres', 'writes_config');
}, 60_000);

afterAll(async () => {
  await store?.drop();
});

const services = {
  s: { source: 'src', tables: ['w_customers', 'w_orders', 'w_items', 'w_nokey'] },
  fed: {
    views: {
      v: { key: ['customer_id'], sql: 'SELECT c.customer_id, c.name FROM src.w_customers c' },
      orders: {
        key: ['order_id'],
        sql: 'SELECT o.order_id, c.name FROM src.w_orders o JOIN src.w_customers c ON c.customer_id = o.customer_id',
      },
    },
  },
};

describe('write configuration', () => {
  it('the write grant is a strict schema: an unknown key is an error naming it', () => {
    const text = JSON.stringify({
      sources: {},
      services: {},
      roles: { r: { grants: { '*': { read: true, write: { insert: true, upsert: true } } } } },
    });
    expect(() => parseConfig(text, 'x.yaml', {})).toThrow(/upsert/);
    const bad = JSON.stringify({ sources: {}, services: {}, roles: { r: { grants: { '*': { read: true, write: { maxBulkRows: 0 } } } } } });
    expect(() => parseConfig(bad, 'x.yaml', {})).toThrow(/maxBulkRows/);
  });

  it('check refuses grants whose write does not fit the view, naming each', async () => {
    const config = writeConfig(store, {
      services,
      roles: {
        bad: {
          grants: {
            'fed.v': { read: true, write: { update: true } },
            's.w_nokey': { read: true, write: { insert: true } },
            's.w_customers': {
              read: true,
              masks: { email: 'email' },
              fields: ['customer_id', 'name', 'email'],
              write: { update: true, fields: ['email', 'score', 'customer_id'] },
            },
            's.w_orders': { read: true, write: { insert: true, references: { customer_id: 's.nope', nothing: 's.w_customers' } } },
            's.w_items': { write: { insert: true } },
          },
        },
      },
    });
    const report = await runCheck(config);
    const fails = report.lines.filter((l) => l.startsWith('policy  FAIL'));
    const text = fails.join('\n');
    expect(report.ok).toBe(false);
    expect(text).toMatch(/roles\.bad\.grants\.fed\.v\.write.*cannot be written/);
    expect(text).toMatch(/roles\.bad\.grants\.s\.w_nokey\.write.*cannot be written/);
    expect(text).toMatch(/column "email" .* is masked/);
    expect(text).toMatch(/column "score" .* is hidden/);
    expect(text).toMatch(/column "customer_id" .* is a key column/);
    expect(text).toMatch(/no view "s\.nope" is configured/);
    expect(text).toMatch(/has no column "nothing"/);
    expect(text).toMatch(/roles\.bad\.grants\.s\.w_items\.write.*needs read: true/);
  });

  it('check warns about a writable join-key column without references, and not with one', async () => {
    const config = writeConfig(store, {
      services,
      roles: {
        loose: { grants: { 's.w_orders': { read: true, write: { insert: true } } } },
        tight: { grants: { 's.w_orders': { read: true, write: { insert: true, references: { customer_id: 's.w_customers' } } } } },
      },
    });
    const report = await runCheck(config);
    const warns = report.lines.filter((l) => l.startsWith('policy  WARN'));
    expect(
      warns.some((w) =>
        w.includes('roles.loose.grants.s.w_orders.write: column "customer_id" of "s.w_orders" is writable and a join key of "fed.orders"'),
      ),
    ).toBe(true);
    // The wildcard grants of admin and cached write it too; tight and tenant declare the reference.
    expect(warns.filter((w) => /roles\.(tight|tenant)\./.test(w))).toEqual([]);
    // The key of w_customers is never writable, so joining on it warns no one.
    expect(warns.filter((w) => w.includes('"s.w_customers"'))).toEqual([]);
    expect(report.ok, report.lines.join('\n')).toBe(true);
  });
});
