// The MongoDB source (src/sources/mongodb.ts) against PostgreSQL, on the same rows: every filter,
// order and page the source answers over a MongoDB (FerretDB here) collection must give exactly
// what PostgreSQL gives for a hand-written WHERE/ORDER BY over a table in a C-collation database
// holding the same rows. The rows are written twice by hand below, as the BSON document and as
// the PostgreSQL row it stands for (docs/query.md: a missing field and null are NULL; with
// `onTypeMismatch: null` a value that does not fit the column is NULL; an ObjectId is its hex text);
// the predicates are written as the typed predicates the policy layer hands to a source, each
// beside its SQL. No product code produces an expected answer.
process.env.TZ = 'America/New_York'; // a DST-observing process zone: no value may depend on it

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Double, Long, ObjectId, type Document } from 'mongodb';
import type { OrderTerm, Predicate } from '../../src/query/predicate.js';
import { MongoSource } from '../../src/sources/mongodb/source.js';
import { createMongoDatabase, createPgDatabase } from '../support/stores.js';
import { oracleQuery } from './env.js';
import { canonRow, show } from './harness.js';

const hex = (n: number): string => `65f0000000000000000000${String(n).padStart(2, '0')}`;
const oid = (n: number): ObjectId => new ObjectId(hex(n));
const at = (iso: string): Date => new Date(iso);

const COLUMNS = {
  id: { type: 'text' as const, path: '_id' },
  who: { type: 'text' as const },
  n: { type: 'int' as const, path: 'm.n', onTypeMismatch: 'null' as const },
  f: { type: 'float' as const, onTypeMismatch: 'null' as const },
  at: { type: 'timestamptz' as const },
  flag: { type: 'bool' as const },
  tag: { type: 'text' as const, path: 'p.tag' },
  // Misfits read as NULL: a date column holds UTC midnights only, a bool column booleans only, a text column strings and ObjectIds only.
  day: { type: 'date' as const, onTypeMismatch: 'null' as const },
  ok: { type: 'bool' as const, onTypeMismatch: 'null' as const },
  label: { type: 'text' as const, onTypeMismatch: 'null' as const },
};
const NAMES = Object.keys(COLUMNS);

type PgRow = [
  id: string,
  who: string | null,
  n: string | null,
  f: string | null,
  at: string | null,
  flag: string | null,
  tag: string | null,
];
/** day, ok, label (all NULL when not given). */
type PgMore = [day: string | null, ok: string | null, label: string | null];

