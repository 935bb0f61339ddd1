// TLS to every store, for real: a CA and server certificates made with openssl, a PostgreSQL and
// a MariaDB of the test's own that accept only TLS connections, and a FerretDB listening only with
// TLS. Each source is built from config text as `serve` builds it, and runs a real query. The right
// CA works; the wrong CA and a wrong server name fail with an error that says what to check, never
// the store's address; the explicit opt-outs (sslmode=no-verify, rejectUnauthorized: false) work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import { nextStep } from '../../src/commands/check-hints.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { StoreError } from '../../src/errors.js';
import type { Source } from '../../src/sources/source.js';
import { storeDescriptor } from '../../src/sources/registry.js';
import { TLS_PUBLIC_DETAIL } from '../../src/sources/tls.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startPrivateMariadb, type PrivateMariadb } from '../support/private-mariadb.js';
import { startPrivateFerretdb, type PrivateFerretdb } from '../support/private-ferretdb.js';

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

async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
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
