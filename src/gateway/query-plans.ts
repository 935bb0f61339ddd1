// Reads asked again and again (a dashboard's poll, an agent repeating a call, a hot row read by
// its key) are parsed and governed once (docs/architecture.md, "Plans"):
// - the parsed query per query text: a surface that has the request as one text (REST: the URL,
//   and Accept where it decides the answer; MCP: the tool's arguments) names it, and equal texts
//   share one frozen ClientQuery;
// - per parsed query and caller, the governed query and its response-cache key, kept while the
//   view's access record is the one they were made under (a reload or a rebuilt view makes new
//   records). A caller is the frozen Identity the authenticator keeps per API key or verified token.
// Everything else (authorization, deprecation, rate limits, the cache generation, the store
// query) runs per request. Both memos are bounded; a full one starts over.
import type { ClientQuery } from '../query/client-query.js';
import type { ViewAccess } from '../policy/access.js';
import type { GovernedQuery } from '../policy/govern.js';
import type { Identity } from '../policy/identity.js';
import { deepFreeze } from '../values.js';

/** A query governed for one caller under one access record. */
export interface Plan {
  governed: GovernedQuery;
  /** The response-cache key without the generation (grants with cacheTtl only). */
  cacheKey?: string;
}

interface KeptPlan extends Plan {
  access: ViewAccess;
}

/** Distinct query texts kept. */
const MAX_TEXTS = 1024;
/** Callers kept per query text. */
const MAX_CALLERS = 64;

export class QueryPlans {
  private readonly parsed = new Map<string, ClientQuery>();
  private readonly plans = new WeakMap<ClientQuery, Map<Identity, KeptPlan>>();

  /** The query `text` parses to: parsed once (a failure is not kept). Without a text, parsed every time. */
  query(text: string | undefined, parse: () => ClientQuery): ClientQuery {
    if (text === undefined) return parse();
    const known = this.parsed.get(text);
    if (known) return known;
    const q = deepFreeze(parse());
    if (this.parsed.size >= MAX_TEXTS) this.parsed.clear();
    this.parsed.set(text, q);
    this.plans.set(q, new Map());
    return q;
  }

  /** The plan of a query from query() for this caller under `access`: made once while both stay the same. */
  plan(q: ClientQuery, identity: Identity, access: ViewAccess, make: () => Plan): Plan {
    const byCaller = this.plans.get(q);
    if (byCaller === undefined || !Object.isFrozen(identity)) return make();
    const kept = byCaller.get(identity);
    if (kept?.access === access) return kept;
    const made = make();
    if (byCaller.size >= MAX_CALLERS) byCaller.clear();
    byCaller.set(identity, { ...made, access });
    return made;
  }
}
