// DBHub (@bytebase/dbhub on npm), installed into the bench cache (not a project dependency) and
// started with its Streamable HTTP transport against the bench PostgreSQL database. Its tool is
// the built-in `execute_sql` (one `sql` string; no bound parameters). DBHub 1.4 declares
// Node >= 22.5, so it runs on the first such Node found (see nodeForDbhub).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PEERS_CACHE } from './cache.mjs';
import { startProcess } from '../lib/process.mjs';

export const DBHUB_VERSION = '1.4.0';
export const DBHUB_TOOL = 'execute_sql';
const DIR = join(PEERS_CACHE, 'dbhub');
const PKG = join(DIR, 'node_modules/@bytebase/dbhub');

function installedVersion() {
  try {
    return JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Installs @bytebase/dbhub@1.4.0 into the bench cache unless it is there. Resolves to the entry file. */
export function ensureDbhub(say) {
  if (installedVersion() !== DBHUB_VERSION) {
    mkdirSync(DIR, { recursive: true });
    say(`dbhub: npm install --prefix ${DIR} @bytebase/dbhub@${DBHUB_VERSION} (a few minutes, once)...`);
    execFileSync('npm', ['install', '--prefix', DIR, `@bytebase/dbhub@${DBHUB_VERSION}`, '--no-audit', '--no-fund'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 15 * 60_000,
    });
    if (installedVersion() !== DBHUB_VERSION)
      throw new Error(`dbhub: npm install did not leave @bytebase/dbhub@${DBHUB_VERSION} in ${DIR}`);
  }
  const entry = join(PKG, 'dist/index.js');
  if (!existsSync(entry)) throw new Error(`dbhub: ${entry} is missing; delete ${DIR} and run again`);
  return entry;
}

function atLeast(version, [major, minor]) {
  const [a, b] = version.replace(/^v/, '').split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * A Node >= 22.5 for DBHub: VG_BENCH_NODE, this Node, ~/.cache/viewgate/node/{24,22}/bin/node,
 * or `node` on PATH. Resolves to { node, version, satisfies } (the last candidate if none does).
 */
export function nodeForDbhub() {
  const candidates = [
    process.env.VG_BENCH_NODE,
    process.execPath,
    ...['24', '22'].map((v) => join(homedir(), '.cache/viewgate/node', v, 'bin/node')),
    'node',
  ].filter(Boolean);
  let found;
  for (const node of candidates) {
    let version;
    try {
      version = execFileSync(node, ['--version'], { timeout: 10_000 }).toString().trim();
    } catch {
      continue;
    }
    found = { node, version, satisfies: atLeast(version, [22, 5]) };
    if (found.satisfies) return found;
  }
  return found ?? { node: process.execPath, version: process.version, satisfies: false };
}

/** Starts DBHub on 127.0.0.1:port; its MCP endpoint is `${url}/mcp`. */
export async function startDbhub({ entry, node, port, pgUrl }) {
  const dsn = new URL(pgUrl);
  dsn.searchParams.set('sslmode', 'disable');
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'DBHub',
    command: node,
    args: [entry, '--transport', 'http', '--host', '127.0.0.1', '--port', String(port), '--dsn', dsn.toString()],
    env: { ...process.env, NODE_ENV: 'production' },
    ready: async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok,
    timeoutMs: 60_000,
  });
  return { ...proc, url, mcpUrl: `${url}/mcp` };
}
