// The bounds of `viewgate mcp` input, applied to each line of stdin before the MCP SDK parses it:
// a message longer than server.bodyLimit bytes or nesting deeper than MAX_JSON_DEPTH is answered
// with a JSON-RPC error naming the limit (and audited) instead of being handed on, the same limits
// /mcp applies over HTTP (docs/security.md, "Deep nesting").
import { Transform, type TransformCallback } from 'node:stream';
import { ERROR_KINDS } from '../errors.js';
import { jsonNestsDeeperThan, tooDeep } from '../gateway/index.js';

/** A line that was not handed on: its JSON-RPC id and method when they could be read. */
export interface RefusedLine {
  id: string | number | null;
  method?: string;
  status: 400 | 413;
  message: string;
}

const NEWLINE = 0x0a;

/**
 * Passes stdin through line by line; refused lines go to `refuse` (which answers them). A line
 * that grows past `maxBytes` is dropped as it arrives, so it is never held in memory whole.
 */
export function boundedLines(maxBytes: number, refuse: (r: RefusedLine) => void): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let oversized = false;

  const finishLine = (push: (b: Buffer) => void) => {
    if (oversized) {
      refuse({
        id: null,
        status: ERROR_KINDS.payload_too_large.status,
        message: `the message is longer than ${maxBytes} bytes (server.bodyLimit); send a smaller one`,
      });
    } else if (pendingBytes > 0) {
      const line = Buffer.concat(pending, pendingBytes);
      const text = line.toString('utf8');
      if (jsonNestsDeeperThan(text)) {
        refuse({ ...idAndMethod(text), status: ERROR_KINDS.bad_request.status, message: tooDeep('the message').message });
      } else {
        push(line);
        push(Buffer.from('\n'));
      }
    }
    pending = [];
    pendingBytes = 0;
    oversized = false;
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        take(chunk.subarray(start, nl));
        finishLine((b) => this.push(b));
        start = nl + 1;
      }
      take(chunk.subarray(start));
      cb();
    },
    flush(cb: TransformCallback) {
      finishLine((b) => this.push(b));
      cb();
    },
  });

  function take(part: Buffer): void {
    if (part.length === 0 || oversized) return;
    if (pendingBytes + part.length > maxBytes) {
      oversized = true;
      pending = [];
      pendingBytes = 0;
      return;
    }
    pending.push(part);
    pendingBytes += part.length;
  }
}

/** JSON.parse does not recurse (unlike JSON.stringify), so reading the top-level id is safe. */
function idAndMethod(text: string): { id: string | number | null; method?: string } {
  try {
    const msg = JSON.parse(text) as { id?: unknown; method?: unknown } | null;
    const id = typeof msg?.id === 'string' || typeof msg?.id === 'number' ? msg.id : null;
    return typeof msg?.method === 'string' ? { id, method: msg.method.slice(0, 100) } : { id };
  } catch {
    return { id: null };
  }
}
