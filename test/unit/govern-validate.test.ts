// policyProblems(): grants checked against the views they decide for, when the config loads.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { viewIdOf } from '../../src/config/view-id.js';
import type { View } from '../../src/engine/view.js';
import { Policy } from '../../src/policy/policy.js';

const engine = { execute: () => Promise.reject(new Error('unused')), explain: () => Promise.reject(new Error('unused')) };
const views: View[] = [
  {
    id: viewIdOf('crm', 'customers'),
    service: 'crm',
    name: 'customers',
    description: '',
    key: ['customer_id'],
    engine,
    columns: [
      { name: 'customer_id', type: 'int', nullable: false },
      { name: 'tenant_id', type: 'text', nullable: false },
      { name: 'profile', type: 'jsonb', nullable: true },
    ],
  },
  {
    id: viewIdOf('analytics', 'events'),
    service: 'analytics',
    name: 'events',
    description: '',
    key: ['_id'],
    engine,
    columns: [
      { name: '_id', type: 'text', nullable: false },
      { name: 'user_id', type: 'text', nullable: true },
    ],
  },
];

function problems(roles: string, auth = '') {
  const config = parseConfig(
    `
sources:
  crm: { kind: mysql, url: "mysql://x@127.0.0.1/x" }
  analytics: { kind: mongodb, url: "mongodb://127.0.0.1/", database: a, collections: { events: { columns: { _id: { type: text } } } } }
services:
  crm: { source: crm, tables: [customers] }
  analytics: { source: analytics, tables: [events] }
${auth}
roles:
${roles}
`,
    'v.yaml',
    {},
  );
  return new Policy(config).problems(views);
}

describe('policyProblems', () => {
  it('a wildcard row filter is checked only where the wildcard decides', () => {
    const base = `  r:\n    grants:\n      "*": { read: true, rowFilter: "tenant_id = {claims.t}" }\n`;
    // Without a grant of its own, events falls under "*", which names a column events lacks.
    expect(problems(base)).toEqual([
      {
        path: 'roles.r.grants.*.rowFilter',
        message: expect.stringMatching(/names "tenant_id", which view "analytics.events" does not output/),
      },
    ]);
    // A more specific grant decides for events: "*" no longer applies there.
    expect(problems(`${base}      analytics.events: { read: false }\n`)).toEqual([]);
    expect(problems(`${base}      analytics.*: { read: true }\n`)).toEqual([]);
  });

  it('row filter literals and claims must fit their columns', () => {
    const grant = (f: string) => `  r:\n    grants:\n      crm.customers: { read: true, rowFilter: "${f}" }\n`;
    expect(problems(grant('tenant_id = {claims.t} and customer_id in {claims.ids}'))).toEqual([]);
    expect(problems(grant("customer_id = 'x' or tenant_id = {claims.t}"))[0]?.message).toMatch(
      /customer_id is an int column; 'x' is not an integer/,
    );
    expect(problems(grant('profile = {claims.p}'))[0]?.message).toMatch(/profile is a jsonb column and cannot be used in a filter/);
    expect(problems(grant('customer_id starts with {claims.c}'))[0]?.message).toMatch(/needs a text column/);
    expect(problems(grant('tenant_id = = 1'))).toHaveLength(1);
  });

  it('fields and masks of an exact grant name real columns', () => {
    const p = problems(`  r:\n    grants:\n      crm.customers: { read: true, fields: [customer_id, nope], masks: { gone: redact } }\n`);
    expect(p.map((x) => x.path)).toEqual(['roles.r.grants.crm.customers.fields', 'roles.r.grants.crm.customers.masks']);
  });

  it('auth.jwt problems are reported with the policy', () => {
    const p = problems('  r: { grants: {} }\n', 'auth:\n  jwt: { secret: s3cret-s3cret-s3cret-s3cret-s3cret-s3cret, algorithms: [RS256] }');
    expect(p).toEqual([{ path: 'auth.jwt', message: expect.stringMatching(/"RS256" cannot be used with a secret/) }]);
    const short = problems('  r: { grants: {} }\n', 'auth:\n  jwt: { secret: too-short }');
    expect(short).toEqual([{ path: 'auth.jwt', message: 'auth.jwt.secret is 9 bytes; use at least 32 (e.g. openssl rand -base64 48)' }]);
  });
});
