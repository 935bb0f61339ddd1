// The reference stores with embedded views guarded by rowSecurity (service `tenancy`), API keys per
// tenant and role, and REST/MCP helpers: shared by the row-security, order/budget and tenancy tests.
import { createHash } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Config } from '../../src/config/schema.js';
import { get, referenceConfig } from './reference.js';
import { withAuthAndRoles } from './jwt.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');

/** API keys by name; each key's secret is `key-<name>`. */
const TENANCY_KEYS: Record<string, { role: string; claims?: string }> = {
  internal: { role: 'internal' },
  t1: { role: 'tenant', claims: '{ tenant_id: t1 }' },
  t2: { role: 'tenant', claims: '{ tenant_id: t2 }' },
  t9: { role: 'tenant', claims: '{ tenant_id: t9 }' },
  noclaim: { role: 'tenant' },
  t1explain: { role: 'explainer', claims: '{ tenant_id: t1 }' },
  t1narrow: { role: 'narrowed', claims: '{ tenant_id: t1 }' },
  t1cached: { role: 'cached', claims: '{ tenant_id: t1 }' },
  t2cached: { role: 'cached', claims: '{ tenant_id: t2 }' },
  t1masked: { role: 'maskedkey', claims: '{ tenant_id: t1 }' },
  keyless: { role: 'keyless' },
  t1hidden: { role: 'hiddenkey', claims: '{ tenant_id: t1 }' },
};

export type TenancyKey = keyof typeof TENANCY_KEYS;

/** The embedded views: orders joined to their customer across stores, and customers alone. */
const TENANCY_SERVICE = `
  tenancy:
    engine: embedded
    views:
      tenant_orders:
        key: [order_id]
        rowBudget: 100
        rowSecurity: { filter: "tenant_id = {claims.tenant_id}", exemptRoles: [internal] }
        sql: |
          SELECT o.order_id, o.customer_id, o.total_amount, c.tenant_id
          FROM app.orders o JOIN crm.customers c ON c.customer_id = o.customer_id
      tenant_orders_small:
        key: [order_id]
        rowBudget: 6
        rowSecurity: { filter: "tenant_id = {claims.tenant_id}", exemptRoles: [internal] }
        sql: |
          SELECT o.order_id, o.customer_id, o.total_amount, c.tenant_id
          FROM app.orders o JOIN crm.customers c ON c.customer_id = o.customer_id
      tenant_orders_tight:
        key: [order_id]
        rowBudget: 2
        rowSecurity: { filter: "tenant_id = {claims.tenant_id}", exemptRoles: [internal] }
        sql: |
          SELECT o.order_id, o.customer_id, o.total_amount, c.tenant_id
          FROM app.orders o JOIN crm.customers c ON c.customer_id = o.customer_id
      tenant_customers:
        rowSecurity: "tenant_id = {claims.tenant_id}"
        sql: SELECT c.customer_id, c.tenant_id, c.email, c.full_name FROM crm.customers c
`;

const AUTH_AND_ROLES = `
auth:
  apiKeys:
${Object.entries(TENANCY_KEYS)
  .map(([name, k]) => `    - { name: ${name}, sha256: ${sha(`key-${name}`)}, role: ${k.role}${k.claims ? `, claims: ${k.claims}` : ''} }`)
  .join('\n')}
roles:
  internal:
    grants: { "*": { read: true, explain: true } }
  tenant:
    grants:
      tenancy.*: { read: true }
  explainer:
    grants:
      tenancy.*: { read: true, explain: true }
  narrowed:
    grants:
      tenancy.tenant_customers: { read: true, rowFilter: "customer_id > 6" }
  cached:
    grants:
      tenancy.tenant_customers: { read: true, cacheTtl: 60s }
  maskedkey:
    grants:
      tenancy.*: { read: true, masks: { order_id: hash, customer_id: hash } }
      crm.customers: { read: true, masks: { customer_id: hash } }
  keyless:
    grants:
      crm.customers: { read: true, fields: [full_name, tenant_id] }
  hiddenkey:
    grants:
      tenancy.*: { read: true, fields: [total_amount, tenant_id] }
`;

export function tenancyYaml(referenceYaml: string, extraServices = ''): string {
  return withAuthAndRoles(referenceYaml.replace('services:\n', `services:\n${TENANCY_SERVICE}${extraServices}`), AUTH_AND_ROLES);
}

export function tenancyConfig(env: Record<string, string>, extraServices = ''): Config {
  return referenceConfig(env, (y) => tenancyYaml(y, extraServices));
}

const asKey = (name: TenancyKey) => ({ 'X-API-Key': `key-${name}` });

export async function rest(base: string, path: string, params: Record<string, string>, who: TenancyKey) {
  const qs = new URLSearchParams(params).toString();
  return get(`${base}/api/v2${path}${qs ? `?${qs}` : ''}`, asKey(who));
}

export async function mcpClient(base: string, who: TenancyKey): Promise<Client> {
  const client = new Client({ name: 'viewgate-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: asKey(who) } }));
  return client;
}
