// Restricted callers of the generated SQL oracle (docs/testing.md, "The generated SQL oracle"):
// each caller's policy twice, written independently. Once as viewgate grants (row filter bound
// from the caller's claim, masks, hidden fields), once BY HAND as PostgreSQL views over the oracle's
// `fed` views: the row filter a WHERE clause with the claim value, hidden columns left out, each
// masked column a PostgreSQL expression that gives what the mask gives (docs/security.md, "Masks").
// Nothing here uses viewgate's policy or mask code.
import { createHash } from 'node:crypto';
import { ORACLE_KEY, SERVICE } from './env.js';
import type { FixtureName } from './fixtures.js';
import { viewsFor } from './views.js';

const HASH_SECRET = 'oracle-sql-policy-hash-secret';

type Mask = 'email' | 'hash' | 'redact' | 'null' | `partial(${number},${number})`;

interface ViewPolicy {
  /** Rows only where `tenant_id` equals the caller's claim `tenant`. */
  tenantFilter: boolean;
  masks?: Record<string, Mask>;
  hidden?: string[];
}

/** Role `tenant`: rows, aggregates and SQL over these views; views not listed are not granted. */
const TENANT_POLICY: Record<string, ViewPolicy> = {
  activity: { tenantFilter: true, masks: { email: 'email' }, hidden: ['event_ts'] },
  customer_orders: { tenantFilter: true, masks: { full_name: 'hash' } },
  order_exprs: { tenantFilter: false, masks: { contact: 'partial(3,2)' } },
  customer_events: { tenantFilter: true, masks: { first_type: 'null' } },
  event_users: { tenantFilter: true, masks: { full_name: 'redact' }, hidden: ['payload'] },
  tenant_customers: { tenantFilter: true, masks: { tenant_name: 'partial(1,0)', full_name: 'hash' } },
  no_orders: { tenantFilter: true },
  tenant_status: { tenantFilter: true, masks: { last_event: 'null' } },
  dup_rows: { tenantFilter: true },
  lite_countries: { tenantFilter: false, masks: { capital: 'partial(0,2)' }, hidden: ['vat_rate'] },
  order_statuses: { tenantFilter: true, masks: { status_label: 'redact', country_name: 'email' }, hidden: ['country_updated'] },
};

/** Role `stats`: aggregate-only (read: false, aggregate: true) over these views. */
const STATS_POLICY: Record<string, ViewPolicy> = {
  customer_orders: { tenantFilter: true, masks: { full_name: 'hash' }, hidden: ['is_active'] },
  activity: { tenantFilter: true, masks: { email: 'email' } },
  order_statuses: { tenantFilter: true, masks: { country_name: 'partial(2,2)' } },
};

export interface Caller {
  /** Also the oracle schema that holds this caller's policy views. */
  name: string;
  apiKey: string;
  /** Only aggregating statements (an aggregate-only grant). */
  aggregateOnly: boolean;
  /** Views the caller may read, with their masked (by kind) and hidden columns. */
  views: Record<string, { masks: Record<string, Mask>; hidden: string[] }>;
}

const ROLES = { tenant: TENANT_POLICY, stats: STATS_POLICY };

const CALLERS = [
  { name: 'tenant_t1', role: 'tenant', tenant: 't1' },
  { name: 'tenant_t2', role: 'tenant', tenant: 't2' },
  { name: 'stats_t1', role: 'stats', tenant: 't1' },
] as const;

const keyOf = (name: string): string => `vg_oracle_${name}_key`;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The fixture's views that `policy` grants. */
function granted(policy: Record<string, ViewPolicy>, fixture: FixtureName): [string, ViewPolicy][] {
  const names = new Set(viewsFor(fixture).map((v) => v.name));
  return Object.entries(policy).filter(([v]) => names.has(v));
}

export function callers(fixture: FixtureName): Caller[] {
  return CALLERS.map((c) => ({
    name: c.name,
    apiKey: keyOf(c.name),
    aggregateOnly: c.role === 'stats',
    views: Object.fromEntries(granted(ROLES[c.role], fixture).map(([v, p]) => [v, { masks: p.masks ?? {}, hidden: p.hidden ?? [] }])),
  }));
}

