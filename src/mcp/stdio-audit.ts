// Every message a client sends to `viewgate mcp` gets exactly one audit record, as every request to
// /mcp does over HTTP (docs/operations.md, "What is audited"). Tool calls and resource reads get
// their own detailed record from the gateway (src/mcp/caller.ts) and say so with their JSON-RPC
// id; every other request (initialize, tools/list, a call the SDK refused before any tool ran) is
// reported to the gateway here when its response goes out, and a notification when it arrives.
import { randomUUID } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import type { Gateway, Identity } from '../gateway/index.js';

interface Pending {
  action: string;
  started: number;
}

type Message = { id?: unknown; method?: unknown; params?: { name?: unknown }; result?: { isError?: unknown }; error?: { code?: unknown } };

/** JSON-RPC error codes as the HTTP statuses the audit record uses. */
function statusOf(code: unknown): number {
  if (code === -32601 || code === -32002) return 404; // method or resource not found
  if (code === -32700 || code === -32600 || code === -32602) return 400;
  return 500;
}

const idKey = (id: unknown): string | undefined => (typeof id === 'string' ? `s:${id}` : typeof id === 'number' ? `n:${id}` : undefined);

export class StdioAudit {
  private readonly pending = new Map<string, Pending>();
  private readonly recorded = new Set<string>();
  private inboundRest = '';
  private outboundRest = '';

  constructor(
    private readonly gateway: Gateway,
    private readonly identity: Identity,
  ) {}

  /** A tool call or resource read wrote its own record. */
  audited(rpcId: string | number | undefined): void {
    const key = idKey(rpcId);
    if (key) this.recorded.add(key);
  }

  /** Passes the transport's input through, seeing each message (lines already within the input bounds). */
  inboundTap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.inbound(chunk);
        cb(null, chunk);
      },
    });
  }

  private inbound(chunk: Buffer | string): void {
    this.inboundRest = this.eachLine(
      this.inboundRest + chunk.toString(),
      (msg) => {
        if (typeof msg.method !== 'string') return; // a response to a request of ours
        const key = idKey(msg.id);
        const tool = msg.method === 'tools/call' && typeof msg.params?.name === 'string' ? msg.params.name : undefined;
        const action = (tool ?? msg.method).slice(0, 100);
        if (key) this.pending.set(key, { action, started: performance.now() });
        else this.record(action, 202, 0);
      },
      () => this.record('message', 400, 0),
    );
  }

  /** Wraps the protocol's output: each response is seen before it is written on. */
  outbound(out: NodeJS.WritableStream): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _enc, cb) => {
        this.outboundRest = this.eachLine(this.outboundRest + chunk.toString(), (msg) => this.responded(msg));
        out.write(chunk, cb);
      },
    });
  }

  private responded(msg: Message): void {
    const key = idKey(msg.id);
    if (!key || typeof msg.method === 'string') return;
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (this.recorded.delete(key)) return;
    const status = msg.error ? statusOf(msg.error.code) : msg.result?.isError === true ? 400 : 200;
    this.record(p.action, status, performance.now() - p.started);
  }

  /** Has the gateway write one record for this session's identity. */
  record(action: string, status: number, ms: number): void {
    void this.gateway.record({ requestId: randomUUID(), surface: 'mcp', action, identity: this.identity, status, latencyMs: ms });
  }

  /** Calls `fn` for each complete JSON line; returns the unfinished rest. */
  private eachLine(text: string, fn: (msg: Message) => void, notJson?: () => void): string {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl).trim();
      start = nl + 1;
      if (!line) continue;
      try {
        const msg = JSON.parse(line) as Message | null;
        if (msg && typeof msg === 'object') fn(msg);
      } catch {
        notJson?.(); // the SDK answers it with a parse error that names no request
      }
    }
    return text.slice(start);
  }
}