// prettier-ignore
const DATA: { doc: Document; row: PgRow; more?: PgMore }[] = [
  { doc: { _id: oid(1), who: '1', m: { n: 1 }, f: 1.5, at: at('2024-03-31T00:59:59.999Z'), flag: true, p: { tag: 'a' } },
    row: [hex(1), '1', '1', '1.5', '2024-03-31 00:59:59.999+00', 'true', 'a'] },
  { doc: { _id: oid(2), who: '2', m: { n: '3' }, f: 3, at: at('2024-03-31T01:00:00Z'), flag: false, p: { tag: 'A' } },
    row: [hex(2), '2', null, '3', '2024-03-31 01:00:00+00', 'false', 'A'] },
  { doc: { _id: oid(3), who: '2', m: { n: 2.5 }, f: Long.fromNumber(3), at: at('2024-10-27T00:59:59.999Z'), flag: null, p: { tag: 'a ' } },
    row: [hex(3), '2', null, '3', '2024-10-27 00:59:59.999+00', null, 'a '] },
  { doc: { _id: 'AAAA', who: '1', m: { n: 5 }, f: new Double(3), at: at('2024-10-27T01:00:00Z'), p: { tag: '' } },
    row: ['AAAA', '1', '5', '3', '2024-10-27 01:00:00+00', null, ''] },
  { doc: { _id: `${hex(1)}5`, who: oid(9), m: { n: Long.fromNumber(7) }, f: -0.5, at: at('1969-12-31T23:59:59.999Z'), flag: true, p: { tag: '100% _under_score\\' } },
    row: [`${hex(1)}5`, hex(9), '7', '-0.5', '1969-12-31 23:59:59.999+00', 'true', '100% _under_score\\'] },
  { doc: { _id: '0', who: null, m: { n: null }, f: null, at: null, flag: false, p: { tag: null } },
    row: ['0', null, null, null, null, 'false', null] },
  { doc: { _id: 'zz', m: { n: new Double(4) }, f: 1e300, at: at('2038-01-19T03:14:08Z'), p: { tag: 'abc' } },
    row: ['zz', null, '4', '1e300', '2038-01-19 03:14:08+00', null, 'abc'] },
  { doc: { _id: 'arr', who: 'a', m: { n: [4] }, f: 2.5, p: { tag: 'a_c' } },
    row: ['arr', 'a', null, '2.5', null, null, 'a_c'] },
  { doc: { _id: 'arrpath', who: 'a', m: [{ n: 6 }], f: Long.fromString('9007199254740993'), p: { tag: 'a%c' } },
    row: ['arrpath', 'a', null, null, null, null, 'a%c'] },
  { doc: { _id: oid(10), who: 'b', m: 'none', f: Long.fromString('9007199254740992'), p: 'not an object' },
    row: [hex(10), 'b', null, '9007199254740992', null, null, null] },
  { doc: { _id: 'qtytrue', who: '65f', m: { n: true }, f: 0, at: at('2024-02-29T12:00:00Z'), flag: true, p: { tag: 'O\'Brien "Quote" \\ back' } },
    row: ['qtytrue', '65f', null, '0', '2024-02-29 12:00:00+00', 'true', 'O\'Brien "Quote" \\ back'] },
  { doc: { _id: 'big', who: 'B', m: { n: Long.fromString('9007199254740993') }, f: -1e-300, p: { tag: '\uE000' } },
    row: ['big', 'B', '9007199254740993', '-1e-300', null, null, '\uE000'] },
  { doc: { _id: 'big2', who: 'b ', m: { n: Long.fromString('9007199254740992') }, f: 2, p: { tag: '\uFFFF' } },
    row: ['big2', 'b ', '9007199254740992', '2', null, null, '\uFFFF'] },
  { doc: { _id: 'max', who: '', m: { n: Long.fromString('9223372036854775807') }, f: -3, p: { tag: '\u{1F600}' } },
    row: ['max', '', '9223372036854775807', '-3', null, null, '\u{1F600}'] },
  { doc: { _id: 'min', who: 'ω', m: { n: Long.fromString('-9223372036854775808') }, f: 4, p: { tag: '\u{10FFFF}' } },
    row: ['min', 'ω', '-9223372036854775808', '4', null, null, '\u{10FFFF}'] },
  { doc: { _id: 'neg', who: 'Ω', m: { n: -1 }, f: 7, p: { tag: 'line1\nline2' } },
    row: ['neg', 'Ω', '-1', '7', null, null, 'line1\nline2'] },
  { doc: { _id: 'zero', who: '\u{1F600}', m: { n: 0 }, f: 1, p: { tag: '\uFFFD' } },
    row: ['zero', '\u{1F600}', '0', '1', null, null, '\uFFFD'] },
  { doc: { _id: 'tab', who: 'x', m: {}, f: 2.5, at: at('2024-03-10T07:00:00Z'), p: { tag: 'tab\there' } },
    row: ['tab', 'x', null, '2.5', '2024-03-10 07:00:00+00', null, 'tab\there'] },
  { doc: { _id: oid(11), who: 'X', m: { n: 3 }, f: 3.5, at: at('2024-11-03T06:00:00Z'), flag: false, p: { tag: 'ålice' } },
    row: [hex(11), 'X', '3', '3.5', '2024-11-03 06:00:00+00', 'false', 'ålice'] },
  { doc: { _id: 'AAAB', who: hex(9), m: { n: 5 }, f: 5, at: at('2024-03-31T00:59:59.999Z'), p: { tag: 'Zoe\u0308' } },
    row: ['AAAB', hex(9), '5', '5', '2024-03-31 00:59:59.999+00', null, 'Zoe\u0308'] },
  { doc: { _id: 'AaAa', who: 'a', m: { n: 2 }, f: 2, flag: true, p: { tag: 'Zoë' } },
    row: ['AaAa', 'a', '2', '2', null, 'true', 'Zoë'] },
  { doc: { _id: '65f0000000000000000000aa', who: 'a', m: { n: 8 }, f: 8, at: at('2024-03-31T01:00:00.001Z'), flag: false, p: { tag: '%' } },
    row: ['65f0000000000000000000aa', 'a', '8', '8', '2024-03-31 01:00:00.001+00', 'false', '%'] },
  { doc: { _id: 'us', who: '2', m: { n: 1 }, f: 1, at: at('2024-03-10T06:59:59.999Z'), p: { tag: '_' } },
    row: ['us', '2', '1', '1', '2024-03-10 06:59:59.999+00', null, '_'] },
  { doc: { _id: 'bs', who: '2', m: { n: 1 }, p: { tag: '\\' } },
    row: ['bs', '2', '1', null, null, null, '\\'] },
  { doc: { _id: 'huge', who: 'h', m: { n: 1e20 }, f: -0, day: at('2024-03-10T00:00:00Z'), ok: true, label: 'x' },
    row: ['huge', 'h', null, '-0', null, null, null], more: ['2024-03-10', 'true', 'x'] },
  { doc: { _id: 'd1', who: 'h', m: { n: -1e20 }, f: 0, day: at('2024-03-10T05:00:00Z'), ok: 1, label: 5 },
    row: ['d1', 'h', null, '0', null, null, null], more: [null, null, null] },
  { doc: { _id: 'd2', who: 'h', day: at('2024-02-29T00:00:00Z'), ok: 'true', label: oid(12) },
    row: ['d2', 'h', null, null, null, null, null], more: ['2024-02-29', null, hex(12)] },
  { doc: { _id: 'd3', who: 'h', day: '2024-03-10', ok: false, label: true },
    row: ['d3', 'h', null, null, null, null, null], more: [null, 'false', null] },
  { doc: { _id: 'd4', who: 'h', day: at('1969-12-31T00:00:00Z'), ok: null, label: at('2024-01-01T00:00:00Z') },
    row: ['d4', 'h', null, null, null, null, null], more: ['1969-12-31', null, null] },
  { doc: { _id: 'd5', who: 'h', day: at('2024-03-09T23:59:59.999Z'), ok: [true], label: ['x'] },
    row: ['d5', 'h', null, null, null, null, null], more: [null, null, null] },
  { doc: { _id: 'd6', who: 'h', day: null, ok: 0, label: 'X' },
    row: ['d6', 'h', null, null, null, null, null], more: [null, null, 'X'] },
  { doc: { _id: 'd7', who: 'h', label: 4.5 },
    row: ['d7', 'h', null, null, null, null, null], more: [null, null, null] },
];

