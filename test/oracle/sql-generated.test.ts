// The generated SQL oracle (docs/testing.md): seeded random statements (sql-generate.ts) over the
// oracle's views on both fixtures, each sent to POST /api/v2/_sql and run by PostgreSQL, where
// schema fed holds the same views over the same data. Rows must be equal (in order when the
// statement orders by every output column), with PostgreSQL's result types; a statement PostgreSQL
// rejects with a data exception must be a 400 from viewgate too. The oracle shares no code with
// viewgate: the expected answer is PostgreSQL's.
//
// The corpus runs as an unrestricted caller, and as restricted callers (sql-policy.ts: a row filter
// bound from the tenant claim, for t1 and t2, masks of every kind, hidden columns; an aggregate-only
// role). For those PostgreSQL runs the same text over a schema of views that writes the caller's
// policy by hand (fed.<view> becomes <caller>.<view>). The generator avoids what viewgate rightly
// refuses (masked columns anywhere but as they are in the outermost SELECT list or in count(col),
// hidden columns, rows of an aggregate-only view, min/max over it); refusals themselves are checked
// by a directed test below and by test/e2e/sql-hostile.test.ts.
process.env.TZ = 'Europe/Berlin';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { parseLossless, toValueModel } from '../support/lossless-json.js';
import { createOracleEnv, ORACLE_KEY, oracleConfig, SERVICE, type OracleEnv, type OracleResult } from './env.js';
import { FIXTURES, fixture, type FixtureName } from './fixtures.js';
import { Rng, seedFor } from './generate.js';
import { canon, mapPool, report, SEED } from './harness.js';
import { generateStatement, literal, type Catalog, type GCol, type GenStatement } from './sql-generate.js';
import { callers, policyConfig, policyViewsSql, type Caller } from './sql-policy.js';
import { viewsFor } from './views.js';

/** Generated statements per fixture (VG_ORACLE_SQL), for the unrestricted caller. */
const N = Number(process.env.VG_ORACLE_SQL ?? 170);
/** Generated statements per fixture for each restricted caller (VG_ORACLE_SQL_POLICY). */
const N_POLICY = Number(process.env.VG_ORACLE_SQL_POLICY ?? 120);

interface Answer {
  status: number;
  text: string;
}

function canonRows(rows: Record<string, unknown>[], columns: string[], loose: boolean, types: Record<string, string>): string[] {
  // `loose`: numerics by value (GenStatement.looseScale).
  const one = (v: unknown, type: string | undefined): string =>
    loose && type === 'numeric' && typeof v === 'string' ? `num ${new Decimal(v).toString()}` : canon(v);
  return rows.map((r) => columns.map((c) => `${c}=${one(r[c], types[c])}`).join(' | '));
}

/** '' when the rows are equal as multisets; else what differs. */
function rowsDiff(got: string[], want: string[]): string {
  const sortedA = [...got].sort();
  const sortedB = [...want].sort();
  if (sortedA.length === sortedB.length && sortedA.every((x, i) => x === sortedB[i])) return '';
  const only = (a: string[], b: string[]): string[] => {
    const left = [...b];
    return a.filter((x) => {
      const i = left.indexOf(x);
      if (i < 0) return true;
      left.splice(i, 1);
      return false;
    });
  };
  return `rows differ (viewgate ${got.length}, PostgreSQL ${want.length})\n    only viewgate: ${only(got, want).slice(0, 4).join('\n                   ')}\n    only PostgreSQL: ${only(want, got).slice(0, 4).join('\n                     ')}`;
}

/** '' when the sequences are equal; else the first difference. */
function orderDiff(got: string[], want: string[]): string {
  const at = got.findIndex((x, i) => x !== want[i]);
  if (at < 0) return '';
  return `same rows, another order: row ${at}\n    viewgate:   ${got.slice(at, at + 3).join('\n                ')}\n    PostgreSQL: ${want.slice(at, at + 3).join('\n                ')}`;
}

/** The caller a statement runs as: its API key, and the oracle schema standing for service fed. */
interface As {
  label: string;
  apiKey: string;
  schema: string;
  /** Masked columns per view (by name). */
  /** Masked columns per view: column -> mask. */
  masked: Record<string, Record<string, string>>;
  aggregateOnly: boolean;
}

const UNRESTRICTED: As = { label: 'unrestricted', apiKey: ORACLE_KEY, schema: SERVICE, masked: {}, aggregateOnly: false };

const asCaller = (c: Caller): As => ({
  label: c.name,
  apiKey: c.apiKey,
  schema: c.name,
  masked: Object.fromEntries(Object.entries(c.views).map(([v, p]) => [v, p.masks])),
  aggregateOnly: c.aggregateOnly,
});

