// The PostgreSQL store reads a timestamptz as PostgreSQL prints it in its sessions (TimeZone=UTC,
// DateStyle=ISO) and rearranges the usual shape into the canonical form without parsing it; the
// general parser (canonicalTimestamp) is the oracle, over values PostgreSQL itself printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { decode } from '../../src/sources/postgres/source.js';
import { canonicalTimestamp } from '../../src/values.js';
import { PG_URL } from '../support/stores.js';

const column = { name: 'ts', type: 'timestamptz' as const, nullable: true, nativeType: 'timestamptz', base: 'timestamptz' };

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: PG_URL, options: '-c TimeZone=UTC -c DateStyle=ISO' });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
});

/** The text PostgreSQL prints for each timestamptz `sql` selects as `ts` (cast to text: the same output function). */
async function printed(sql: string, ...params: unknown[]): Promise<string[]> {
  const r = await client.query<{ ts: string }>(`SELECT ts::text AS ts FROM (${sql}) AS q`, params);
  return r.rows.map((row) => row.ts);
}

describe('PostgreSQL timestamptz values', () => {
  it('read as the general parser reads them: edges, every fraction length, BC and infinities', async () => {
    const texts = await printed(`SELECT v::timestamptz AS ts FROM unnest($1::text[]) AS v`, [
      '0001-01-01 00:00:00+00',
      '0099-12-31 23:59:59.5+00',
      '1970-01-01 00:00:00+00',
      '2000-02-29 12:00:00.1+00',
      '2026-11-30 19:00:00.12+00',
      '2026-11-30 19:00:00.123+00',
      '2026-11-30 19:00:00.1234+00',
      '2026-11-30 19:00:00.12345+00',
      '2026-11-30 19:00:00.123456+00',
      '2026-06-01 02:30:00+05:30',
      '9999-12-31 23:59:59.999999+00',
      '0044-03-15 12:00:00+00 BC',
      'infinity',
      '-infinity',
    ]);
    expect(texts).toContain('2026-05-31 21:00:00+00'); // printed in UTC, not as given
    expect(texts.some((t) => t.endsWith(' BC'))).toBe(true);
    for (const t of texts) expect(decode(column, t), t).toBe(canonicalTimestamp(t) ?? t);
  });

  it('read as the general parser reads them: random instants over the whole AD range', async () => {
    const texts = await printed(
      `SELECT timestamptz '0001-01-01 00:00:00+00' + random() * interval '3652058 days' AS ts FROM generate_series(1, 2000)`,
    );
    expect(texts).toHaveLength(2000);
    for (const t of texts) expect(decode(column, t), t).toBe(canonicalTimestamp(t));
  });
});
