// A FerretDB (MongoDB wire protocol) of a test's own that listens only with TLS: its own state
// directory and port, the binary scripts/ferretdb.sh builds (the global test setup builds it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killAndWait } from './private-postgres.js';
import { waitFor } from './wait.js';

export interface PrivateFerretdbOptions {
  /** Server certificate and key files (PEM). */
  certFile: string;
  keyFile: string;
  /** A CA file: when given, FerretDB asks clients for a certificate signed by it. */
  caFile?: string;
}

export interface PrivateFerretdb {
  port: number;
  /** `mongodb://127.0.0.1:<port>/` (the client still needs its TLS options). */
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

function ferretdbBinary(): string {
  const script = fileURLToPath(new URL('../../scripts/ferretdb.sh', import.meta.url));
  execFileSync('bash', [script, 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return join(process.env.VG_BIN_DIR ?? join(homedir(), '.cache', 'viewgate', 'bin'), 'ferretdb');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startPrivateFerretdb(opts: PrivateFerretdbOptions): Promise<PrivateFerretdb> {
  const state = mkdtempSync(join(tmpdir(), 'vg-private-ferretdb-'));
  const logFile = join(state, 'ferretdb.log');
  const port = await freePort();
  let server: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    await killAndWait(s);
    rmSync(state, { recursive: true, force: true });
  };
  try {
    const log = openSync(logFile, 'a');
    server = spawn(
      ferretdbBinary(),
      [
        '--handler=sqlite',
        `--sqlite-url=file:${state}/`,
        `--state-dir=${state}`,
        '--listen-addr=',
        `--listen-tls=127.0.0.1:${port}`,
        `--listen-tls-cert-file=${opts.certFile}`,
        `--listen-tls-key-file=${opts.keyFile}`,
        ...(opts.caFile ? [`--listen-tls-ca-file=${opts.caFile}`] : []),
        '--telemetry=disable',
        '--debug-addr=127.0.0.1:0',
      ],
      { stdio: ['ignore', log, log] },
    );
    const started = server;
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`ferretdb exited with ${started.exitCode}`);
        return listening(port);
      },
      { timeout: 30_000, interval: 100, what: 'the private FerretDB TLS listener' },
    );
    return { port, url: `mongodb://127.0.0.1:${port}/`, logFile, stop };
  } catch (err) {
    const log = readFileSync(logFile, 'utf8').slice(-2000);
    await stop();
    throw new Error(`private FerretDB: ${(err as Error).message}${log ? `\nlog:\n${log}` : ''}`);
  }
}
