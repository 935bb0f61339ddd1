// `viewgate check`: one line per source and view with its status, the exact problem and, for a
// store failure, what to do next.
import type { Config } from '../config/schema.js';
import { isTableService } from '../config/schema.js';
import { Sources } from '../sources/index.js';
import { Catalog } from '../gateway/catalog.js';
import { checkViews } from '../gateway/checked-views.js';
import { Policy } from '../policy/policy.js';
import { parseViewSql } from '../engine/embedded/parse.js';
import { redactUrl } from '../ops/logger.js';
import { operatorDetail } from '../errors.js';
import { nextStep } from './check-hints.js';
import { writeWarnings } from './write-warnings.js';
import { hubGuardWarnings } from './hub-guard-warnings.js';
import { keyExpiryWarnings, trustProxyWarnings } from './access-warnings.js';

export interface CheckReport {
  ok: boolean;
  lines: string[];
}

const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));

/** The problem, then the next step when it is a store's failure we recognise. */
function withNextStep(message: string): string {
  const at = message.indexOf('store "');
  const next = at < 0 ? undefined : nextStep(message.slice(at));
  return next ? `${message} -> ${next}` : message;
}

/** Settings that load but are not read with this config (written for another audit sink). */
export function configWarnings(config: Config): string[] {
  const a = config.audit;
  const out: string[] = [];
  if (a.path !== undefined && a.sink !== 'file') out.push(`audit.path is read only by \`sink: file\`; the sink is "${a.sink}"`);
  if (a.source !== undefined && a.sink !== 'postgres') out.push(`audit.source is read only by \`sink: postgres\`; the sink is "${a.sink}"`);
  out.push(...keyExpiryWarnings(config), ...trustProxyWarnings(config));
  return out;
}

export async function runCheck(config: Config): Promise<CheckReport> {
  const lines: string[] = [
    'config  ok    ' +
      `${Object.keys(config.sources).length} sources, ${Object.keys(config.services).length} services, ${Object.keys(config.roles).length} roles`,
  ];
  for (const w of configWarnings(config)) lines.push(`config  WARN  ${w}`);
  let ok = true;
  const sources = new Sources(config);
  const unreachable = new Set<string>();
  try {
    await sources.connect();
    for (const s of sources.all()) {
      try {
        await s.ping();
        lines.push(`source  ok    ${pad(s.name, 24)}${s.kind}`);
      } catch (err) {
        ok = false;
        unreachable.add(s.name);
        lines.push(`source  FAIL  ${pad(s.name, 24)}${s.kind}: ${withNextStep(redactUrl(operatorDetail(err)))}`);
      }
    }
    const entries = await checkViews(new Catalog(config, sources), new Policy(config));
    for (const e of entries) {
      // A MongoDB view is built from declared columns without touching the store, so a view that
      // was built may still read a store that is down.
      const down = e.view && !e.problem ? (await viewSources(config, e.service, e.name)).filter((s) => unreachable.has(s)) : [];
      if (e.view && down.length === 0) {
        lines.push(`view    ok    ${pad(e.id, 24)}${e.view.columns.length} columns, key (${e.view.key.join(', ') || 'none'})`);
      } else if (down.length > 0) {
        ok = false;
        lines.push(
          `view    FAIL  ${pad(e.id, 24)}reads source${down.length > 1 ? 's' : ''} ${down.map((s) => `"${s}"`).join(', ')}, which cannot be reached (see the source line above)`,
        );
      } else {
        ok = false;
        lines.push(`view    FAIL  ${pad(e.id, 24)}${withNextStep(redactUrl(e.problem ?? 'unknown problem'))}`);
      }
    }
    const built = new Map(entries.flatMap((e) => (e.view ? [[e.id, e.view] as const] : [])));
    for (const w of await writeWarnings(config, built)) lines.push(`policy  WARN  ${w}`);
    for (const w of await hubGuardWarnings(config)) lines.push(`policy  WARN  ${w}`);
    for (const p of entries.flatMap((e) => e.policy ?? [])) {
      ok = false;
      lines.push(`policy  FAIL  ${pad(p.path, 24)}${p.message}`);
    }
  } finally {
    await sources.close();
  }
  lines.push(ok ? 'all checks passed' : 'some checks failed (see FAIL lines above)');
  return { ok, lines };
}

/** The sources a view reads: its service's source, a hub's foreign sources, or the sources its SQL names. */
async function viewSources(config: Config, service: string, view: string): Promise<string[]> {
  const svc = config.services[service];
  if (!svc) return [];
  if (isTableService(svc)) return [svc.source];
  if (svc.engine === 'hub') return [...(svc.source ? [svc.source] : []), ...Object.keys(svc.foreign ?? {})];
  const sql = svc.views[view]?.sql;
  if (!sql) return [];
  try {
    const syntax = await parseViewSql(`${service}.${view}`, sql);
    return [...new Set([syntax.from.source, ...syntax.joins.map((j) => j.relation.source)])];
  } catch {
    return []; // the view was built, so its SQL parses; nothing to add if it somehow does not
  }
}
