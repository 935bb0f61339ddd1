// What the surfaces (src/rest/, src/mcp/, src/http/) use of everything below them: the gateway, its
// requests and results, and the few policy and ops pieces that shape a protocol's answer. Surfaces
// import these from here, never from src/policy/ or src/ops/ themselves.
export { Gateway, namedView } from './gateway.js';
export { toApiError } from './failure.js';
export type * from './request.js';
export type { QueryResult, ViewDescription, ViewSummary } from './results.js';
export { deprecationHeaders } from './deprecation.js';
export { unauthorized, type Credentials, type Identity } from '../policy/identity.js';
export { LOOPBACK } from '../policy/client-address.js';
export type { VisibleColumn } from '../policy/caller-schema.js';
export type { CuratedTool } from '../policy/curated-tools.js';
export { rateLimitHeaders } from '../ops/rate-limit.js';
/** The JSON nesting bound both surfaces apply to client input before parsing it (docs/security.md, "Deep nesting"). */
export { jsonNestsDeeperThan, tooDeep } from '../ops/json-depth.js';
