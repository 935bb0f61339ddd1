// Reads asked again and again (a dashboard's poll, an agent repeating a call, a hot row read by
// its key) are parsed and governed once (docs/architecture.md, "Plans"):
// - the parsed query per query text: a surface that has the request as one text (REST: the URL,
//   and Accept where it decides the answer; MCP: the tool's arguments) names it, and equal texts
//   share one frozen ClientQuery;
// - per parsed query and caller, the governed query and its response-cache key, kept while the
//   view's access record is the one they were made under (a reload or a rebuilt view makes new
//   records). A caller is the frozen Identity the authenticator keeps per API key or verified token.
// Everything else (authorization, deprecation, rate limits, the cache generation, the store
// query) runs per request. Bounded by the number of plans kept: when full, both memos start over.
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
  /** The whole key under the generation it was last asked with (the gateway's memo). */
  keyed?: { generation: string; key: string };
}

interface KeptPlan extends Plan {
  access: ViewAccess;
}

/** Parsed queries and plans kept in all (a plan holds a governed query: a few kilobytes at most). */
const MAX_KEPT = 4096;

export class QueryPlans {
  private parsed = new Map<string, ClientQuery>();
  private plans = new WeakMap<ClientQuery, Map<Identity, KeptPlan>>();
  private kept = 0;

  /** The query `text` parses to: parsed once (a failure is not kept). Without a text, parsed every time. */
  query(text: string | undefined, parse: () => ClientQuery): ClientQuery {
    if (text === undefined) return parse();
    const known = this.parsed.get(text);
    if (known) return known;
    const q = deepFreeze(parse());
    this.keepOneMore();
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
    // Its engine query is shared by this caller's requests, and the engine and the stores keep
    // what they derive from it (the pushdown, the statement) by its identity: frozen.
    deepFreeze(made.governed.engine);
    // When this starts the memos over, byCaller goes with the old ones.
    if (kept === undefined) this.keepOneMore();
    byCaller.set(identity, { ...made, access });
    return made;
  }

  private keepOneMore(): void {
    if (this.kept >= MAX_KEPT) {
      this.parsed = new Map();
      this.plans = new WeakMap();
      this.kept = 0;
    }
    this.kept++;
  }
}
