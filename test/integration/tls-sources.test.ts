// TLS to every store, for real: a CA and server certificates made with openssl, a PostgreSQL and
// a MariaDB of the test's own that accept only TLS connections, and a FerretDB listening only with
// TLS. Each source is built from config text as `serve` builds it, and runs a real query. The right
// CA works; the wrong CA and a wrong server name fail with an error that says what to check, never
// the store's address; the explicit opt-outs (sslmode=no-verify, rejectUnauthorized: false) work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextStep } from '../../src/commands/check-hints.js';
import { hubCommand } from '../../src/commands/hub.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { StoreError } from '../../src/errors.js';
import type { Source } from '../../src/sources/source.js';
import { storeDescriptor } from '../../src/sources/registry.js';
import { TLS_PUBLIC_DETAIL } from '../../src/sources/tls.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startPrivateMariadb, type PrivateMariadb } from '../support/private-mariadb.js';
import { startPrivateFerretdb, type PrivateFerretdb } from '../support/private-ferretdb.js';
import { storeError } from '../support/store-error.js';

let ca: TestCa;
let pgServer: PrivatePostgres;
let mariadb: PrivateMariadb;
let ferretdb: PrivateFerretdb;
const opened: Source[] = [];

/** A source built from its config entry, through the config loader and the store's factory. */
function source(entry: Record<string, unknown>): Source {
  const config = parseConfig(JSON.stringify({ sources: { store: entry }, services: {}, roles: {} }));
  const s = storeDescriptor(config.sources.store!.kind).create('store', config.sources.store!);
  opened.push(s);
  return s;
}

