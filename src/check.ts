// `viewgate check`: one line per source and view with its status and the exact problem.
import type { Config } from './config/schema.js';
import { Sources } from './sources/index.js';
import { Catalog } from './engine/catalog.js';
import { redactUrl } from './ops/logger.js';
import { operatorDetail } from './errors.js';

export interface CheckReport {
  ok: boolean;
  lines: string[];
}

const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));

export async function runCheck(config: Config): Promise<CheckReport> {
  const lines: string[] = ['config  ok    ' + `${Object.keys(config.sources).length} sources, ${Object.keys(config.services).length} services, ${Object.keys(config.roles).length} roles`];
  let ok = true;
  const sources = new Sources(config);
  try {
    await sources.connect();
    for (const s of sources.all()) {
      try {
        await s.ping();
        lines.push(`source  ok    ${pad(s.name, 24)}${s.kind}`);
      } catch (err) {
        ok = false;
        lines.push(`source  FAIL  ${pad(s.name, 24)}${s.kind}: ${redactUrl(operatorDetail(err))}`);
      }
    }
    const catalog = new Catalog(config, sources);
    const entries = await catalog.buildAll();
    for (const e of entries) {
      if (e.view) {
        lines.push(`view    ok    ${pad(e.id, 24)}${e.view.columns.length} columns, key (${e.view.key.join(', ') || 'none'})`);
      } else {
        ok = false;
        lines.push(`view    FAIL  ${pad(e.id, 24)}${redactUrl(e.problem ?? 'unknown problem')}`);
      }
    }
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
