// Loads the YAML config: ${ENV} and ${file:PATH} references, zod validation, cross-references. Every problem is
// reported at once, each with its path in the file and its line.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { storeConfigSpec, type StoreConfigSpec } from './stores.js';
import { configSchema, embeddedService, hubService, isTableService, tableService, type Config } from './schema.js';
import { toolProblems } from './tools.js';
import { FILE_REF_RE, readSecretFile } from './secrets.js';

export interface ConfigProblem {
  path: string;
  line?: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the configuration:\n` +
        problems.map((p) => `  - ${p.path || '(top level)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  file: string;
  config: Config;
}

/** The config file from --config or VIEWGATE_CONFIG; a clear error when neither is given. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const file = flag ?? env.VIEWGATE_CONFIG;
  if (!file) throw new Error('no configuration file: pass --config FILE or set VIEWGATE_CONFIG');
  return resolve(file);
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return { file, config: parseConfig(text, file, env) };
}

export function parseConfig(text: string, file = '<config>', env: NodeJS.ProcessEnv = process.env): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', line: lines.linePos(e.pos[0]).line, message: `YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  const problems: ConfigProblem[] = [];
  const lineOf = (path: (string | number)[]) => nodeLine(doc, lines, path);
  const raw = substituteEnv(doc.toJS() ?? {}, env, [], (path, message) =>
    problems.push({ path: path.join('.'), line: lineOf(path), message }),
  );
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...zodProblems(issue, raw, lineOf));
  } else {
    for (const p of crossReferences(parsed.data)) problems.push({ ...p, line: lineOf(splitPath(doc, p.path)) });
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return parsed.data!;
}

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface EnvReference {
  name: string;
  /** `${NAME:-default}`: the config works without the variable. */
  hasDefault: boolean;
}

/**
 * The environment variables a config file's values reference (`${NAME}`, `${NAME:-default}`), in
 * the order they first appear; the same places substitution looks (string values, never keys or
 * comments). Used by `viewgate mcp-config` to fill a desktop assistant's `env` block.
 */
export function envReferences(text: string): EnvReference[] {
  const found = new Map<string, EnvReference>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(ENV_RE)) {
        const prev = found.get(m[1]!);
        // A variable used once without a default is required, whatever its other uses say.
        found.set(m[1]!, { name: m[1]!, hasDefault: (prev?.hasDefault ?? true) && m[2] !== undefined });
      }
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(parseDocument(text, { uniqueKeys: false }).toJS() ?? {});
  return [...found.values()];
}

/** `${file:PATH}` or an environment reference, in one pass so that a file's content is never substituted again. */
const REFERENCE_RE = new RegExp(`${FILE_REF_RE.source}|${ENV_RE.source}`, 'g');

/**
 * Replaces ${NAME}, ${NAME:-default} and ${file:PATH} inside string values (never in keys, never
 * re-parsed as YAML).
 */
function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  report: (path: (string | number)[], message: string) => void,
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE_RE, (_m, file: string | undefined, name: string, fallback: string | undefined) => {
      if (file !== undefined) {
        const secret = readSecretFile(file);
        if ('value' in secret) return secret.value;
        report(path, secret.problem);
        return '';
      }
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      report(path, `environment variable ${name} is not set (write \${${name}:-} to make it optional)`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, i], report));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], report)]));
  }
  return value;
}

type Path = (string | number)[];

/** One issue -> problems; a service that fits neither kind is checked as the kind it looks like. */
function zodProblems(issue: z.core.$ZodIssue, raw: unknown, lineOf: (p: Path) => number | undefined, prefix: Path = []): ConfigProblem[] {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'invalid_union' && path.length === 2 && path[0] === 'services') {
    const svc = valueAt(raw, path);
    if (svc && typeof svc === 'object' && !Array.isArray(svc)) {
      const kind = serviceKind(svc as Record<string, unknown>);
      const branch = issue.errors[kind === 'tables' ? 0 : 1] ?? [];
      return branch.flatMap((i) => zodProblems(i, raw, lineOf, path));
    }
  }
  if (issue.code === 'invalid_union') {
    // A string-or-object value (a table entry, rowSecurity): report the one kind the value has.
    const fitting = issue.errors.filter((b) => !b.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
    if (fitting.length === 1) return fitting[0]!.flatMap((i) => zodProblems(i, raw, lineOf, path));
  }
  const problem = zodProblem(issue, path, lineOf);
  if (issue.code === 'unrecognized_keys' && path.length === 2 && path[0] === 'services') {
    return [withKeyHint(problem, issue, SERVICE_KEYS[serviceKind(valueAt(raw, path) as Record<string, unknown>)])];
  }
  return [problem];
}

const SERVICE_KEYS = {
  tables: Object.keys(tableService.shape),
  views: [...new Set([...Object.keys(embeddedService.shape), ...Object.keys(hubService.shape)])],
} as const;

/** `views`, `engine` or `foreign` make a view service; anything else is read as a table service. */
function serviceKind(svc: Record<string, unknown>): keyof typeof SERVICE_KEYS {
  return 'views' in svc || 'engine' in svc || 'foreign' in svc ? 'views' : 'tables';
}

