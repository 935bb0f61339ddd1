// The config's `engine: hub` services.
import type { Config, ViewServiceConfig } from '../config/schema.js';

export type HubService = ViewServiceConfig & { engine: 'hub'; source: string };

export function hubServices(config: Config): [string, HubService][] {
  return Object.entries(config.services).filter((e): e is [string, HubService] => {
    const s = e[1];
    return 'views' in s && s.engine === 'hub' && typeof s.source === 'string';
  });
}