// ---- predicates, each beside its PostgreSQL ---------------------------------------------------

const cmp = (column: string, op: '=' | '<>' | '<' | '<=' | '>' | '>=', value: string | bigint | number | boolean): Predicate => ({
  op: 'cmp',
  column,
  cmp: op,
  value,
});
const like = (column: string, pattern: string): Predicate => ({ op: 'like', column, pattern });
const isnull = (column: string): Predicate => ({ op: 'isnull', column });
const inList = (column: string, values: (string | bigint | number | boolean)[]): Predicate => ({ op: 'in', column, values });
const not = (arg: Predicate): Predicate => ({ op: 'not', arg });
const and = (...args: Predicate[]): Predicate => ({ op: 'and', args });
const or = (...args: Predicate[]): Predicate => ({ op: 'or', args });

// SQL strings are standard-conforming: '\' is one backslash.
// prettier-ignore
const CASES: { where?: Predicate; sql: string }[] = [
  { sql: 'true' },
  // NULL and missing fields (and misfits that read as NULL)
  { where: isnull('who'), sql: 'who IS NULL' },
  { where: not(isnull('who')), sql: 'who IS NOT NULL' },
  { where: isnull('n'), sql: 'n IS NULL' },
  { where: not(isnull('n')), sql: 'n IS NOT NULL' },
  { where: isnull('f'), sql: 'f IS NULL' },
  { where: isnull('at'), sql: 'at IS NULL' },
  { where: isnull('flag'), sql: 'flag IS NULL' },
  { where: isnull('tag'), sql: 'tag IS NULL' },
  { where: and(isnull('who'), not(isnull('n'))), sql: 'who IS NULL AND n IS NOT NULL' },
  // negations never match NULL or missing
  { where: not(cmp('who', '=', 'a')), sql: "NOT (who = 'a')" },
  { where: cmp('who', '<>', 'b'), sql: "who <> 'b'" },
  { where: not(inList('tag', ['a', 'A'])), sql: "tag NOT IN ('a', 'A')" },
  { where: not(or(cmp('n', '>', 2n), isnull('tag'))), sql: 'NOT (n > 2 OR tag IS NULL)' },
  { where: not(and(cmp('flag', '=', true), like('tag', 'a%'))), sql: "NOT (flag = true AND tag LIKE 'a%')" },
  { where: cmp('flag', '<>', true), sql: 'flag <> true' },
  { where: not(cmp('flag', '=', false)), sql: 'NOT flag = false' },
  { where: not(cmp('f', '>=', 0)), sql: 'f < 0' },
  { where: not(not(cmp('n', '=', 5n))), sql: 'n = 5' },
  { where: not(cmp('at', '>=', '2024-10-27T01:00:00.000000Z')), sql: "at < timestamptz '2024-10-27 01:00:00+00'" },
  { where: { op: 'const', value: null }, sql: 'NULL' },
  { where: not({ op: 'const', value: null }), sql: 'NOT NULL' },
  { where: or({ op: 'const', value: null }, cmp('n', '=', 1n)), sql: 'NULL OR n = 1' },
  // LIKE: metacharacters escaped with \, _ is one code point, newlines, quotes
  { where: like('tag', '%\\%%'), sql: "tag LIKE '%\\%%' ESCAPE '\\'" },
  { where: like('tag', '%\\_%'), sql: "strpos(tag, '_') > 0" },
  { where: like('tag', '%\\\\%'), sql: "strpos(tag, '\\') > 0" },
  { where: like('tag', '\\\\'), sql: "tag = '\\'" },
  { where: like('tag', 'a_c'), sql: "tag LIKE 'a_c'" },
  { where: like('tag', 'a\\_c'), sql: "tag = 'a_c'" },
  { where: not(like('tag', '%a%')), sql: "tag NOT LIKE '%a%'" },
  { where: like('tag', ''), sql: "tag = ''" },
  { where: like('tag', '%'), sql: 'tag IS NOT NULL' },
  { where: like('tag', '_'), sql: 'length(tag) = 1' },
  { where: not(like('tag', '_')), sql: 'length(tag) <> 1' },
  { where: like('tag', 'line1_line2'), sql: "tag = 'line1' || chr(10) || 'line2'" },
  { where: like('tag', 'tab%'), sql: "starts_with(tag, 'tab')" },
  { where: like('tag', "O'%"), sql: "starts_with(tag, 'O''')" },
  { where: like('tag', 'a%'), sql: "starts_with(tag, 'a')" },
  { where: like('tag', 'A%'), sql: "starts_with(tag, 'A')" },
  { where: like('tag', 'Zo_'), sql: "tag LIKE 'Zo_'" },
  { where: like('tag', '.*'), sql: "tag = '.*'" },
  { where: like('who', '%'), sql: 'who IS NOT NULL' },
  // ObjectIds are their hex text, beside strings (some of them 24 hex digits themselves)
  { where: cmp('id', '=', hex(1)), sql: `id = '${hex(1)}'` },
  { where: cmp('id', '=', '65f0000000000000000000aa'), sql: "id = '65f0000000000000000000aa'" },
  { where: cmp('id', '>', 'AAAA'), sql: "id > 'AAAA'" },
  { where: cmp('id', '<', hex(3)), sql: `id < '${hex(3)}'` },
  { where: and(cmp('id', '>=', '65f'), cmp('id', '<=', '65g')), sql: "id BETWEEN '65f' AND '65g'" },
  { where: like('id', '65f%'), sql: "starts_with(id, '65f')" },
  { where: like('id', '%1'), sql: "right(id, 1) = '1'" },
  { where: like('id', '%0_'), sql: "id LIKE '%0_'" },
  { where: not(like('id', '%0_')), sql: "id NOT LIKE '%0_'" },
  { where: like('id', '6_f%a'), sql: "id LIKE '6_f%a'" },
  { where: inList('who', [hex(9), 'a']), sql: `who IN ('${hex(9)}', 'a')` },
  { where: cmp('who', '=', hex(9)), sql: `who = '${hex(9)}'` },
  { where: cmp('who', '<', '7'), sql: "who < '7'" },
  { where: not(inList('who', ['1', '2'])), sql: "who NOT IN ('1', '2')" },
  { where: like('who', '65f%'), sql: "starts_with(who, '65f')" },
  { where: not(like('who', '6%')), sql: "NOT starts_with(who, '6')" },
  // numbers of mixed BSON types: int32, int64, double (4.0 fits an int column, 2.5 does not)
  { where: cmp('n', '=', 4n), sql: 'n = 4' },
  { where: cmp('n', '>', 2n), sql: 'n > 2' },
  { where: cmp('n', '<=', 2n), sql: 'n <= 2' },
  { where: cmp('n', '=', 9007199254740993n), sql: 'n = 9007199254740993' },
  { where: cmp('n', '=', 9007199254740992n), sql: 'n = 9007199254740992' },
  { where: cmp('n', '>', 9007199254740992n), sql: 'n > 9007199254740992' },
  { where: cmp('n', '<', -1n), sql: 'n < -1' },
  { where: inList('n', [1n, 3n, 5n]), sql: 'n IN (1, 3, 5)' },
  { where: not(inList('n', [1n, 3n, 5n])), sql: 'n NOT IN (1, 3, 5)' },
  { where: cmp('n', '<>', 1n), sql: 'n <> 1' },
  { where: cmp('f', '=', 3), sql: 'f = 3' },
  { where: cmp('f', '>', 2.5), sql: 'f > 2.5' },
  { where: cmp('f', '>=', 2.5), sql: 'f >= 2.5' },
  { where: cmp('f', '<', 0), sql: 'f < 0' },
  { where: cmp('f', '>=', 1e300), sql: "f >= float8 '1e300'" },
  { where: cmp('f', '=', 9007199254740992), sql: "f = float8 '9007199254740992'" },
  { where: cmp('f', '>', 0), sql: 'f > 0' },
  { where: inList('f', [1, 2, 3]), sql: 'f IN (1, 2, 3)' },
  { where: cmp('f', '<>', 3), sql: 'f <> 3' },
  // timestamps: milliseconds in MongoDB, microseconds in the literal
  { where: cmp('at', '=', '2024-03-31T00:59:59.999000Z'), sql: "at = timestamptz '2024-03-31 00:59:59.999+00'" },
  { where: cmp('at', '<', '1970-01-01T00:00:00.000000Z'), sql: "at < timestamptz '1970-01-01 00:00:00+00'" },
  { where: cmp('at', '>', '2024-03-31T00:59:59.999500Z'), sql: "at > timestamptz '2024-03-31 00:59:59.9995+00'" },
  { where: cmp('at', '<=', '2024-03-31T00:59:59.999500Z'), sql: "at <= timestamptz '2024-03-31 00:59:59.9995+00'" },
  { where: cmp('at', '=', '2024-03-31T00:59:59.999500Z'), sql: "at = timestamptz '2024-03-31 00:59:59.9995+00'" },
  { where: cmp('at', '>=', '2024-03-31T01:00:00.000001Z'), sql: "at >= timestamptz '2024-03-31 01:00:00.000001+00'" },
  { where: cmp('at', '<>', '2024-03-31T01:00:00.000000Z'), sql: "at <> timestamptz '2024-03-31 01:00:00+00'" },
  { where: inList('at', ['2024-03-10T07:00:00.000000Z', '2038-01-19T03:14:08.000000Z']), sql: "at IN (timestamptz '2024-03-10 07:00:00+00', timestamptz '2038-01-19 03:14:08+00')" },
  // booleans
  { where: cmp('flag', '=', false), sql: 'flag = false' },
  { where: cmp('flag', '=', true), sql: 'flag' },
  // text by code point: U+E000..U+FFFF below supplementary characters; case; trailing spaces
  { where: cmp('tag', '>', '\uE000'), sql: "tag > U&'\\E000'" },
  { where: cmp('tag', '<', '\u{1F600}'), sql: "tag < U&'\\+01F600'" },
  { where: cmp('tag', '>=', '\uFFFD'), sql: "tag >= U&'\\FFFD'" },
  { where: cmp('tag', '>=', 'a'), sql: "tag >= 'a'" },
  { where: cmp('tag', '<', 'a'), sql: "tag < 'a'" },
  { where: cmp('tag', '=', 'a '), sql: "tag = 'a '" },
  { where: cmp('tag', '=', 'Zoë'), sql: "tag = U&'Zo\\00EB'" },
  { where: cmp('who', '>', 'b'), sql: "who > 'b'" },
  { where: cmp('who', '=', 'b'), sql: "who = 'b'" },
  { where: cmp('who', '>=', 'Ω'), sql: "who >= U&'\\03A9'" },
  // misfits read as NULL in date, bool and text columns
  { where: isnull('day'), sql: 'day IS NULL' },
  { where: not(isnull('day')), sql: 'day IS NOT NULL' },
  { where: cmp('day', '=', '2024-03-10'), sql: "day = date '2024-03-10'" },
  { where: cmp('day', '<', '2024-03-10'), sql: "day < date '2024-03-10'" },
  { where: not(cmp('day', '=', '2024-03-10')), sql: "day <> date '2024-03-10'" },
  { where: inList('day', ['2024-02-29', '1969-12-31']), sql: "day IN (date '2024-02-29', date '1969-12-31')" },
  { where: isnull('ok'), sql: 'ok IS NULL' },
  { where: cmp('ok', '=', true), sql: 'ok' },
  { where: not(cmp('ok', '=', true)), sql: 'NOT ok' },
  { where: cmp('ok', '<>', false), sql: 'ok <> false' },
  { where: isnull('label'), sql: 'label IS NULL' },
  { where: not(isnull('label')), sql: 'label IS NOT NULL' },
  { where: cmp('label', '>', '4'), sql: "label > '4'" },
  { where: not(cmp('label', '=', 'x')), sql: "label <> 'x'" },
  { where: not(inList('label', ['x'])), sql: "label NOT IN ('x')" },
  { where: like('label', '%'), sql: 'label IS NOT NULL' },
  { where: not(like('label', 'x%')), sql: "NOT starts_with(label, 'x')" },
  { where: cmp('label', '=', hex(12)), sql: `label = '${hex(12)}'` },
  { where: cmp('f', '=', 0), sql: 'f = 0' },
  { where: cmp('n', '>', 2n), sql: 'n > 2' },
  { where: cmp('n', '<', 0n), sql: 'n < 0' },
  // a few combinations
  { where: or(like('id', '%a%'), cmp('n', '=', 1n)), sql: "strpos(id, 'a') > 0 OR n = 1" },
  { where: and(not(isnull('n')), like('id', '6%')), sql: "n IS NOT NULL AND starts_with(id, '6')" },
  { where: not(or(cmp('n', '=', 5n), like('id', '%1'))), sql: "NOT (n = 5 OR right(id, 1) = '1')" },
  { where: or(isnull('n'), cmp('f', '<', 2)), sql: 'n IS NULL OR f < 2' },
  { where: and(cmp('who', '=', '2'), not(cmp('f', '=', 3))), sql: "who = '2' AND NOT f = 3" },
];

