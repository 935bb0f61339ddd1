// View SQL checking: the supported SQL (docs/engine.md) is accepted with PostgreSQL's types;
// everything else is refused when the view loads, naming the view and the line:column.
import { describe, expect, test } from 'vitest';
import { ViewDefinitionError } from '../../src/engine/embedded/errors.js';
import { buildView, REFERENCE_SQL } from './embedded-support.js';

async function refusal(sql: string): Promise<ViewDefinitionError> {
  const err = await buildView(sql).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ViewDefinitionError);
  return err as ViewDefinitionError;
}

async function types(sql: string): Promise<Record<string, string>> {
  const v = await buildView(sql);
  return Object.fromEntries(v.columns.map((c) => [c.name, c.type]));
}

describe('refusals name the view and the position', () => {
  const cases: [string, string, RegExp, [number, number]?][] = [
    ['SELECT *', 'SELECT * FROM crm.customers', /SELECT \* is not supported/, [1, 8]],
    ['unqualified table', 'SELECT customer_id FROM customers', /needs its source: write source\.table/, [1, 25]],
    ['unknown source', 'SELECT x FROM nowhere.t', /source "nowhere" is not configured/],
    ['unknown table', 'SELECT x FROM crm.nope', /table "nope" does not exist/],
    [
      'RIGHT JOIN',
      'SELECT c.customer_id FROM crm.customers c RIGHT JOIN app.orders o ON o.customer_id = c.customer_id',
      /RIGHT JOIN is not supported/,
    ],
    [
      'FULL JOIN',
      'SELECT c.customer_id FROM crm.customers c FULL JOIN app.orders o ON o.customer_id = c.customer_id',
      /FULL JOIN is not supported/,
    ],
    ['comma join', 'SELECT c.customer_id FROM crm.customers c, app.orders o', /comma-separated FROM/],
    ['subquery', 'SELECT c.customer_id FROM crm.customers c WHERE c.customer_id IN (SELECT 1)', /subqueries are not supported/],
    ['HAVING', 'SELECT c.tenant_id, count(*) FROM crm.customers c GROUP BY c.tenant_id HAVING count(*) > 1', /HAVING is not supported/],
    ['DISTINCT', 'SELECT DISTINCT c.tenant_id FROM crm.customers c', /DISTINCT is not supported/],
    ['WITH', 'WITH x AS (SELECT c.tenant_id FROM crm.customers c) SELECT x.tenant_id FROM x', /WITH is not supported/],
    ['subquery in FROM', 'SELECT s.tenant_id FROM (SELECT c.tenant_id FROM crm.customers c) s', /subqueries are not supported/],
    ['UNION', 'SELECT c.tenant_id FROM crm.customers c UNION SELECT t.tenant_id FROM crm.tenants t', /UNION/],
    ['function', 'SELECT md5(c.email) AS e FROM crm.customers c', /function md5\(\) is not supported/, [1, 8]],
    ['window', 'SELECT count(*) OVER () AS n FROM crm.customers c', /window functions/],
    [
      'join on a non-equality',
      'SELECT c.customer_id FROM crm.customers c LEFT JOIN app.orders o ON o.customer_id > c.customer_id',
      /LEFT JOIN/,
    ],
    ['cross join', 'SELECT c.customer_id FROM crm.customers c CROSS JOIN app.orders o', /CROSS JOIN is not supported/],
    [
      'int = text without a cast',
      'SELECT c.customer_id FROM crm.customers c\nLEFT JOIN analytics.events e ON e.user_id = c.customer_id',
      /operator does not exist: text = integer; cast one side/,
      [2, 43],
    ],
    [
      'bad literal',
      "SELECT c.customer_id FROM crm.customers c WHERE c.customer_id = 'abc'",
      /invalid input syntax for type integer: "abc"/,
    ],
    [
      'ungrouped column',
      'SELECT c.tenant_id, c.email, count(*) AS n FROM crm.customers c GROUP BY c.tenant_id',
      /column "email" must appear in the GROUP BY clause/,
    ],
    ['aggregate in WHERE', 'SELECT c.tenant_id FROM crm.customers c WHERE count(*) > 1', /aggregate functions are not allowed here/],
    ['unknown column', 'SELECT c.nope FROM crm.customers c', /column c\.nope does not exist/],
    ['ambiguous column', 'SELECT customer_id FROM crm.customers c JOIN app.orders o ON o.customer_id = c.customer_id', /ambiguous/],
    ['expression without a name', 'SELECT c.customer_id + 1 FROM crm.customers c', /needs a name: add AS name/],
    [
      'duplicate name',
      'SELECT c.customer_id, o.customer_id FROM crm.customers c JOIN app.orders o ON o.customer_id = c.customer_id',
      /used twice/,
    ],
    ['timestamp without time zone', 'SELECT c.created_at::timestamp AS t FROM crm.customers c', /cast to timestamptz/],
    ['sum of text', 'SELECT sum(c.email) AS s FROM crm.customers c', /function sum\(text\) does not exist/],
    ['two statements', 'SELECT 1 AS a FROM crm.customers c; SELECT 2 AS b FROM crm.customers c', /exactly one SELECT/],
  ];
  test.each(cases)('%s', async (_name, sql, message, pos) => {
    const err = await refusal(sql);
    expect(err.message).toMatch(/^view "fed\.v"/);
    expect(err.message).toMatch(message);
    if (pos) {
      expect(err.message).toContain(`line ${pos[0]}, column ${pos[1]}`);
      expect(err.context).toMatchObject({ view: 'fed.v', line: pos[0], column: pos[1] });
    }
  });

  test('a syntax error gives the position of the offending token', async () => {
    const err = await refusal('SELECT c.customer_id\nFROM crm.customers c\nWHERE c.customer_id = = 1');
    expect(err.message).toMatch(/line 3, column 2[3-5]: syntax error/);
  });
});

