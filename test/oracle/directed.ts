// Hand-written queries that aim at the adversarial fixture's traps, so they run whatever the seed.
// Each applies to every view that has all the columns it names. The oracle side is printed from
// the parsed filter (converted to the generator's AST); the parser itself is checked against the
// in-process evaluator and PostgreSQL by harness.test.ts.
import { astFields, type FilterAst, type Lit as AstLit } from '../../src/query/ast.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import type { GFilter, GenQuery, Lit } from './generate.js';
import type { OracleView } from './views.js';

export interface Directed {
  filter: string;
  /** `col [desc], ...`; the view key is appended. */
  order?: string;
}

// prettier-ignore
export const DIRECTED: Directed[] = [
  // 64-bit integers: 2^53 + 1 must not meet 2^53 through a double, also across the int -> text cast
  { filter: 'customer_id = 9007199254740993' },
  { filter: 'customer_id = 9007199254740992' },
  { filter: "customer_id = '9007199254740993'" },
  { filter: 'customer_id in (9223372036854775807, -5, 0)', order: 'customer_id desc' },
  { filter: 'customer_id > 9007199254740992', order: 'customer_id desc' },
  { filter: "customer_id = '7'" },
  { filter: 'order_id >= 9007199254740993', order: 'order_id' },
  { filter: 'seq = 9007199254740993' },
  { filter: 'qty = 9007199254740993' },
  { filter: 'id_sum > 9007199254740993', order: 'id_sum desc' },
  // text: case, trailing spaces, empty string vs NULL (MariaDB's collation is case-insensitive and PAD SPACE)
  { filter: "tenant_id = 't1'", order: 'tenant_id' },
  { filter: "tenant_id = 'T1'" },
  { filter: "tenant_id = 't1 '" },
  { filter: "tenant_id in ('t1', 'T1')", order: 'tenant_id desc' },
  { filter: "tenant_id like 't1%'", order: 'tenant_id' },
  { filter: "tenant_id > 't1'", order: 'tenant_id' },
  { filter: "tenant_id = ''" },
  { filter: 'tenant_id is null' },
  { filter: "tenant_id != 't2'", order: 'tenant_id desc' },
  { filter: "email ends with ' '" },
  { filter: "email = 'alan@example.com'" },
  { filter: "full_name = 'alice'" },
  { filter: "full_name like 'a%'", order: 'full_name' },
  { filter: "full_name like 'A%'", order: 'full_name desc' },
  // code-point order: U+E000..U+FFFF sort below supplementary characters (UTF-16 says otherwise)
  { filter: "full_name > '\uE000'", order: 'full_name' },
  { filter: "full_name < '\u{1F600}'", order: 'full_name desc' },
  { filter: "full_name >= '\uFFFF'", order: 'full_name' },
  { filter: "full_name between 'Z' and '\u{10FFFF}'", order: 'full_name' },
  { filter: "event_type > '\uE000'", order: 'event_type' },
  { filter: "event_type >= 'Ω'", order: 'event_type desc' },
  { filter: "status > 'z'", order: 'status' },
  // LIKE metacharacters, escapes, newlines
  { filter: "full_name contains '%'" },
  { filter: "full_name contains '_'" },
  { filter: "full_name like '%\\%%'" },
  { filter: "full_name like '%\\\\'" },
  { filter: "full_name ends with '\\'" },
  { filter: "full_name like 'line1_line2'" },
  { filter: "full_name like 'line1%'" },
  { filter: "full_name like '_ Smile'" },
  { filter: "full_name not like '%e%'", order: 'full_name' },
  { filter: "sku like 'SKU-\\%%'" },
  { filter: "sku starts with 'SKU-%_\\'" },
  { filter: "sku starts with 'SKU-'", order: 'sku desc' },
  { filter: "full_name like 'o''brien%'" },
  { filter: "full_name like 'O''Brien%'" },
  // three-valued logic: NULL and missing fields never match a negation
  { filter: "event_type in ('view', null)" },
  { filter: "event_type not in ('view', null)" },
  { filter: "not (event_type = 'view')", order: 'event_type' },
  { filter: "event_type != 'view'", order: 'event_type desc' },
  { filter: "not (event_type in ('view', 'buy') or user_id = '2')" },
  { filter: 'event_type is null', order: 'event_ts desc' },
  { filter: 'user_id is null' },
  { filter: "user_id = 'abc'" },
  { filter: "user_id = '01'" },
  { filter: "user_id = '1'" },
  { filter: "user_id = '1 '" },
  { filter: "user_id not in ('1', '2')", order: 'user_id' },
  { filter: 'qty is null', order: 'qty' },
  { filter: 'qty > 2', order: 'qty desc' },
  { filter: 'seq = 7' },
  { filter: 'seq is not null', order: 'seq' },
  { filter: 'sku is null' },
  { filter: 'is_active = true' },
  { filter: 'is_active is null' },
  { filter: 'is_active != true' },
  // timestamps: DST edges, microseconds vs MongoDB's milliseconds, offsets, no offset = UTC
  { filter: "event_ts between '2024-03-31T00:59:59.999Z' and '2024-03-31T01:00:00Z'", order: 'event_ts' },
  { filter: "event_ts > '2024-10-27T02:30:00+02:00'", order: 'event_ts' },
  { filter: "event_ts = '2024-03-31T00:59:59.999000Z'" },
  { filter: "event_ts < '2024-03-31T00:59:59.9995Z'", order: 'event_ts desc' },
  { filter: "event_ts > '2024-03-31T00:59:59.9995'", order: 'event_ts' },
  { filter: "event_ts <= '2024-03-31T00:59:59.9995'", order: 'event_ts desc' },
  { filter: "event_ts = '2024-03-31T00:59:59.9995Z'" },
  { filter: "ts < '1970-01-01'", order: 'ts' },
  { filter: "ts >= '2024-11-03T01:00:00-05:00'", order: 'ts' },
  { filter: "ordered_at = '2024-03-31T00:59:59.999999Z'" },
  { filter: "ordered_at > '2024-03-31 00:59:59.999998'", order: 'ordered_at' },
  { filter: "last_event > '2024-10-27'", order: 'last_event desc' },
  { filter: "order_day = '2024-03-31'" },
  { filter: "order_day < '2024-03-31'", order: 'order_day desc' },
  // numerics: scale, long values, tiny values
  { filter: 'total_amount = 12.5', order: 'total_amount' },
  { filter: 'total_amount = 12.500' },
  { filter: 'total_amount > 123456789012345678901234567889' },
  { filter: 'total_amount between -1 and 0.000000000000000000001', order: 'total_amount desc' },
  { filter: 'total_amount in (100, 425)', order: 'total_amount' },
  { filter: 'total_amount is null' },
  { filter: 'revenue > 100', order: 'revenue' },
  { filter: 'avg_amount is not null', order: 'avg_amount desc' },
  { filter: 'third > 4', order: 'third' },
  { filter: 'doubled = 25', order: 'doubled' },
  { filter: 'minus < 0', order: 'minus' },
  { filter: 'half_id > 9007199254740992', order: 'half_id' },
  { filter: 'qty_avg > 1', order: 'qty_avg' },
  { filter: 'qty_sum >= 3', order: 'qty_sum desc' },
  { filter: 'mixed > 1e16', order: 'mixed' },
  { filter: 'score2 >= 2e300' },
  { filter: 'neg_credit < 0', order: 'neg_credit' },
  { filter: 'credit2 = 0', order: 'credit2' },
  { filter: 'score <= 0', order: 'score' },
  // ObjectIds and string _ids as text
  { filter: "event_id = '65f000000000000000000001'" },
  { filter: "event_id = '65f0000000000000000000aa'" },
  { filter: "event_id > 'AAAA'", order: 'event_id' },
  { filter: "event_id < '65f000000000000000000002'", order: 'event_id desc' },
  { filter: "event_id like '65f%'", order: 'event_id' },
  { filter: "event_id between 'A' and 'z'", order: 'event_id' },
  { filter: "event_id in ('custom-id', 'AAAA', '65f000000000000000000003')" },
  // long IN lists: more keys than a bind-join batch, most of them matching nothing
  { filter: `customer_id in (${Array.from({ length: 700 }, (_, i) => i - 20).join(', ')}, 9007199254740993)`, order: 'customer_id desc' },
  { filter: `user_id in (${Array.from({ length: 600 }, (_, i) => `'${i}'`).join(', ')}, 'abc', null)`, order: 'user_id' },
  { filter: `customer_id not in (${Array.from({ length: 600 }, (_, i) => i * 2).join(', ')})`, order: 'customer_id' },
  // accents: MariaDB's utf8mb4_general_ci says 'Zoe' = 'Zoë'; PostgreSQL "C" does not, nor 'Zoë' = 'Zoe\u0308'
  { filter: "full_name = 'Zoe'" },
  { filter: "full_name = 'Zoë'" },
  { filter: "full_name = 'Zoe\u0308'" },
  { filter: "full_name in ('Zoe', 'ZOE')", order: 'full_name' },
  { filter: "full_name like 'Zo_'", order: 'full_name' },
  { filter: "tenant_id = 'ω'" },
  // int -> text casts: text order and text equality, never pushed back as integer comparisons
  { filter: "order_ref = '1005'" },
  { filter: "order_ref = '01005'" },
  { filter: "order_ref = ' 1005'" },
  { filter: "order_ref > '9'", order: 'order_ref' },
  { filter: "order_ref like '10%'", order: 'order_ref desc' },
  { filter: "order_ref between '1' and '2'", order: 'order_ref' },
  { filter: "user_id > '5'", order: 'user_id' },
  { filter: "user_id between '1' and '2'", order: 'user_id desc' },
  { filter: "user_id = '007'" },
  { filter: "label = '1/paid'" },
  // cross-store text, numeric and timestamp join keys
  { filter: "tenant_ref = 't1'", order: 'tenant_ref' },
  { filter: "tenant_ref in ('Ω', 'ω')", order: 'tenant_ref' },
  { filter: 'tenant_no is null', order: 'tenant_ref desc' },
  { filter: "tenant_name is not null", order: 'tenant_ref' },
  { filter: 'credit = 7', order: 'credit' },
  { filter: 'total_amount = 0', order: 'total_amount' },
  { filter: "created_at = '2024-05-01T00:00:00Z'", order: 'created_at' },
  { filter: "created_at > '2024-06-01T12:00:00Z'", order: 'created_at desc' },
  // view outputs: labels, CASE, GROUP BY outputs, joins through text
  { filter: "label like '%/none'" },
  { filter: "size = 'big'", order: 'size' },
  { filter: 'tenant_rank = 0', order: 'tenant_rank' },
  { filter: 'n_orders > 1', order: 'n_orders desc' },
  { filter: 'n_events = 0' },
  { filter: "first_name > 'a'", order: 'first_name' },
  { filter: "max_status = 'paid'" },
  { filter: "first_type is null" },
  { filter: 'plan is null' },
  { filter: 'tenant_no in (1, 2, 3)', order: 'tenant_no desc' },
  { filter: "tenant_name contains 'duplicate'" },
  { filter: "what = 'paid'", order: 'what desc' },
  { filter: 'what is null' },
  { filter: "status = 'paid'", order: 'total_amount desc' },
  { filter: 'first_order > 1010', order: 'first_order' },
  { filter: 'n_events > 0', order: 'n_events desc' },
  // no filter, various orders (the NULL placement of PostgreSQL)
  { filter: '', order: 'tenant_id' },
  { filter: '', order: 'tenant_id desc' },
  { filter: '', order: 'event_type, event_ts desc' },
  { filter: '', order: 'total_amount desc' },
  { filter: '', order: 'full_name' },
  { filter: '', order: 'user_id desc, qty' },
];

