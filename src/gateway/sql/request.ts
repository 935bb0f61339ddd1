// A governed SQL request as a surface hands it over: `{sql, limit?, explain?, cursor?}` (REST's body, MCP's
// tool arguments), checked inside the pipeline so a malformed one is audited like any refusal.
import { badRequest } from '../../errors.js';
import type { SqlRequest } from './run.js';

/** Longest statement text accepted, in characters. */
const MAX_SQL_LENGTH = 20_000;

export function parseSqlRequest(input: unknown, allowed: readonly string[] = ['sql', 'limit', 'explain', 'cursor']): SqlRequest {
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw badRequest('the body is a JSON object: {"sql": "SELECT ...", "limit": 100}');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw badRequest(`unknown property "${k}"; allowed: ${allowed.join(', ')}`, { param: k });
  if (typeof o.sql !== 'string' || o.sql.trim() === '') throw badRequest('"sql" is required: one SELECT statement', { param: 'sql' });
  if (o.sql.length > MAX_SQL_LENGTH) throw badRequest(`"sql" is longer than ${MAX_SQL_LENGTH} characters`, { param: 'sql' });
  const out: SqlRequest = { sql: o.sql };
  if (o.limit !== undefined) {
    if (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1)
      throw badRequest('"limit" is a positive integer', { param: 'limit' });
    out.limit = o.limit;
  }
  if (o.explain !== undefined) {
    if (typeof o.explain !== 'boolean') throw badRequest('"explain" is true or false', { param: 'explain' });
    out.explain = o.explain;
  }
  if (o.cursor !== undefined) {
    if (typeof o.cursor !== 'string' || o.cursor === '')
      throw badRequest('"cursor" is the next_cursor of an earlier page, as it was returned', { param: 'cursor' });
    out.cursor = o.cursor;
  }
  return out;
}
