// A write request, governed (docs/writes.md): each record becomes one unit of work on the table
// with coerced values and a predicate that holds the caller's row filter, or that record's error.
// Fields: hidden ones are unknown (as for reads), masked and key columns are never set, a column
// outside the grant's write fields is a 403; a column the row filter binds to a claim is filled
// from the claim on insert, and another value is a 403.
import { ApiError, badRequest } from '../../errors.js';
import type { View } from '../../engine/view.js';
import type { ViewAccess } from '../../policy/access.js';
import { unknownField } from '../../policy/field-errors.js';
import { govern } from '../../policy/govern.js';
import { forbidden, type Identity } from '../../policy/identity.js';
import { claimValue } from '../../policy/row-filter.js';
import type { WriteAccess } from '../../policy/write-access.js';
import { and, type Predicate } from '../../query/predicate.js';
import { compareValues, type Row, type Value } from '../../values.js';
import type { WriteRequest } from './request.js';
import { coerceValue, inRecord } from './values.js';

export interface WriteUnit {
  action: 'insert' | 'update' | 'delete';
  /** The record's index in `resource` (or in `ids`); none for /{id} and filter=. */
  record?: number;
  values?: Row;
  /** Update and delete: the rows reached, the caller's row filter included. */
  where?: Predicate;
  /** The row's key as the caller wrote it: exactly one row, and none is a 404. */
  key?: string;
  /** filter= (bulk): capped by maxBulkRows before anything changes. */
  bulk?: boolean;
  /** If-Match: the ETag the caller's GET /{id} gave; the row must still have it. */
  ifMatch?: string;
}

export type Planned = { unit: WriteUnit } | { error: unknown; record?: number };

export interface PlanContext {
  identity: Identity;
  view: View;
  access: ViewAccess;
  write: WriteAccess;
  request: WriteRequest;
  /** The caller's row filter, bound (none: the role reads every row). */
  rowFilter?: Predicate;
}

/** Each record planned on its own, so one bad record does not hide the others' results (continue=true). */
function each<T>(items: T[], plan: (item: T, i: number) => WriteUnit): Planned[] {
  return items.map((item, i) => {
    try {
      return { unit: plan(item, i) };
    } catch (error) {
      return { error: inRecord(error, i), record: i };
    }
  });
}

export function planWrite(ctx: PlanContext): Planned[] {
  const { request: r, write } = ctx;
  const action = r.method === 'POST' ? 'insert' : r.method === 'DELETE' ? 'delete' : 'update';
  const put = r.method === 'PUT';
  if (action === 'insert') return each(r.records!, (rec, i) => ({ action, record: i, values: insertValues(ctx, rec, i) }));
  if (r.ifMatch !== undefined && r.id === undefined) {
    throw badRequest('If-Match applies to one row: PATCH, PUT or DELETE on /{id}', { param: 'If-Match' });
  }
  if (r.id !== undefined) {
    const where = keyWhere(ctx, [r.id]);
    const values = action === 'update' ? { values: setValues(ctx, r.values!, undefined, put) } : {};
    return [{ unit: { action, key: r.id, where, ...values, ...(r.ifMatch !== undefined ? { ifMatch: r.ifMatch } : {}) } }];
  }
  if (r.query.ids) {
    const ids = r.query.ids;
    if (ids.length > write.maxBulkRows) throw overCap(write.maxBulkRows, 'ids');
    const values = action === 'update' ? setValues(ctx, r.values!, undefined, put) : undefined;
    return each(ids, (id, i) => ({ action, record: i, key: id, where: keyWhere(ctx, [id]), ...(values ? { values } : {}) }));
  }
  if (r.query.filter) {
    if (!write.bulk) {
      throw forbidden(
        `your role may not ${action} by filter on "${ctx.view.id}": filter-wide writes need \`bulk: true\` in the grant's write`,
        {
          param: 'filter',
        },
      );
    }
    const where = govern(ctx.access, ctx.identity, ctx.view, { filter: r.query.filter }).engine.where!;
    return [{ unit: { action, bulk: true, where, ...(action === 'update' ? { values: setValues(ctx, r.values!, undefined, put) } : {}) } }];
  }
  return each(r.records!, (rec, i) => {
    const { where, key, rest } = recordKey(ctx, rec, i);
    return { action, record: i, key, where, ...(action === 'update' ? { values: setValues(ctx, rest, i, put) } : {}) };
  });
}

export function overCap(max: number, param: string): ApiError {
  return new ApiError(
    'unprocessable',
    `this write would reach more than the ${max} rows one write may change (the grant's write.maxBulkRows); nothing was changed. Narrow it.`,
    { param, maxBulkRows: max },
  );
}

/** `/{id}` and `ids=`: the view's one-column key, coerced and checked as for a read, ANDed with the row filter. */
function keyWhere(ctx: PlanContext, ids: string[]): Predicate {
  return govern(ctx.access, ctx.identity, ctx.view, { ids }).engine.where!;
}

