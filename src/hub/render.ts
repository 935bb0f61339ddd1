// `hub plan` output: the DDL that builds the hub from an empty database, as a psql script.
// Secrets are psql variables (`:'crm_password'`), so the script runs as
//   psql -v ON_ERROR_STOP=1 -v crm_password=... -f plan.sql
// and never contains a password.
import { redact } from '../sources/store-errors.js';
import type { HubPlan } from './ddl.js';
import { createStatements, describeObject, type HubObject, type Secret } from './objects.js';

export function secretsOf(plan: HubPlan): Secret[] {
  const out: Secret[] = [];
  for (const o of plan.objects) {
    if (o.kind !== 'user mapping') continue;
    for (const v of Object.values(o.options)) if (typeof v !== 'string') out.push(v);
  }
  return out;
}

function section(o: HubObject): string | undefined {
  switch (o.kind) {
    case 'extension':
      return 'Foreign data wrappers';
    case 'server':
      return `Source "${o.source}"`;
    case 'grant':
      return 'Read access for viewgate';
    default:
      return undefined;
  }
}

export function renderPlan(plan: HubPlan): string {
  const vars = [...new Set(secretsOf(plan).map((s) => s.variable))];
  const lines = [
    `-- viewgate hub plan: hub "${plan.hub}" (${redact(plan.url, [])}), services ${plan.services.map((s) => `"${s}"`).join(', ')}`,
    `-- Apply with \`viewgate hub apply\`, or run with psql -v ON_ERROR_STOP=1${vars.map((v) => ` -v ${v}=...`).join('')} -f FILE`,
    'SET standard_conforming_strings = on;',
    'BEGIN;',
  ];
  let current: string | undefined;
  for (const o of plan.objects) {
    let title = section(o);
    if (o.kind === 'schema' && plan.services.includes(o.name)) title = `Service "${o.name}"`;
    if (title && title !== current) {
      lines.push('', `-- ${title}`);
      current = title;
    }
    lines.push(`-- ${describeObject(o)}`);
    for (const s of createStatements(o, 'placeholder')) lines.push(`${s};`);
  }
  if (!plan.grantee) lines.push('', '-- The hub URL names no user, so no read grants are generated.');
  lines.push('', 'COMMIT;', '');
  return lines.join('\n');
}
