// Role names as identity providers write them (`platform-admin`, `Data.Reader`, `realm:viewer`):
// a config using them loads, and callers holding them read through REST.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import {
  createReferenceStores,
  get,
  REFERENCE_CONFIG,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { signHs256, withAuthAndRoles } from '../support/jwt.js';

const SECRET = 'role-names-secret-0123456789abcdef0123456789';
const ADMIN_KEY = 'vg_test_platform_admin_key';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const AUTH_AND_ROLES = `
auth:
  apiKeys:
    - { name: admin-tool, sha256: ${sha256(ADMIN_KEY)}, role: platform-admin }
  jwt:
    issuer: https://idp.test/
    audience: viewgate
    secret: ${SECRET}
    roleClaim: [realm_access, roles]
    defaultRole: Data.Reader
roles:
  platform-admin:
    grants: { "*": { read: true } }
  Data.Reader:
    grants:
      crm.customers: { read: true, fields: [customer_id] }
  "realm:viewer":
    grants:
      crm.customers: { read: true, fields: [customer_id, full_name] }
`;

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('rolenames');
  srv = await startServer(referenceConfig(stores.env, (yaml) => withAuthAndRoles(yaml, AUTH_AND_ROLES)));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

describe('role names with - . :', () => {
  it('a config naming roles platform-admin, Data.Reader and realm:viewer loads', () => {
    expect(Object.keys(srv.rt.config.roles).sort()).toEqual(['Data.Reader', 'platform-admin', 'realm:viewer']);
    expect(srv.rt.config.auth.jwt?.defaultRole).toBe('Data.Reader');
  });

  it('an API key with role platform-admin reads through REST', async () => {
    const r = await get(`${srv.url}/api/v2/app/_table/orders?limit=3`, { 'X-API-Key': ADMIN_KEY });
    expect(r.status).toBe(200);
    expect(r.body.resource.length).toBe(3);
  });

  it('a JWT carrying realm:viewer reads the columns that role grants', async () => {
    const token = await signHs256(SECRET, { realm_access: { roles: ['offline_access', 'realm:viewer'] } });
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?limit=2`, { Authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.resource[0]).sort()).toEqual(['customer_id', 'full_name']);
    // The same token may not read what realm:viewer is not granted.
    expect((await get(`${srv.url}/api/v2/app/_table/orders`, { Authorization: `Bearer ${token}` })).status).toBe(404);
  });

  it('a JWT without a role claim gets the default role Data.Reader', async () => {
    const token = await signHs256(SECRET, {});
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?limit=2`, { Authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.resource[0])).toEqual(['customer_id']);
  });

  it('a role name with a space or a slash is refused, naming the allowed characters', () => {
    const text = withAuthAndRoles(readFileSync(REFERENCE_CONFIG, 'utf8'), 'roles:\n  "data reader/x":\n    grants: {}\n');
    let err: unknown;
    try {
      parseConfig(text, REFERENCE_CONFIG, { ...process.env, ...stores.env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/roles.*letters, digits and _ - \. :/);
  });
});
