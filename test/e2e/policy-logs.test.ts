// Logs of a real server never carry credentials (docs/security.md, "Logs"): pino output is captured
// into a stream while requests send Authorization headers, API key headers and ?api_key= /
// ?access_token= in the URL. (Passwords inside URLs in messages, fields and errors:
// test/unit/logger.test.ts.)
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../src/ops/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import { createReferenceStores, get, KEYS, MemoryAuditSink, referenceConfig, type ReferenceStores } from '../support/reference.js';
import { signHs256 } from '../support/jwt.js';
import { waitFor } from '../support/wait.js';

let stores: ReferenceStores;
let rt: Runtime;
let app: FastifyInstance;
let url: string;
let out = '';

beforeAll(async () => {
  stores = await createReferenceStores('policy_logs');
  const stream = new Writable({
    write(chunk, _e, cb) {
      out += String(chunk);
      cb();
    },
  });
  rt = await createRuntime(referenceConfig(stores.env), { logger: createLogger('debug', stream), auditSink: new MemoryAuditSink() });
  app = await buildServer(rt);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await rt?.close();
  await stores?.drop();
});

describe('request logs', () => {
  it('contain no Authorization value and no API key or token (header or query)', async () => {
    const token = await signHs256(rt.config.auth.jwt!.secret!, { roles: ['internal'] }, { iss: 'viewgate-demo' });
    const secrets = [token, token.split('.')[1]!, KEYS.internal, KEYS.partner, 'df-key-in-query', 'tok-in-query'];
    expect((await get(`${url}/api/v2/crm/_table/customers?limit=1`, { Authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(`${url}/api/v2/crm/_table/customers?limit=1`, { 'X-API-Key': KEYS.internal })).status).toBe(200);
    expect((await get(`${url}/api/v2/crm/_table/customers?limit=1`, { 'X-DreamFactory-API-Key': KEYS.partner })).status).toBe(200);
    await get(`${url}/api/v2/crm/_table/customers?api_key=df-key-in-query&limit=1`);
    await get(`${url}/api/v2/crm/_table/customers?access_token=tok-in-query`);
    // Fastify logs each request's completion after answering it: wait for all five.
    await waitFor(() => out.split('"request completed"').length - 1 >= 5, { what: 'five "request completed" log lines' });
    // The log did record the requests (so the test searches something real)...
    expect(out).toContain('/api/v2/crm/_table/customers');
    expect(out).toContain('api_key=[redacted]');
    expect(out).toContain('access_token=[redacted]');
    // ...and none of the secrets.
    for (const s of secrets) expect(out, s).not.toContain(s);
  });
});
