// A deprecated view (docs/contracts.md, "Deprecation"): what callers are told (REST headers, MCP
// and OpenAPI marks) and the 410 after its sunset.
import type { DeprecationConfig } from '../config/schema.js';
import type { ViewId } from '../config/view-id.js';
import { ApiError } from '../errors.js';

export interface DeprecationNotice {
  /** Since when, in Unix seconds (RFC 9745 `Deprecation: @<seconds>`); default: when the config was loaded. */
  since: number;
  /** When the view stops answering (ISO 8601), if announced. */
  sunset?: string;
  /** The view to move to, named service.view. */
  successor?: string;
}

/** A date alone is the start of that day in UTC. */
function instantMs(text: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
}

export function deprecationNotice(d: DeprecationConfig, loadedAtMs: number): DeprecationNotice {
  return {
    since: Math.floor((d.since !== undefined ? instantMs(d.since) : loadedAtMs) / 1000),
    ...(d.sunset !== undefined ? { sunset: new Date(instantMs(d.sunset)).toISOString() } : {}),
    ...(d.successor !== undefined ? { successor: d.successor } : {}),
  };
}

/** Whether the sunset has come: the view answers 410 from then on. */
export function pastSunset(n: DeprecationNotice, nowMs = Date.now()): boolean {
  return n.sunset !== undefined && nowMs >= Date.parse(n.sunset);
}

/** 410 once the sunset has come. */
export function refuseAfterSunset(id: ViewId, n: DeprecationNotice, nowMs = Date.now()): void {
  if (!pastSunset(n, nowMs) || n.sunset === undefined) return;
  throw new ApiError('view_gone', `view "${id}" was retired on ${n.sunset}${n.successor ? `; use "${n.successor}" instead` : ''}`, {
    view: id,
    sunset: n.sunset,
    ...(n.successor ? { successor: n.successor } : {}),
  });
}

/** The REST response headers of a deprecated view: Deprecation (RFC 9745), Sunset (RFC 8594), Link to the successor. */
export function deprecationHeaders(n: DeprecationNotice, baseUrl: string): Record<string, string> {
  const headers: Record<string, string> = { deprecation: `@${n.since}` };
  if (n.sunset !== undefined) headers.sunset = new Date(n.sunset).toUTCString();
  if (n.successor !== undefined) {
    const dot = n.successor.indexOf('.');
    const url = `${baseUrl.replace(/\/+$/, '')}/api/v2/${n.successor.slice(0, dot)}/_table/${n.successor.slice(dot + 1)}`;
    headers.link = `<${url}>; rel="successor-version"`;
  }
  return headers;
}
