// The embedded federation engine (SPEC 8): builds a View from a service's SQL view definition.
// Parsing, planning and execution live beside this file.
import type { Config, ViewConfig } from '../../config/schema.js';
import type { Sources } from '../../sources/index.js';
import { ApiError } from '../../errors.js';
import type { View } from '../view.js';

export interface SqlViewSpec {
  service: string;
  name: string;
  view: ViewConfig;
  config: Config;
  sources: Sources;
}

export async function buildEmbeddedView(spec: SqlViewSpec): Promise<View> {
  const id = `${spec.service}.${spec.name}`;
  throw new ApiError(501, `view "${id}": embedded SQL views are not available in this build yet`, { view: id });
}