/** The statement as PostgreSQL runs it for `as`: each fed.<view> read from the caller's policy schema. */
const forOracle = (as: As, sql: string): string => (as.schema === SERVICE ? sql : sql.replace(/\bfed\.(?=\w)/g, `${as.schema}.`));

function suite(name: FixtureName): void {
  describe(`generated SQL equals PostgreSQL, fixture ${name}`, () => {
    let env: OracleEnv;
    let srv: RunningServer;
    const catalogs = new Map<string, Promise<GCol[]>>();

    beforeAll(async () => {
      env = await createOracleEnv(fixture(name), viewsFor(name));
      await env.oracle(`CREATE SCHEMA ${SERVICE}`);
      for (const v of viewsFor(name)) await env.oracle(`CREATE VIEW ${SERVICE}.${v.name} AS ${v.sql}`);
      const columns = new Map<string, string[]>();
      for (const v of viewsFor(name)) columns.set(v.name, (await env.oracle(`SELECT * FROM ${SERVICE}.${v.name} LIMIT 0`)).columns);
      for (const ddl of policyViewsSql(name, columns)) await env.oracle(ddl);
      const config = oracleConfig(
        env.urls,
        env.views,
        policyConfig(name, columns, { read: true, explain: true, sql: true, aggregate: true, maxLimit: 100_000 }),
      );
      srv = await startServer(config, { processMetrics: false });
    }, 120_000);
    afterAll(async () => {
      await srv?.close();
      await env?.close();
    });

    /** A catalog of a relation's columns, PostgreSQL types and sample values as `as` sees them, from the oracle. */
    const catalogFor =
      (as: As): Catalog =>
      (from) => {
        const key = `${as.schema}\u0000${from}`;
        let c = catalogs.get(key);
        if (!c) {
          const masked: Record<string, string> = as.masked[/^fed\.(\w+)$/.exec(from)?.[1] ?? ''] ?? {};
          c = env.oracle(`SELECT * FROM ${forOracle(as, from)} x LIMIT 200`).then((r) => r.columns.map((col) => gcol(r, col, masked[col])));
          catalogs.set(key, c);
        }
        return c;
      };

    async function viewgate(as: As, sql: string): Promise<Answer> {
      const res = await fetch(`${srv.url}/api/v2/_sql`, {
        method: 'POST',
        headers: { 'X-API-Key': as.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ sql }),
      });
      return { status: res.status, text: await res.text() };
    }

    /** '' when viewgate agrees with PostgreSQL; else what differs. Counts the statements PostgreSQL answered, and those with rows. */
    async function check(as: As, st: GenStatement, counts: { answered: number; rows: number }): Promise<string> {
      let want: OracleResult | undefined;
      let pgError: { code?: string; message: string } | undefined;
      try {
        want = await env.oracle(forOracle(as, st.sql));
      } catch (err) {
        pgError = err as { code?: string; message: string };
      }
      const got = await viewgate(as, st.sql);
      if (pgError) {
        // A data exception (class 22: overflow, division by zero) depends on which rows an
        // expression meets: PostgreSQL may evaluate it on rows a join or filter would drop, viewgate
        // evaluates it only after them (docs/sql.md, "No error oracle"). Either answer is right;
        // a 500 or another status is not.
        if (pgError.code?.startsWith('22'))
          return got.status === 400 || got.status === 200
            ? ''
            : `PostgreSQL: ${pgError.message}; viewgate: HTTP ${got.status} ${got.text.slice(0, 300)}`;
        return `the generator wrote a statement PostgreSQL rejects (${pgError.code}): ${pgError.message}`;
      }
      counts.answered++;
      if (want!.rows.length > 0) counts.rows++;
      if (got.status !== 200)
        return `PostgreSQL answered ${want!.rows.length} rows; viewgate: HTTP ${got.status} ${got.text.slice(0, 400)}`;
      const body = parseLossless(got.text) as {
        resource: Record<string, unknown>[];
        meta: { fields: { name: string; type: string }[]; truncated?: boolean };
      };
      const types = new Map(body.meta.fields.map((f) => [f.name, f.type]));
      const problems: string[] = [];
      const gotTypes = want!.columns.map((c) => `${c} ${types.get(c) ?? '(absent)'}`).join(', ');
      const wantTypes = want!.columns.map((c) => `${c} ${want!.types[c]}`).join(', ');
      if (gotTypes !== wantTypes || body.meta.fields.length !== want!.columns.length)
        problems.push(`types: viewgate ${gotTypes}; PostgreSQL ${wantTypes}`);
      if (body.meta.truncated) problems.push('truncated: the cap is above every result here');
      const rows = body.resource.map((r) => toValueModel(r, types));
      const columns = want!.columns;
      // Rows tying on every ORDER BY term may still print apart (0 and 0.00): order compares numerics by value.
      const d =
        rowsDiff(canonRows(rows, columns, st.looseScale, want!.types), canonRows(want!.rows, columns, st.looseScale, want!.types)) ||
        (st.ordered ? orderDiff(canonRows(rows, columns, true, want!.types), canonRows(want!.rows, columns, true, want!.types)) : '');
      if (d) problems.push(d);
      return problems.join('\n  ');
    }

    /** Runs `n` generated statements as `as`; `minRows`: the share of them that must return rows. */
    async function corpus(as: As, views: string[], n: number, minRows: number): Promise<void> {
      const seed = seedFor(SEED, 'sql', name, ...(as === UNRESTRICTED ? [] : [as.label]));
      const rng = new Rng(seed);
      const catalog = catalogFor(as);
      const statements: GenStatement[] = [];
      for (let i = 0; i < n; i++) statements.push(await generateStatement(rng, views, catalog, as.aggregateOnly));
      const counts = { answered: 0, rows: 0 };
      const results = await mapPool(statements, 3, (st) => check(as, st, counts));
      const failures = results.flatMap((r, i) => (r ? [`#${i}: ${statements[i]!.sql}\n  ${r}`] : []));
      const head = `seed ${SEED} (VG_ORACLE_SEED), fixture ${name}, caller ${as.label}\n`;
      expect(failures.length, head + report(failures, statements.length)).toBe(0);
      // A corpus PostgreSQL mostly rejects would check nothing.
      expect(counts.answered, `${head}PostgreSQL answered only ${counts.answered} of ${n}`).toBeGreaterThan(n * 0.8);
      // ... and so would one whose statements mostly return no rows.
      expect(counts.rows, `${head}only ${counts.rows} of ${n} statements return rows`).toBeGreaterThan(n * minRows);
      const masked = statements.filter((st) => st.readsMasked).length;
      // A restricted caller's corpus must read masked columns often enough to check the masks.
      if (Object.values(as.masked).some((m) => Object.keys(m).length > 0))
        expect(masked, `${head}only ${masked} of ${n} statements read a masked column`).toBeGreaterThan(n * 0.1);
      console.info(
        `fixture ${name}, ${as.label}: ${counts.answered} of ${n} statements compared, ${counts.rows} with rows, ${masked} reading masked columns`,
      );
    }

    it(
      `${N} generated statements, unrestricted`,
      () =>
        corpus(
          UNRESTRICTED,
          viewsFor(name).map((v) => v.name),
          N,
          0.5,
        ),
      300_000,
    );

    for (const caller of callers(name)) {
      const as = asCaller(caller);
      it(
        `${N_POLICY} generated statements as ${caller.name}, against PostgreSQL views that write its policy`,
        () => corpus(as, Object.keys(caller.views), N_POLICY, 0.4),
        300_000,
      );

      // What the generator avoids is refused, naming the column: a masked column in WHERE, a hidden one anywhere.
      it(`${caller.name}: masked columns in WHERE and hidden columns are refused, naming them`, async () => {
        const cases: string[] = [];
        for (const [view, p] of Object.entries(caller.views)) {
          for (const m of Object.keys(p.masks)) cases.push(`SELECT count(*) AS n FROM fed.${view} r0 WHERE r0.${m} IS NOT NULL|${m}`);
          for (const h of p.hidden)
            cases.push(`SELECT ${caller.aggregateOnly ? `count(r0.${h}) AS n` : `r0.${h} AS c0`} FROM fed.${view} r0|${h}`);
        }
        expect(cases.length).toBeGreaterThan(2);
        for (const c of cases) {
          const [sql, column] = c.split('|') as [string, string];
          const got = await viewgate(as, sql);
          expect(got.status, `${sql}: ${got.text}`).toBe(400);
          expect(got.text, sql).toContain(column);
        }
      });
    }
  });
}

function gcol(r: OracleResult, col: string, mask: string | undefined): GCol {
  const type = r.types[col]!;
  const lits = [
    ...new Set(
      r.rows
        .map((row) => row[col])
        .filter((v) => v !== null)
        .map((v) => literal(type, v)),
    ),
  ];
  return {
    name: col,
    type,
    lits: lits.filter((l): l is string => l !== undefined),
    nullable: r.rows.some((row) => row[col] === null),
    ...(mask ? { masked: true } : {}),
    // count(col) under a null mask is refused (it would tell NULL from not NULL): not generated.
    ...(mask === 'null' ? { uncounted: true } : {}),
  };
}

for (const name of FIXTURES) suite(name);
