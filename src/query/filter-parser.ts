// The filter grammar (docs/query.md), DreamFactory's made a real grammar:
//
//   filter    := or EOF
//   or        := and ('or' and)*
//   and       := unary ('and' unary)*          -- 'and' binds tighter than 'or'
//   unary     := 'not' unary | '(' or ')' | predicate
//   predicate := field ( cmpop value
//                      | ['not'] 'like' value | ['not'] 'contains' value
//                      | ['not'] 'starts' 'with' value | ['not'] 'ends' 'with' value
//                      | ['not'] 'in' ( '(' item (',' item)* ')' | claim )
//                      | 'is' ['not'] 'null'
//                      | ['not'] 'between' value 'and' value )
//   field     := [A-Za-z_][A-Za-z0-9_]* | "quoted name"
//   value     := 'string' | number | true | false | claim | param   (null only as an `in` item)
//   claim     := {claims.a.b} | {claims["https://ns/x"]}      (row filters and curated tools only)
//   param     := {params.name}                                 (curated tools only)
//
// Positions are 0-based code point offsets into the text.
import { badRequest, type ApiError } from '../errors.js';
import type { CmpOp, FilterAst, Lit, LikeMode } from './ast.js';

export interface ParseOptions {
  /** Accept `{claims.x}` values (row filters from the config). */
  allowClaims?: boolean;
  /** Accept `{params.x}` values (a curated tool's filter, docs/tools.md). */
  allowParams?: boolean;
  /** The parameter named in error context; default 'filter'. */
  param?: string;
}

/** Nesting deeper than this (parentheses and `not`) is refused, so no consumer can overflow its stack. */
export const MAX_DEPTH = 100;

type Tok =
  | { t: 'word'; text: string; lower: string; pos: number }
  | { t: 'qname'; text: string; pos: number }
  | { t: 'string'; value: string; pos: number }
  | { t: 'number'; text: string; pos: number }
  | { t: 'op'; text: string; pos: number }
  | { t: '(' | ')' | ','; pos: number }
  | { t: 'claim'; path: string[]; pos: number }
  | { t: 'param'; name: string; pos: number }
  | { t: 'eof'; pos: number };

const OPERATOR_HELP = '= != <> < <= > >= like, not like, contains, starts with, ends with, in, not in, is null, is not null, between';

export function parseFilter(text: string, opts: ParseOptions = {}): FilterAst {
  const param = opts.param ?? 'filter';
  const toks = tokenize(text, opts.allowClaims === true, param, opts.allowParams === true);
  return new Parser(toks, param, opts.allowClaims === true).parseFilter();
}

// ---- tokenizer -------------------------------------------------------------------------------

const WORD_RE = /[A-Za-z_][A-Za-z0-9_]*/y;
/** An unquoted ISO date or timestamp (2024-01-01, 2024-01-01T10:00:00Z), to suggest quoting it. */
const DATE_RE = /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w.])/y;
const NUMBER_RE = /-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const CLAIM_NAME_RE = /[A-Za-z0-9_$-]+/y;
const JSON_STRING_RE = /"(?:[^"\\]|\\.)*"/y;
/** `{params.name}`, a curated tool's parameter. */
const PARAM_RE = /^\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}/;

