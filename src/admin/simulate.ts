// POST /admin/api/simulate (docs/console.md, "Simulator"): what one caller would see, computed by
// the code that serves that caller. The identity is the one the authenticator gives a pasted token,
// or a role with claims (as an API key with static claims); then its schema (list_views and
// describe_view as that caller), the exact MCP tools/list, its size in tokens, and the first rows
// of a view (REST query parameters) or of a SQL query, run through the gateway's pipeline as that
// caller: the same policy, masks, row filters and limits, and an audit record naming the
// simulated identity and, in `simulatedBy`, the person who ran it.
import { z } from 'zod';
import type { Runtime } from '../runtime.js';
import { ApiError } from '../errors.js';
import type { Identity } from '../gateway/index.js';
import { errorBody } from '../http/envelope.js';
import { toolList } from '../mcp/tool-list.js';
import { parseRestQuery } from '../query/client-query.js';
import { parseSqlRequest } from '../gateway/sql/request.js';
import { pageBody, sqlBody } from '../rest/routes.js';
import { estimateTokens } from './tokens.js';

const input = z
  .strictObject({
    role: z.string().min(1).optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
    token: z.string().min(1).optional(),
    view: z.string().min(1).optional(),
    query: z.record(z.string(), z.string()).optional(),
    sql: z.string().min(1).optional(),
  })
  .refine((b) => (b.role === undefined) !== (b.token === undefined), 'give either role (with claims) or token, not both and not neither')
  .refine((b) => !(b.token !== undefined && b.claims !== undefined), 'claims go with role; a token carries its own')
  .refine((b) => !(b.view !== undefined && b.sql !== undefined), 'give view (with query) or sql, not both')
  .refine((b) => !(b.query !== undefined && b.view === undefined), 'query needs view');

type SimulateInput = z.infer<typeof input>;

export function parseSimulation(body: unknown): SimulateInput {
  const parsed = input.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new ApiError('bad_request', `the simulation request is not valid: ${at}${issue.message}`);
  }
  return parsed.data;
}

/** The identity the simulated caller would have. */
export async function simulatedIdentity(rt: Runtime, body: SimulateInput, by: Identity, requestId: string): Promise<Identity> {
  if (body.token !== undefined) {
    const who = await rt.gateway.authenticate({ bearer: body.token }, requestId);
    if (!who.ok) throw new ApiError('bad_request', `the pasted token would be refused: ${who.error.message}`);
    return who.identity;
  }
  const role = body.role!;
  if (!Object.hasOwn(rt.config.roles, role)) {
    throw new ApiError('bad_request', `unknown role "${role}"; roles are: ${Object.keys(rt.config.roles).join(', ')}`);
  }
  const principal = `simulated:${role}`;
  return { subject: principal, identityKey: `${principal}|${by.identityKey}`, role, method: 'api-key', claims: { ...body.claims } };
}

/** What `identity` (from simulatedIdentity) would see; `by` is the signed-in person running it. */
export async function simulate(rt: Runtime, body: SimulateInput, identity: Identity, by: Identity, requestId: string) {
  const schema = [];
  for (const summary of rt.gateway.listViews(identity)) {
    schema.push(
      await rt.gateway.describeView(identity, summary.id).catch((err: unknown) => ({ id: summary.id, problem: describeError(err) })),
    );
  }
  const tools = await toolList(rt.gateway, identity);
  return {
    identity: { subject: identity.subject, role: identity.role, claims: identity.claims },
    schema,
    tools,
    toolsTokens: estimateTokens(JSON.stringify({ tools })),
    rows: await rows(rt, body, identity, by, requestId),
  };
}

/** The gateway's answer to that caller, as REST sends it (`{resource, meta}`), or its error envelope with the status. */
async function rows(rt: Runtime, body: SimulateInput, identity: Identity, by: Identity, requestId: string) {
  const common = { requestId, surface: 'rest' as const, caller: { identity }, simulatedBy: by.identityKey };
  if (body.view !== undefined) {
    const view = body.view;
    const query = body.query ?? {};
    const outcome = await rt.gateway.handle(
      { ...common, action: 'query', operation: { op: 'query', view, parse: () => parseRestQuery(query) } },
      (r) => ({ value: pageBody(r) }),
    );
    return outcome.ok ? { status: 200, body: outcome.value } : { status: outcome.error.status, body: errorBody(outcome.error) };
  }
  if (body.sql !== undefined) {
    const sql = body.sql;
    const outcome = await rt.gateway.handle(
      { ...common, action: 'query_sql', operation: { op: 'sql', parse: () => parseSqlRequest({ sql }) } },
      (r) => ({ value: sqlBody(r) }),
    );
    return outcome.ok ? { status: 200, body: outcome.value } : { status: outcome.error.status, body: errorBody(outcome.error) };
  }
  return null;
}

function describeError(err: unknown): string {
  return err instanceof ApiError ? err.message : 'this view cannot be described now';
}
