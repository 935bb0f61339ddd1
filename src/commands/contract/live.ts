// The live contract: the config plus every store introspected now, seen through the same catalog,
// policy, MCP server and OpenAPI builder that `serve` answers callers with (docs/contracts.md).
import type { Config } from '../../config/schema.js';
import type { ViewId } from '../../config/view-id.js';
import { operatorDetail } from '../../errors.js';
import { Catalog } from '../../gateway/catalog.js';
import { checkViews } from '../../gateway/checked-views.js';
import { Gateway } from '../../gateway/gateway.js';
import { pastSunset } from '../../gateway/deprecation.js';
import type { Identity } from '../../gateway/index.js';
import { toolNames } from '../../mcp/tool-list.js';
import { Audit } from '../../ops/audit.js';
import { MemoryCacheStore, ResponseCache } from '../../ops/cache.js';
import { createLogger, redactUrl } from '../../ops/logger.js';
import { Metrics } from '../../ops/metrics.js';
import { MemoryRateLimiter } from '../../ops/rate-limit.js';
import { Authenticator } from '../../policy/identity.js';
import { openApiFor } from '../../rest/openapi.js';
import { Sources } from '../../sources/index.js';
import { CONTRACT_FORMAT, type Contract, type ContractView, type RoleContract, type RoleView } from './model.js';

/** A store that does not answer: the contract cannot be read from it (exit 2). */
export class StoreUnreachable extends Error {
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`store "${source}" cannot be reached: ${detail}`);
  }
}

interface LiveContract {
  contract: Contract;
  /** Views that do not build from their sources now (or whose grants do not fit them), with why. */
  problems: Map<string, string>;
}

/** The address OpenAPI documents name as their server in a contract (the paths are what count). */
const CONTRACT_SERVER_URL = 'http://viewgate';

export async function liveContract(config: Config): Promise<LiveContract> {
  const sources = new Sources(config);
  await sources.connect();
  try {
    await Promise.all(
      sources.all().map(async (s) => {
        try {
          await s.ping();
        } catch (err) {
          throw new StoreUnreachable(s.name, redactUrl(operatorDetail(err)));
        }
      }),
    );
    // Ask every store afresh (MongoDB: do the collections exist?).
    for (const s of sources.all()) s.refreshCatalog?.();
    const catalog = new Catalog(config, sources);
    const gateway = contractGateway(config, catalog);
    const problems = new Map<string, string>();
    const views: Record<string, ContractView> = {};
    for (const e of await checkViews(catalog, gateway.policy)) {
      if (!e.view || e.policy) {
        problems.set(e.id, redactUrl(e.problem ?? e.policy!.map((p) => `${p.path}: ${p.message}`).join('; ')));
        continue;
      }
      const deprecated = catalog.deprecation(e.id);
      views[e.id] = {
        description: e.view.description,
        key: [...e.view.key],
        columns: e.view.columns.map((c) => ({
          name: c.name,
          type: c.type,
          ...(c.storeType ? { storeType: c.storeType } : {}),
          ...(c.description ? { description: c.description } : {}),
        })),
        ...(deprecated ? { deprecated } : {}),
      };
    }
    const roles: Record<string, RoleContract> = {};
    for (const role of Object.keys(config.roles)) roles[role] = await roleContract(gateway, role, problems);
    return { contract: { format: CONTRACT_FORMAT, views, roles }, problems };
  } finally {
    await sources.close();
  }
}

/** The pipeline as `serve` builds it, without audit, shared cache or logs: only its answers are read. */
function contractGateway(config: Config, catalog: Catalog): Gateway {
  const metrics = new Metrics({ processMetrics: false });
  const log = createLogger('silent', 'stderr');
  return new Gateway(config, catalog, {
    auth: new Authenticator(config),
    cache: new ResponseCache(new MemoryCacheStore(), metrics),
    limiter: new MemoryRateLimiter(),
    audit: new Audit(config.audit, log, undefined),
    metrics,
    log,
  });
}

/** A caller of `role` with no claims: what describe and tools/list show that role. */
export function roleIdentity(role: string): Identity {
  return { subject: `contract:${role}`, identityKey: `contract:${role}`, role, method: 'api-key', claims: {} };
}

async function roleContract(gateway: Gateway, role: string, problems: Map<string, string>): Promise<RoleContract> {
  const identity = roleIdentity(role);
  const views: Record<string, RoleView> = {};
  for (const summary of gateway.listViews(identity)) {
    if (problems.has(summary.id)) continue;
    // After its sunset a view answers 410: no role reads it any more.
    if (summary.deprecated && pastSunset(summary.deprecated)) continue;
    views[summary.id] = await roleView(gateway, identity, summary.id);
  }
  const openapi = (await openApiFor(gateway, identity, CONTRACT_SERVER_URL)) as { paths: Record<string, Record<string, unknown>> };
  const restOperations = Object.entries(openapi.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  return { views, mcpTools: await toolNames(gateway, identity), restOperations };
}

export async function roleView(gateway: Gateway, identity: Identity, id: ViewId): Promise<RoleView> {
  const d = await gateway.describeView(identity, id);
  const access = gateway.policy.access(identity.role, await gateway.catalog.get(id))!;
  const write = (access.grant as { write?: unknown }).write;
  return {
    grant: access.grantKey,
    columns: d.columns.map((c) => ({
      name: c.name,
      type: c.type,
      masked: c.masked,
      ...(c.mask ? { mask: c.mask } : {}),
      filterable: c.filterable,
    })),
    maxLimit: d.maxLimit,
    rights: {
      read: access.read,
      aggregate: access.aggregate,
      sql: access.grant.sql,
      export: access.export,
      explain: access.explain,
      ...(access.export ? { maxExportRows: access.maxExportRows } : {}),
      ...(access.minGroupSize ? { minGroupSize: access.minGroupSize.k } : {}),
      ...(write !== undefined ? { write } : {}),
    },
  };
}