function tokenize(text: string, allowClaims: boolean, param: string, allowParams = false): Tok[] {
  const cp = codePointIndex(text);
  const fail = (msg: string, at: number): never => {
    throw error(param, `${msg} at position ${cp(at)}`, cp(at));
  };
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = cp(i);
    if (c === '(' || c === ')' || c === ',') {
      toks.push({ t: c, pos });
      i++;
    } else if (c === "'") {
      const [value, end] = readQuoted(text, i, "'");
      if (end < 0) fail('unterminated string starting', i);
      if (allowClaims && /\{\s*claims\b/i.test(value)) {
        fail('a claim inside quotes is not substituted: write it without quotes, e.g. tenant_id = {claims.tenant_id},', i);
      }
      if (allowParams && /\{\s*params\b/i.test(value)) {
        fail('a parameter inside quotes is not substituted: write it without quotes, e.g. status = {params.status},', i);
      }
      toks.push({ t: 'string', value, pos });
      i = end;
    } else if (c === '"') {
      const [name, end] = readQuoted(text, i, '"');
      if (end < 0) fail('unterminated quoted field name starting', i);
      if (name === '') fail('empty quoted field name', i);
      toks.push({ t: 'qname', text: name, pos });
      i = end;
    } else if (/[0-9.-]/.test(c)) {
      DATE_RE.lastIndex = i;
      const date = DATE_RE.exec(text)?.[0];
      if (date) fail(`dates and times go in single quotes: write '${date}' instead of ${date}`, i);
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (!m) fail(`unexpected '${c}'`, i);
      const end = i + m![0].length;
      if (end < text.length && /[A-Za-z0-9_.]/.test(text[end]!)) {
        WORD_RE.lastIndex = end;
        const tail = WORD_RE.exec(text)?.[0] ?? text[end];
        fail(`invalid number '${m![0]}${tail}'`, i);
      }
      toks.push({ t: 'number', text: m![0], pos });
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      WORD_RE.lastIndex = i;
      const w = WORD_RE.exec(text)![0];
      toks.push({ t: 'word', text: w, lower: w.toLowerCase(), pos });
      i += w.length;
    } else if (c === '=' || c === '<' || c === '>' || c === '!') {
      const two = text.slice(i, i + 2);
      const op = ['!=', '<>', '<=', '>='].includes(two) ? two : c;
      if (op === '!') fail("unexpected '!' (did you mean '!='?)", i);
      toks.push({ t: 'op', text: op, pos });
      i += op.length;
    } else if (c === '{' && allowParams && PARAM_RE.test(text.slice(i))) {
      const m = PARAM_RE.exec(text.slice(i))!;
      toks.push({ t: 'param', name: m[1]!, pos });
      i += m[0].length;
    } else if (c === '{') {
      if (allowParams && /^\{\s*params\b/i.test(text.slice(i))) fail('malformed parameter reference: write {params.name},', i);
      if (!allowClaims) fail("unexpected '{' (claims such as {claims.x} are only available in row filters)", i);
      const [path, end] = readClaim(text, i);
      if (!path) fail('malformed claim reference: write {claims.name}, {claims.a.b} or {claims["https://ns/x"]},', i);
      toks.push({ t: 'claim', path: path!, pos });
      i = end;
    } else if (text.startsWith('&&', i) || text.startsWith('||', i)) {
      const word = c === '&' ? 'and' : 'or';
      fail(`'${c}${c}' is not an operator in a filter: write '${word}' instead`, i);
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      fail(`unexpected character '${ch}'`, i);
    }
  }
  toks.push({ t: 'eof', pos: cp(text.length) });
  return toks;
}

/** Reads a quoted run where a doubled quote is an escaped quote; returns [content, end] or end -1. */
function readQuoted(text: string, start: number, q: string): [string, number] {
  let out = '';
  let i = start + 1;
  for (;;) {
    const j = text.indexOf(q, i);
    if (j < 0) return ['', -1];
    out += text.slice(i, j);
    if (text[j + 1] === q) {
      out += q;
      i = j + 2;
    } else {
      return [out, j + 1];
    }
  }
}

/** `{claims.a.b}` / `{claims["x"]}` / `{claims['x']}` -> path, or null when malformed. */
function readClaim(text: string, start: number): [string[] | null, number] {
  let i = start + 1;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  ws();
  if (text.slice(i, i + 6).toLowerCase() !== 'claims') return [null, i];
  i += 6;
  const path: string[] = [];
  for (;;) {
    const c = text[i];
    if (c === '.') {
      CLAIM_NAME_RE.lastIndex = i + 1;
      const m = CLAIM_NAME_RE.exec(text);
      if (!m) return [null, i];
      path.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      i++;
      ws();
      let seg: string;
      if (text[i] === '"') {
        JSON_STRING_RE.lastIndex = i;
        const m = JSON_STRING_RE.exec(text);
        if (!m) return [null, i];
        try {
          seg = JSON.parse(m[0]) as string;
        } catch {
          return [null, i];
        }
        i += m[0].length;
      } else if (text[i] === "'") {
        const [s, end] = readQuoted(text, i, "'");
        if (end < 0) return [null, i];
        seg = s;
        i = end;
      } else {
        return [null, i];
      }
      ws();
      if (text[i] !== ']' || seg === '') return [null, i];
      i++;
      path.push(seg);
    } else {
      break;
    }
  }
  ws();
  if (path.length === 0 || text[i] !== '}') return [null, i];
  return [path, i + 1];
}

/** Maps UTF-16 indexes to code point indexes (the identity for text without astral characters). */
function codePointIndex(text: string): (i: number) => number {
  if (!/[\uD800-\uDFFF]/.test(text)) return (i) => i;
  const map = new Int32Array(text.length + 1);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = n;
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      map[i + 1] = n;
      i++;
    }
    n++;
  }
  map[text.length] = n;
  return (i) => map[i]!;
}

function error(param: string, message: string, position: number): ApiError {
  return badRequest(message, { param, position });
}

