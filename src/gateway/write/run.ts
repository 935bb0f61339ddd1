// Runs a governed write (docs/writes.md): references resolved as the caller reads them, then each
// unit of work on the store: all of them in one transaction (rollback, the default), or each in its
// own (continue, halt). Inside the transaction every row written is read again under the caller's
// row filter, as stored (defaults and triggers applied): a row outside it undoes the transaction
// with a 403. A bulk write first locks what it reaches and stops at maxBulkRows + 1 (422).
import { ApiError, notFound } from '../../errors.js';
import type { View, WriteTarget } from '../../engine/view.js';
import type { ViewAccess } from '../../policy/access.js';
import { forbidden, type Identity } from '../../policy/identity.js';
import { applyMasks } from '../../policy/mask.js';
import type { WriteAccess } from '../../policy/write-access.js';
import type { ViewId } from '../../config/view-id.js';
import { evaluate } from '../../query/evaluate.js';
import { and, type Predicate } from '../../query/predicate.js';
import type { WriteTx } from '../../sources/write.js';
import { etagOf, toJson, type Row, type Value } from '../../values.js';
import { overCap, planWrite, type Planned, type WriteUnit } from './plan.js';
import type { WriteRequest } from './request.js';
import { writeError } from './values.js';

export interface WriteDeps {
  identity: Identity;
  view: View;
  access: ViewAccess;
  write: WriteAccess;
  target: WriteTarget;
  request: WriteRequest;
  /** The caller's row filter, bound. */
  rowFilter?: Predicate;
  /** Which of `values` are keys of rows the caller can read in view `ref` (as canonical text). */
  readableKeys(ref: ViewId, values: Value[]): Promise<Set<string>>;
}

export interface WriteResult {
  /** 201 for an insert, else 200. */
  status: 200 | 201;
  /** `{"resource":[...]}`, or the one row of a `/{id}` write. */
  body: unknown;
  /** What the audit record keeps: the action, the keys written and the names of the fields set. */
  action: WriteUnit['action'];
  keys: Row[];
  fields: string[];
  /** continue=true or rollback=false with a failing record: the 400 to answer (the other records were written). */
  failure?: ApiError;
}

/** What one unit wrote: its rows as the response and the audit record need them. */
type Applied = { rows: Row[] } | { error: unknown };

export async function runWrite(deps: WriteDeps): Promise<WriteResult> {
  const { request: r, view, access } = deps;
  const output = r.allFields ? access.schema.columns.map((c) => c.name) : (r.query.fields ?? access.readableKey.slice());
  for (const f of output)
    if (!access.schema.byName.has(f)) throw new ApiError('bad_request', `unknown field "${f}" in fields`, { param: 'fields', field: f });
  const returning = [...new Set([...view.key, ...output])];
  const planned = await checkReferences(deps, planWrite(deps));
  const atomic = r.mode === 'rollback';
  if (atomic) {
    const failed = planned.find((p): p is Extract<Planned, { error: unknown }> => 'error' in p);
    if (failed) throw failed.error;
  }
  await deps.target.writer.prepare?.();
  if (atomic && planned.length > 1 && !deps.target.writer.transactions) {
    throw new ApiError(
      'bad_request',
      `the store of "${view.id}" has no transactions, so a batch of ${planned.length} records cannot be all or nothing; send continue=true to apply each record on its own`,
      { param: 'continue' },
    );
  }
  const results: Applied[] = [];
  const writer = deps.target.writer;
  if (atomic) {
    const units = planned.map((p) => (p as { unit: WriteUnit }).unit);
    const rows = await writer.run(
      async (tx) => {
        const out: Row[][] = [];
        for (const u of units) {
          try {
            out.push(await apply(tx, u, deps, returning));
          } catch (err) {
            throw writeError(err, u.record);
          }
        }
        return out;
      },
      { atomic: true },
    );
    for (const rs of rows) results.push({ rows: rs });
  } else {
    for (const p of planned) {
      if ('error' in p) results.push({ error: p.error });
      else {
        try {
          results.push({ rows: await writer.run((tx) => apply(tx, p.unit, deps, returning), { atomic: false }) });
        } catch (err) {
          results.push({ error: writeError(err, p.unit.record) });
        }
      }
      if (r.mode === 'halt' && 'error' in results[results.length - 1]!) break;
    }
  }
  return respond(deps, planned, results, output);
}

