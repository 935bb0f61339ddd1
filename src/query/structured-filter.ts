// The MCP structured filter (docs/query.md), converted to the same AST as the text grammar:
//   {"and":[...]}  {"or":[...]}  {"not":{...}}  {"field":"x","op":"eq","value":1}
// Validation is strict; every error names the JSON path of the offending part (filter.and[1].op).
import { badRequest, type ApiError } from '../errors.js';
import type { CmpOp, FilterAst, Lit, LikeMode } from './ast.js';
import { MAX_DEPTH } from './filter-parser.js';

const CMP_OPS: Record<string, CmpOp> = { eq: '=', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const LIKE_OPS: Record<string, [LikeMode, boolean]> = {
  like: ['like', false],
  not_like: ['like', true],
  contains: ['contains', false],
  starts_with: ['starts', false],
  ends_with: ['ends', false],
};
const STRUCTURED_OPS = [...Object.keys(CMP_OPS), ...Object.keys(LIKE_OPS), 'in', 'not_in', 'is_null', 'is_not_null', 'between'] as const;

export function structuredToAst(json: unknown, param = 'filter'): FilterAst {
  return node(json, param, param, 0);
}

function fail(param: string, path: string, message: string): ApiError {
  return badRequest(`${path}: ${message}`, { param, path });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function node(v: unknown, param: string, path: string, depth: number): FilterAst {
  if (depth > MAX_DEPTH) {
    // The path is as deep as the filter; name where it starts instead of repeating .not.not...
    throw badRequest(
      `${param}: the filter nests more than ${MAX_DEPTH} levels deep (and, or, not); flatten it, e.g. one "and" with a list of conditions`,
      {
        param,
        path: `${path.slice(0, 60)}...`,
        limit: MAX_DEPTH,
      },
    );
  }
  if (!isObject(v)) {
    throw fail(param, path, `expected an object with "and", "or", "not" or "field", found ${typeName(v)}`);
  }
  const keys = Object.keys(v);
  const group = keys.filter((k) => k === 'and' || k === 'or' || k === 'not');
  if (group.length > 0) {
    if (keys.length > 1) {
      throw fail(param, path, `"${group[0]}" must be the only key of its object; found ${keys.map((k) => `"${k}"`).join(', ')}`);
    }
    const k = group[0] as 'and' | 'or' | 'not';
    if (k === 'not') return { kind: 'not', arg: node(v.not, param, `${path}.not`, depth + 1) };
    const list = v[k];
    if (!Array.isArray(list)) throw fail(param, `${path}.${k}`, `expected a list of conditions, found ${typeName(list)}`);
    if (list.length === 0) throw fail(param, `${path}.${k}`, 'expected at least one condition');
    const args = list.map((a, i) => node(a, param, `${path}.${k}[${i}]`, depth + 1));
    return args.length === 1 ? args[0]! : { kind: k, args };
  }
  return leaf(v, param, path);
}

function leaf(v: Record<string, unknown>, param: string, path: string): FilterAst {
  for (const k of Object.keys(v)) {
    if (k !== 'field' && k !== 'op' && k !== 'value') {
      throw fail(param, `${path}.${k}`, `unknown key "${k}"; a condition has "field", "op" and "value" (or use "and", "or", "not")`);
    }
  }
  const field = v.field;
  if (typeof field !== 'string' || field === '') {
    throw fail(param, `${path}.field`, field === undefined ? 'missing "field"' : `expected a field name, found ${typeName(field)}`);
  }
  const op = v.op;
  if (typeof op !== 'string') {
    throw fail(
      param,
      `${path}.op`,
      `${op === undefined ? 'missing "op"' : `expected an operator name, found ${typeName(op)}`}; use one of ${STRUCTURED_OPS.join(', ')}`,
    );
  }
  const has = Object.prototype.hasOwnProperty.call(v, 'value');
  const vpath = `${path}.value`;
  const pos = path;

  const cmp = CMP_OPS[op];
  if (cmp) {
    if (v.value === null) {
      const hint = op === 'eq' ? '"is_null"' : op === 'ne' ? '"is_not_null"' : '"is_null" or "is_not_null"';
      throw fail(param, vpath, `null cannot be compared with "${op}"; use ${hint}`);
    }
    return { kind: 'cmp', field, op: cmp, value: scalar(v.value, has, param, vpath), pos };
  }
  const like = LIKE_OPS[op];
  if (like) {
    if (v.value === null) throw fail(param, vpath, `"${op}" needs text, not null; use "is_null" or "is_not_null"`);
    return { kind: 'like', field, mode: like[0], negated: like[1], value: scalar(v.value, has, param, vpath), pos };
  }
  switch (op) {
    case 'in':
    case 'not_in': {
      if (!has) throw fail(param, vpath, `missing "value": "${op}" takes a list of values`);
      if (!Array.isArray(v.value)) throw fail(param, vpath, `"${op}" takes a list of values, found ${typeName(v.value)}`);
      if (v.value.length === 0) throw fail(param, vpath, `the list of "${op}" is empty`);
      const values = v.value.map((x, i): Lit =>
        x === null ? { kind: 'null', pos: `${vpath}[${i}]` } : scalar(x, true, param, `${vpath}[${i}]`),
      );
      return { kind: 'in', field, negated: op === 'not_in', values, pos };
    }
    case 'is_null':
    case 'is_not_null':
      if (has && v.value !== null && v.value !== true) throw fail(param, vpath, `"${op}" takes no value`);
      return { kind: 'isnull', field, negated: op === 'is_not_null', pos };
    case 'between': {
      const b = v.value;
      if (!Array.isArray(b) || b.length !== 2) {
        throw fail(
          param,
          vpath,
          `"between" takes a list of two values [low, high], found ${has ? (Array.isArray(b) ? `a list of ${b.length}` : typeName(b)) : 'nothing'}`,
        );
      }
      const [low, high] = b.map((x, i) => {
        if (x === null) throw fail(param, `${vpath}[${i}]`, 'the bounds of "between" cannot be null');
        return scalar(x, true, param, `${vpath}[${i}]`);
      }) as [Lit, Lit];
      return { kind: 'between', field, negated: false, low, high, pos };
    }
    default:
      throw fail(param, `${path}.op`, `unknown operator "${op}"; use one of ${STRUCTURED_OPS.join(', ')}`);
  }
}

function scalar(x: unknown, has: boolean, param: string, path: string): Lit {
  if (!has) throw fail(param, path, 'missing "value"');
  switch (typeof x) {
    case 'string':
      return { kind: 'string', value: x, pos: path };
    case 'boolean':
      return { kind: 'bool', value: x, pos: path };
    case 'number':
      if (!Number.isFinite(x)) throw fail(param, path, 'expected a finite number');
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) {
        throw fail(param, path, `the integer ${x} is beyond 2^53 and may have lost digits; pass it as a string`);
      }
      return { kind: 'number', text: numberText(x), pos: path };
    case 'bigint':
      return { kind: 'number', text: x.toString(), pos: path };
    default:
      throw fail(param, path, `expected a string, number or boolean, found ${typeName(x)}`);
  }
}

/** Decimal text for a double that the number grammar accepts (String gives "1e+21" and "-0"). */
function numberText(x: number): string {
  if (Object.is(x, -0)) return '0';
  return String(x).replace('e+', 'e');
}