// ---- parser ----------------------------------------------------------------------------------

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly toks: Tok[],
    private readonly param: string,
    private readonly allowClaims: boolean,
  ) {}

  parseFilter(): FilterAst {
    if (this.peek().t === 'eof') throw error(this.param, `the ${this.param} is empty`, 0);
    const ast = this.parseOr();
    const t = this.peek();
    if (t.t === ')') throw this.fail(`unexpected ')' with no matching '('`, t);
    if (t.t !== 'eof') {
      throw this.fail(`unexpected ${describe(t)}: expected 'and', 'or' or the end of the ${this.param}`, t);
    }
    return ast;
  }

  private peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private next(): Tok {
    const t = this.peek();
    if (t.t !== 'eof') this.i++;
    return t;
  }

  private isWord(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === 'word' && t.lower === w;
  }

  private fail(message: string, at: Tok | number): ApiError {
    const pos = typeof at === 'number' ? at : at.pos;
    return error(this.param, `${message} at position ${pos}`, pos);
  }

  private enter(t: Tok): void {
    if (++this.depth > MAX_DEPTH) throw this.fail(`the ${this.param} nests more than ${MAX_DEPTH} levels deep`, t);
  }

  private parseOr(): FilterAst {
    const args = [this.parseAnd()];
    while (this.isWord('or')) {
      this.next();
      args.push(this.parseAnd());
    }
    return args.length === 1 ? args[0]! : { kind: 'or', args };
  }

  private parseAnd(): FilterAst {
    const args = [this.parseUnary()];
    while (this.isWord('and')) {
      this.next();
      args.push(this.parseUnary());
    }
    return args.length === 1 ? args[0]! : { kind: 'and', args };
  }

  private parseUnary(): FilterAst {
    const t = this.peek();
    // `not` followed by a comparison operator is a field named "not".
    if (this.isWord('not') && this.peek(1).t !== 'op') {
      this.next();
      this.enter(t);
      const arg = this.parseUnary();
      this.depth--;
      return { kind: 'not', arg };
    }
    if (t.t === '(') {
      this.next();
      this.enter(t);
      const inner = this.parseOr();
      const close = this.peek();
      if (close.t !== ')') {
        if (close.t === 'eof') throw this.fail(`the '(' at position ${t.pos} is never closed: expected ')'`, close);
        throw this.fail(`expected 'and', 'or' or ')' (closing the '(' at position ${t.pos}) but found ${describe(close)}`, close);
      }
      this.next();
      this.depth--;
      return inner;
    }
    if (t.t === 'word' || t.t === 'qname') {
      if (t.t === 'word' && (t.lower === 'and' || t.lower === 'or') && this.peek(1).t !== 'op') {
        throw this.fail(`expected a condition before '${t.text}'`, t);
      }
      this.next();
      return this.parsePredicate(t.text, t.pos);
    }
    if (t.t === 'eof') throw this.fail(`expected a condition`, t);
    if (t.t === 'string' || t.t === 'number' || t.t === 'claim' || t.t === 'param') {
      throw this.fail(`expected a field name but found ${describe(t)} (a condition is written field operator value)`, t);
    }
    throw this.fail(`expected a field name or '(' but found ${describe(t)}`, t);
  }

  private parsePredicate(field: string, pos: number): FilterAst {
    const t = this.peek();
    if (t.t === 'op') {
      this.next();
      const op: CmpOp = t.text === '<>' ? '!=' : (t.text as CmpOp);
      const value = this.parseValue(`'${t.text}'`);
      if (value.kind === 'null') {
        if (op === '=') throw this.fail(`use 'is null' instead of '= null'`, value.pos as number);
        if (op === '!=') throw this.fail(`use 'is not null' instead of '${t.text} null'`, value.pos as number);
        throw this.fail(`null cannot be compared with '${t.text}'; use 'is null' or 'is not null'`, value.pos as number);
      }
      return { kind: 'cmp', field, op, value, pos };
    }
    if (t.t !== 'word') throw this.fail(`expected an operator after '${field}' (one of ${OPERATOR_HELP}) but found ${describe(t)}`, t);
    let negated = false;
    let kw = t;
    if (t.lower === 'not') {
      this.next();
      negated = true;
      const n = this.peek();
      if (n.t !== 'word' || !['like', 'in', 'between', 'contains', 'starts', 'ends'].includes(n.lower)) {
        throw this.fail(
          `expected 'like', 'in', 'between', 'contains', 'starts with' or 'ends with' after 'not' but found ${describe(n)}`,
          n,
        );
      }
      kw = n;
    }
    switch (kw.lower) {
      case 'like':
      case 'contains':
      case 'starts':
      case 'ends': {
        this.next();
        let word = kw.text;
        if (kw.lower === 'starts' || kw.lower === 'ends') {
          const w = this.peek();
          if (!this.isWord('with')) throw this.fail(`expected 'with' after '${kw.text}' but found ${describe(w)}`, w);
          this.next();
          word += ` ${(w as { text: string }).text}`;
        }
        const mode: LikeMode =
          kw.lower === 'like' ? 'like' : kw.lower === 'contains' ? 'contains' : kw.lower === 'starts' ? 'starts' : 'ends';
        const value = this.parseValue(`'${word}'`);
        if (value.kind === 'null') throw this.fail(`'${word}' needs text, not null; use 'is null' or 'is not null'`, value.pos as number);
        if (value.kind === 'claim' && mode === 'like') {
          throw this.fail(`a claim cannot be a 'like' pattern; use '=', 'contains', 'starts with' or 'ends with'`, value.pos as number);
        }
        return { kind: 'like', field, mode, negated, value, pos };
      }
      case 'in':
        this.next();
        return { kind: 'in', field, negated, values: this.parseList(kw), pos };
      case 'between': {
        this.next();
        const low = this.parseValue(`'${kw.text}'`);
        if (!this.isWord('and')) {
          throw this.fail(`expected 'and' after the lower bound of 'between' but found ${describe(this.peek())}`, this.peek());
        }
        const and = this.next();
        const high = this.parseValue(`'between ... ${(and as { text: string }).text}'`);
        for (const b of [low, high]) {
          if (b.kind === 'null') throw this.fail(`the bounds of 'between' cannot be null`, b.pos as number);
        }
        return { kind: 'between', field, negated, low, high, pos };
      }
      case 'is': {
        this.next();
        let neg = false;
        if (this.isWord('not')) {
          this.next();
          neg = true;
        }
        const n = this.peek();
        if (!this.isWord('null')) {
          throw this.fail(
            `expected ${neg ? "'null'" : "'null' or 'not null'"} after '${kw.text}${neg ? ' not' : ''}' but found ${describe(n)}`,
            n,
          );
        }
        this.next();
        return { kind: 'isnull', field, negated: neg, pos };
      }
      default:
        throw this.fail(`expected an operator after '${field}' (one of ${OPERATOR_HELP}) but found ${describe(kw)}`, kw);
    }
  }

  private parseList(kw: Tok & { text: string }): Lit[] {
    const open = this.peek();
    if (open.t === 'claim') {
      this.next();
      return [{ kind: 'claim', path: open.path, pos: open.pos }];
    }
    if (open.t !== '(') {
      throw this.fail(`expected '(' after '${kw.text}'${this.allowClaims ? ' (or a claim)' : ''} but found ${describe(open)}`, open);
    }
    this.next();
    if (this.peek().t === ')') throw this.fail(`the list after '${kw.text}' is empty`, open);
    const values: Lit[] = [];
    for (;;) {
      values.push(this.parseValue(values.length === 0 ? `'${kw.text} ('` : "','"));
      const t = this.next();
      if (t.t === ')') return values;
      if (t.t !== ',') {
        if (t.t === 'eof') throw this.fail(`the list opened at position ${open.pos} is never closed: expected ')'`, t);
        throw this.fail(`expected ',' or ')' in the list but found ${describe(t)}`, t);
      }
    }
  }

  private parseValue(after: string): Lit {
    const t = this.peek();
    switch (t.t) {
      case 'string':
        this.next();
        return { kind: 'string', value: t.value, pos: t.pos };
      case 'number':
        this.next();
        return { kind: 'number', text: t.text, pos: t.pos };
      case 'claim':
        this.next();
        return { kind: 'claim', path: t.path, pos: t.pos };
      case 'param':
        this.next();
        return { kind: 'param', name: t.name, pos: t.pos };
      case 'word':
        if (t.lower === 'true' || t.lower === 'false') {
          this.next();
          return { kind: 'bool', value: t.lower === 'true', pos: t.pos };
        }
        if (t.lower === 'null') {
          this.next();
          return { kind: 'null', pos: t.pos };
        }
        throw this.fail(`expected a value after ${after} but found the name '${t.text}' (text values go in single quotes: '${t.text}')`, t);
      case 'op':
        if (t.text === '=' && after === "'='") throw this.fail(`use a single '=' to compare`, t);
        throw this.fail(`expected a value after ${after} but found ${describe(t)}`, t);
      case 'qname':
        throw this.fail(
          `expected a value after ${after} but found "${t.text}" (text values go in single quotes: '${t.text.replace(/'/g, "''")}')`,
          t,
        );
      default:
        throw this.fail(`expected a value after ${after} but found ${describe(t)}`, t);
    }
  }
}

function describe(t: Tok): string {
  switch (t.t) {
    case 'eof':
      return 'the end of the filter';
    case 'word':
      return `'${t.text}'`;
    case 'qname':
      return `"${t.text}"`;
    case 'string':
      return `the text '${t.value.length > 20 ? t.value.slice(0, 20) + '...' : t.value}'`;
    case 'number':
      return `the number ${t.text}`;
    case 'op':
      return `'${t.text}'`;
    case 'claim':
      return 'a claim';
    case 'param':
      return `the parameter {params.${t.name}}`;
    default:
      return `'${t.t}'`;
  }
}
