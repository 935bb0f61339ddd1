// scripts/ferretdb.sh on a machine with no cached binary, and with a cached binary that does not
// run (what `go install` of this module builds): both end with a binary that answers --version and
// a FerretDB that answers ping. Runs the script as a new user would, on its own port and folders.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/ferretdb.sh', import.meta.url));
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startWith(binDir: string): Promise<{ stderr: string; port: number }> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'vg-ferret-state-'));
  const env = { ...process.env, VG_BIN_DIR: binDir, VG_FERRETDB_PORT: String(port), VG_FERRETDB_DIR: state };
  const { stderr } = await run('bash', [script, 'start'], { env });
  cleanups.push(() => {
    try {
      process.kill(Number(readFileSync(join(state, 'ferretdb.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // already gone
    }
    rmSync(state, { recursive: true, force: true });
  });
  return { stderr, port };
}

async function ping(port: number): Promise<void> {
  const c = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 10_000 });
  try {
    await c.connect();
    expect((await c.db('admin').command({ ping: 1 })).ok).toBe(1);
  } finally {
    await c.close();
  }
}

describe('scripts/ferretdb.sh', () => {
  it('builds into an empty binary folder, proves the binary runs, and starts FerretDB', async () => {
    const binDir = mkdtempSync(join(tmpdir(), 'vg-ferret-bin-'));
    cleanups.push(() => rmSync(binDir, { recursive: true, force: true }));
    const { stderr, port } = await startWith(binDir);
    expect(stderr).toContain('building FerretDB');
    const { stdout } = await run(join(binDir, 'ferretdb'), ['--version']);
    expect(stdout).toMatch(/v1\.24\.2/);
    await ping(port);
  }, 600_000);

  it('rebuilds a cached binary that does not run', async () => {
    const binDir = mkdtempSync(join(tmpdir(), 'vg-ferret-bin-'));
    cleanups.push(() => rmSync(binDir, { recursive: true, force: true }));
    const bin = join(binDir, 'ferretdb');
    // What `go install ...ferretdb@v1.24.2` leaves behind: a binary that panics at start.
    writeFileSync(bin, '#!/bin/sh\necho "panic: Invalid build/version/version.txt file content" >&2\nexit 2\n');
    chmodSync(bin, 0o755);
    const { stderr, port } = await startWith(binDir);
    expect(stderr).toContain('does not run; rebuilding it');
    const { stdout } = await run(bin, ['--version']);
    expect(stdout).toMatch(/v1\.24\.2/);
    await ping(port);
  }, 600_000);
});
