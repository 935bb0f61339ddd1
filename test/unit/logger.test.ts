// Logs never carry credentials (docs/security.md, "Logs"): pino output is captured into a stream
// and searched.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactText } from '../../src/ops/logger.js';

function capture(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, any>[]; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  const log = createLogger('info', stream);
  return {
    log,
    text: () => out,
    lines: () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

describe('redactText', () => {
  it.each([
    ['postgres://app:hunter2@db:5432/app', 'postgres://app:***@db:5432/app', 'hunter2'],
    ['mysql://root:p@ss/word@127.0.0.1/crm', 'mysql://root:***@127.0.0.1/crm', 'ss/word'],
    ['mongodb://u:s3cr3t@h1,h2/?replicaSet=rs', 'mongodb://u:***@h1,h2/?replicaSet=rs', 's3cr3t'],
    [
      '/api/v2/crm/_table/customers?api_key=vg_demo_internal_key&limit=1',
      '/api/v2/crm/_table/customers?api_key=[redacted]&limit=1',
      'vg_demo_internal_key',
    ],
    ['/x?limit=1&access_token=abc123', '/x?limit=1&access_token=[redacted]', 'abc123'],
    ['/admin/callback?code=Zx9-authcode&state=s1', '/admin/callback?code=[redacted]&state=s1', 'Zx9-authcode'],
    ['Authorization: Bearer abc.def.ghi', 'Authorization: Bearer [redacted]', 'abc.def.ghi'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here', 'token [redacted] here', 'eyJzdWIiOiJ4In0'],
  ])('%s', (input, expected, secret) => {
    const out = redactText(input);
    expect(out).toBe(expected);
    expect(out).not.toContain(secret);
  });

  it('leaves URLs without credentials and ordinary text alone', () => {
    for (const s of [
      'http://127.0.0.1:8080/api/v2',
      'postgres://postgres@127.0.0.1:5432/test',
      "filter=email like 'a%'",
      'mongodb://127.0.0.1:27017/',
    ]) {
      expect(redactText(s)).toBe(s);
    }
  });
});

describe('createLogger', () => {
  it('redacts Authorization, X-API-Key and the DreamFactory key header wherever headers are logged', () => {
    const c = capture();
    c.log.info(
      {
        req: {
          headers: { authorization: 'Bearer sekrit-token', 'x-api-key': 'key-one', 'x-dreamfactory-api-key': 'key-two', accept: 'json' },
        },
      },
      'in',
    );
    c.log.info({ headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'key-three' } }, 'in');
    const [a, b] = c.lines();
    expect(a!.req.headers).toEqual({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      'x-dreamfactory-api-key': '[redacted]',
      accept: 'json',
    });
    expect(b!.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
    for (const s of ['sekrit-token', 'key-one', 'key-two', 'key-three', 'dXNlcjpwYXNz']) expect(c.text()).not.toContain(s);
  });

  it('redacts passwords in URLs in messages, nested fields, error messages and stacks', () => {
    const c = capture();
    c.log.warn(
      { source: { name: 'app', detail: { url: 'postgres://app:pw-nested@db/app' } } },
      'connecting to mysql://root:pw-msg@127.0.0.1/crm',
    );
    c.log.error({ err: new Error('connect failed: postgres://admin:pw-err"x@db/app') }, 'store down');
    c.log.info({ cfg: { password: 'pw-field', secret: 'sec-field' }, apiKey: 'key-field' }, 'config');
    const text = c.text();
    for (const s of ['pw-nested', 'pw-msg', 'pw-err', 'pw-field', 'sec-field', 'key-field']) expect(text).not.toContain(s);
    const [first, err] = c.lines();
    expect(first!.msg).toBe('connecting to mysql://root:***@127.0.0.1/crm');
    expect(first!.source.detail.url).toBe('postgres://app:***@db/app');
    expect(err!.err.message).toContain('postgres://admin:***@db/app');
    expect(err!.err.stack).not.toContain('pw-err');
  });
});