/** Each written value of a `references` column must be a key of a row the caller can read there (403 otherwise). */
async function checkReferences(deps: WriteDeps, planned: Planned[]): Promise<Planned[]> {
  const refs = [...deps.write.references];
  if (refs.length === 0) return planned;
  const out = [...planned];
  for (const [column, ref] of refs) {
    const values = out.flatMap((p) => ('unit' in p && p.unit.values && p.unit.values[column] != null ? [p.unit.values[column]!] : []));
    if (values.length === 0) continue;
    const readable = await deps.readableKeys(ref, values);
    out.forEach((p, i) => {
      if (!('unit' in p)) return;
      const v = p.unit.values?.[column];
      if (v === undefined || v === null || readable.has(String(v))) return;
      const record = p.unit.record;
      out[i] = {
        record: record ?? i,
        error: forbidden(`${record !== undefined ? `record ${record}: ` : ''}${column} must name a row of "${ref}" that you can read`, {
          param: 'resource',
          field: column,
          ...(record !== undefined ? { record } : {}),
        }),
      };
    });
  }
  return out;
}

/** The rows with exactly these keys. */
function keysWhere(view: View, rows: Row[]): Predicate {
  if (view.key.length === 1) {
    const k = view.key[0]!;
    return { op: 'in', column: k, values: rows.map((r) => r[k]!).filter((v) => v !== null) };
  }
  return {
    op: 'or',
    args: rows.map((r) => and(...view.key.map((k): Predicate => ({ op: 'cmp', column: k, cmp: '=', value: r[k]! })))!),
  };
}

/** Whether every one of these rows, as stored now, is inside the caller's row filter. */
async function allVisible(tx: WriteTx, deps: WriteDeps, rows: Row[]): Promise<boolean> {
  if (!deps.rowFilter || rows.length === 0) return true;
  const seen = await tx.select(deps.target.table, deps.view.key, and(keysWhere(deps.view, rows), deps.rowFilter)!);
  return seen.length === rows.length;
}

async function apply(tx: WriteTx, u: WriteUnit, deps: WriteDeps, returning: string[]): Promise<Row[]> {
  const { table } = deps.target;
  const max = deps.write.maxBulkRows;
  if (u.bulk) {
    // Locked first, so what the cap counts is what changes.
    const reached = await tx.select(table, deps.view.key, u.where!, max + 1);
    if (reached.length > max) throw overCap(max, 'filter');
  }
  if (u.ifMatch !== undefined) await checkVersion(tx, u, deps);
  // Without transactions nothing can be undone: the row filter is checked before anything is written.
  if (!deps.target.writer.transactions && deps.rowFilter) await checkBefore(tx, u, deps);
  let rows: Row[];
  switch (u.action) {
    case 'insert': {
      rows = [await tx.insert(table, u.values!, returning)];
      if (!(await allVisible(tx, deps, rows))) {
        throw forbidden('the row as stored (defaults and triggers applied) would be outside your row filter; nothing was written');
      }
      return rows;
    }
    case 'update':
      rows = await tx.update(table, u.values!, u.where!, returning);
      if (!(await allVisible(tx, deps, rows))) {
        throw forbidden('this update would move a row out of your row filter; nothing was changed', { fields: Object.keys(u.values!) });
      }
      break;
    case 'delete':
      rows = await tx.delete(table, u.where!, returning);
      break;
  }
  if (u.key !== undefined && rows.length === 0) throw notFound(`no row with key "${u.key}" in "${deps.view.id}"`, { view: deps.view.id });
  return rows;
}

