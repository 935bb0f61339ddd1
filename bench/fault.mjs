#!/usr/bin/env node
// Fault run: a PRIVATE MariaDB (its own data directory under /tmp, its own port and socket; never
// the machine's shared instance) holds the CRM. viewgate serves under steady load; the script
// stops that MariaDB mid-load and starts it again, and records what clients saw: 503 naming the
// store while it is down (fail-fast once the circuit opens), and 200 again after it returns,
// with the same viewgate process (no restart). Writes bench/results/fault-<date>.json.
// Run `npm run build` first. Load goes to 127.0.0.1 only, bounded by the phases below.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import autocannon from 'autocannon';
import { auditToFile, KEYS, machine, prepareStores, ROOT, startViewgate, writeConfig } from './lib/setup.mjs';

const PHASES = { upSeconds: 15, downSeconds: 20, recoveredSeconds: 20 };
const RATE = 100;
const dataDir = `/tmp/vg-fault-mariadb-${process.pid}`;
const socket = join(dataDir, 'mysqld.sock');

async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function pickPort() {
  for (let p = 3391; p < 3400; p++) if (await portFree(p)) return p;
  throw new Error('no free port in 3391-3399 for the private MariaDB');
}

function installDb() {
  mkdirSync(dataDir, { recursive: true });
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${dataDir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

let mariadb;
async function startMariadb(port) {
  mariadb = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${join(dataDir, 'mariadbd.pid')}`,
      '--user=root',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=64M',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  mariadb.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 150; i++) {
    if (mariadb.exitCode !== null) throw new Error(`private mariadbd exited: ${err.slice(-2000)}`);
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await c.end();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`private mariadbd did not start: ${err.slice(-2000)}`);
}

async function stopMariadb() {
  if (!mariadb || mariadb.exitCode !== null) return;
  const exited = new Promise((r) => mariadb.on('exit', r));
  mariadb.kill('SIGTERM');
  await exited;
}

const port = await pickPort();
installDb();
await startMariadb(port);
const crmUrl = `mysql://root@127.0.0.1:${port}/vg_fault_crm`;
{
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', multipleStatements: true });
  await c.query('CREATE DATABASE IF NOT EXISTS vg_fault_crm; USE vg_fault_crm;');
  await c.query(readFileSync(join(ROOT, 'examples/reference/data/crm.sql'), 'utf8'));
  await c.end();
}

const env = await prepareStores('vg_bench');
env.CRM_MYSQL_URL = crmUrl;
const { path: configPath } = writeConfig((y) => auditToFile(y, join(dataDir, 'audit.log')));
const vg = await startViewgate(configPath, env);
const pid = vg.child.pid;
const started = Date.now();
const at = () => Math.round((Date.now() - started) / 100) / 10;

// A probe beside the load records status and message over time.
const timeline = [];
let probing = true;
const probe = (async () => {
  while (probing) {
    const t = at();
    try {
      const r = await fetch(`${vg.url}/api/v2/crm/_table/customers/3`, { headers: { 'X-API-Key': KEYS.internal } });
      const body = await r.json();
      timeline.push({ t, status: r.status, ...(r.status !== 200 ? { message: body.error?.message } : {}) });
    } catch (err) {
      timeline.push({ t, status: 'network', message: err.message });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
})();

const total = PHASES.upSeconds + PHASES.downSeconds + PHASES.recoveredSeconds;
const statuses = {};
const perSecond = new Map();
const instance = autocannon({
  url: `${vg.url}/api/v2/crm/_table/customers/3`,
  headers: { 'X-API-Key': KEYS.internal },
  connections: 8,
  overallRate: RATE,
  duration: total,
});
instance.on('response', (_c, status) => {
  statuses[status] = (statuses[status] ?? 0) + 1;
  const sec = Math.floor((Date.now() - started) / 1000);
  const row = perSecond.get(sec) ?? {};
  row[status] = (row[status] ?? 0) + 1;
  perSecond.set(sec, row);
});
const done = new Promise((resolve, reject) => {
  instance.on('done', resolve);
  instance.on('error', reject);
});

const events = [];
await new Promise((r) => setTimeout(r, PHASES.upSeconds * 1000));
events.push({ t: at(), event: 'stopping the private MariaDB' });
await stopMariadb();
events.push({ t: at(), event: 'private MariaDB stopped' });
await new Promise((r) => setTimeout(r, PHASES.downSeconds * 1000));
events.push({ t: at(), event: 'starting the private MariaDB' });
await startMariadb(port);
events.push({ t: at(), event: 'private MariaDB accepting connections' });
const result = await done;
probing = false;
await probe;

const stillSamePid = vg.child.exitCode === null && vg.child.pid === pid;
const viewgateExit = await vg.stop();
await stopMariadb();

const downFrom = events[1].t;
const upAt = events[3].t;
const during = timeline.filter((p) => p.t > downFrom + 0.5 && p.t < events[2].t);
const after = timeline.filter((p) => p.t > upAt);
const firstOkAfter = after.find((p) => p.status === 200);
const report = {
  machine: machine(),
  privateMariadb: { port, dataDir, socket },
  phases: PHASES,
  rate: RATE,
  events,
  loadStatuses: statuses,
  errors: result.errors,
  timeouts: result.timeouts,
  perSecond: Object.fromEntries([...perSecond].sort((a, b) => a[0] - b[0])),
  probe: {
    whileDown: {
      statuses: count(during.map((p) => p.status)),
      messages: [...new Set(during.map((p) => p.message?.replace(/\d+s$/, 'Ns')))],
    },
    secondsFromRestartToFirst200: firstOkAfter ? Math.round((firstOkAfter.t - upAt) * 10) / 10 : null,
    afterRecovery: count(after.filter((p) => firstOkAfter && p.t >= firstOkAfter.t).map((p) => p.status)),
  },
  sameViewgateProcess: stillSamePid,
  viewgateExitCode: viewgateExit,
  timeline,
};

function count(xs) {
  const out = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `fault-${report.machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify({ ...report, timeline: `${timeline.length} probes`, perSecond: undefined }, null, 2));
console.log(`written: ${file}`);
if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
const ok =
  stillSamePid &&
  during.every((p) => p.status === 503 && /^store "crm" is unavailable/.test(p.message ?? '')) &&
  firstOkAfter !== undefined &&
  after.filter((p) => p.t >= firstOkAfter.t).every((p) => p.status === 200);
console.log(ok ? 'fault run: OK' : 'fault run: FAILED');
process.exitCode = ok ? 0 : 1;
