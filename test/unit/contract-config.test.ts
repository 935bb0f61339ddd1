// The configuration of docs/contracts.md: `contract.checkInterval` and `deprecated` on views and
// table entries, with the problems a wrong value gives; and what callers are told of a deprecation.
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigError } from '../../src/config/load.js';
import { deprecationHeaders, deprecationNotice, pastSunset, refuseAfterSunset } from '../../src/gateway/deprecation.js';
import type { ViewId } from '../../src/config/view-id.js';

const config = (extra: string, table = 'customers') => `
sources:
  crm: { kind: postgres, url: "postgres://u@db/crm" }
services:
  crm:
    source: crm
    tables:
      - name: ${table}
${extra}
      - name: customers_v2
roles:
  r: { grants: { "*": { read: true } } }
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (err) {
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('contract configuration', () => {
  it('reads checkInterval (default 60s) and a table entry deprecated with since, sunset and successor', () => {
    const c = parseConfig(
      config('        deprecated: { since: "2026-11-01", sunset: "2027-06-30", successor: crm.customers_v2 }') +
        'contract: { checkInterval: 5s }\n',
      't.yaml',
      {},
    );
    expect(c.contract.checkInterval).toBe(5000);
    expect(parseConfig(config(''), 't.yaml', {}).contract.checkInterval).toBe(60_000);
    const svc = c.services.crm as { tables: { deprecated?: unknown }[] };
    expect(svc.tables[0]!.deprecated).toEqual({ since: '2026-11-01', sunset: '2027-06-30', successor: 'crm.customers_v2' });
  });

  it('refuses a date that is none, a successor that is no configured view, and a check interval below 100ms', () => {
    expect(problems(config('        deprecated: { sunset: "next year" }'))).toEqual([
      'services.crm.tables.0.deprecated.sunset: write a date as YYYY-MM-DD or an ISO 8601 timestamp',
    ]);
    expect(problems(config('        deprecated: { successor: crm.nothing }'))).toEqual([
      'services.crm.tables.0.deprecated.successor: no view "crm.nothing" is configured',
    ]);
    expect(problems(config('        deprecated: { sunset: "2027-01-01", when: 1 }'))[0]).toMatch(/unknown key "when"/);
    expect(problems(config('') + 'contract: { checkInterval: 10ms }\n')).toEqual([
      'contract.checkInterval: checkInterval is at least 100ms',
    ]);
  });

  it('tells callers since (default: load time) as Unix seconds, the sunset as an HTTP-date and the successor as a link', () => {
    const n = deprecationNotice({ sunset: '2027-06-30', successor: 'crm.customers_v2' }, Date.parse('2026-11-30T10:00:00Z'));
    expect(n).toEqual({
      since: Date.parse('2026-11-30T10:00:00Z') / 1000,
      sunset: '2027-06-30T00:00:00.000Z',
      successor: 'crm.customers_v2',
    });
    expect(deprecationHeaders(n, 'https://api.example.com/')).toEqual({
      deprecation: `@${Date.parse('2026-11-30T10:00:00Z') / 1000}`,
      sunset: 'Wed, 30 Jun 2027 00:00:00 GMT',
      link: '<https://api.example.com/api/v2/crm/_table/customers_v2>; rel="successor-version"',
    });
    expect(pastSunset(n, Date.parse('2027-06-29T23:59:59Z'))).toBe(false);
    expect(pastSunset(n, Date.parse('2027-06-30T00:00:00Z'))).toBe(true);
    expect(() => refuseAfterSunset('crm.customers' as ViewId, n, Date.parse('2027-07-01T00:00:00Z'))).toThrow(
      'view "crm.customers" was retired on 2027-06-30T00:00:00.000Z; use "crm.customers_v2" instead',
    );
    expect(pastSunset(deprecationNotice({}, 0))).toBe(false);
  });
});
