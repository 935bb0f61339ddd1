// The shapes the JSON API answers (docs/console.md, "JSON API"). Fields the console only shows are
// typed loosely: a page renders what is there and never guesses what is not.

export interface Session {
  subject: string;
  name?: string;
  roles: string[];
  csrfToken: string;
  expiresAt: string;
}

interface StoreHealth {
  name: string;
  kind: string;
  status: string;
  latencyMs?: number | null;
  error?: string;
}

export interface SeriesPoint {
  t: string | number;
  requests: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Row = Record<string, Json>;

export interface Overview {
  stores: StoreHealth[];
  series?: SeriesPoint[];
  [figure: string]: unknown;
}