function withKeyHint(p: ConfigProblem, issue: z.core.$ZodIssue, known: readonly string[]): ConfigProblem {
  if (issue.code !== 'unrecognized_keys') return p;
  const hints = issue.keys.map((k) => closest(k, known)).filter((h): h is string => h !== undefined);
  const suffix = hints.length > 0 ? ` (did you mean ${hints.map((h) => `"${h}"`).join(', ')}?)` : '';
  return { ...p, message: `${p.message}${suffix}; a service takes ${known.map((k) => `\`${k}\``).join(', ')}` };
}

/** The known key within two edits of `key`, if any (typos such as `tabels`). */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** Edits (insert, delete, replace, swap of neighbours) between a and b. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function zodProblem(issue: z.core.$ZodIssue, path: Path, lineOf: (p: Path) => number | undefined): ConfigProblem {
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return { path: path.join('.'), line: lineOf([...path, issue.keys[0]!]) ?? lineOf(path), message };
  }
  if (issue.code === 'invalid_key') message = issue.issues.map((i) => i.message).join('; ') || message;
  if (issue.code === 'invalid_type' && message.includes('received undefined')) message = `missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_union' && path.at(-2) === 'services') {
    message = 'a service has either `source` + `tables` (one store) or `views` with SQL (federated)';
  }
  return { path: path.join('.'), line: lineOf(path), message };
}

/** Splits a dotted path into the document's keys, where keys themselves may hold dots (`s.view`). */
function splitPath(doc: Document, path: string): string[] {
  const parts = path.split('.');
  const out: string[] = [];
  let i = 0;
  while (i < parts.length) {
    let taken = 1;
    for (let k = parts.length - i; k > 1; k--) {
      if (doc.hasIn([...out, parts.slice(i, i + k).join('.')])) {
        taken = k;
        break;
      }
    }
    out.push(parts.slice(i, i + taken).join('.'));
    i += taken;
  }
  return out;
}

function nodeLine(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line;
    if (n > 0 && isScalar(node)) continue;
  }
  return undefined;
}

