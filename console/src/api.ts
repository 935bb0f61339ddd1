// The console's only way to the server: the JSON API under /admin/api/ (docs/console.md, "JSON API").
// Every POST carries the session's CSRF token; every failure becomes an ApiError whose message says
// what to do next.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';

/** Set once the session is read; sent as X-CSRF-Token on every POST. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function getJson<T>(path: string): Promise<T> {
  return request<T>(path, { method: 'GET' });
}

export function postJson<T>(path: string, body: unknown): Promise<T> {
  return request<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify(body),
  });
}

/** Ends the session (POST /admin/logout with the CSRF token; the server answers 204), then the page shows its own signed-out view. */
export async function signOut(): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/admin/logout', {
      method: 'POST',
      credentials: 'same-origin',
      redirect: 'manual',
      headers: { 'x-csrf-token': csrfToken },
    });
  } catch {
    throw new ApiError(0, 'The server did not answer. Check that viewgate is running, then try again.');
  }
  if (!response.ok && response.type !== 'opaqueredirect') throw new ApiError(response.status, explain(response.status, undefined));
}

async function request<T>(path: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, credentials: 'same-origin', headers: { accept: 'application/json', ...init.headers } });
  } catch {
    throw new ApiError(0, 'The server did not answer. Check that viewgate is running, then try again.');
  }
  const text = await response.text();
  const body: unknown = text ? parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, explain(response.status, body));
  return body as T;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function explain(status: number, body: unknown): string {
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === 403) return serverMessage(body) ?? 'Your roles do not admit you to this console. Ask for one of the admin roles.';
  const detail = serverMessage(body);
  return detail ? `${detail} (HTTP ${status})` : `The server answered HTTP ${status}.`;
}

function serverMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 300) || undefined;
  if (body && typeof body === 'object') {
    const b = body as { error?: unknown; message?: unknown; detail?: unknown };
    const nested = b.error && typeof b.error === 'object' ? (b.error as { message?: unknown }).message : undefined;
    for (const candidate of [nested, b.message, b.detail, b.error]) if (typeof candidate === 'string') return candidate;
  }
  return undefined;
}
