// How deeply a JSON text nests, found by one pass over the text with a counter (no recursion), so
// a request body or MCP stdio line can be refused before anything recursive (JSON.stringify, schema
// validation, the filter converters) sees it (docs/security.md, "Deep nesting").
import { badRequest, type ApiError } from '../errors.js';
import { MAX_DEPTH as MAX_FILTER_DEPTH } from '../query/filter-parser.js';

/**
 * The deepest a request body or MCP message may nest (objects and arrays). A structured filter
 * takes two levels per `and`/`or` (object and list), so every filter the filter's own limit
 * (MAX_FILTER_DEPTH) accepts fits inside the JSON-RPC envelope with room to spare.
 */
export const MAX_JSON_DEPTH = 2 * MAX_FILTER_DEPTH + 56;

/** True when `text` opens more than `limit` objects/arrays at once (strings are skipped). */
export function jsonNestsDeeperThan(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** The 400 for a body or message that nests too deeply; `what` names it ("the request body"). */
export function tooDeep(what: string, limit = MAX_JSON_DEPTH): ApiError {
  return badRequest(
    `${what} nests objects and arrays more than ${limit} levels deep; a filter may nest at most ${MAX_FILTER_DEPTH} levels (and, or, not), so flatten the filter`,
    { limit },
  );
}
