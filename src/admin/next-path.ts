// Where a browser lands after signing in: only ever a path of this server under /admin, so a
// crafted `?next=https://evil.example/` (or `//evil`, `/\evil`, `/admin/../x`) lands on /admin.
const BASE = 'http://viewgate.invalid';

export function safeNext(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || hasControl(raw)) return '/admin';
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return '/admin';
  }
  if (url.origin !== BASE) return '/admin';
  if (url.pathname !== '/admin' && !url.pathname.startsWith('/admin/')) return '/admin';
  if (url.pathname.startsWith('/admin/login') || url.pathname.startsWith('/admin/callback')) return '/admin';
  return url.pathname + url.search;
}

function hasControl(text: string): boolean {
  for (const ch of text) if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) return true;
  return false;
}
