// The `sqlite` sources entry: what the config schema accepts and refuses, with paths and lines.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

const config = (source: string, env: Record<string, string> = {}): Config =>
  parseConfig(
    `
sources:
  ref: ${source}
services:
  ref: { source: ref, tables: [countries] }
roles:
  reader:
    grants: { "*": { read: true } }
`,
    'test.yaml',
    env,
  );

function problems(source: string, env: Record<string, string> = {}): string[] {
  try {
    config(source, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}${p.line ? `@${p.line}` : ''}: ${p.message}`);
  }
  return [];
}

describe('config: sqlite sources', () => {
  it('accepts a path, with a 5 s busy timeout by default', () => {
    expect(config('{ kind: sqlite, path: ./reference.db }').sources.ref).toEqual({ kind: 'sqlite', path: './reference.db', timeout: 5000 });
    expect(
      config('{ kind: sqlite, path: "${REF_DB}", timeout: 250ms, description: Countries }', { REF_DB: '/data/ref.db' }).sources.ref,
    ).toEqual({
      kind: 'sqlite',
      path: '/data/ref.db',
      timeout: 250,
      description: 'Countries',
    });
  });

  it('refuses a missing or empty path, keys of networked stores and bad durations', () => {
    expect(problems('{ kind: sqlite }')).toEqual([expect.stringMatching(/^sources\.ref\.path@3: /)]);
    expect(problems('{ kind: sqlite, path: "${REF_DB:-}" }')).toEqual([
      expect.stringMatching(/^sources\.ref\.path@3: the path of the SQLite file is empty/),
    ]);
    expect(problems('{ kind: sqlite, path: ./r.db, url: "file:./r.db", pool: 2 }')).toEqual(['sources.ref@3: unknown keys "url", "pool"']);
    expect(problems('{ kind: sqlite, path: ./r.db, timeout: soon }')).toEqual([
      expect.stringMatching(/^sources\.ref\.timeout@3: "soon" is not a duration/),
    ]);
    expect(problems('{ kind: sqlite3, path: ./r.db }')).toEqual([
      expect.stringMatching(/^sources\.ref\.kind@3: unknown store kind "sqlite3"; the kinds are: postgres, mysql, mongodb, sqlite/),
    ]);
  });
});
