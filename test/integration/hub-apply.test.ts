// The hub against real stores: `hub apply` from an empty hub database with postgres_fdw (orders)
// and mysql_fdw (MariaDB customers); a second apply that changes nothing; tenancy enforced by
// PostgreSQL while connected as a non-superuser; identity passthrough on one pooled connection;
// refreshes of the materialized view; replacing and dropping what the config changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { hubCommand } from '../../src/commands/hub.js';
import { HubSession } from '../../src/hub/passthrough/session.js';
import { refreshHubView, refreshState } from '../../src/hub/refresh.js';
import { pgExec } from '../support/stores.js';
import { operatorDetail, StoreError } from '../../src/errors.js';
import { createHubStores, HUB_CONFIG, type HubStores } from '../fixtures/hub/stores.js';

let stores: HubStores;

async function hub(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await hubCommand([args[0]!, '--config', HUB_CONFIG, ...args.slice(1)], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { ...process.env, ...stores.env, ...env },
  });
  return { code, out, err };
}

const apply = (...extra: string[]) => hub(['apply', '--admin-url', stores.adminUrl, ...extra]);

/** Runs `sql` as the reader in a transaction that carries the given identity. */
async function asReader(sql: string, identity?: { claims?: unknown; role?: string }): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: stores.readerUrl });
  await c.connect();
  try {
    await c.query('BEGIN READ ONLY');
    if (identity) {
      await c.query("SELECT set_config('request.jwt.claims', $1, true), set_config('viewgate.role', $2, true)", [
        identity.claims === undefined ? '' : JSON.stringify(identity.claims),
        identity.role ?? '',
      ]);
    }
    return await c.query(sql);
  } finally {
    await c.query('ROLLBACK').catch(() => {});
    await c.end();
  }
}

beforeAll(async () => {
  stores = await createHubStores('hubapply');
});

afterAll(async () => {
  await stores?.drop();
});

describe('hub plan', () => {
  it('prints the DDL with the MariaDB password as a psql variable, never the password itself', async () => {
    const r = await hub(['plan']);
    expect(r.code).toBe(0);
    expect(r.out).toContain("password :'crm_password'");
    expect(r.out).toContain('IMPORT FOREIGN SCHEMA');
    expect(r.out).not.toContain(stores.mysqlPassword);
    expect(r.out).not.toContain(encodeURIComponent(stores.mysqlPassword));
  });
});

