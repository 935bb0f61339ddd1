// A view's id: `service.view`, as grants, MCP and the audit log name it. Branded, so a string
// becomes one only here: built from a service and a view name, or parsed once from `service.view`.
declare const viewIdBrand: unique symbol;

export type ViewId = string & { readonly [viewIdBrand]: true };

export function viewIdOf(service: string, view: string): ViewId {
  return `${service}.${view}` as ViewId;
}

/** `service.view` text as a view id; undefined when it has no dot, so it names no view. */
export function parseViewId(text: string): ViewId | undefined {
  return text.includes('.') ? (text as ViewId) : undefined;
}

/** The service part: everything before the first dot. */
export function serviceOf(id: ViewId): string {
  return id.slice(0, id.indexOf('.'));
}

/** The view's name in its service: everything after the first dot. */
export function viewNameOf(id: ViewId): string {
  return id.slice(id.indexOf('.') + 1);
}