// Every order ends on the unique id, so it is total and results compare as sequences.
// prettier-ignore
const ORDERS: { by: OrderTerm[]; sql: string }[] = [
  { by: [{ column: 'id', desc: false }], sql: 'id ASC' },
  { by: [{ column: 'id', desc: true }], sql: 'id DESC' },
  { by: [{ column: 'tag', desc: false }, { column: 'id', desc: false }], sql: 'tag ASC NULLS LAST, id' },
  { by: [{ column: 'n', desc: true }, { column: 'id', desc: false }], sql: 'n DESC NULLS FIRST, id' },
  { by: [{ column: 'who', desc: false }, { column: 'id', desc: true }], sql: 'who ASC NULLS LAST, id DESC' },
  { by: [{ column: 'at', desc: false }, { column: 'id', desc: false }], sql: 'at ASC NULLS LAST, id' },
  { by: [{ column: 'f', desc: true }, { column: 'flag', desc: false }, { column: 'id', desc: false }], sql: 'f DESC NULLS FIRST, flag ASC NULLS LAST, id' },
  { by: [{ column: 'flag', desc: true }, { column: 'who', desc: true }, { column: 'id', desc: false }], sql: 'flag DESC NULLS FIRST, who DESC NULLS FIRST, id' },
  { by: [{ column: 'day', desc: false }, { column: 'label', desc: true }, { column: 'id', desc: false }], sql: 'day ASC NULLS LAST, label DESC NULLS FIRST, id' },
  { by: [{ column: 'ok', desc: false }, { column: 'label', desc: false }, { column: 'id', desc: true }], sql: 'ok ASC NULLS LAST, label ASC NULLS LAST, id DESC' },
];

