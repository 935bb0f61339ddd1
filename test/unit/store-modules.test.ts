// A store is one folder under src/sources/ and one line in src/sources/registry.ts: the config
// schema and its load-time checks come from the registered descriptors, and the engine, the
// catalog and the policy code never name a store kind.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { registerStoreConfig } from '../../src/config/stores.js';
import { STORES } from '../../src/sources/registry.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function problems(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('store modules', () => {
  it('registers every store folder once, and nothing else', () => {
    const folders = readdirSync(join(SRC, 'sources')).filter((f) => {
      const p = join(SRC, 'sources', f);
      return statSync(p).isDirectory() && readdirSync(p).includes('index.ts');
    });
    const registered = STORES.map((s) => s.kind);
    expect(new Set(registered).size).toBe(registered.length);
    // `sql` holds what the SQL stores share; it is not a store.
    expect(registered.sort()).toEqual(folders.filter((f) => f !== 'sql').sort());
    for (const s of STORES) expect(readFileSync(join(SRC, 'sources', s.kind, 'index.ts'), 'utf8')).toContain(`kind: '${s.kind}'`);
  });

  it('keeps store kinds out of the engine, the gateway, the policy and the query model', () => {
    const kinds = STORES.map((s) => s.kind);
    const offenders: string[] = [];
    for (const dir of ['engine', 'gateway', 'policy', 'query']) {
      for (const file of tsFiles(join(SRC, dir))) {
        const text = readFileSync(file, 'utf8');
        for (const k of kinds)
          if (text.includes(`'${k}'`) || text.includes(`"${k}"`)) offenders.push(`${file.slice(SRC.length)} names '${k}'`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('refuses an unknown kind, naming the registered ones', () => {
    const found = problems(`sources:\n  x: { kind: oracle, url: "oracle://h/db" }\nservices: {}\nroles: {}\n`);
    expect(found).toEqual([`sources.x.kind: unknown store kind "oracle"; the kinds are: ${STORES.map((s) => s.kind).join(', ')}`]);
  });

  it("validates an entry with its kind's own schema", () => {
    expect(problems(`sources:\n  x: { kind: postgres, url: "postgres://h/db", collections: {} }\nservices: {}\nroles: {}\n`)).toEqual([
      'sources.x: unknown key "collections"',
    ]);
  });

  it('takes a newly registered kind with its schema and capabilities, with no change to the config code', () => {
    registerStoreConfig({
      kind: 'csvfile',
      config: z.strictObject({ kind: z.literal('csvfile'), path: z.string().min(1), description: z.string().optional() }),
      declaredTables: () => ['rates'],
      capabilities: { hubHost: false, auditSink: false },
    });
    const base = `sources:\n  files: { kind: csvfile, path: ./rates.csv }\n`;
    expect(problems(`${base}services:\n  ref: { source: files, tables: [rates] }\nroles: {}\n`)).toEqual([]);
    expect(problems(`${base}services:\n  ref: { source: files, tables: [fx] }\nroles: {}\n`)).toEqual([
      'services.ref.tables.0: source "files" declares no table "fx"; declare it (and its columns) under sources.files',
    ]);
    expect(problems(`sources:\n  files: { kind: csvfile }\nservices: {}\nroles: {}\n`)).toEqual([
      'sources.files.path: missing (expected string)',
    ]);
    expect(
      problems(`${base}services:\n  hubbed: { engine: hub, source: files, views: { v: { sql: "SELECT 1 AS x" } } }\nroles: {}\n`),
    ).toEqual(['services.hubbed.source: the hub "files" must be a postgres source']);
    expect(problems(`${base}services: {}\nroles: {}\naudit: { sink: postgres, source: files }\n`)).toEqual([
      'audit.source: "files" is not a postgres source',
    ]);
  });
});
