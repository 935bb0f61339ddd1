// Hub views (SPEC 9): the view runs inside the PostgreSQL federation hub.
import type { SqlViewSpec } from '../engine/embedded/index.js';
import { ApiError } from '../errors.js';
import type { View } from '../engine/view.js';

export async function buildHubView(spec: SqlViewSpec): Promise<View> {
  const id = `${spec.service}.${spec.name}`;
  throw new ApiError(501, `view "${id}": hub views are not available in this build yet`, { view: id });
}