const PAGES: [offset: number, limit: number | undefined][] = [
  [0, undefined],
  [0, 1],
  [1, 3],
  [5, 4],
  [20, undefined],
];

describe('MongoDB source against PostgreSQL on the same rows', () => {
  let mongo: Awaited<ReturnType<typeof createMongoDatabase>>;
  let oracleDb: Awaited<ReturnType<typeof createPgDatabase>>;
  let pool: pg.Pool;
  let src: MongoSource;

  beforeAll(async () => {
    mongo = await createMongoDatabase('oracle_mongo_src');
    oracleDb = await createPgDatabase('oracle_mongo_src');
    await mongo.client
      .db(mongo.name)
      .collection('docs')
      .insertMany(DATA.map((d) => d.doc));
    pool = new pg.Pool({
      connectionString: oracleDb.url,
      max: 2,
      options: '-c TimeZone=UTC -c extra_float_digits=1',
      types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig,
    });
    pool.on('error', () => {});
    await pool.query(
      'CREATE TABLE docs (id text PRIMARY KEY, who text, n int8, f float8, at timestamptz, flag boolean, tag text, day date, ok boolean, label text)',
    );
    for (const { row, more } of DATA)
      await pool.query('INSERT INTO docs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [...row, ...(more ?? [null, null, null])]);
    src = new MongoSource({
      name: 'mgoracle',
      url: mongo.url,
      database: mongo.name,
      timeoutMs: 10_000,
      pool: 2,
      collections: { docs: { columns: COLUMNS } },
    });
    await src.connect();
  }, 60_000);

  afterAll(async () => {
    await src?.close();
    await pool?.end();
    await oracleDb?.drop();
    await mongo?.drop();
  });

  const pgRows = async (sql: string): Promise<Record<string, unknown>[]> => (await oracleQuery(pool, sql, [])).rows;

  it('reads every document as its hand-written PostgreSQL row', async () => {
    const got = (await src.scan('docs', { columns: NAMES, orderBy: [{ column: 'id', desc: false }] })).rows;
    const want = await pgRows(`SELECT ${NAMES.join(', ')} FROM docs ORDER BY id`);
    expect(got.map((r) => canonRow(r, NAMES))).toEqual(want.map((r) => canonRow(r, NAMES)));
    expect(got).toHaveLength(DATA.length);
  });

  it.each(CASES.map((c, i) => [i, c.sql, c] as const))(
    "#%i %s: rows, order, pages and count are PostgreSQL's",
    async (_i, _s, c) => {
      const label = `where ${c.where ? show(c.where) : '(none)'}\n  sql: ${c.sql}`;
      const total = Number((await pgRows(`SELECT count(*) AS n FROM docs WHERE ${c.sql}`))[0]!.n);
      expect(await src.count('docs', c.where), label).toBe(total);
      const problems: string[] = [];
      for (const [k, order] of ORDERS.entries()) {
        // Every order unpaged; the pages with a few orders only (each scan may be several finds).
        const pages = k % 4 === 0 ? PAGES : PAGES.slice(0, 1);
        for (const [offset, limit] of pages) {
          const want = await pgRows(
            `SELECT ${NAMES.join(', ')} FROM docs WHERE ${c.sql} ORDER BY ${order.sql}${limit === undefined ? '' : ` LIMIT ${limit}`} OFFSET ${offset}`,
          );
          const got = (
            await src.scan('docs', { columns: NAMES, where: c.where, orderBy: order.by, offset, ...(limit === undefined ? {} : { limit }) })
          ).rows;
          const a = got.map((r) => canonRow(r, NAMES));
          const b = want.map((r) => canonRow(r, NAMES));
          if (a.join('\n') !== b.join('\n')) {
            problems.push(
              `order ${order.sql}, offset ${offset}, limit ${limit ?? 'none'}:\n    source:     ${a.map((r) => r.split(' | ')[0]).join(', ')}\n    PostgreSQL: ${b.map((r) => r.split(' | ')[0]).join(', ')}\n    first source row that differs: ${a.find((r, i) => r !== b[i]) ?? '(none)'}`,
            );
          }
        }
      }
      expect(problems, `${label}\n  ${problems.join('\n  ')}`).toEqual([]);
    },
    60_000,
  );
});