function lit(l: AstLit): Lit | null {
  switch (l.kind) {
    case 'string':
      return { kind: 'string', value: l.value };
    case 'number':
      return { kind: 'number', text: l.text };
    case 'bool':
      return { kind: 'bool', value: l.value };
    case 'null':
      return null;
    default:
      throw new Error('claims are not used in the oracle');
  }
}

function nonNull(l: AstLit): Lit {
  const x = lit(l);
  if (!x) throw new Error('null literal outside in()');
  return x;
}

/** The parsed filter as the generator's AST, so the oracle printer can print it. */
export function fromAst(a: FilterAst): GFilter {
  switch (a.kind) {
    case 'and':
    case 'or':
      return { k: a.kind, args: a.args.map(fromAst) };
    case 'not':
      return { k: 'not', arg: fromAst(a.arg) };
    case 'cmp':
      return { k: 'cmp', col: a.field, op: a.op, lit: nonNull(a.value) };
    case 'like': {
      const v = nonNull(a.value);
      return { k: 'like', col: a.field, mode: a.mode, neg: a.negated, text: v.kind === 'string' ? v.value : v.kind === 'number' ? v.text : String(v.value) };
    }
    case 'in':
      return { k: 'in', col: a.field, neg: a.negated, items: a.values.map(lit) };
    case 'isnull':
      return { k: 'isnull', col: a.field, neg: a.negated };
    case 'between':
      return { k: 'between', col: a.field, neg: a.negated, lo: nonNull(a.low), hi: nonNull(a.high) };
  }
}

/** The directed queries that apply to a view: unpaged with a count, and one small page. */
export function directedFor(view: OracleView, columns: string[]): GenQuery[] {
  const out: GenQuery[] = [];
  DIRECTED.forEach((d, i) => {
    const ast = d.filter ? parseFilter(d.filter) : undefined;
    const order = (d.order ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [column, dir] = s.split(/\s+/);
        return { column: column!, desc: dir?.toLowerCase() === 'desc' };
      });
    const named = [...(ast ? astFields(ast).map((f) => f.field) : []), ...order.map((o) => o.column)];
    if (!named.every((f) => columns.includes(f))) return;
    for (const k of view.key) if (!order.some((o) => o.column === k)) order.push({ column: k, desc: false });
    const base = { columns, order, ...(ast ? { filter: fromAst(ast), filterText: d.filter } : {}) };
    out.push({ id: 10_000 + i * 2, ...base, limit: 1000, offset: 0, count: true });
    out.push({ id: 10_001 + i * 2, ...base, limit: 2, offset: 1, count: false });
  });
  return out;
}
