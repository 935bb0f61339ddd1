// Makes sure every store the suite needs is up before any test runs (SPEC 11). A store that cannot
// be reached or started fails the whole run loudly, naming it: no test ever skips a store.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import { MONGO_URL, MYSQL_URL, PG_URL } from './support/stores.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function check(name: string, url: string, probe: () => Promise<void>, hint: string): Promise<void> {
  try {
    await probe();
  } catch (err) {
    throw new Error(
      `test setup: ${name} is not reachable at ${redact(url)} (${(err as Error).message}). ${hint}`,
    );
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Builds dist/ from src/ (and type-checks it) before any test, so tests that spawn the CLI
 * (bin/viewgate.js runs dist/) never run an old build, also under `npx vitest run <file>`.
 * Incremental: a build with nothing changed takes a few seconds. tsc trusts its build-info file
 * even when outputs were deleted, so that file is dropped whenever a source has no output.
 */
function buildDist(): void {
  const buildInfo = join(root, 'node_modules', '.cache', 'viewgate', 'tsconfig.tsbuildinfo');
  const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  if (sources.some((f) => !existsSync(join(root, 'dist', f.replace(/\.ts$/, '.js'))))) rmSync(buildInfo, { force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', buildInfo], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`test setup: building dist/ with tsc failed; fix these errors first:\n${e.stdout || e.stderr || e.message}`);
  }
}

/**
 * `npx viewgate` (how the MCP interop tests start the server, as a desktop assistant would) links
 * this checkout into npm's npx cache the first time it runs. Two first-time calls at once race on
 * that cache entry and can leave it without its package.json, after which every `npx viewgate` in
 * this checkout fails with ENOENT. So it is linked once here, before any test runs in parallel; an
 * entry broken earlier is removed (npm names it in the error) and linked again.
 */
function linkForNpx(): void {
  const run = () => execFileSync('npx', ['--yes', 'viewgate', '--version'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const failure = (err: unknown) => {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  };
  try {
    run();
    return;
  } catch (err) {
    const broken = /(\S+\/_npx\/[0-9a-f]+)\/package\.json/.exec(failure(err))?.[1];
    if (!broken) throw new Error(`test setup: \`npx viewgate --version\` failed:\n${failure(err)}`);
    rmSync(broken, { recursive: true, force: true });
  }
  try {
    run();
  } catch (err) {
    throw new Error(`test setup: \`npx viewgate --version\` failed after removing a broken npx cache entry:\n${failure(err)}`);
  }
}

export default async function setup(): Promise<void> {
  buildDist();
  linkForNpx();
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
}