/** The rows as they will be stored (values over the current rows; an insert's missing columns NULL) must pass the row filter. */
async function checkBefore(tx: WriteTx, u: WriteUnit, deps: WriteDeps): Promise<void> {
  const { view } = deps;
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  const all = view.columns.map((c) => c.name);
  const empty: Row = Object.fromEntries(all.map((c) => [c, null]));
  const after =
    u.action === 'insert'
      ? [{ ...empty, ...u.values }]
      : u.action === 'update'
        ? (await tx.select(deps.target.table, all, u.where!)).map((r) => ({ ...r, ...u.values }))
        : [];
  if (after.some((r) => evaluate(deps.rowFilter!, r, types) !== true)) {
    throw forbidden(
      u.action === 'insert'
        ? 'the row would be outside your row filter; nothing was written'
        : 'this update would move a row out of your row filter; nothing was changed',
    );
  }
}

/**
 * If-Match: the row as the caller's GET /{id} shows it now (its columns, masked), locked, must give
 * the ETag the caller sent (strong comparison; `*` matches any row); otherwise 412, nothing changed.
 */
async function checkVersion(tx: WriteTx, u: WriteUnit, deps: WriteDeps): Promise<void> {
  const { access } = deps;
  const rows = await tx.select(
    deps.target.table,
    access.schema.columns.map((c) => c.name),
    u.where!,
    1,
  );
  if (rows.length === 0) throw notFound(`no row with key "${u.key}" in "${deps.view.id}"`, { view: deps.view.id });
  const tag = etagOf(toJson(applyMasks(rows, access.schema.masks)[0]));
  const asked = u.ifMatch!.split(',').map((t) => t.trim());
  if (!asked.includes('*') && !asked.includes(tag)) {
    throw new ApiError('precondition_failed', 'the row changed since the ETag in If-Match was read; read it again and retry', {
      param: 'If-Match',
    });
  }
}

function respond(deps: WriteDeps, planned: Planned[], results: Applied[], output: string[]): WriteResult {
  const { request: r, view, access } = deps;
  const action = r.method === 'POST' ? 'insert' : r.method === 'DELETE' ? 'delete' : 'update';
  const shown = (rows: Row[]): Row[] =>
    applyMasks(
      rows.map((row) => Object.fromEntries(output.map((f) => [f, row[f] ?? null]))),
      access.schema.masks,
    );
  const keys = results.flatMap((a) =>
    'rows' in a ? a.rows.map((row) => Object.fromEntries(view.key.map((k) => [k, row[k] ?? null]))) : [],
  );
  const fields = [...new Set(planned.flatMap((p) => ('unit' in p && p.unit.values ? Object.keys(p.unit.values) : [])))];
  const base = { action, keys, fields } as const;
  const failures = results.filter((a) => 'error' in a).length;
  if (failures > 0) {
    const resource = results.map((a) =>
      'rows' in a ? (a.rows.length === 1 ? shown(a.rows)[0] : shown(a.rows)) : { error: envelopeOf(a.error) },
    );
    const failure = new ApiError(
      'bad_request',
      `${failures} of ${planned.length} records failed${r.mode === 'halt' ? ' (the batch stopped at the first failure; records before it were written)' : ''}; error.context.resource has each record's key or error, in order`,
      { resource },
    );
    return { ...base, status: 200, body: undefined, failure };
  }
  const status = action === 'insert' ? 201 : 200;
  const rows = results.flatMap((a) => ('rows' in a ? shown(a.rows) : []));
  if (r.id !== undefined) return { ...base, status, body: rows[0] };
  return { ...base, status, body: { resource: rows } };
}

function envelopeOf(err: unknown): { code: number; message: string; context?: Record<string, unknown> } {
  if (err instanceof ApiError) return { code: err.envelopeCode, message: err.message, context: err.context };
  return { code: 500, message: 'the write failed (the server log has the details)' };
}
