// Fake sources with the reference tables' columns, for building embedded views without stores
// (and so for planning only: nothing here answers a query). A source takes every offered conjunct
// and order unless the view is built with `declines` for it.
import type { Config } from '../../src/config/schema.js';
import { StoreError } from '../../src/errors.js';
import type { OrderTerm, Predicate } from '../../src/query/predicate.js';
import type { Sources } from '../../src/sources/index.js';
import { takeEverything, type ColumnInfo, type ScanAcceptance, type ScanOffer, type TableInfo } from '../../src/sources/source.js';
import { buildEmbeddedView } from '../../src/engine/embedded/index.js';
import type { View } from '../../src/engine/view.js';
import type { ColumnType } from '../../src/values.js';

const col = (name: string, type: ColumnType, nativeType: string, nullable = false): ColumnInfo => ({ name, type, nativeType, nullable });

const TABLES: Record<string, TableInfo> = {
  'crm.customers': {
    name: 'customers',
    columns: [
      col('customer_id', 'int', 'int(11)'),
      col('tenant_id', 'text', 'varchar(16)'),
      col('email', 'text', 'varchar(255)'),
      col('full_name', 'text', 'varchar(255)'),
      col('is_active', 'bool', 'tinyint(1)'),
      col('created_at', 'timestamptz', 'datetime(6)'),
    ],
    primaryKey: ['customer_id'],
  },
  'crm.tenants': {
    name: 'tenants',
    columns: [col('tenant_id', 'text', 'varchar(16)'), col('name', 'text', 'varchar(50)')],
    primaryKey: ['tenant_id'],
  },
  'app.orders': {
    name: 'orders',
    columns: [
      col('order_id', 'int', 'bigint'),
      col('customer_id', 'int', 'integer'),
      col('total_amount', 'numeric', 'numeric(12,2)'),
      col('status', 'text', 'text'),
      col('created_at', 'timestamptz', 'timestamp with time zone'),
      col('ship_day', 'date', 'date', true),
      col('weight', 'float', 'double precision', true),
    ],
    primaryKey: ['order_id'],
  },
  'app.order_items': {
    name: 'order_items',
    columns: [col('order_id', 'int', 'bigint'), col('line_no', 'int', 'integer'), col('sku', 'text', 'text', true)],
    primaryKey: ['order_id', 'line_no'],
  },
  'analytics.events': {
    name: 'events',
    columns: [
      col('_id', 'text', 'string'),
      col('user_id', 'text', 'string', true),
      col('event_type', 'text', 'string', true),
      col('ts', 'timestamptz', 'date', true),
      col('payload', 'jsonb', 'object', true),
    ],
    primaryKey: ['_id'],
  },
};

const KINDS = { crm: 'mysql', app: 'postgres', analytics: 'mongodb' } as const;

/** What one fake source answers `offer` with: the conjuncts and orders it says it does not run exactly. */
interface Declines {
  where?: (p: Predicate) => boolean;
  orderBy?: (terms: readonly OrderTerm[]) => boolean;
}

function offerOf(declines: Declines | undefined): (table: TableInfo, work: ScanOffer) => ScanAcceptance {
  if (!declines) return (_table, work) => takeEverything(work);
  return (_table, work) => {
    const declined = (p: Predicate): boolean => declines.where?.(p) ?? false;
    return {
      taken: work.where.filter((p) => !declined(p)),
      remaining: work.where.filter(declined),
      orderBy: work.orderBy.length === 0 || !(declines.orderBy?.(work.orderBy) ?? false),
    };
  };
}

const fakeSources = (declines: Record<string, Declines>): Sources =>
  ({
    get(name: string) {
      return {
        name,
        kind: KINDS[name as keyof typeof KINDS],
        async introspect(table: string): Promise<TableInfo> {
          const t = TABLES[`${name}.${table}`];
          if (!t) throw new StoreError(name, 'failed', `table "${table}" does not exist`);
          return t;
        },
        offer: offerOf(declines[name]),
        // Marks SQL sources as able to run joins of their own tables.
        ...(name === 'analytics' ? {} : { scanJoin: async () => ({ rows: [], native: { source: name, text: '', params: [] } }) }),
      };
    },
  }) as unknown as Sources;

const fakeConfig = {
  sources: { crm: { kind: 'mysql' }, app: { kind: 'postgres' }, analytics: { kind: 'mongodb' } },
  engine: { rowBudget: 100_000, batchSize: 500, concurrency: 4 },
} as unknown as Config;

interface BuildOptions {
  key?: string[];
  pushdown?: boolean;
  /** By source name: what that source declines when the planner offers it work. */
  declines?: Record<string, Declines>;
}

export function buildView(sql: string, extra: BuildOptions = {}): Promise<View> {
  return buildEmbeddedView(
    {
      service: 'fed',
      name: 'v',
      view: { sql, ...(extra.key ? { key: extra.key } : {}) },
      config: fakeConfig,
      sources: fakeSources(extra.declines ?? {}),
    },
    { pushdown: extra.pushdown ?? true },
  );
}

export const REFERENCE_SQL = `SELECT c.customer_id, c.tenant_id, c.email, o.order_id, o.total_amount,
       e._id AS event_id, e.event_type, e.ts AS event_ts
FROM crm.customers c
LEFT JOIN app.orders o ON o.customer_id = c.customer_id
LEFT JOIN analytics.events e ON e.user_id = c.customer_id::text`;
