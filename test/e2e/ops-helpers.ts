// Shared by the ops e2e tests: reference-config edits for grants, Redis and sources, tenant JWTs,
// and starting a server with runtime options (breaker thresholds) the support helper does not take.
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { parseDocument, type YAMLSeq } from 'yaml';
import type { Config } from '../../src/config/schema.js';
import { startServer } from '../support/reference.js';

const REDIS_URL = process.env.VG_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Sets keys on one role's grant in the config text (parsed, so other grants are untouched). */
function setGrant(yaml: string, role: string, grant: string, values: Record<string, unknown>): string {
  const doc = parseDocument(yaml);
  if (!doc.hasIn(['roles', role, 'grants', grant])) throw new Error(`the reference config has no grant roles.${role}.grants.${grant}`);
  for (const [k, v] of Object.entries(values)) doc.setIn(['roles', role, 'grants', grant, k], v);
  return doc.toString();
}

/** The external role's crm.customers grant (tenant t2 through the partner key). */
export function externalGrant(yaml: string, values: Record<string, unknown>): string {
  return setGrant(yaml, 'external', 'crm.customers', values);
}

/** The llm role's crm.customers grant (tenant t1 through the assistant key). */
export function llmGrant(yaml: string, values: Record<string, unknown>): string {
  return setGrant(yaml, 'llm', 'crm.customers', values);
}

export function withRedis(yaml: string): string {
  const doc = parseDocument(yaml);
  doc.setIn(['redis', 'url'], REDIS_URL);
  return doc.toString();
}

export function withCors(yaml: string, origins: string[]): string {
  const doc = parseDocument(yaml);
  doc.setIn(['server', 'cors', 'origins'], origins);
  return doc.toString();
}

/** A fresh API key for a role (a new bucket in a shared Redis on every run), added to auth.apiKeys. */
export function withApiKey(yaml: string, role: string, claims: Record<string, string> = {}): { yaml: string; key: string } {
  const key = `vg_test_${randomBytes(8).toString('hex')}`;
  const sha256 = createHash('sha256').update(key).digest('hex');
  const doc = parseDocument(yaml);
  const keys = doc.getIn(['auth', 'apiKeys']) as YAMLSeq;
  keys.add(doc.createNode({ name: key, sha256, role, claims }));
  return { yaml: doc.toString(), key };
}

export async function tenantToken(config: Config, claims: Record<string, unknown>, sub = 'partner-app'): Promise<string> {
  const jwt = config.auth.jwt!;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(jwt.issuer!)
    .setAudience(jwt.audience as string)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(jwt.secret!));
}

/** A running server with runtime options (e.g. a shared Redis client); see test/support/reference.ts. */
export const startWith = startServer;

/** GET /metrics as the reference config's internal role (which has `metrics: true`). */
export function fetchMetrics(baseUrl: string): Promise<Response> {
  return fetch(`${baseUrl}/metrics`, { headers: { 'X-API-Key': 'vg_demo_internal_key' } });
}