/** A view's output columns, in order (read from the oracle database). */
export type ViewColumns = ReadonlyMap<string, string[]>;

/** Config sections (roles, API keys, hash secret) for oracleConfig's `extra`, next to role internal's `internalGrants`. */
export function policyConfig(
  fixture: FixtureName,
  columnsOf: ViewColumns,
  internalGrants: Record<string, unknown>,
): Record<string, unknown> {
  const grants = (policy: Record<string, ViewPolicy>, rows: boolean): Record<string, unknown> =>
    Object.fromEntries(
      granted(policy, fixture).map(([view, p]) => {
        const columns = columnsOf.get(view)!;
        return [
          `${SERVICE}.${view}`,
          {
            read: rows,
            aggregate: true,
            sql: true,
            maxLimit: 100_000,
            ...(p.hidden ? { fields: columns.filter((c) => !p.hidden!.includes(c)) } : {}),
            ...(p.masks ? { masks: p.masks } : {}),
            ...(p.tenantFilter ? { rowFilter: 'tenant_id = {claims.tenant}' } : {}),
          },
        ];
      }),
    );
  return {
    masking: { hashSecret: HASH_SECRET },
    auth: {
      apiKeys: [
        { name: 'oracle', sha256: sha256(ORACLE_KEY), role: 'internal' },
        ...CALLERS.map((c) => ({ name: c.name, sha256: sha256(keyOf(c.name)), role: c.role, claims: { tenant: c.tenant } })),
      ],
    },
    roles: {
      internal: { grants: { '*': internalGrants } },
      tenant: { grants: grants(TENANT_POLICY, true) },
      stats: { grants: grants(STATS_POLICY, false) },
    },
  };
}

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** What mask `m` gives for column `c`, in PostgreSQL (NULL stays NULL; lengths in code points). */
function maskSql(m: Mask, c: string): string {
  const partial = /^partial\((\d+),(\d+)\)$/.exec(m);
  if (partial) {
    const [f, l] = [Number(partial[1]), Number(partial[2])];
    return `CASE WHEN char_length(${c}) <= ${f + l} THEN '***' ELSE left(${c}, ${f}) || '***' || right(${c}, ${l}) END`;
  }
  switch (m) {
    case 'email':
      return `CASE WHEN strpos(${c}, '@') = 0 THEN '***' ELSE left(${c}, 1) || '***@' || substr(${c}, strpos(${c}, '@') + 1) END`;
    case 'hash':
      return `encode(hmac(${c}::text, ${q(HASH_SECRET)}, 'sha256'), 'hex')`;
    case 'redact':
      return `CASE WHEN ${c} IS NOT NULL THEN '[redacted]' END`;
    case 'null':
      // The column's own type (a null mask keeps it).
      return `CASE WHEN false THEN ${c} END`;
    default:
      throw new Error(`no PostgreSQL expression for mask ${m as string}`);
  }
}

/** DDL for the oracle database: schema `<caller>` with each granted view under the caller's policy, over schema fed. */
export function policyViewsSql(fixture: FixtureName, columnsOf: ViewColumns): string[] {
  const out = ['CREATE EXTENSION IF NOT EXISTS pgcrypto'];
  for (const c of CALLERS) {
    out.push(`CREATE SCHEMA ${c.name}`);
    for (const [view, p] of granted(ROLES[c.role], fixture)) {
      const cols = columnsOf
        .get(view)!
        .filter((col) => !p.hidden?.includes(col))
        .map((col) => {
          const m = p.masks?.[col];
          return m ? `${maskSql(m, `v.${col}`)} AS ${col}` : `v.${col}`;
        });
      const where = p.tenantFilter ? ` WHERE v.tenant_id = ${q(c.tenant)}` : '';
      out.push(`CREATE VIEW ${c.name}.${view} AS SELECT ${cols.join(', ')} FROM ${SERVICE}.${view} v${where}`);
    }
  }
  return out;
}
