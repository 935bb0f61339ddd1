// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked by reading them.
import type { MongoConfig } from '../../src/sources/mongodb/index.js';
import type { MysqlConfig } from '../../src/sources/mysql/index.js';
import type { PostgresConfig } from '../../src/sources/postgres/index.js';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'));
  const vg = compose.services.viewgate;

  it('runs MySQL 8, PostgreSQL 16, MongoDB 7 and viewgate', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['mongo', 'mysql', 'postgres', 'viewgate']);
    expect(compose.services.mysql.image).toMatch(/^mysql:8/);
    expect(compose.services.postgres.image).toMatch(/^postgres:16/);
    expect(compose.services.mongo.image).toMatch(/^mongo:7/);
    expect(vg.build).toBe('.');
    expect(vg.ports).toEqual(['8080:8080']);
  });

  it('seeds every store from the same demo files the local loader uses', () => {
    const mounts = Object.values(compose.services).flatMap((s: any) => s.volumes ?? []) as string[];
    for (const m of mounts) {
      const local = m.split(':')[0]!;
      expect(existsSync(new URL(local, root)), local).toBe(true);
    }
    expect(mounts.some((m) => m.startsWith('./examples/reference/data/crm.sql:'))).toBe(true);
    expect(mounts.some((m) => m.startsWith('./examples/reference/data/app.sql:'))).toBe(true);
    expect(mounts.some((m) => m.startsWith('./examples/reference/data/events.json:'))).toBe(true);
  });

  it('points the reference config at the compose services, with matching ports and databases', () => {
    const cfgPath = vg.command[vg.command.indexOf('--config') + 1] as string;
    expect(cfgPath).toBe('/app/examples/reference/viewgate.yaml');
    const config = parseConfig(read('examples/reference/viewgate.yaml'), 'viewgate.yaml', vg.environment);
    const hostPort = (url: string) => {
      const u = new URL(url);
      return [u.hostname, u.port];
    };
    const published = (svc: string) => compose.services[svc].ports.map((p: string) => p.split(':')[1]);
    const crm = config.sources.crm as MysqlConfig;
    const app = config.sources.app as PostgresConfig;
    const analytics = config.sources.analytics as MongoConfig;
    expect(hostPort(crm.url)).toEqual(['mysql', '3306']);
    expect(published('mysql')).toContain('3306');
    expect(new URL(crm.url).pathname).toBe(`/${compose.services.mysql.environment.MYSQL_DATABASE}`);
    expect(new URL(crm.url).username).toBe(compose.services.mysql.environment.MYSQL_USER);
    expect(hostPort(app.url)).toEqual(['postgres', '5432']);
    expect(new URL(app.url).pathname).toBe(`/${compose.services.postgres.environment.POSTGRES_DB}`);
    expect(hostPort(analytics.url)).toEqual(['mongo', '27017']);
    expect(analytics.database).toBe('analytics');
    expect(read('examples/reference/mongo-init.js')).toContain("getSiblingDB('analytics').events");
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.server.port).toBe(8080);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  it('is multi-stage, production dependencies only, non-root', () => {
    expect(text.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/COPY --from=build \/src\/dist/);
  });
});
