// `viewgate check` warns about API keys that stop working soon (`expires`), so a new key can be
// handed out first, and about `server.trustProxy` when no `allowFrom` reads it (docs/security.md,
// "Client addresses, key rotation and expiry").
import type { Config } from '../config/schema.js';

/** How far ahead `check` looks for keys that expire. */
const EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 86_400_000;

export function keyExpiryWarnings(config: Config, now = Date.now()): string[] {
  return config.auth.apiKeys.flatMap((k, i) => {
    if (k.expires === undefined || k.expires - now > EXPIRY_WARNING_DAYS * DAY_MS) return [];
    const when = new Date(k.expires).toISOString();
    return k.expires <= now
      ? [`auth.apiKeys.${i} (name "${k.name}") expired at ${when}; it is refused`]
      : [
          `auth.apiKeys.${i} (name "${k.name}") expires at ${when}, within ${EXPIRY_WARNING_DAYS} days; give its successor the same name before then`,
        ];
  });
}

/** `server.trustProxy` only decides the client address that `allowFrom` lists are checked against. */
export function trustProxyWarnings(config: Config): string[] {
  if (!config.server.trustProxy) return [];
  const lists = config.auth.apiKeys.some((k) => k.allowFrom) || Object.values(config.roles).some((r) => r.allowFrom);
  return lists ? [] : ['server.trustProxy is read only by `allowFrom`, and no API key or role has one'];
}
