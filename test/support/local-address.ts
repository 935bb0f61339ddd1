// HTTP from a chosen local address (127.0.0.2, ::1, ...) over node:http, so a test can be a client
// on another address of this machine: `fetchFrom` serves the MCP SDK client's `fetch` option.
import { request } from 'node:http';
import { Readable } from 'node:stream';

/** A fetch whose connections leave from `localAddress`; the response body streams (SSE). */
export function fetchFrom(localAddress: string): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return async (url, init = {}) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        {
          host: u.hostname.replace(/^\[|\]$/g, ''),
          port: u.port,
          path: u.pathname + u.search,
          method: init.method ?? 'GET',
          headers,
          localAddress,
        },
        (res) => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 500;
          const stream = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new Response(stream, { status, headers: out }));
        },
      );
      req.on('error', reject);
      init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      req.end(body);
    });
  };
}

/** One request from `localAddress`: status and the JSON body. */
export async function requestFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string> = {},
  init: { method?: string; body?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetchFrom(localAddress)(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