/** A batch record's key columns (all of them, readable and unmasked) as the predicate that reaches its row. */
function recordKey(
  ctx: PlanContext,
  rec: Record<string, unknown>,
  i: number,
): { where: Predicate; key: string; rest: Record<string, unknown> } {
  const { view, write } = ctx;
  const unaddressable = view.key.filter((k) => !write.insertKey.has(k));
  if (unaddressable.length > 0 || view.key.length === 0) {
    throw forbidden(`rows of "${view.id}" cannot be addressed by your role: a key column is hidden or masked for it`);
  }
  const rest: Record<string, unknown> = { ...rec };
  const parts: Predicate[] = [];
  const key: string[] = [];
  for (const k of view.key) {
    if (!Object.hasOwn(rec, k) || rec[k] === null) {
      throw badRequest(`record ${i} lacks key column "${k}", which names the row to write`, { param: 'resource', field: k, record: i });
    }
    const v = coerceValue(columnType(view, k), rec[k], { field: k, record: i }) as Exclude<Value, null>;
    parts.push({ op: 'cmp', column: k, cmp: '=', value: v });
    key.push(String(rec[k]));
    delete rest[k];
  }
  return { where: and(ctx.rowFilter, ...parts)!, key: key.join(','), rest };
}

function columnType(view: View, name: string) {
  return view.columns.find((c) => c.name === name)!.type;
}

/** A column the caller names in a body: visible (else unknown), unmasked, and writable for the grant. */
function checkSettable(ctx: PlanContext, name: string, record: number | undefined, insert: boolean): void {
  const col = ctx.access.schema.byName.get(name);
  const recordCtx = record !== undefined ? { record } : {};
  if (!col) {
    const e = unknownField(name, 'resource', ctx.access.schema);
    throw new ApiError(e.kind, e.message, { ...e.context, ...recordCtx });
  }
  if (col.masked) {
    throw badRequest(`field "${name}" is masked for your role, so it cannot be written`, { param: 'resource', field: name, ...recordCtx });
  }
  if (ctx.view.key.includes(name)) {
    if (insert && ctx.write.insertKey.has(name)) return;
    throw badRequest(`"${name}" is a key column: it names the row and cannot be changed`, { param: 'resource', field: name, ...recordCtx });
  }
  if (!ctx.write.fields.has(name)) {
    throw forbidden(`field "${name}" is not writable for your role; writable: ${[...ctx.write.fields].join(', ') || 'none'}`, {
      param: 'resource',
      field: name,
      ...recordCtx,
    });
  }
}

/** The values an update sets: every named column settable; PUT names every writable column. */
function setValues(ctx: PlanContext, body: Record<string, unknown>, record: number | undefined, put: boolean): Row {
  const values: Row = {};
  for (const [name, v] of Object.entries(body)) {
    checkSettable(ctx, name, record, false);
    values[name] = coerceValue(columnType(ctx.view, name), v, { field: name, ...(record !== undefined ? { record } : {}) });
  }
  const recordCtx = record !== undefined ? { record } : {};
  if (put) {
    const missing = [...ctx.write.fields].filter((f) => !Object.hasOwn(body, f));
    if (missing.length > 0) {
      throw badRequest(`PUT replaces every writable column; give ${missing.map((m) => `"${m}"`).join(', ')} too (or use PATCH)`, {
        param: 'resource',
        field: missing[0],
        ...recordCtx,
      });
    }
  }
  if (Object.keys(values).length === 0)
    throw badRequest('there is nothing to set: the body names no column', { param: 'resource', ...recordCtx });
  return values;
}

/** The values an insert writes: settable columns, and each claim-bound column filled from (or checked against) the claim. */
function insertValues(ctx: PlanContext, rec: Record<string, unknown>, record: number): Row {
  const values: Row = {};
  const rest: Record<string, unknown> = { ...rec };
  for (const cc of ctx.write.claimColumns) {
    const type = columnType(ctx.view, cc.column);
    // The row filter is bound already, so the claim exists and fits the column.
    const claimed = coerceValue(type, claimValue(ctx.identity.claims, [...cc.claim]), { field: cc.column });
    if (Object.hasOwn(rec, cc.column)) {
      const given = coerceValue(type, rec[cc.column], { field: cc.column, record });
      if (given === null || claimed === null || compareValues(type, given, claimed) !== 0) {
        throw forbidden(
          `record ${record}: ${cc.column} must be your own (your row filter binds it to your credential); leave it out to have it filled`,
          {
            param: 'resource',
            field: cc.column,
            record,
          },
        );
      }
      delete rest[cc.column];
    }
    values[cc.column] = claimed;
  }
  for (const [name, v] of Object.entries(rest)) {
    checkSettable(ctx, name, record, true);
    values[name] = coerceValue(columnType(ctx.view, name), v, { field: name, record });
  }
  return values;
}