/** Checks that what names another part of the file names something that exists. */
function crossReferences(c: Config): Omit<ConfigProblem, 'line'>[] {
  const out: Omit<ConfigProblem, 'line'>[] = [];
  const viewNames = new Map<string, Set<string>>();
  for (const [svcName, svc] of Object.entries(c.services)) {
    const views = new Set<string>();
    if (isTableService(svc)) {
      const src = c.sources[svc.source];
      if (!src)
        out.push({ path: `services.${svcName}.source`, message: `unknown source "${svc.source}"; sources are: ${list(c.sources)}` });
      svc.tables.forEach((t, i) => {
        const table = typeof t === 'string' ? t : t.name;
        const declared = src && storeConfigSpec(src.kind)?.declaredTables?.(src);
        if (declared && !declared.includes(table)) {
          out.push({
            path: `services.${svcName}.tables.${i}`,
            message: `source "${svc.source}" declares no table "${table}"; declare it (and its columns) under sources.${svc.source}`,
          });
        }
        views.add(table.includes('.') ? table.split('.').pop()! : table);
      });
    } else {
      for (const v of Object.keys(svc.views)) views.add(v);
      if (svc.engine === 'hub') {
        if (!svc.source) out.push({ path: `services.${svcName}.source`, message: 'a hub service names its hub: a postgres source' });
        else if (!capable(c, svc.source, 'hubHost')) {
          out.push({ path: `services.${svcName}.source`, message: `the hub "${svc.source}" must be a postgres source` });
        } else if (c.sources[svc.source]?.roleUrls)
          out.push({
            path: `sources.${svc.source}.roleUrls`,
            message: `hub reads carry the caller's identity already and use the hub's url: remove roleUrls from the hub "${svc.source}"`,
          });
        for (const [srcName, m] of Object.entries(svc.foreign ?? {})) {
          if (!c.sources[srcName]) out.push({ path: `services.${svcName}.foreign.${srcName}`, message: `unknown source "${srcName}"` });
          void m;
        }
        for (const [vName, v] of Object.entries(svc.views)) {
          if (v.materialize && !v.key) {
            out.push({
              path: `services.${svcName}.views.${vName}.materialize`,
              message: 'a materialized view needs a `key` (REFRESH ... CONCURRENTLY needs a unique index on it)',
            });
          }
        }
      } else if (svc.source || svc.foreign) {
        out.push({ path: `services.${svcName}.engine`, message: '`source` and `foreign` belong to `engine: hub` services' });
      }
    }
    viewNames.set(svcName, views);
  }
  out.push(...toolProblems(c, viewNames));
  const roles = new Set(Object.keys(c.roles));
  c.auth.apiKeys.forEach((k, i) => {
    if (!roles.has(k.role))
      out.push({ path: `auth.apiKeys.${i}.role`, message: `unknown role "${k.role}"; roles are: ${[...roles].join(', ')}` });
  });
  for (const [srcName, src] of Object.entries(c.sources)) {
    for (const r of Object.keys(src.roleUrls ?? {}))
      if (!roles.has(r))
        out.push({ path: `sources.${srcName}.roleUrls.${r}`, message: `unknown role "${r}"; roles are: ${[...roles].join(', ')}` });
  }
  const seenKeys = new Set<string>();
  c.auth.apiKeys.forEach((k, i) => {
    if (seenKeys.has(k.sha256.toLowerCase())) out.push({ path: `auth.apiKeys.${i}.sha256`, message: 'the same key hash appears twice' });
    seenKeys.add(k.sha256.toLowerCase());
  });
  if (c.auth.jwt) {
    const j = c.auth.jwt;
    const verifiers = [j.secret, j.publicKey, j.jwksUrl].filter(Boolean).length;
    if (verifiers !== 1) out.push({ path: 'auth.jwt', message: 'give exactly one of secret (HS256), publicKey (PEM) or jwksUrl' });
    if (j.defaultRole && !roles.has(j.defaultRole)) out.push({ path: 'auth.jwt.defaultRole', message: `unknown role "${j.defaultRole}"` });
    if (j.algorithms?.some((a) => a.toLowerCase() === 'none'))
      out.push({ path: 'auth.jwt.algorithms', message: '"none" is never allowed' });
  }
  const issuer = c.admin?.oidc?.issuer;
  if (issuer !== undefined && !secureOrLoopback(issuer))
    out.push({
      path: 'admin.oidc.issuer',
      message: 'an http:// issuer is accepted only on a loopback address (127.0.0.1, ::1, localhost); use https://',
    });
  for (const [roleName, role] of Object.entries(c.roles)) {
    for (const key of Object.keys(role.grants)) {
      const problem = grantKeyProblem(key, viewNames);
      if (problem) out.push({ path: `roles.${roleName}.grants.${key}`, message: problem });
    }
  }
  if (c.audit.failClosed && c.audit.sink === 'off')
    out.push({ path: 'audit.failClosed', message: 'failClosed needs an audit sink; the sink is "off"' });
  for (const [svcName, svc] of Object.entries(c.services)) {
    if (isTableService(svc)) continue;
    for (const [vName, v] of Object.entries(svc.views)) {
      const exempt = v.rowSecurity && typeof v.rowSecurity === 'object' ? v.rowSecurity.exemptRoles : [];
      exempt.forEach((r: string, i: number) => {
        if (!roles.has(r)) {
          out.push({
            path: `services.${svcName}.views.${vName}.rowSecurity.exemptRoles.${i}`,
            message: `unknown role "${r}"; roles are: ${[...roles].join(', ')}`,
          });
        }
      });
    }
  }
  out.push(...successorProblems(c, viewNames));
  if (c.audit.sink === 'postgres') {
    if (!c.audit.source) out.push({ path: 'audit.source', message: 'the postgres audit sink names a postgres source' });
    else if (!capable(c, c.audit.source, 'auditSink'))
      out.push({ path: 'audit.source', message: `"${c.audit.source}" is not a postgres source` });
  }
  return out;
}

/** A deprecated view's successor is a configured view (docs/contracts.md, "Deprecation"). */
function successorProblems(c: Config, views: Map<string, Set<string>>): Omit<ConfigProblem, 'line'>[] {
  const out: Omit<ConfigProblem, 'line'>[] = [];
  const check = (path: string, successor: string | undefined) => {
    if (successor === undefined) return;
    const dot = successor.indexOf('.');
    if (!views.get(successor.slice(0, dot))?.has(successor.slice(dot + 1))) {
      out.push({ path: `${path}.deprecated.successor`, message: `no view "${successor}" is configured` });
    }
  };
  for (const [svcName, svc] of Object.entries(c.services)) {
    if (isTableService(svc)) {
      svc.tables.forEach((t, i) => typeof t !== 'string' && check(`services.${svcName}.tables.${i}`, t.deprecated?.successor));
    } else {
      for (const [vName, v] of Object.entries(svc.views)) check(`services.${svcName}.views.${vName}`, v.deprecated?.successor);
    }
  }
  return out;
}

function capable(c: Config, source: string, what: keyof StoreConfigSpec['capabilities']): boolean {
  const kind = c.sources[source]?.kind;
  return kind !== undefined && storeConfigSpec(kind)?.capabilities[what] === true;
}

function grantKeyProblem(key: string, views: Map<string, Set<string>>): string | undefined {
  if (key === '*') return undefined;
  const [svc, view, ...rest] = key.split('.');
  if (!svc || !view || rest.length > 0) return 'a grant key is service.view, service.* or *';
  const svcViews = views.get(svc);
  if (!svcViews) return `unknown service "${svc}"; services are: ${[...views.keys()].join(', ')}`;
  if (view !== '*' && !svcViews.has(view)) return `service "${svc}" has no view "${view}"; it has: ${[...svcViews].join(', ')}`;
  return undefined;
}

function list(o: object): string {
  const keys = Object.keys(o);
  return keys.length ? keys.join(', ') : '(none)';
}

/** https, or http on a loopback host (local identity providers, tests). */
function secureOrLoopback(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname));
}
