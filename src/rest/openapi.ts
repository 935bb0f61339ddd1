// GET /api/v2/openapi.json (docs/rest.md): the views this caller may read, described through the
// gateway, turned into the OpenAPI document (openapi/document.ts); and /docs, which renders it.
import { createRequire } from 'node:module';
import type { FastifyPluginAsync } from 'fastify';
import type { Gateway, Identity } from '../gateway/index.js';
import { handler } from './routes.js';
import { registerDocsPage } from './docs-page.js';
import { openApiDocument, type DescribedView } from './openapi/document.js';

const OPENAPI_PATH = '/api/v2/openapi.json';

const VERSION = String((createRequire(import.meta.url)('../../package.json') as { version: string }).version);

/** The document for one caller; views that cannot be built right now are listed, not described. */
export async function openApiFor(gw: Gateway, identity: Identity, serverUrl: string): Promise<Record<string, unknown>> {
  const summaries = gw.listViews(identity);
  const described = await Promise.allSettled(summaries.map((v) => gw.describeView(identity, v.id)));
  const views: DescribedView[] = [];
  const unavailable: string[] = [];
  described.forEach((r, i) => {
    if (r.status === 'rejected') {
      unavailable.push(summaries[i]!.id);
      return;
    }
    const d = r.value;
    const masks = Object.fromEntries(d.columns.flatMap((c) => (c.mask ? [[c.name, c.mask]] : [])));
    views.push({ description: d, masks, explain: d.explain });
  });
  const sql = gw.sqlViews(identity).length > 0;
  const tools = gw.curatedTools(identity);
  return openApiDocument({ config: gw.config, role: identity.role, version: VERSION, serverUrl, views, unavailable, sql, tools });
}

/** The OpenAPI document and the /docs page, as one plugin. */
export const docsPlugin: FastifyPluginAsync<{ gateway: Gateway }> = async (app, { gateway }) => {
  app.get(
    OPENAPI_PATH,
    handler({ gateway }, 'openapi', async (identity, req) => {
      const url = (gateway.config.server.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
      return openApiFor(gateway, identity, url);
    }),
  );
  registerDocsPage(app);
};
