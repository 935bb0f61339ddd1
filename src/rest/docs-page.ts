// GET /docs: Swagger UI from the swagger-ui-dist package in node_modules (no CDN), showing
// /api/v2/openapi.json for the credential typed into the page. The document is per caller, so the
// page asks for an API key or token first and sends it with every request it makes (kept in
// sessionStorage only). The CSP allows this origin only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>viewgate API</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>
  body { margin: 0; font-family: sans-serif; }
  #credential { display: flex; gap: .5rem; align-items: center; padding: .75rem 1rem; background: #1b1b1b; color: #eee; }
  #credential input { flex: 1; max-width: 32rem; padding: .35rem; }
  #credential select, #credential button { padding: .35rem; }
</style>
</head>
<body>
<form id="credential">
  <label for="secret">Your credential</label>
  <select id="kind" aria-label="credential kind"><option value="key">X-API-Key</option><option value="bearer">Bearer token</option></select>
  <input id="secret" type="password" autocomplete="off" placeholder="API key or JWT">
  <button type="submit">Load my API</button>
</form>
<div id="ui"><p style="padding:1rem">The API description depends on who you are: enter an API key or a token above.</p></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
`;

const SCRIPT = `(function () {
  var form = document.getElementById('credential');
  var kind = document.getElementById('kind');
  var secret = document.getElementById('secret');
  function load() {
    var k = sessionStorage.getItem('viewgate.kind') || 'key';
    var s = sessionStorage.getItem('viewgate.secret');
    if (!s) return;
    kind.value = k;
    window.ui = SwaggerUIBundle({
      url: '/api/v2/openapi.json',
      dom_id: '#ui',
      validatorUrl: null,
      deepLinking: true,
      requestInterceptor: function (req) {
        if (new URL(req.url, location.href).origin === location.origin) {
          if (k === 'bearer') req.headers['Authorization'] = 'Bearer ' + s;
          else req.headers['X-API-Key'] = s;
        }
        return req;
      }
    });
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    sessionStorage.setItem('viewgate.kind', kind.value);
    sessionStorage.setItem('viewgate.secret', secret.value.trim());
    secret.value = '';
    load();
  });
  load();
})();
`;

function assetDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function registerDocsPage(app: FastifyInstance): void {
  const dir = assetDir();
  const cache = new Map<string, Buffer>();
  const page = (body: string, type: string) => async (_req: unknown, reply: FastifyReply) =>
    reply.header('content-type', type).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(body);

  app.get('/docs', page(PAGE, 'text/html; charset=utf-8'));
  app.get('/docs/docs.js', page(SCRIPT, 'text/javascript; charset=utf-8'));
  app.get<{ Params: { file: string } }>('/docs/assets/:file', async (req, reply) => {
    const type = Object.hasOwn(ASSETS, req.params.file) ? ASSETS[req.params.file] : undefined;
    if (!type) return reply.code(404).header('content-type', 'text/plain').send('not found');
    let body = cache.get(req.params.file);
    if (!body) {
      body = readFileSync(join(dir, req.params.file));
      cache.set(req.params.file, body);
    }
    return reply.header('content-type', type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