function configProblem(entry: Record<string, unknown>): string {
  try {
    parseConfig(JSON.stringify({ sources: { store: entry }, services: {}, roles: {} }));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

/** The caller's message says what to check and names neither the address nor the port. */
function expectTlsRefusal(err: StoreError, detail: string, port: number): void {
  expect(err.reason).toBe('unavailable');
  expect(err.message).toContain(detail);
  expect(err.message).not.toContain('127.0.0.1');
  expect(err.message).not.toContain(String(port));
  // `viewgate check` reads the same failure from the driver's message and gives the same next step.
  expect(nextStep(err.operatorMessage)).toBe(detail);
}

beforeAll(async () => {
  ca = makeTestCa();
  [pgServer, mariadb, ferretdb] = await Promise.all([
    startPrivatePostgres({
      settings: { ssl: 'on' },
      files: { 'server.crt': ca.read(ca.serverCertFile), 'server.key': ca.read(ca.serverKeyFile) },
      hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 trust'],
    }),
    startPrivateMariadb({
      options: {
        'ssl-ca': ca.caFile,
        'ssl-cert': ca.serverCertFile,
        'ssl-key': ca.serverKeyFile,
        'require-secure-transport': 'ON',
      },
    }),
    startPrivateFerretdb({ certFile: ca.serverCertFile, keyFile: ca.serverKeyFile }),
  ]);
  const pgc = new pg.Client({ connectionString: pgServer.url, ssl: { ca: ca.read(ca.caFile) } });
  await pgc.connect();
  await pgc.query('CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, $$a$$), (2, $$b$$), (3, $$c$$)');
  await pgc.end();
  const my = await mysql.createConnection({ socketPath: mariadb.socket, user: 'root', database: 'test' });
  await my.query('CREATE TABLE items (id int PRIMARY KEY, name text)');
  await my.query("INSERT INTO items VALUES (1, 'a'), (2, 'b')");
  await my.end();
  const mc = new MongoClient(ferretdb.url, { tls: true, tlsCAFile: ca.caFile, serverSelectionTimeoutMS: 10_000 });
  await mc.connect();
  await mc
    .db('tlsdb')
    .collection('items')
    .insertMany([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }]);
  await mc.close();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
  await Promise.allSettled([pgServer?.stop(), mariadb?.stop(), ferretdb?.stop()]);
  ca?.remove();
});

describe('PostgreSQL over TLS', () => {
  const pgSource = (url: string, tls?: Record<string, unknown>) =>
    source({ kind: 'postgres', url, timeout: '10s', ...(tls ? { tls } : {}) });
  const withMode = (mode: string) => `${pgServer.url}?sslmode=${mode}`;

  it('queries with the right CA, from the tls block alone or with sslmode=require / verify-full', async () => {
    expect(await pgSource(pgServer.url, { ca: ca.caFile }).count('items')).toBe(3);
    expect(await pgSource(withMode('require'), { ca: ca.caFile }).count('items')).toBe(3);
    expect(await pgSource(withMode('verify-full'), { ca: ca.caFile, servername: 'localhost' }).count('items')).toBe(3);
  });

  it('refuses the wrong CA, saying to check tls.ca', async () => {
    const err = await storeError(pgSource(withMode('verify-full'), { ca: ca.otherCaFile }).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.untrusted, pgServer.port);
    // The operator's detail keeps the driver's words for the log.
    expect(err.detail).toMatch(/certificate/i);
  });

  it('sslmode=require verifies the certificate, as node-postgres does: no CA given, the test CA is not trusted', async () => {
    const err = await storeError(pgSource(withMode('require')).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.untrusted, pgServer.port);
  });

  it('refuses a server name the certificate is not for, saying to check tls.servername', async () => {
    const err = await storeError(pgSource(withMode('require'), { ca: ca.caFile, servername: 'db.example.test' }).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.name, pgServer.port);
  });

  it('sslmode=no-verify is the explicit opt-out: it connects whatever the CA', async () => {
    expect(await pgSource(withMode('no-verify'), { ca: ca.otherCaFile }).count('items')).toBe(3);
    expect(await pgSource(withMode('no-verify')).count('items')).toBe(3);
  });

  it('a server that requires TLS refuses a source without it, and the error says to configure TLS', async () => {
    const err = await storeError(pgSource(pgServer.url).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.required, pgServer.port);
    const off = await storeError(pgSource(withMode('disable')).count('items'));
    expectTlsRefusal(off, TLS_PUBLIC_DETAIL.required, pgServer.port);
  });

  it('refuses contradictory or unread TLS settings in the config, naming the key', () => {
    expect(configProblem({ kind: 'postgres', url: withMode('disable'), tls: { ca: ca.caFile } })).toMatch(
      /sources\.store\.url.*sslmode=disable/,
    );
    expect(configProblem({ kind: 'postgres', url: withMode('prefer') })).toMatch(/sslmode=prefer is not supported/);
    expect(configProblem({ kind: 'postgres', url: withMode('verify-full'), tls: { rejectUnauthorized: false } })).toMatch(
      /sslmode=no-verify to opt out/,
    );
    expect(configProblem({ kind: 'postgres', url: `${pgServer.url}?sslrootcert=${ca.caFile}` })).toMatch(/sslrootcert is not read/);
  });
});

describe("the hub's postgres_fdw over TLS", () => {
  /** `hub apply` of a hub database `db` on the private server, importing `items` from its postgres database with `app`'s TLS. */
  async function applyHub(db: string, app: Record<string, unknown>) {
    const admin = new pg.Client({ connectionString: pgServer.url, ssl: { ca: ca.read(ca.caFile) } });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const hubUrl = pgServer.url.replace(/\/postgres$/, `/${db}`);
    const config = {
      sources: { hub: { kind: 'postgres', url: hubUrl, tls: { ca: ca.caFile } }, app: { kind: 'postgres', ...app } },
      services: {
        tlsfed: {
          engine: 'hub',
          source: 'hub',
          foreign: { app: { schema: 'app_map', tables: ['items'] } },
          views: { items: { key: ['id'], sql: 'SELECT i.id, i.name FROM app_map.items i' } },
        },
      },
      roles: {},
    };
    const file = join(ca.dir, `${db}.json`);
    writeFileSync(file, JSON.stringify(config));
    let out = '';
    const code = await hubCommand(['apply', '--config', file, '--admin-url', hubUrl], {
      out: (t) => (out += t),
      err: (t) => (out += t),
      env: {},
    });
    return { code, out, hubUrl };
  }

  it("verifies the source with the tls block's CA (libpq verify-full) and reads through it", async () => {
    const r = await applyHub('hub_tls_ok', { url: `${pgServer.url}?sslmode=verify-full`, tls: { ca: ca.caFile } });
    expect(r.code, r.out).toBe(0);
    const c = new pg.Client({ connectionString: r.hubUrl, ssl: { ca: ca.read(ca.caFile) } });
    await c.connect();
    try {
      expect((await c.query('SELECT count(*)::int AS n FROM app_map.items')).rows).toEqual([{ n: 3 }]);
      const server = await c.query("SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'viewgate_app'");
      expect(server.rows[0].srvoptions).toEqual(expect.arrayContaining(['sslmode=verify-full', `sslrootcert=${ca.caFile}`]));
    } finally {
      await c.end();
    }
  });

  it("refuses the wrong CA, and sslmode=require without a CA verifies (libpq's require would not): nothing is imported", async () => {
    const wrong = await applyHub('hub_tls_wrong', { url: `${pgServer.url}?sslmode=verify-full`, tls: { ca: ca.otherCaFile } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/certificate/i);
    const noCa = await applyHub('hub_tls_noca', { url: `${pgServer.url}?sslmode=require` });
    expect(noCa.code).not.toBe(0);
    expect(noCa.out).toMatch(/certificate|root\.crt/i);
  });

  it('sslmode=no-verify is the explicit opt-out: libpq require, no root certificate', async () => {
    const r = await applyHub('hub_tls_noverify', { url: `${pgServer.url}?sslmode=no-verify`, tls: { ca: ca.otherCaFile } });
    expect(r.code, r.out).toBe(0);
  });
});

describe('MariaDB over TLS', () => {
  const mySource = (tls?: Record<string, unknown>) =>
    source({ kind: 'mysql', url: mariadb.url, timeout: '10s', pool: 2, ...(tls ? { tls } : {}) });

  it('queries with the right CA, also with an explicit server name', async () => {
    expect(await mySource({ ca: ca.caFile }).count('items')).toBe(2);
    expect(await mySource({ ca: ca.caFile, servername: 'localhost' }).count('items')).toBe(2);
  });

  it('refuses the wrong CA, saying to check tls.ca', async () => {
    const err = await storeError(mySource({ ca: ca.otherCaFile }).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.untrusted, mariadb.port);
  });

  it('refuses a server name the certificate is not for, saying to check tls.servername', async () => {
    const err = await storeError(mySource({ ca: ca.caFile, servername: 'db.example.test' }).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.name, mariadb.port);
  });

  it('rejectUnauthorized: false is the explicit opt-out: it connects whatever the CA', async () => {
    expect(await mySource({ ca: ca.otherCaFile, rejectUnauthorized: false }).count('items')).toBe(2);
  });

  it('a server that requires TLS refuses a source without it', async () => {
    // MariaDB answers "access denied" here (MySQL names require_secure_transport), so the caller
    // is told only that the store cannot be reached.
    const err = await storeError(mySource().count('items'));
    expect(err.reason).toBe('unavailable');
    expect(err.detail).toMatch(/denied|insecure transport/i);
  });
});

describe('MongoDB (FerretDB) over TLS', () => {
  const mongoSource = (tls?: Record<string, unknown>) =>
    source({
      kind: 'mongodb',
      url: ferretdb.url,
      database: 'tlsdb',
      timeout: '3s',
      collections: { items: { columns: { _id: { type: 'text' }, name: { type: 'text' } } } },
      ...(tls ? { tls } : {}),
    });

  it('queries with the right CA, also with an explicit server name', async () => {
    expect(await mongoSource({ ca: ca.caFile }).count('items')).toBe(4);
    expect(await mongoSource({ ca: ca.caFile, servername: 'localhost' }).count('items')).toBe(4);
  });

  it('refuses the wrong CA, saying to check tls.ca', async () => {
    const err = await storeError(mongoSource({ ca: ca.otherCaFile }).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.untrusted, ferretdb.port);
  });

  it('refuses a server name the certificate is not for, saying to check tls.servername', async () => {
    const err = await storeError(mongoSource({ ca: ca.caFile, servername: 'db.example.test' }).count('items'));
    expectTlsRefusal(err, TLS_PUBLIC_DETAIL.name, ferretdb.port);
  });

  it('rejectUnauthorized: false is the explicit opt-out: it connects whatever the CA', async () => {
    expect(await mongoSource({ ca: ca.otherCaFile, rejectUnauthorized: false }).count('items')).toBe(4);
  });
});

describe('tls config', () => {
  it('a missing certificate file is a config problem naming its key', () => {
    const message = configProblem({ kind: 'mysql', url: 'mysql://root@127.0.0.1:3306/test', tls: { ca: '/nonexistent/ca.pem' } });
    expect(message).toMatch(/sources\.store\.tls\.ca.*cannot read the file "\/nonexistent\/ca\.pem" \(ENOENT\)/);
  });

  it('a file that is not PEM, a certificate without its key and unknown keys are config problems', () => {
    expect(configProblem({ kind: 'mysql', url: 'mysql://root@127.0.0.1:3306/test', tls: { ca: ca.dir } })).toMatch(
      /sources\.store\.tls\.ca/,
    );
    expect(configProblem({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test', tls: { cert: ca.serverCertFile } })).toMatch(
      /tls\.cert and tls\.key go together/,
    );
    expect(
      configProblem({ kind: 'mongodb', url: 'mongodb://127.0.0.1:27017/', database: 'x', collections: {}, tls: { cafile: ca.caFile } }),
    ).toMatch(/cafile/);
  });
});
