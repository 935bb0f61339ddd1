// A fetch that trusts a given CA, for clients of a server with a test certificate: Node's global
// fetch takes no CA option (and NODE_EXTRA_CA_CERTS is read only at process start). Streams the
// response body, so the MCP client's event streams work through it too.
import { request } from 'node:https';
import { Readable } from 'node:stream';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export function fetchTrusting(ca: string): Fetch {
  return (input, init = {}) =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = init.method ?? 'GET';
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const req = request(url, { method, headers, ca, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const x of [v ?? []].flat()) h.append(k, x);
        const empty = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
        if (empty) res.resume();
        const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status: res.statusCode!, headers: h }));
      });
      req.on('error', reject);
      if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
        reject(new Error('fetchTrusting sends string bodies only'));
        return;
      }
      req.end(init.body ?? undefined);
    });
}
