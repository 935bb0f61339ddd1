// The caller's schema of a view: the granted fields; masked fields stay visible but cannot be
// filtered, sorted or looked up (docs/security.md, "Masks").
import type { GrantConfig } from '../config/schema.js';
import type { View, ViewColumn } from '../engine/view.js';
import { isComparableType } from '../values.js';
import { compileMask, type MaskFn } from './mask.js';

const DEFAULT_MAX_LIMIT = 1000;

/** A column as this caller sees it. */
export interface VisibleColumn extends ViewColumn {
  masked: boolean;
  filterable: boolean;
  /** The grant's mask for it (email, hash, ...), when masked. */
  mask?: string;
}

export interface CallerSchema {
  readonly columns: readonly VisibleColumn[];
  readonly byName: ReadonlyMap<string, VisibleColumn>;
  readonly masks: ReadonlyMap<string, MaskFn>;
  readonly maxLimit: number;
}

export function callerSchema(view: View, grant: GrantConfig, hashSecret: string | undefined): CallerSchema {
  const allowed = grant.fields ? new Set(grant.fields) : undefined;
  const masks = new Map<string, MaskFn>();
  const columns: VisibleColumn[] = [];
  for (const c of view.columns) {
    if (allowed && !allowed.has(c.name)) continue;
    const maskSpec = Object.hasOwn(grant.masks, c.name) ? grant.masks[c.name] : undefined;
    if (maskSpec) masks.set(c.name, compileMask(maskSpec, hashSecret));
    const masked = Boolean(maskSpec);
    columns.push(
      Object.freeze({
        ...c,
        // A masked column's values become text (or NULL); its schema says so.
        type: masked && maskSpec !== 'null' ? 'text' : c.type,
        masked,
        filterable: !masked && isComparableType(c.type),
        ...(maskSpec ? { mask: maskSpec } : {}),
      }),
    );
  }
  return Object.freeze({
    columns: Object.freeze(columns),
    byName: new Map(columns.map((c) => [c.name, c])),
    masks,
    maxLimit: grant.maxLimit ?? DEFAULT_MAX_LIMIT,
  });
}
