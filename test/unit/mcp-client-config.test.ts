// The pieces of `viewgate mcp-config` that need no process: which variables a config references,
// and the entry built from them. The printed entry is started for real in test/e2e/mcp-config.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envReferences } from '../../src/config/load.js';
import { API_KEY_PLACEHOLDER, buildClientConfig, viewgateBin } from '../../src/mcp/client-config.js';

describe('envReferences', () => {
  it('finds ${NAME} and ${NAME:-default} in values, never in comments or keys', () => {
    const refs = envReferences(
      [
        '# ${IN_A_COMMENT}',
        'sources:',
        '  a: { kind: postgres, url: "postgres://${PG_USER:-me}@${PG_HOST}/db" }',
        '  ${NOT_A_KEY_VAR}: 1',
        'list: ["${IN_A_LIST:-x}"]',
      ].join('\n'),
    );
    expect(refs).toEqual([
      { name: 'PG_USER', hasDefault: true },
      { name: 'PG_HOST', hasDefault: false },
      { name: 'IN_A_LIST', hasDefault: true },
    ]);
  });

  it('treats a variable used once without a default as required', () => {
    expect(envReferences('a: "${X:-1}"\nb: "${X}"\nc: "${Y}"\nd: "${Y:-2}"')).toEqual([
      { name: 'X', hasDefault: false },
      { name: 'Y', hasDefault: false },
    ]);
  });

  it("lists the reference scenario's variables, all with defaults", () => {
    const refs = envReferences(readFileSync(new URL('../../examples/reference/viewgate.yaml', import.meta.url), 'utf8'));
    expect(refs.map((r) => r.name)).toEqual(expect.arrayContaining(['CRM_MYSQL_URL', 'APP_PG_URL', 'EVENTS_MONGO_URL', 'EVENTS_MONGO_DB']));
    expect(refs.every((r) => r.hasDefault)).toBe(true);
  });
});

describe('buildClientConfig', () => {
  const base = {
    name: 'viewgate',
    configFile: '/srv/viewgate.yaml',
    references: [
      { name: 'SET_HERE', hasDefault: false },
      { name: 'DEFAULTED', hasDefault: true },
      { name: 'DEFAULTED_BUT_SET', hasDefault: true },
      { name: 'MISSING', hasDefault: false },
    ],
    env: { SET_HERE: 's', DEFAULTED_BUT_SET: 'd', UNRELATED: 'u' },
    nodePath: '/usr/bin/node',
    binPath: '/opt/viewgate/bin/viewgate.js',
  };

  it('gives Claude Desktop an mcpServers entry with the set values and placeholders for the rest', () => {
    const out = buildClientConfig({ ...base, client: 'claude', identity: { variable: 'VIEWGATE_API_KEY' } });
    expect(out.json).toEqual({
      mcpServers: {
        viewgate: {
          command: '/usr/bin/node',
          args: ['/opt/viewgate/bin/viewgate.js', 'mcp', '--config', '/srv/viewgate.yaml'],
          env: { VIEWGATE_API_KEY: API_KEY_PLACEHOLDER, SET_HERE: 's', DEFAULTED_BUT_SET: 'd', MISSING: 'REPLACE_WITH_MISSING' },
        },
      },
    });
    expect(out.todo).toHaveLength(2);
    expect(out.todo.join('\n')).toMatch(/VIEWGATE_API_KEY is a placeholder[\s\S]*MISSING is not set here/);
  });

  it('gives VS Code servers with type stdio, and a token as VIEWGATE_TOKEN', () => {
    const out = buildClientConfig({ ...base, client: 'vscode', references: [], identity: { variable: 'VIEWGATE_TOKEN', value: 'a.b.c' } });
    expect(out.json).toEqual({
      servers: {
        viewgate: {
          type: 'stdio',
          command: '/usr/bin/node',
          args: ['/opt/viewgate/bin/viewgate.js', 'mcp', '--config', '/srv/viewgate.yaml'],
          env: { VIEWGATE_TOKEN: 'a.b.c' },
        },
      },
    });
    expect(out.todo).toEqual([]);
  });

  it("points at this installation's bin", () => {
    expect(viewgateBin()).toBe(new URL('../../bin/viewgate.js', import.meta.url).pathname);
  });
});
