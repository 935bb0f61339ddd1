// MCP Toolbox for Databases (googleapis/genai-toolbox), built once from the Go module proxy into
// the bench cache, and started with a tools.yaml holding one parameterised PostgreSQL tool.
// The checksum database does not answer for this module here, so GONOSUMDB names it (only it);
// its dependencies are still checked against the module's own go.sum.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEERS_CACHE } from './cache.mjs';
import { answers, startProcess, tail } from '../lib/process.mjs';

const TOOLBOX_MODULE = 'github.com/googleapis/genai-toolbox';
export const TOOLBOX_VERSION = 'v0.16.0';
export const TOOLBOX_TOOL = 'get_order';
const BUILD_TIMEOUT_MS = 40 * 60_000;

function goBinary() {
  for (const go of ['go', '/usr/local/go/bin/go']) {
    try {
      execFileSync(go, ['version'], { stdio: 'ignore' });
      return go;
    } catch {}
  }
  throw new Error('Go is not installed (needed to build MCP Toolbox from the Go module proxy): install Go or put it on PATH');
}

/** `--version` output of a binary that runs, else undefined. */
function versionOf(bin) {
  if (!existsSync(bin)) return undefined;
  try {
    return execFileSync(bin, ['--version'], { timeout: 30_000 }).toString().trim();
  } catch {
    return undefined;
  }
}

function goEnv() {
  const flags = [process.env.GOFLAGS ?? '', '-mod=mod'].join(' ').trim();
  return { ...process.env, GONOSUMDB: TOOLBOX_MODULE, GOFLAGS: flags };
}

/** The cached toolbox binary, built first if missing or not running. Resolves to { bin, version }. */
export async function ensureToolbox(say) {
  const bin = join(PEERS_CACHE, `toolbox-${TOOLBOX_VERSION}`);
  let version = versionOf(bin);
  if (version) return { bin, version };
  if (existsSync(bin)) {
    say(`toolbox: the cached ${bin} does not run; rebuilding it`);
    rmSync(bin, { force: true });
  }
  const go = goBinary();
  mkdirSync(PEERS_CACHE, { recursive: true });
  say(`toolbox: downloading ${TOOLBOX_MODULE}@${TOOLBOX_VERSION} from the Go module proxy...`);
  const info = JSON.parse(
    execFileSync(go, ['mod', 'download', '-json', `${TOOLBOX_MODULE}@${TOOLBOX_VERSION}`], {
      env: goEnv(),
      cwd: tmpdir(),
      timeout: 10 * 60_000,
    }).toString(),
  );
  if (!info.Dir) throw new Error(`toolbox: go mod download gave no module directory: ${info.Error ?? JSON.stringify(info)}`);
  // The module cache is read-only; build in a writable copy.
  const src = mkdtempSync(join(tmpdir(), 'vg-bench-toolbox-'));
  try {
    cpSync(info.Dir, src, { recursive: true });
    makeWritable(src);
    say(`toolbox: go build (several minutes on a busy machine, once; cached in ${PEERS_CACHE})...`);
    await run(go, ['build', '-o', `${bin}.tmp`, '.'], { cwd: src, env: goEnv() });
    renameSync(`${bin}.tmp`, bin);
  } finally {
    rmSync(src, { recursive: true, force: true });
    rmSync(`${bin}.tmp`, { force: true });
  }
  version = versionOf(bin);
  if (!version) throw new Error(`toolbox: the binary built at ${bin} does not run (--version failed)`);
  say(`toolbox: built (${version})`);
  return { bin, version };
}

function makeWritable(dir) {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) makeWritable(p);
    else chmodSync(p, 0o644);
  }
}

function run(command, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
    child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${tail(output)}`));
    });
  });
}

/** tools.yaml: a postgres source on the bench database and one tool reading one order by id. */
function toolsYaml(pgUrl) {
  const u = new URL(pgUrl);
  const q = (s) => JSON.stringify(decodeURIComponent(s));
  return `sources:
  bench-pg:
    kind: postgres
    host: ${q(u.hostname)}
    port: ${q(u.port || '5432')}
    database: ${q(u.pathname.slice(1))}
    user: ${q(u.username || 'postgres')}
    # required by Toolbox; ignored by a trust-authenticated local server
    password: ${q(u.password || 'unused')}
tools:
  ${TOOLBOX_TOOL}:
    kind: postgres-sql
    source: bench-pg
    description: One order by its id.
    statement: SELECT order_id, customer_id, total_amount, status, created_at FROM orders WHERE order_id = $1
    parameters:
      - name: order_id
        type: integer
        description: The order id.
`;
}

/** Starts toolbox on 127.0.0.1:port; its MCP endpoint is `${url}/mcp` (Streamable HTTP). */
export async function startToolbox({ bin, port, pgUrl }) {
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-toolbox-cfg-'));
  const file = join(dir, 'tools.yaml');
  writeFileSync(file, toolsYaml(pgUrl));
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'MCP Toolbox',
    command: bin,
    args: ['--tools-file', file, '--address', '127.0.0.1', '--port', String(port), '--log-level', 'WARN', '--disable-reload'],
    ready: () => answers(`${url}/`),
    timeoutMs: 60_000,
  });
  return { ...proc, url, mcpUrl: `${url}/mcp` };
}
