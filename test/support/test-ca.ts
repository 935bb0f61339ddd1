// Certificates for TLS tests, made with the openssl command in a temp dir: a CA, a server
// certificate it signs for "localhost" and 127.0.0.1, and a second CA that signed nothing (the
// wrong-CA case). Keys are P-256 (fast to make); nothing is kept after `remove()`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** The CA that signed the server certificate. */
  caFile: string;
  /** An unrelated CA: verifying the server with it must fail. */
  otherCaFile: string;
  /** Server certificate (SAN: DNS localhost, IP 127.0.0.1) and its key. */
  serverCertFile: string;
  serverKeyFile: string;
  /** File contents, for servers that want them inline. */
  read(file: string): string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`test CA: openssl ${args[0]} failed: ${e.stderr?.toString() || e.message} (apt-get install openssl)`);
  }
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'vg-test-ca-'));
  chmodSync(dir, 0o755);
  makeCa(dir, 'ca', 'viewgate test CA');
  makeCa(dir, 'other-ca', 'unrelated test CA');
  openssl(['req', '-new', ...KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ].join('\n'),
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt',
    ],
    dir,
  );
  // Servers running as another user (postgres, mysql) read these copies.
  for (const f of ['ca.crt', 'other-ca.crt', 'server.crt', 'server.key']) chmodSync(join(dir, f), 0o644);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    read: (file) => readFileSync(file, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