describe('output types follow PostgreSQL', () => {
  test('the reference view', async () => {
    const v = await buildView(REFERENCE_SQL);
    expect(v.columns.map((c) => `${c.name}:${c.type}:${c.nullable ? 'null' : 'not null'}`)).toEqual([
      'customer_id:int:not null',
      'tenant_id:text:not null',
      'email:text:not null',
      'order_id:int:null',
      'total_amount:numeric:null',
      'event_id:text:null',
      'event_type:text:null',
      'event_ts:timestamptz:null',
    ]);
    expect(v.key).toEqual(['customer_id', 'order_id', 'event_id']);
  });

  test('aggregates: sum(int4) bigint, sum(int8) numeric, avg numeric, count bigint, min/max keep the type', async () => {
    expect(
      await types(`SELECT c.tenant_id, count(*) AS n, count(o.status) AS ns, sum(o.customer_id) AS s4, sum(o.order_id) AS s8,
        sum(o.total_amount) AS sn, avg(o.customer_id) AS a4, avg(o.total_amount) AS an, avg(o.weight) AS af, sum(o.weight) AS sf,
        min(o.created_at) AS first, max(o.status) AS ms, max(o.ship_day) AS md
        FROM crm.customers c JOIN app.orders o ON o.customer_id = c.customer_id GROUP BY c.tenant_id`),
    ).toEqual({
      tenant_id: 'text',
      n: 'int',
      ns: 'int',
      s4: 'int',
      s8: 'numeric',
      sn: 'numeric',
      a4: 'numeric',
      an: 'numeric',
      af: 'float',
      sf: 'float',
      first: 'timestamptz',
      ms: 'text',
      md: 'date',
    });
  });

  test('expressions: arithmetic, casts, ||, COALESCE, CASE', async () => {
    expect(
      await types(`SELECT o.customer_id / 2 AS half, o.total_amount * 2 AS dbl, o.total_amount + o.weight AS mixed,
        o.customer_id::text AS cid, o.customer_id::text || '-' || o.status AS label, COALESCE(o.ship_day, '2024-01-01') AS day,
        CASE WHEN o.total_amount > 100 THEN o.customer_id ELSE 0.5 END AS pick, o.created_at::date AS d, o.total_amount::numeric(10,1) AS r,
        -o.total_amount AS neg, o.status = 'paid' AS paid
        FROM app.orders o`),
    ).toEqual({
      half: 'int',
      dbl: 'numeric',
      mixed: 'float',
      cid: 'text',
      label: 'text',
      day: 'date',
      pick: 'numeric',
      d: 'date',
      r: 'numeric',
      neg: 'numeric',
      paid: 'bool',
    });
  });

  test('a key that is not an output is refused', async () => {
    await expect(buildView('SELECT c.email FROM crm.customers c', { key: ['customer_id'] })).rejects.toThrow(
      /key column "customer_id" is not an output column/,
    );
  });

  test('the default key: every relation primary key when output, or the group keys', async () => {
    expect((await buildView('SELECT o.order_id, o.status FROM app.orders o')).key).toEqual(['order_id']);
    expect((await buildView('SELECT o.status, count(*) AS n FROM app.orders o GROUP BY o.status')).key).toEqual(['status']);
    expect((await buildView('SELECT o.status FROM app.orders o')).key).toEqual([]);
  });
});
