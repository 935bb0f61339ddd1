// Set-up shared by the policy tests over real HTTP: the reference stores under a label, started
// before a file's tests and dropped after them, optionally with a server on the reference config
// and the file's own API keys and roles.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { withAuthAndRoles } from './jwt.js';
import { createReferenceStores, referenceConfig, startServer, type ReferenceStores, type RunningServer } from './reference.js';

/** API keys by name; each key's secret is `key-<name>`. */
export type ApiKeys = Record<string, { role: string; claims?: string }>;

const sha256 = (k: string) => createHash('sha256').update(k).digest('hex');

/** The YAML lines of `keys` under `auth.apiKeys:`. */
export function apiKeysYaml(keys: ApiKeys): string {
  return Object.entries(keys)
    .map(
      ([name, k]) => `    - { name: ${name}, sha256: ${sha256(`key-${name}`)}, role: ${k.role}${k.claims ? `, claims: ${k.claims}` : ''} }`,
    )
    .join('\n');
}

/**
 * The `auth:` section: `keys` and HS256 tokens signed with `secret` (issuer and audience as
 * test/support/jwt.ts signs them), with `jwtExtra` lines under `jwt:`.
 */
export function authYaml(keys: ApiKeys, secret: string, jwtExtra = ''): string {
  return `auth:
  apiKeys:
${apiKeysYaml(keys)}
  jwt:
    issuer: https://idp.test/
    audience: viewgate
    secret: ${secret}
${jwtExtra}`;
}

/** Reference stores for the current test file (set once its beforeAll ran). */
export function referenceStores(label: string): { readonly stores: ReferenceStores } {
  const state = {} as { stores: ReferenceStores };
  beforeAll(async () => {
    state.stores = await createReferenceStores(label);
  });
  afterAll(async () => {
    await state.stores?.drop();
  });
  return state;
}

/**
 * Reference stores and a server on the reference config for the current test file; with
 * `authAndRoles` (YAML), those replace the reference config's.
 */
export function referenceServer(label: string, authAndRoles?: string): { readonly stores: ReferenceStores; readonly srv: RunningServer } {
  const state = referenceStores(label) as { stores: ReferenceStores; srv: RunningServer };
  beforeAll(async () => {
    const edit = authAndRoles === undefined ? undefined : (y: string) => withAuthAndRoles(y, authAndRoles);
    state.srv = await startServer(referenceConfig(state.stores.env, edit));
  });
  afterAll(async () => {
    await state.srv?.close();
  });
  return state;
}
