// The console's pages and assets, as the console's build writes them to dist/console/ (index.html
// and assets/). Pages need a signed-in admin; assets do not (they hold no data). Asset names are
// resolved inside dist/console/assets only; hashed names are cached for a year.
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/console/ of the package, from src/admin/ and dist/admin/ alike. */
const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));
const ASSETS_DIR = resolve(CONSOLE_DIR, 'assets');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

/** The console's index.html, or undefined when the console is not built. */
export async function consoleIndex(): Promise<Buffer | undefined> {
  return readFile(resolve(CONSOLE_DIR, 'index.html')).catch(() => undefined);
}

/** An asset by its name under assets/; undefined for anything else (unknown type, outside the folder, missing). */
export async function consoleAsset(name: string): Promise<StaticFile | undefined> {
  const contentType = CONTENT_TYPES[extname(name).toLowerCase()];
  if (contentType === undefined || name.includes('\0')) return undefined;
  const path = resolve(ASSETS_DIR, name);
  if (!path.startsWith(ASSETS_DIR + sep)) return undefined;
  const body = await readFile(path).catch(() => undefined);
  if (body === undefined) return undefined;
  // Vite names built assets name-<hash>.ext: their content never changes under that name.
  const hashed = /-[\w-]{8,}\.[a-z0-9]+$/i.test(name);
  return { body, contentType, cacheControl: hashed ? 'public, max-age=31536000, immutable' : 'no-cache' };
}

/** What GET /admin says when dist/console/ holds no index.html. */
export const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>viewgate console not built</title></head>
<body><h1>The console is not built</h1>
<p>This server found no <code>dist/console/index.html</code>. Build the console's pages from a checkout
with <code>npm run build</code>, then reload this page. The JSON API under <code>/admin/api/</code>
works without them.</p></body></html>`;

export function refusedPage(message: string): string {
  const text = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not allowed</title></head>
<body><h1>You may not open the viewgate console</h1><p>${text}</p>
<p><a href="/admin/login">Sign in as someone else</a></p></body></html>`;
}
