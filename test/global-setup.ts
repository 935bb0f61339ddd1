// Makes sure every store the suite needs is up before any test runs (docs/testing.md). A store that cannot
// be reached or started fails the whole run loudly, naming it: no test ever skips a store.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { MONGO_URL, MYSQL_URL, PG_URL, REDIS_URL } from './support/stores.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function check(name: string, url: string, probe: () => Promise<void>, hint: string): Promise<void> {
  try {
    await probe();
  } catch (err) {
    throw new Error(`test setup: ${name} is not reachable at ${redact(url)} (${(err as Error).message}). ${hint}`);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Builds dist/ from src/ (and type-checks it) before any test, so tests that spawn the CLI
 * (bin/viewgate.js runs dist/) never run an old build, also under `npx vitest run <file>`; then
 * type-checks the tests themselves (vitest compiles them without checking types).
 * Incremental: a build with nothing changed takes a few seconds. tsc trusts its build-info file
 * even when outputs were deleted, so that file is dropped whenever a source has no output.
 */
function buildDist(): void {
  const cache = join(root, 'node_modules', '.cache', 'viewgate');
  const buildInfo = join(cache, 'tsconfig.tsbuildinfo');
  const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
  );
  if (sources.some((f) => !existsSync(join(root, 'dist', f.replace(/\.ts$/, '.js'))))) rmSync(buildInfo, { force: true });
  tsc('building dist/', ['-p', join(root, 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', buildInfo]);
  tsc('type-checking test/', [
    '-p',
    join(root, 'test', 'tsconfig.json'),
    '--incremental',
    '--tsBuildInfoFile',
    join(cache, 'tests.tsbuildinfo'),
  ]);
}

/**
 * Builds the console (console/ -> dist/console/, served at /admin) when its sources changed since the
 * last build: a hash of every file under console/ and of Vite's version is kept beside tsc's build
 * info, and the build is skipped only when that hash matches and dist/console/index.html exists.
 */
function buildConsole(): void {
  const stamp = join(root, 'node_modules', '.cache', 'viewgate', 'console.hash');
  const hash = createHash('sha256');
  hash.update(readFileSync(join(root, 'node_modules', 'vite', 'package.json')));
  for (const file of readdirSync(join(root, 'console'), { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(root, 'console', file);
    if (statSync(path).isFile()) hash.update(file).update('\0').update(readFileSync(path));
  }
  const digest = hash.digest('hex');
  const built = existsSync(join(root, 'dist', 'console', 'index.html'));
  if (built && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  tsc('type-checking console/', ['-p', join(root, 'console', 'tsconfig.json')]);
  run('building dist/console/ with vite', join(root, 'node_modules', 'vite', 'bin', 'vite.js'), [
    'build',
    '--config',
    join(root, 'console', 'vite.config.ts'),
    '--logLevel',
    'warn',
  ]);
  rmSync(stamp, { force: true }); // never write through a hard link into another checkout's cache
  writeFileSync(stamp, digest);
}

function tsc(what: string, args: string[]): void {
  run(`${what} with tsc`, join(root, 'node_modules', 'typescript', 'bin', 'tsc'), args);
}

function run(what: string, script: string, args: string[]): void {
  try {
    execFileSync(process.execPath, [script, ...args], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`test setup: ${what} failed; fix these errors first:\n${e.stdout || e.stderr || e.message}`);
  }
}

export default async function setup(): Promise<void> {
  buildDist();
  buildConsole();
  await check(
    'PostgreSQL',
    PG_URL,
    async () => {
      const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
      await c.connect();
      await c.end();
    },
    'Start it (bash .ci/run does) or set VG_TEST_PG_URL.',
  );
  await check(
    'MariaDB/MySQL',
    MYSQL_URL,
    async () => {
      const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 5000 });
      await c.end();
    },
    'Start it (bash .ci/run does) or set VG_TEST_MYSQL_URL.',
  );
  if (!process.env.VG_TEST_MONGO_URL) {
    // Build and start FerretDB when nothing listens on 27017 yet.
    try {
      execFileSync('bash', [`${root}/scripts/ferretdb.sh`, 'start'], { stdio: 'inherit' });
    } catch {
      throw new Error('test setup: could not build or start FerretDB (MongoDB wire protocol) with scripts/ferretdb.sh');
    }
  }
  await check(
    'MongoDB (FerretDB)',
    MONGO_URL,
    async () => {
      const c = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
      await c.connect();
      await c.db('admin').command({ ping: 1 });
      await c.close();
    },
    'Run scripts/ferretdb.sh start, or set VG_TEST_MONGO_URL to a MongoDB.',
  );
  await check(
    'Redis',
    REDIS_URL,
    async () => {
      const c = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await c.connect();
        await c.ping();
      } finally {
        c.disconnect();
      }
    },
    'Start it (bash scripts/services.sh does) or set VG_TEST_REDIS_URL.',
  );
}
