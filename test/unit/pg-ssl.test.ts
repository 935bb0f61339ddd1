// What a PostgreSQL URL's sslmode and the tls block mean to node-postgres (src/sources/postgres/ssl.ts):
// viewgate reads sslmode itself, so the driver gets the URL without it and an explicit `ssl` option.
import { describe, expect, it } from 'vitest';
import { pgConnection } from '../../src/sources/postgres/ssl.js';

const URL_BASE = 'postgres://viewgate@db.internal:5432/app';
const tls = { ca: { path: '/etc/ca.crt', pem: '-----BEGIN CERTIFICATE-----\n' }, rejectUnauthorized: true };

describe('pgConnection', () => {
  it('no sslmode and no tls block: a plain connection, the URL unchanged', () => {
    expect(pgConnection(URL_BASE, undefined)).toEqual({ connectionString: URL_BASE, ssl: false });
  });

  it('require, verify-ca and verify-full verify the certificate; the URL loses sslmode and keeps the rest', () => {
    for (const mode of ['require', 'verify-ca', 'verify-full']) {
      const c = pgConnection(`${URL_BASE}?sslmode=${mode}&application_name=vg`, undefined);
      expect(c.connectionString).toBe(`${URL_BASE}?application_name=vg`);
      expect(c.ssl).toEqual({ rejectUnauthorized: true });
    }
    expect(pgConnection(`${URL_BASE}?sslmode=verify-full`, tls).ssl).toEqual({ ca: tls.ca.pem, rejectUnauthorized: true });
  });

  it('a tls block alone turns TLS on; no-verify is the only opt-out; disable is no TLS', () => {
    expect(pgConnection(URL_BASE, tls).ssl).toEqual({ ca: tls.ca.pem, rejectUnauthorized: true });
    expect(pgConnection(`${URL_BASE}?sslmode=no-verify`, tls).ssl).toEqual({ ca: tls.ca.pem, rejectUnauthorized: false });
    expect(pgConnection(`${URL_BASE}?sslmode=disable`, undefined)).toEqual({ connectionString: URL_BASE, ssl: false });
  });

  it('a servername is the name the certificate is checked against, whatever host node-postgres passes', () => {
    const ssl = pgConnection(URL_BASE, { ...tls, servername: 'db.example.test' }).ssl;
    expect(ssl).toMatchObject({ servername: 'db.example.test' });
    const check = (ssl as { checkServerIdentity: (host: string, cert: object) => Error | undefined }).checkServerIdentity;
    const cert = { subject: { CN: 'db.example.test' }, subjectaltname: 'DNS:db.example.test' };
    expect(check('db.internal', cert)).toBeUndefined();
    expect(check('db.example.test', { subject: { CN: 'other' }, subjectaltname: 'DNS:other' })).toBeInstanceOf(Error);
  });
});
