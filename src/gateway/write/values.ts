// Values of a write body, coerced to their column's type as filter literals are (docs/writes.md):
// a value that does not fit is a 400 naming the column and the record. And what a store's refusal
// (a broken table rule) tells the caller: the rule and the column, never a value or a statement.
import { ApiError, badRequest } from '../../errors.js';
import { coerceLiteral } from '../../query/bind.js';
import type { Lit } from '../../query/ast.js';
import { ConstraintViolation } from '../../sources/write.js';
import type { ColumnType, JsonValue, Value } from '../../values.js';

/** Where a value sits in the request: its column, and its record when the body is a batch. */
export interface ValueAt {
  field: string;
  record?: number;
}

function at(where: ValueAt): string {
  return where.record !== undefined ? ` (record ${where.record})` : '';
}

function context(where: ValueAt): Record<string, unknown> {
  return { param: 'resource', field: where.field, ...(where.record !== undefined ? { record: where.record } : {}) };
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A JSON value of a body as the value model holds it for a column of this type. */
export function coerceValue(type: ColumnType, v: unknown, where: ValueAt): Value {
  const fail = (problem: string): ApiError =>
    badRequest(`${where.field} is ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} column; the value ${problem}${at(where)}`, context(where));
  if (v === null) return null;
  if (type === 'jsonb') return v as JsonValue;
  if (typeof v === 'string' && v.includes('\u0000')) throw fail('contains the NUL character (U+0000), which no store keeps');
  if (type === 'bytea') {
    if (typeof v !== 'string' || !BASE64_RE.test(v)) throw fail('is not base64 text');
    return v;
  }
  let lit: Lit;
  if (typeof v === 'string') lit = { kind: 'string', value: v };
  else if (typeof v === 'boolean') lit = { kind: 'bool', value: v };
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw fail('is not a finite number');
    // A JSON number beyond 2^53 has already lost digits; exact integers that large travel as text.
    if (Number.isInteger(v) && !Number.isSafeInteger(v) && type !== 'float')
      throw fail('is an integer beyond 2^53; send it as a string of digits');
    lit = { kind: 'number', text: String(v) };
  } else throw fail(`is ${Array.isArray(v) ? 'a list' : 'an object'}, not a single value`);
  try {
    return coerceLiteral(type, lit, { field: where.field, param: 'resource' });
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.kind, err.message + at(where), { ...err.context, ...context(where) });
    throw err;
  }
}

/** The error of one record of a batch, naming the record (its index in `resource`). */
export function inRecord(err: unknown, record: number | undefined): unknown {
  if (record === undefined || !(err instanceof ApiError) || err.context.record !== undefined) return err;
  return new ApiError(err.kind, `record ${record}: ${err.message}`, { ...err.context, record }, err.headers);
}

/** A broken table rule as the caller hears it: 409 for a unique key, 422 otherwise; the column, never the value. */
function violationError(v: ConstraintViolation, record: number | undefined): ApiError {
  const ctx = {
    ...(v.column !== undefined ? { field: v.column } : {}),
    ...(v.constraintName !== undefined && v.column === undefined ? { constraint: v.constraintName } : {}),
    ...(record !== undefined ? { record } : {}),
  };
  const col = v.column !== undefined ? `column "${v.column}"` : 'a column';
  const where = record !== undefined ? `record ${record}: ` : '';
  switch (v.constraint) {
    case 'unique':
      return new ApiError(
        'conflict',
        `${where}another row already holds this value of ${col}, which must be unique${v.column === undefined && v.constraintName ? ` (constraint "${v.constraintName}")` : ''}`,
        ctx,
      );
    case 'not_null':
      return new ApiError('unprocessable', `${where}${col} cannot be empty (null)`, ctx);
    case 'check':
      return new ApiError(
        'unprocessable',
        `${where}the value of ${col} breaks a check of the table${v.constraintName ? ` ("${v.constraintName}")` : ''}`,
        ctx,
      );
    case 'foreign_key':
      return new ApiError('unprocessable', `${where}${col} must name a row that exists (a foreign key)`, ctx);
    case 'invalid_value':
      return new ApiError('unprocessable', `${where}a value does not fit ${col} (too long, out of range or malformed for the store)`, ctx);
  }
}

/** Any failure of a record's write as the caller hears it. */
export function writeError(err: unknown, record: number | undefined): unknown {
  return err instanceof ConstraintViolation ? violationError(err, record) : inRecord(err, record);
}