describe('hub apply', () => {
  it('builds the hub from an empty database and summarizes what it created', async () => {
    const r = await apply();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const line of [
      '+ extension postgres_fdw',
      '+ extension mysql_fdw',
      '+ server viewgate_crm (mysql_fdw, source "crm")',
      '+ user mapping for PUBLIC on server viewgate_app',
      '+ foreign tables in mysql_map from source "crm" (customers): imported customers',
      '+ materialized view federation_internal.customer_orders',
      '+ index federation_internal.customer_orders__key',
      '+ data of materialized view federation_internal.customer_orders: first refresh',
      '+ view federation.customer_orders',
      `+ grant SELECT on table federation.customer_orders to ${stores.reader}`,
    ]) {
      expect(r.out).toContain(line);
    }
    expect(r.out).not.toContain(stores.mysqlPassword);
  });

  it('changes nothing the second time', async () => {
    const r = await apply();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^hub "hub" \(federation\): no changes \(\d+ objects up to date\)\n$/);
  });

  it('grants the reader only the service schema: no superuser, no foreign tables, no base views', async () => {
    const c = new pg.Client({ connectionString: stores.readerUrl });
    await c.connect();
    try {
      expect((await c.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper).toBe(false);
      for (const rel of [
        'mysql_map.customers',
        'app_map.orders',
        'federation_internal.customer_orders',
        'federation_internal.customer_orders_live',
      ]) {
        await expect(c.query(`SELECT * FROM ${rel}`), rel).rejects.toMatchObject({ code: '42501' });
      }
      await expect(c.query('REFRESH MATERIALIZED VIEW federation_internal.customer_orders')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });
});

describe('tenancy inside PostgreSQL, connected as the non-superuser reader', () => {
  for (const view of ['federation.customer_orders', 'federation.customer_orders_live']) {
    it(`${view}: the same query under two tenants' claims gives each only its rows`, async () => {
      const sql = `SELECT customer_id, tenant_id, order_id FROM ${view} ORDER BY customer_id, order_id`;
      const t1 = await asReader(sql, { claims: { tenant_id: 't1', sub: 'a' }, role: 'external' });
      const t2 = await asReader(sql, { claims: { tenant_id: 't2' }, role: 'external' });
      expect(t1.rows.map((r) => r.order_id)).toEqual(['101', '102', '104']);
      expect(t1.rows.every((r) => r.tenant_id === 't1')).toBe(true);
      expect(t2.rows.map((r) => r.order_id)).toEqual(['103', '105']);
      expect(t2.rows.every((r) => r.tenant_id === 't2')).toBe(true);
    });

    it(`${view}: no claims, an empty claims setting, or a claim of the wrong name gives no rows`, async () => {
      const sql = `SELECT * FROM ${view}`;
      expect((await asReader(sql)).rowCount).toBe(0);
      expect((await asReader(sql, { role: 'external' })).rowCount).toBe(0);
      expect((await asReader(sql, { claims: { tenant: 't1' }, role: 'external' })).rowCount).toBe(0);
      expect((await asReader(sql, { claims: { tenant_id: null }, role: 'external' })).rowCount).toBe(0);
    });
  }

  it('the exempt role reads every tenant; a role outside exemptRoles does not', async () => {
    const all = await asReader('SELECT DISTINCT tenant_id FROM federation.customer_orders ORDER BY 1', { role: 'internal' });
    expect(all.rows.map((r) => r.tenant_id)).toEqual(['t1', 't2', 't3']);
    expect((await asReader('SELECT * FROM federation.customer_orders', { role: 'internal2' })).rowCount).toBe(0);
    // customer_orders_live has no exemptRoles: the internal role needs a claim there too.
    expect((await asReader('SELECT * FROM federation.customer_orders_live', { role: 'internal' })).rowCount).toBe(0);
  });

  it('a claim is a value of the column type, never SQL: quotes match nothing, a misfit fails the query', async () => {
    const sql = 'SELECT * FROM federation.customer_orders';
    expect((await asReader(sql, { claims: { tenant_id: "t1'--" } })).rowCount).toBe(0);
    expect((await asReader(sql, { claims: { tenant_id: "' OR ''='" } })).rowCount).toBe(0);
    // tenant_id is varchar(10): a longer claim (here a list, as JSON text) is an error, never rows.
    await expect(asReader(sql, { claims: { tenant_id: ['t1', 't2'] } })).rejects.toMatchObject({ code: '22001' });
  });
});

describe('identity passthrough on a pooled connection', () => {
  it('interleaves two tenants on one connection (pool max 1) without either seeing the other', async () => {
    const session = new HubSession({ name: 'hub', url: stores.readerUrl, pool: 1 });
    try {
      const q = {
        source: 'hub',
        text: 'SELECT tenant_id, pg_backend_pid() FROM federation.customer_orders_live WHERE customer_id > $1',
        params: [0],
      };
      const runs = Array.from({ length: 24 }, (_, i) => {
        const tenant = i % 2 === 0 ? 't1' : 't2';
        return session.read({ role: 'external', claims: { tenant_id: tenant } }, async (run) => ({ tenant, rows: await run(q) }));
      });
      const results = await Promise.all(runs);
      const pids = new Set<unknown>();
      for (const { tenant, rows } of results) {
        expect(rows.length).toBeGreaterThan(0);
        for (const [t, pid] of rows) {
          expect(t).toBe(tenant);
          pids.add(pid);
        }
      }
      expect(pids.size).toBe(1);
      // After those transactions the connection carries no identity: the settings were local.
      const after = await session.query("SELECT current_setting('request.jwt.claims', true), current_setting('viewgate.role', true)");
      expect(after[0]!.map((v) => v ?? '')).toEqual(['', '']);
      expect(
        await session.read(undefined, (run) => run({ ...q, text: 'SELECT count(*) FROM federation.customer_orders', params: [] })),
      ).toEqual([['0']]);
    } finally {
      await session.close();
    }
  });

  it('runs reads READ ONLY: a write inside the passthrough transaction fails', async () => {
    const session = new HubSession({ name: 'hub', url: stores.adminUrl, pool: 1 });
    try {
      const err = await session
        .read({ role: 'internal', claims: {} }, (run) => run({ source: 'hub', text: 'CREATE TABLE public.x (a int)', params: [] }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // Callers get the store's name only; the driver's reason is the operator's detail.
      expect(err).toBeInstanceOf(StoreError);
      expect(operatorDetail(err)).toMatch(/read-only transaction/);
    } finally {
      await session.close();
    }
  });
});

describe('hub refresh', () => {
  const count = async () =>
    (await asReader('SELECT count(*)::int AS n FROM federation.customer_orders WHERE customer_id = 3', { role: 'internal' })).rows[0]
      .n as number;

  it('picks up new source rows; until then only the live view has them', async () => {
    await pgExec(stores.appUrl, 'INSERT INTO orders VALUES (106, 3, 1.00)');
    expect(await count()).toBe(1);
    const live = await asReader('SELECT count(*)::int AS n FROM federation.customer_orders_live WHERE customer_id = 3', {
      claims: { tenant_id: 't1' },
    });
    expect(live.rows[0].n).toBe(2);
    const r = await hub(['refresh', 'federation.customer_orders', '--admin-url', stores.adminUrl]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^federation\.customer_orders: refreshed at \d{4}-\d\d-\d\dT[\d:.]+Z in \d+ ms\n$/);
    expect(await count()).toBe(2);
  });

  it('works with the reader login too (through the SECURITY DEFINER refresh function)', async () => {
    await pgExec(stores.appUrl, 'INSERT INTO orders VALUES (107, 3, 2.00)');
    const r = await hub(['refresh', 'federation.customer_orders']);
    expect(r.out).toContain('refreshed at');
    expect(await count()).toBe(3);
  });

  it('skips while another refresh of the same view holds its lock', async () => {
    const holder = new pg.Client({ connectionString: stores.adminUrl });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('viewgate refresh federation.customer_orders'))");
      const r = await hub(['refresh', 'federation.customer_orders']);
      expect(r.out).toBe('federation.customer_orders: skipped, another refresh of it is running\n');
    } finally {
      await holder.end();
    }
  });

  it('runs one refresh at a time per view in a process: a second call while one runs is skipped', async () => {
    const session = new HubSession({ name: 'hub', url: stores.readerUrl, pool: 2 });
    try {
      const state = refreshState(session, 'federation.customer_orders');
      const outcomes = await Promise.all([
        refreshHubView(session, 'federation', 'customer_orders', state),
        refreshHubView(session, 'federation', 'customer_orders', state),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['refreshed', 'skipped']);
      expect(state).toMatchObject({ refreshes: 1, skipped: 1, failures: 0, running: false });
    } finally {
      await session.close();
    }
  });

  it('refuses a view that is not materialized', async () => {
    const r = await hub(['refresh', 'federation.customer_orders_live']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('is not materialized');
  });
});

describe('config changes', () => {
  it('replaces a view whose rowSecurity changed, keeps its grant, and reports it; the old config restores it', async () => {
    const edit = (y: string) => y.replace('rowSecurity: "tenant_id = {claims.tenant_id}"', 'rowSecurity: "tenant_id = {claims.org}"');
    const { applyPlan } = await import('../../src/hub/apply.js');
    const { planHubs } = await import('../../src/hub/ddl.js');
    const run = async (yamlEdit?: (y: string) => string, dryRun = false) => {
      const [plan] = await planHubs(stores.config(yamlEdit));
      const c = new pg.Client({ connectionString: stores.adminUrl });
      await c.connect();
      try {
        return await applyPlan(c, plan!, { dryRun });
      } finally {
        await c.end();
      }
    };
    const dry = await run(edit, true);
    expect(dry.filter((c) => c.action !== '=').map((c) => `${c.action} ${c.what}`)).toEqual([
      '~ view federation.customer_orders_live',
      `+ grant SELECT on table federation.customer_orders_live to ${stores.reader}`,
    ]);
    // The dry run rolled back.
    expect((await asReader('SELECT * FROM federation.customer_orders_live', { claims: { org: 't1' } })).rowCount).toBe(0);

    const applied = await run(edit);
    expect(applied.filter((c) => c.action !== '=').map((c) => `${c.action} ${c.what}`)).toEqual([
      '~ view federation.customer_orders_live',
      `+ grant SELECT on table federation.customer_orders_live to ${stores.reader}`,
    ]);
    const t1 = await asReader('SELECT tenant_id FROM federation.customer_orders_live', { claims: { org: 't1' } });
    expect(t1.rowCount).toBeGreaterThan(0);
    expect(t1.rows.every((r) => r.tenant_id === 't1')).toBe(true);
    const back = await run();
    expect(back.filter((c) => c.action === '~').map((c) => c.what)).toEqual(['view federation.customer_orders_live']);
  });

  it('replacing a base view first drops the viewgate views on it, then recreates both', async () => {
    const edit = (y: string) =>
      y.replace(
        'FROM mysql_map.customers c LEFT JOIN app_map.orders o ON o.customer_id = c.customer_id\n        rowSecurity: "',
        'FROM mysql_map.customers c JOIN app_map.orders o ON o.customer_id = c.customer_id\n        rowSecurity: "',
      );
    const { applyPlan } = await import('../../src/hub/apply.js');
    const { planHubs } = await import('../../src/hub/ddl.js');
    const [plan] = await planHubs(stores.config(edit));
    const c = new pg.Client({ connectionString: stores.adminUrl });
    await c.connect();
    try {
      const changes = (await applyPlan(c, plan!)).filter((x) => x.action !== '=').map((x) => `${x.action} ${x.what}`);
      expect(changes).toEqual([
        '- view federation.customer_orders_live',
        '~ view federation_internal.customer_orders_live',
        '+ view federation.customer_orders_live',
        `+ grant SELECT on table federation.customer_orders_live to ${stores.reader}`,
      ]);
      const [orig] = await planHubs(stores.config());
      await applyPlan(c, orig!);
    } finally {
      await c.end();
    }
  });

  it('drops the views of a view that is no longer configured, and refuses to replace what it did not make', async () => {
    const extra = (y: string) => y.replace('    views:\n', '    views:\n      extra:\n        sql: SELECT 1 AS one\n');
    const { applyPlan } = await import('../../src/hub/apply.js');
    const { planHubs } = await import('../../src/hub/ddl.js');
    const c = new pg.Client({ connectionString: stores.adminUrl });
    await c.connect();
    try {
      const [withExtra] = await planHubs(stores.config(extra));
      const added = (await applyPlan(c, withExtra!)).filter((x) => x.action === '+').map((x) => x.what);
      expect(added).toContain('view federation.extra');
      const [orig] = await planHubs(stores.config());
      const dropped = (await applyPlan(c, orig!)).filter((x) => x.action === '-').map((x) => x.what);
      expect(dropped.sort()).toEqual(['view federation.extra', 'view federation_internal.extra']);

      await c.query('CREATE VIEW federation.extra AS SELECT 2 AS two');
      await expect(applyPlan(c, withExtra!)).rejects.toThrow(/federation\.extra already exists and was not made by viewgate/);
      await c.query('DROP VIEW federation.extra');
    } finally {
      await c.end();
    }
  });
});

describe('remote column changes', () => {
  it('apply makes a foreign table follow its remote table, recreating the views on it; then changes nothing', async () => {
    const { applyPlan } = await import('../../src/hub/apply.js');
    const { planHubs } = await import('../../src/hub/ddl.js');
    const [plan] = await planHubs(stores.config());
    const c = new pg.Client({ connectionString: stores.adminUrl });
    await c.connect();
    const hubColumns = async () =>
      (
        await c.query(
          `SELECT column_name || ' ' || data_type AS c FROM information_schema.columns
            WHERE table_schema = 'app_map' AND table_name = 'orders' ORDER BY ordinal_position`,
        )
      ).rows.map((r) => r.c as string);
    const t1Orders = async () =>
      (
        await asReader('SELECT order_id FROM federation.customer_orders_live ORDER BY order_id', {
          claims: { tenant_id: 't1' },
          role: 'external',
        })
      ).rows.map((r) => r.order_id as string);
    try {
      const before = await t1Orders();
      expect(before.length).toBeGreaterThan(0);
      await pgExec(stores.appUrl, 'ALTER TABLE orders ADD COLUMN note text');
      const changes = (await applyPlan(c, plan!)).filter((x) => x.action !== '=');
      const followed = changes.find((x) => x.what === 'foreign table app_map.orders');
      expect(followed?.action).toBe('~');
      expect(followed?.detail).toMatch(/^remote columns changed: \(.*\) -> \(.*note text\)$/);
      expect(await hubColumns()).toContain('note text');
      // The views on it were dropped and recreated in the same transaction, and still answer.
      expect(changes.map((x) => `${x.action} ${x.what}`)).toEqual(expect.arrayContaining(['+ view federation.customer_orders_live']));
      expect(await t1Orders()).toEqual(before);
      expect((await applyPlan(c, plan!)).filter((x) => x.action !== '=')).toEqual([]);

      await pgExec(stores.appUrl, 'ALTER TABLE orders DROP COLUMN note');
      const back = (await applyPlan(c, plan!)).filter((x) => x.action === '~').map((x) => x.what);
      expect(back).toContain('foreign table app_map.orders');
      expect(await hubColumns()).not.toContain('note text');
    } finally {
      await c.end();
    }
  });
});
