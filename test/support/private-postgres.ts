// A PostgreSQL server of a test's own: its own data directory (a temp dir), port and socket
// directory, with the settings, pg_hba.conf lines and files (certificates) the test needs. Never the
// machine's shared server, so a test may change server settings or require TLS without disturbing
// others. initdb refuses to run as root: as root the server runs as the `postgres` user.
//
//   const pg = await startPrivatePostgres({ settings: { log_statement: 'all' } });
//   ... pg.url ... read pg.logFile ...
//   await pg.stop();
import { execFile, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgresOptions {
  /** postgresql.conf settings, e.g. `{ log_statement: 'all', ssl: 'on' }`. */
  settings?: Record<string, string>;
  /** pg_hba.conf lines replacing the default (trust for local and 127.0.0.1 connections). */
  hba?: string[];
  /** Files written into the data directory, readable only by the server (e.g. `server.key`). */
  files?: Record<string, string>;
}

export interface PrivatePostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  dataDir: string;
  /** The server's log (stderr of the postmaster). */
  logFile: string;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** A TCP port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Kills a private server started as a child process (if it still runs) and waits until it has exited. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The newest installed PostgreSQL's bin directory (Debian layout), or `VG_TEST_PG_BIN`. */
function postgresBinDir(): string {
  if (process.env.VG_TEST_PG_BIN) return process.env.VG_TEST_PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(`private PostgreSQL: no initdb under ${base}/*/bin (apt-get install postgresql, or set VG_TEST_PG_BIN)`);
  return join(base, versions[0]!, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL program, as the postgres user when this process is root. */
async function pgRun(program: string, args: string[]): Promise<string> {
  const bin = join(postgresBinDir(), program);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await run(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`private PostgreSQL: ${program} failed: ${e.stderr || e.message}`);
  }
}

async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (!asRoot) return undefined;
  const { stdout: uid } = await run('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const { stdout: gid } = await run('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

function confValue(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export async function startPrivatePostgres(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const root = mkdtempSync(join(tmpdir(), 'vg-private-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'postgres.log');
  const owner = await postgresOwner();
  if (owner) chownSync(root, owner.uid, owner.gid);
  chmodSync(root, 0o755);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (existsSync(join(dataDir, 'postmaster.pid')))
      await pgRun('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await pgRun('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    for (const [name, content] of Object.entries(opts.files ?? {})) {
      const file = join(dataDir, name);
      writeFileSync(file, content, { mode: 0o600 });
      if (owner) chownSync(file, owner.uid, owner.gid);
    }
    if (opts.hba) writeFileSync(join(dataDir, 'pg_hba.conf'), `${opts.hba.join('\n')}\n`);
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: root,
      fsync: 'off',
      ...opts.settings,
    };
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      Object.entries(settings)
        .map(([k, v]) => `${k} = ${confValue(v)}\n`)
        .join(''),
    );
    writeFileSync(logFile, '');
    if (owner) chownSync(logFile, owner.uid, owner.gid);
    await pgRun('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '120', 'start']);
    return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, dataDir, logFile, stop };
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`${(err as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
  }
}
