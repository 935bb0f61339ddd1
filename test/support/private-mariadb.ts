// A MariaDB server of a test's own: its own data directory (a temp dir), port and socket, with the
// server options the test needs (e.g. TLS required). Never the machine's shared server. As root the
// server runs as the `mysql` user (its files are chowned to it).
//
//   const db = await startPrivateMariadb({ options: { 'require-secure-transport': 'ON', ... } });
//   ... db.url ...
//   await db.stop();
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort, killAndWait } from './private-postgres.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface PrivateMariadbOptions {
  /** mariadbd options without the leading dashes, e.g. `{ 'ssl-ca': file, 'require-secure-transport': 'ON' }`. */
  options?: Record<string, string>;
}

export interface PrivateMariadb {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/test` (root has no password; the database `test` exists). */
  url: string;
  /** The server's socket: connecting through it needs no TLS, for setting up data. */
  socket: string;
  logFile: string;
  stop(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

function binary(...names: string[]): string {
  for (const n of names) for (const dir of ['/usr/sbin', '/usr/bin']) if (existsSync(join(dir, n))) return join(dir, n);
  throw new Error(`private MariaDB: none of ${names.join(', ')} is installed (apt-get install mariadb-server)`);
}

export async function startPrivateMariadb(opts: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const root = mkdtempSync(join(tmpdir(), 'vg-private-mariadb-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const socket = join(root, 'mysqld.sock');
  const logFile = join(root, 'mariadb.log');
  const user = asRoot ? ['--user=mysql'] : [];
  let server: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    await killAndWait(s);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'mysql'], { encoding: 'utf8' });
      const { stdout: gid } = await run('id', ['-g', 'mysql'], { encoding: 'utf8' });
      chownSync(root, Number(stdout.trim()), Number(gid.trim()));
    }
    await run(
      binary('mariadb-install-db', 'mysql_install_db'),
      [`--datadir=${dataDir}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db', '--no-defaults'],
      { timeout: 120_000 },
    ).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`private MariaDB: mariadb-install-db failed: ${err.stderr || err.message}`);
    });
    const port = await freePort();
    const options = Object.entries(opts.options ?? {}).map(([k, v]) => `--${k}=${v}`);
    server = spawn(
      binary('mariadbd', 'mysqld'),
      [
        '--no-defaults',
        ...user,
        `--datadir=${dataDir}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${socket}`,
        `--pid-file=${join(root, 'mariadb.pid')}`,
        `--log-error=${logFile}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        '--innodb-log-file-size=8M',
        ...options,
      ],
      { stdio: 'ignore' },
    );
    const started = server;
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`mariadbd exited with ${started.exitCode}`);
        const c = await mysql.createConnection({ socketPath: socket, user: 'root' });
        await c.query('CREATE DATABASE IF NOT EXISTS test');
        await c.end();
        return true;
      },
      { timeout: 60_000, interval: 200, what: 'the private MariaDB to accept connections' },
    );
    return { port, url: `mysql://root@127.0.0.1:${port}/test`, socket, logFile, stop };
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`${(err as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
  }
}
