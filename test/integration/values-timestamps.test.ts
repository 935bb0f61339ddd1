// Timestamp literals in the value model read exactly as PostgreSQL reads them (docs/query.md).
import { describe, expect, it } from 'vitest';
import { canonicalTimestamp } from '../../src/values.js';
import { pgExec, PG_URL } from '../support/stores.js';

const INPUTS = [
  '2024-01-01 00:00:00.1234565', // half: to even (stays)
  '2024-01-01 00:00:00.1234575', // half: to even (up)
  '2024-01-01 00:00:00.12345651', // above half
  '2024-01-01 00:00:00.12345649', // below half
  '2024-12-31 23:59:59.9999995Z', // carries into the next year
  '2024-03-31T01:30:00+02:00',
  '2024-10-27 02:30:00.5-05:30',
  '1999-12-31T23:59:59Z',
  '2024-02-29 12:00',
  '2024-06-01',
  // Already UTC, whole within the second: the fields as they are (as the stores send them)
  '2024-01-28 03:00:00',
  '2024-01-28 03:00:00.000001',
  '2024-01-28T03:00:00.5+00:00',
  '2024-01-28 03:00:00-00',
  '0100-03-01 00:00:00',
  '9999-12-31 23:59:59.999999',
];

describe('canonicalTimestamp', () => {
  it('matches PostgreSQL for rounding, offsets and missing parts', async () => {
    // Inputs without an offset are UTC in viewgate; give PostgreSQL the same session time zone.
    const utc = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=-c%20TimeZone%3DUTC`;
    const res = await pgExec(
      utc,
      `SELECT to_char(x::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM unnest($1::text[]) WITH ORDINALITY u(x, i) ORDER BY i`,
      [INPUTS],
    );
    expect(INPUTS.map((t) => canonicalTimestamp(t))).toEqual(res.rows.map((r) => r.t));
  });

  it('refuses what is not a timestamp', () => {
    for (const bad of [
      '2024-02-30',
      '2024-13-01',
      '2024-01-01 24:00',
      '2023-02-29 00:00:00',
      '0000-00-00 00:00:00',
      '2024-01-01 12:60:00',
      'yesterday',
      '',
    ])
      expect(canonicalTimestamp(bad), bad).toBeNull();
  });
});
