// `viewgate hub plan | apply | refresh`.
//   plan    [service ...]                      the DDL that builds each hub from empty (secrets as psql variables)
//   apply   [service ...] [--admin-url URL] [--dry-run]
//   refresh service.view [--admin-url URL]
// apply and refresh connect with --admin-url (or VIEWGATE_HUB_ADMIN_URL), else with the hub
// source's own URL. Creating extensions and servers usually needs a superuser; the hub URL's user
// (viewgate's login for reads) then only gets read access to the service schemas.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { configPath, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { isPostgresConfig } from '../sources/postgres/index.js';
import { redact, urlSecrets } from '../sources/store-errors.js';
import { pgConnection } from '../sources/postgres/ssl.js';
import type { StoreTls } from '../config/tls.js';
import { operatorDetail } from '../errors.js';
import { applyPlan, HubApplyError, type Change } from '../hub/apply.js';
import { planHubs, type HubPlan } from '../hub/ddl.js';
import { hubServices } from '../hub/services.js';
import { HubConfigError } from '../hub/names.js';
import { HubSession } from '../hub/passthrough/session.js';
import { refreshHubView, refreshState } from '../hub/refresh.js';
import { renderPlan } from '../hub/render.js';

export interface HubIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const USAGE = `Usage:
  viewgate hub plan    --config FILE [service ...]
  viewgate hub apply   --config FILE [service ...] [--admin-url URL] [--dry-run]
  viewgate hub refresh --config FILE service.view [--admin-url URL]
--admin-url (or VIEWGATE_HUB_ADMIN_URL) is the hub connection apply and refresh use; default: the hub source's URL.`;

const defaultIo: HubIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

export async function hubCommand(args: string[], io: HubIo = defaultIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'plan' && sub !== 'apply' && sub !== 'refresh') {
    io.err(`viewgate hub: ${sub ? `unknown command "${sub}"` : 'a command is required'}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'admin-url': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  const config = loadConfigFile(configPath(values.config, io.env), io.env).config;
  const adminUrl = values['admin-url'] ?? (io.env.VIEWGATE_HUB_ADMIN_URL || undefined);
  try {
    if (sub === 'plan') return await plan(config, positionals, io);
    if (sub === 'apply') return await apply(config, positionals, adminUrl, values['dry-run'] ?? false, io);
    return await refresh(config, positionals, adminUrl, io);
  } catch (err) {
    if (err instanceof HubConfigError || err instanceof HubApplyError) {
      io.err(`viewgate hub ${sub}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function plan(config: Config, services: string[], io: HubIo): Promise<number> {
  const plans = await planHubs(config, services.length > 0 ? services : undefined);
  if (plans.length === 0) {
    io.err('viewgate hub plan: the config has no `engine: hub` services\n');
    return 1;
  }
  io.out(plans.map(renderPlan).join('\n'));
  return 0;
}

function connectionFor(plan: HubPlan, adminUrl: string | undefined, plans: number): string {
  if (adminUrl && plans > 1) {
    throw new HubConfigError('--admin-url', 'the services live on several hubs; apply them one hub at a time (name the services)');
  }
  return adminUrl ?? plan.url;
}

async function withClient<T>(url: string, tls: StoreTls | undefined, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(pgConnection(url, tls));
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new HubApplyError(
      `cannot connect to the hub at ${redact(url, urlSecrets(url))}: ${redact((err as Error).message, urlSecrets(url))}`,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export function formatChanges(plan: HubPlan, changes: Change[], dryRun: boolean): string {
  const made = changes.filter((c) => c.action !== '=');
  const same = changes.length - made.length;
  const head = `hub "${plan.hub}" (${plan.services.join(', ')})${dryRun ? ' [dry run: rolled back]' : ''}:`;
  if (made.length === 0) return `${head} no changes (${same} objects up to date)\n`;
  const lines = made.map((c) => `  ${c.action} ${c.what}${c.detail ? `: ${c.detail}` : ''}`);
  const count = (a: Change['action']) => made.filter((c) => c.action === a).length;
  return `${head}\n${lines.join('\n')}\n  ${count('+')} created, ${count('~')} changed, ${count('-')} dropped, ${same} unchanged\n`;
}

async function apply(config: Config, services: string[], adminUrl: string | undefined, dryRun: boolean, io: HubIo): Promise<number> {
  const plans = await planHubs(config, services.length > 0 ? services : undefined);
  if (plans.length === 0) {
    io.err('viewgate hub apply: the config has no `engine: hub` services\n');
    return 1;
  }
  for (const p of plans) {
    const changes = await withClient(connectionFor(p, adminUrl, plans.length), p.tls, (c) => applyPlan(c, p, { dryRun }));
    io.out(formatChanges(p, changes, dryRun));
  }
  return 0;
}

async function refresh(config: Config, positionals: string[], adminUrl: string | undefined, io: HubIo): Promise<number> {
  const id = positionals[0];
  const dot = id?.indexOf('.') ?? -1;
  if (!id || positionals.length !== 1 || dot < 0) {
    io.err(`viewgate hub refresh: name one view as service.view\n${USAGE}\n`);
    return 2;
  }
  const [service, view] = [id.slice(0, dot), id.slice(dot + 1)];
  const svc = hubServices(config).find(([s]) => s === service)?.[1];
  if (!svc?.views[view]) throw new HubConfigError(id, `no hub view "${id}"`);
  if (!svc.views[view]!.materialize) throw new HubConfigError(id, `"${id}" is not materialized; there is nothing to refresh`);
  const hubSource = config.sources[svc.source];
  if (!hubSource || !isPostgresConfig(hubSource)) throw new HubConfigError(id, `the hub "${svc.source}" must be a postgres source`);
  const url = adminUrl ?? hubSource.url;
  const session = new HubSession({ name: svc.source, url, timeoutMs: 0, pool: 1, tls: hubSource.tls });
  const state = refreshState(session, id);
  try {
    const outcome = await refreshHubView(session, service, view, state);
    if (outcome.status === 'skipped') io.out(`${id}: skipped, another refresh of it is running\n`);
    else io.out(`${id}: refreshed at ${outcome.at} in ${state.lastDurationMs} ms\n`);
    return 0;
  } catch (err) {
    io.err(`viewgate hub refresh: ${id}: ${operatorDetail(err)}\n`);
    return 1;
  } finally {
    await session.close();
  }
}
