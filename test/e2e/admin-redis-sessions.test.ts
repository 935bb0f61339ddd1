// Console sessions in Redis (docs/console.md, "Single sign-on"): with `redis.url`, two viewgate
// instances share sessions, so a person signed in on one is signed in on the
// other, logging out on either ends it on both, and Redis holds no cookie value, only its hash.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { referenceStores } from '../support/reference-server.js';
import { signIn, startAdminScenario, type AdminScenario } from '../support/admin-console.js';
import { REDIS_URL } from '../support/stores.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import { createLogger } from '../../src/ops/logger.js';

const ref = referenceStores('adminredis');
let s: AdminScenario;
let other: { url: string; rt: Runtime; app: FastifyInstance };
let redis: Redis;

beforeAll(async () => {
  s = await startAdminScenario(ref.stores.env, { edit: (doc) => doc.setIn(['redis', 'url'], REDIS_URL) });
  const rt = await createRuntime(s.srv.rt.config, { logger: createLogger('silent') });
  const app = await buildServer(rt);
  await app.listen({ host: '127.0.0.1', port: 0 });
  other = { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, rt, app };
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await other?.app.close();
  await other?.rt.close();
  await s?.close();
  redis?.disconnect();
});

describe('sessions in Redis', () => {
  it('a session made by one instance works on another; logging out on that one ends it on both', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    const cookie = jar.header(s.srv.url);
    const onOther = await fetch(`${other.url}/admin/api/session`, { headers: { cookie } });
    expect(onOther.status).toBe(200);
    const { csrfToken } = (await onOther.json()) as { csrfToken: string };
    const out = await fetch(`${other.url}/admin/logout`, { method: 'POST', headers: { cookie, 'X-CSRF-Token': csrfToken } });
    expect(out.status).toBe(204);
    expect((await fetch(`${s.srv.url}/admin/api/session`, { headers: { cookie } })).status).toBe(401);
  });

  it('Redis keeps the session under a hash of its id, for at most 8 hours', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    const signed = jar.get(s.srv.url, 'vg_admin')!;
    const id = signed.slice(0, signed.lastIndexOf('.'));
    const key = `viewgate:admin:session:${createHash('sha256').update(id).digest('hex')}`;
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(7.9 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(8 * 3600_000);
    expect(await redis.get(key)).not.toContain(id);
    const keys = await redis.keys('viewgate:admin:*');
    for (const k of keys) expect(k).not.toContain(id);
  });
});
