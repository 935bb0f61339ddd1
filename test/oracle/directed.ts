// Hand-written queries that aim at the adversarial fixture's traps, so they run whatever the seed.
// Each applies to every view that has all the columns its filter names. The oracle side of every
// case is its `sql`: a PostgreSQL WHERE clause over the view's columns written by hand beside the
// client filter, so that no product code (filter parser, binder, LIKE translation, timestamp or
// number parsing) takes part in producing the expected answer. The hand-written SQL deliberately
// says things another way where it can: timestamps converted to UTC by hand, contains/starts
// with/ends with as strpos/starts_with/right, non-ASCII text as U& escapes, long IN lists as
// ranges. harness.test.ts runs these same pairs through the model engine (the product's own
// evaluator), so a wrong hand translation shows up there too.
import type { GenQuery } from './generate.js';
import type { OracleView } from './views.js';

interface Directed {
  /** The client filter (docs/query.md), as sent to viewgate. */
  filter: string;
  /** The same condition as PostgreSQL, over the view's columns; '' when there is no filter. */
  sql: string;
  /** `col [desc], ...`; the view key is appended. */
  order?: string;
}

// prettier-ignore
const DIRECTED: Directed[] = [
  // 64-bit integers: 2^53 + 1 must not meet 2^53 through a double, also across the int -> text cast
  { filter: 'customer_id = 9007199254740993', sql: 'customer_id = 9007199254740993' },
  { filter: 'customer_id = 9007199254740992', sql: 'customer_id = 9007199254740992' },
  { filter: "customer_id = '9007199254740993'", sql: "customer_id = int8 '9007199254740993'" },
  { filter: 'customer_id in (9223372036854775807, -5, 0)', sql: 'customer_id IN (9223372036854775807, -5, 0)', order: 'customer_id desc' },
  { filter: 'customer_id > 9007199254740992', sql: 'customer_id > 9007199254740992', order: 'customer_id desc' },
  { filter: "customer_id = '7'", sql: 'customer_id = 7' },
  { filter: 'order_id >= 9007199254740993', sql: 'order_id >= 9007199254740993', order: 'order_id' },
  { filter: 'seq = 9007199254740993', sql: 'seq = 9007199254740993' },
  { filter: 'qty = 9007199254740993', sql: 'qty = 9007199254740993' },
  { filter: 'id_sum > 9007199254740993', sql: 'id_sum > 9007199254740993', order: 'id_sum desc' },
  // text: case, trailing spaces, empty string vs NULL (MariaDB's collation is case-insensitive and PAD SPACE)
  { filter: "tenant_id = 't1'", sql: "tenant_id = 't1'", order: 'tenant_id' },
  { filter: "tenant_id = 'T1'", sql: "tenant_id = 'T1'" },
  { filter: "tenant_id = 't1 '", sql: "tenant_id = 't1 '" },
  { filter: "tenant_id in ('t1', 'T1')", sql: "tenant_id IN ('t1', 'T1')", order: 'tenant_id desc' },
  { filter: "tenant_id like 't1%'", sql: "tenant_id LIKE 't1%'", order: 'tenant_id' },
  { filter: "tenant_id > 't1'", sql: "tenant_id > 't1'", order: 'tenant_id' },
  { filter: "tenant_id = ''", sql: "tenant_id = ''" },
  { filter: 'tenant_id is null', sql: 'tenant_id IS NULL' },
  { filter: "tenant_id != 't2'", sql: "tenant_id <> 't2'", order: 'tenant_id desc' },
  { filter: "email ends with ' '", sql: "right(email, 1) = ' '" },
  { filter: "email = 'alan@example.com'", sql: "email = 'alan@example.com'" },
  { filter: "full_name = 'alice'", sql: "full_name = 'alice'" },
  { filter: "full_name like 'a%'", sql: "full_name LIKE 'a%'", order: 'full_name' },
  { filter: "full_name like 'A%'", sql: "full_name LIKE 'A%'", order: 'full_name desc' },
  // code-point order: U+E000..U+FFFF sort below supplementary characters (UTF-16 says otherwise)
  { filter: "full_name > '\uE000'", sql: "full_name > U&'\\E000'", order: 'full_name' },
  { filter: "full_name < '\u{1F600}'", sql: "full_name < U&'\\+01F600'", order: 'full_name desc' },
  { filter: "full_name >= '\uFFFF'", sql: "full_name >= U&'\\FFFF'", order: 'full_name' },
  { filter: "full_name between 'Z' and '\u{10FFFF}'", sql: "full_name BETWEEN 'Z' AND U&'\\+10FFFF'", order: 'full_name' },
  { filter: "event_type > '\uE000'", sql: "event_type > U&'\\E000'", order: 'event_type' },
  { filter: "event_type >= 'Ω'", sql: "event_type >= U&'\\03A9'", order: 'event_type desc' },
  { filter: "status > 'z'", sql: "status > 'z'", order: 'status' },
  // LIKE metacharacters, escapes, newlines (SQL strings below are standard-conforming: '\' is one backslash)
  { filter: "full_name contains '%'", sql: "strpos(full_name, '%') > 0" },
  { filter: "full_name contains '_'", sql: "strpos(full_name, '_') > 0" },
  { filter: "full_name like '%\\%%'", sql: "full_name LIKE '%\\%%' ESCAPE '\\'" },
  { filter: "full_name like '%\\\\'", sql: "full_name LIKE '%\\\\' ESCAPE '\\'" },
  { filter: "full_name ends with '\\'", sql: "right(full_name, 1) = '\\'" },
  { filter: "full_name like 'line1_line2'", sql: "full_name LIKE 'line1_line2'" },
  { filter: "full_name like 'line1%'", sql: "full_name LIKE 'line1%'" },
  { filter: "full_name like '_ Smile'", sql: "full_name LIKE '_ Smile'" },
  { filter: "full_name not like '%e%'", sql: "full_name NOT LIKE '%e%'", order: 'full_name' },
  { filter: "sku like 'SKU-\\%%'", sql: "sku LIKE 'SKU-\\%%' ESCAPE '\\'" },
  { filter: "sku starts with 'SKU-%_\\'", sql: "starts_with(sku, 'SKU-%_\\')" },
  { filter: "sku starts with 'SKU-'", sql: "starts_with(sku, 'SKU-')", order: 'sku desc' },
  { filter: "full_name like 'o''brien%'", sql: "full_name LIKE 'o''brien%'" },
  { filter: "full_name like 'O''Brien%'", sql: "full_name LIKE 'O''Brien%'" },
  // three-valued logic: NULL and missing fields never match a negation
  { filter: "event_type in ('view', null)", sql: "event_type IN ('view', NULL)" },
  { filter: "event_type not in ('view', null)", sql: "event_type NOT IN ('view', NULL)" },
  { filter: "not (event_type = 'view')", sql: "NOT (event_type = 'view')", order: 'event_type' },
  { filter: "event_type != 'view'", sql: "event_type <> 'view'", order: 'event_type desc' },
  { filter: "not (event_type in ('view', 'buy') or user_id = '2')", sql: "NOT (event_type IN ('view', 'buy') OR user_id = '2')" },
  { filter: 'event_type is null', sql: 'event_type IS NULL', order: 'event_ts desc' },
  { filter: 'user_id is null', sql: 'user_id IS NULL' },
  { filter: "user_id = 'abc'", sql: "user_id = 'abc'" },
  { filter: "user_id = '01'", sql: "user_id = '01'" },
  { filter: "user_id = '1'", sql: "user_id = '1'" },
  { filter: "user_id = '1 '", sql: "user_id = '1 '" },
  { filter: "user_id not in ('1', '2')", sql: "user_id NOT IN ('1', '2')", order: 'user_id' },
  { filter: 'qty is null', sql: 'qty IS NULL', order: 'qty' },
  { filter: 'qty > 2', sql: 'qty > 2', order: 'qty desc' },
  { filter: 'seq = 7', sql: 'seq = 7' },
  { filter: 'seq is not null', sql: 'seq IS NOT NULL', order: 'seq' },
  { filter: 'sku is null', sql: 'sku IS NULL' },
  { filter: 'is_active = true', sql: 'is_active = true' },
  { filter: 'is_active is null', sql: 'is_active IS NULL' },
  { filter: 'is_active != true', sql: 'is_active <> true' },
  // timestamps: DST edges, microseconds vs MongoDB's milliseconds, offsets, no offset = UTC
  // (the SQL side has every instant converted to UTC by hand)
  { filter: "event_ts between '2024-03-31T00:59:59.999Z' and '2024-03-31T01:00:00Z'", sql: "event_ts BETWEEN timestamptz '2024-03-31 00:59:59.999+00' AND timestamptz '2024-03-31 01:00:00+00'", order: 'event_ts' },
  { filter: "event_ts > '2024-10-27T02:30:00+02:00'", sql: "event_ts > timestamptz '2024-10-27 00:30:00+00'", order: 'event_ts' },
  { filter: "event_ts = '2024-03-31T00:59:59.999000Z'", sql: "event_ts = timestamptz '2024-03-31 00:59:59.999+00'" },
  { filter: "event_ts < '2024-03-31T00:59:59.9995Z'", sql: "event_ts < timestamptz '2024-03-31 00:59:59.9995+00'", order: 'event_ts desc' },
  { filter: "event_ts > '2024-03-31T00:59:59.9995'", sql: "event_ts > timestamptz '2024-03-31 00:59:59.9995+00'", order: 'event_ts' },
  { filter: "event_ts <= '2024-03-31T00:59:59.9995'", sql: "event_ts <= timestamptz '2024-03-31 00:59:59.9995+00'", order: 'event_ts desc' },
  { filter: "event_ts = '2024-03-31T00:59:59.9995Z'", sql: "event_ts = timestamptz '2024-03-31 00:59:59.9995+00'" },
  { filter: "ts < '1970-01-01'", sql: "ts < timestamptz '1970-01-01 00:00:00+00'", order: 'ts' },
  { filter: "ts >= '2024-11-03T01:00:00-05:00'", sql: "ts >= timestamptz '2024-11-03 06:00:00+00'", order: 'ts' },
  { filter: "ordered_at = '2024-03-31T00:59:59.999999Z'", sql: "ordered_at = timestamptz '2024-03-31 00:59:59.999999+00'" },
  { filter: "ordered_at > '2024-03-31 00:59:59.999998'", sql: "ordered_at > timestamptz '2024-03-31 00:59:59.999998+00'", order: 'ordered_at' },
  { filter: "last_event > '2024-10-27'", sql: "last_event > timestamptz '2024-10-27 00:00:00+00'", order: 'last_event desc' },
  { filter: "order_day = '2024-03-31'", sql: "order_day = date '2024-03-31'" },
  { filter: "order_day < '2024-03-31'", sql: "order_day < date '2024-03-31'", order: 'order_day desc' },
  // numerics: scale, long values, tiny values
  { filter: 'total_amount = 12.5', sql: 'total_amount = 12.5', order: 'total_amount' },
  { filter: 'total_amount = 12.500', sql: 'total_amount = 12.500' },
  { filter: 'total_amount > 123456789012345678901234567889', sql: 'total_amount > 123456789012345678901234567889' },
  { filter: 'total_amount between -1 and 0.000000000000000000001', sql: 'total_amount BETWEEN -1 AND 0.000000000000000000001', order: 'total_amount desc' },
  { filter: 'total_amount in (100, 425)', sql: 'total_amount IN (100, 425)', order: 'total_amount' },
  { filter: 'total_amount is null', sql: 'total_amount IS NULL' },
  { filter: 'revenue > 100', sql: 'revenue > 100', order: 'revenue' },
  { filter: 'avg_amount is not null', sql: 'avg_amount IS NOT NULL', order: 'avg_amount desc' },
  { filter: 'third > 4', sql: 'third > 4', order: 'third' },
  { filter: 'doubled = 25', sql: 'doubled = 25', order: 'doubled' },
  { filter: 'minus < 0', sql: 'minus < 0', order: 'minus' },
  { filter: 'half_id > 9007199254740992', sql: 'half_id > 9007199254740992', order: 'half_id' },
  { filter: 'qty_avg > 1', sql: 'qty_avg > 1', order: 'qty_avg' },
  { filter: 'qty_sum >= 3', sql: 'qty_sum >= 3', order: 'qty_sum desc' },
  { filter: 'mixed > 1e16', sql: "mixed > float8 '1e16'", order: 'mixed' },
  { filter: 'score2 >= 2e300', sql: "score2 >= float8 '2e300'" },
  { filter: 'neg_credit < 0', sql: 'neg_credit < 0', order: 'neg_credit' },
  { filter: 'credit2 = 0', sql: 'credit2 = 0', order: 'credit2' },
  { filter: 'score <= 0', sql: 'score <= 0', order: 'score' },
  // ObjectIds and string _ids as text
  { filter: "event_id = '65f000000000000000000001'", sql: "event_id = '65f000000000000000000001'" },
  { filter: "event_id = '65f0000000000000000000aa'", sql: "event_id = '65f0000000000000000000aa'" },
  { filter: "event_id > 'AAAA'", sql: "event_id > 'AAAA'", order: 'event_id' },
  { filter: "event_id < '65f000000000000000000002'", sql: "event_id < '65f000000000000000000002'", order: 'event_id desc' },
  { filter: "event_id like '65f%'", sql: "event_id LIKE '65f%'", order: 'event_id' },
  { filter: "event_id between 'A' and 'z'", sql: "event_id BETWEEN 'A' AND 'z'", order: 'event_id' },
  { filter: "event_id in ('custom-id', 'AAAA', '65f000000000000000000003')", sql: "event_id IN ('custom-id', 'AAAA', '65f000000000000000000003')" },
  // long IN lists: more keys than a bind-join batch, most of them matching nothing
  { filter: `customer_id in (${Array.from({ length: 700 }, (_, i) => i - 20).join(', ')}, 9007199254740993)`, sql: 'customer_id BETWEEN -20 AND 679 OR customer_id = 9007199254740993', order: 'customer_id desc' },
  { filter: `user_id in (${Array.from({ length: 600 }, (_, i) => `'${i}'`).join(', ')}, 'abc', null)`, sql: "user_id IN (SELECT g::text FROM generate_series(0, 599) g) OR user_id = 'abc'", order: 'user_id' },
  { filter: `customer_id not in (${Array.from({ length: 600 }, (_, i) => i * 2).join(', ')})`, sql: 'NOT (customer_id BETWEEN 0 AND 1198 AND customer_id % 2 = 0)', order: 'customer_id' },
  // accents: MariaDB's utf8mb4_general_ci says 'Zoe' = 'Zoë'; PostgreSQL "C" does not, nor 'Zoë' = 'Zoe\u0308'
  { filter: "full_name = 'Zoe'", sql: "full_name = 'Zoe'" },
  { filter: "full_name = 'Zoë'", sql: "full_name = U&'Zo\\00EB'" },
  { filter: "full_name = 'Zoe\u0308'", sql: "full_name = U&'Zoe\\0308'" },
  { filter: "full_name in ('Zoe', 'ZOE')", sql: "full_name IN ('Zoe', 'ZOE')", order: 'full_name' },
  { filter: "full_name like 'Zo_'", sql: "full_name LIKE 'Zo_'", order: 'full_name' },
  { filter: "tenant_id = 'ω'", sql: "tenant_id = U&'\\03C9'" },
  // int -> text casts: text order and text equality, never pushed back as integer comparisons
  { filter: "order_ref = '1005'", sql: "order_ref = '1005'" },
  { filter: "order_ref = '01005'", sql: "order_ref = '01005'" },
  { filter: "order_ref = ' 1005'", sql: "order_ref = ' 1005'" },
  { filter: "order_ref > '9'", sql: "order_ref > '9'", order: 'order_ref' },
  { filter: "order_ref like '10%'", sql: "order_ref LIKE '10%'", order: 'order_ref desc' },
  { filter: "order_ref between '1' and '2'", sql: "order_ref BETWEEN '1' AND '2'", order: 'order_ref' },
  { filter: "user_id > '5'", sql: "user_id > '5'", order: 'user_id' },
  { filter: "user_id between '1' and '2'", sql: "user_id BETWEEN '1' AND '2'", order: 'user_id desc' },
  { filter: "user_id = '007'", sql: "user_id = '007'" },
  { filter: "label = '1/paid'", sql: "label = '1/paid'" },
  // cross-store text, numeric and timestamp join keys
  { filter: "tenant_ref = 't1'", sql: "tenant_ref = 't1'", order: 'tenant_ref' },
  { filter: "tenant_ref in ('Ω', 'ω')", sql: "tenant_ref IN (U&'\\03A9', U&'\\03C9')", order: 'tenant_ref' },
  { filter: 'tenant_no is null', sql: 'tenant_no IS NULL', order: 'tenant_ref desc' },
  { filter: 'tenant_name is not null', sql: 'tenant_name IS NOT NULL', order: 'tenant_ref' },
  { filter: 'credit = 7', sql: 'credit = 7', order: 'credit' },
  { filter: 'total_amount = 0', sql: 'total_amount = 0', order: 'total_amount' },
  { filter: "created_at = '2024-05-01T00:00:00Z'", sql: "created_at = timestamptz '2024-05-01 00:00:00+00'", order: 'created_at' },
  { filter: "created_at > '2024-06-01T12:00:00Z'", sql: "created_at > timestamptz '2024-06-01 12:00:00+00'", order: 'created_at desc' },
  // view outputs: labels, CASE, GROUP BY outputs, joins through text
  { filter: "label like '%/none'", sql: "label LIKE '%/none'" },
  { filter: "size = 'big'", sql: "size = 'big'", order: 'size' },
  { filter: 'tenant_rank = 0', sql: 'tenant_rank = 0', order: 'tenant_rank' },
  { filter: 'n_orders > 1', sql: 'n_orders > 1', order: 'n_orders desc' },
  { filter: 'n_events = 0', sql: 'n_events = 0' },
  { filter: "first_name > 'a'", sql: "first_name > 'a'", order: 'first_name' },
  { filter: "max_status = 'paid'", sql: "max_status = 'paid'" },
  { filter: 'first_type is null', sql: 'first_type IS NULL' },
  { filter: 'plan is null', sql: 'plan IS NULL' },
  { filter: 'tenant_no in (1, 2, 3)', sql: 'tenant_no IN (1, 2, 3)', order: 'tenant_no desc' },
  { filter: "tenant_name contains 'duplicate'", sql: "strpos(tenant_name, 'duplicate') > 0" },
  { filter: "what = 'paid'", sql: "what = 'paid'", order: 'what desc' },
  { filter: 'what is null', sql: 'what IS NULL' },
  { filter: "status = 'paid'", sql: "status = 'paid'", order: 'total_amount desc' },
  { filter: 'first_order > 1010', sql: 'first_order > 1010', order: 'first_order' },
  { filter: 'n_events > 0', sql: 'n_events > 0', order: 'n_events desc' },
  // negations over columns a LEFT JOIN or a misfit makes NULL, and pushdown into a case- and
  // accent-insensitive, PAD SPACE store (MariaDB must not decide LIKE, =, < or BETWEEN on text)
  { filter: "event_id not like '65f%'", sql: "NOT starts_with(event_id, '65f')", order: 'event_id' },
  { filter: 'qty not between 2 and 5', sql: 'qty < 2 OR qty > 5', order: 'qty' },
  { filter: 'not (qty > 2)', sql: 'qty <= 2', order: 'qty desc' },
  { filter: "event_ts not in ('2024-03-31T00:59:59.999Z', '2024-03-31T01:00:00Z')", sql: "event_ts NOT IN (timestamptz '2024-03-31 00:59:59.999+00', timestamptz '2024-03-31 01:00:00+00')", order: 'event_ts' },
  { filter: 'is_active not in (true)', sql: 'NOT is_active' },
  { filter: 'total_amount not between 0 and 100', sql: 'total_amount < 0 OR total_amount > 100', order: 'total_amount' },
  { filter: "tenant_id not like 't%'", sql: "NOT starts_with(tenant_id, 't')", order: 'tenant_id' },
  { filter: "tenant_id like 'T%'", sql: "starts_with(tenant_id, 'T')", order: 'tenant_id' },
  { filter: "tenant_id between 'T' and 't'", sql: "tenant_id >= 'T' AND tenant_id <= 't'", order: 'tenant_id desc' },
  { filter: "full_name like '%ZOE%'", sql: "strpos(full_name, 'ZOE') > 0" },
  { filter: "full_name contains 'oë'", sql: "strpos(full_name, U&'o\\00EB') > 0" },
  { filter: "email like '%@EXAMPLE.COM'", sql: "right(email, 12) = '@EXAMPLE.COM'" },
  { filter: "full_name = 'Alan  Turing'", sql: "full_name = 'Alan  Turing'" },
  { filter: "full_name in ('Alan  Turing', 'alan  turing ')", sql: "full_name IN ('Alan  Turing', 'alan  turing ')" },
  { filter: "full_name < 'Alan  Turing '", sql: "full_name < 'Alan  Turing '", order: 'full_name desc' },
  { filter: "email = 'alan@example.com '", sql: "email = 'alan@example.com '" },
  { filter: "full_name < 'a'", sql: "full_name < 'a'", order: 'full_name' },
  { filter: "order_ref < '1005 '", sql: "order_ref < '1005 '", order: 'order_ref desc' },
  { filter: "label like '1/%'", sql: "starts_with(label, '1/')", order: 'label' },
  { filter: 'credit != 7', sql: 'credit <> 7', order: 'credit' },
  { filter: "ts between '2024-03-10T02:00:00-05:00' and '2024-03-10T03:00:00-04:00'", sql: "ts = timestamptz '2024-03-10 07:00:00+00'" },
  { filter: "order_day between '2024-03-30' and '2024-03-31'", sql: "order_day IN (date '2024-03-30', date '2024-03-31')", order: 'order_day' },
  { filter: 'last_event is null', sql: 'last_event IS NULL' },
  { filter: "event_ts not between '2024-03-31T00:00:00Z' and '2024-10-27T23:59:59.999999Z'", sql: "event_ts < timestamptz '2024-03-31 00:00:00+00' OR event_ts >= timestamptz '2024-10-28 00:00:00+00'", order: 'event_ts desc' },
  // no filter, various orders (the NULL placement of PostgreSQL)
  { filter: '', sql: '', order: 'tenant_id' },
  { filter: '', sql: '', order: 'tenant_id desc' },
  { filter: '', sql: '', order: 'event_type, event_ts desc' },
  { filter: '', sql: '', order: 'total_amount desc' },
  { filter: '', sql: '', order: 'full_name' },
  { filter: '', sql: '', order: 'user_id desc, qty' },
  // SQLite (the lite views' own columns): LIKE ignores ASCII case there by default and sorts NULLs
  // first; integers beyond 2^53, booleans as 0/1, NUMERIC stored as INTEGER or REAL, DATETIME text
  // of mixed precision compared with literals of another precision or offset
  { filter: "code like 'a%'", sql: "starts_with(code, 'a')", order: 'code' },
  { filter: "code like 'A_'", sql: "code LIKE 'A_'", order: 'code desc' },
  { filter: "code not like 'a%'", sql: "NOT starts_with(code, 'a')", order: 'code' },
  { filter: "code = 'at'", sql: "code = 'at'" },
  { filter: "code in ('AT', 'at', 'At ')", sql: "code IN ('AT', 'at', 'At ')", order: 'code desc' },
  { filter: "code < 'a'", sql: "code < 'a'", order: 'code desc' },
  { filter: "code between 'Z' and 'a'", sql: "code >= 'Z' AND code <= 'a'", order: 'code' },
  { filter: "code like '\\%%'", sql: "starts_with(code, '%')" },
  { filter: "code like '%\\_%'", sql: "strpos(code, '_') > 0" },
  { filter: "code = ''", sql: "code = ''" },
  { filter: "code = 'ω'", sql: "code = U&'\\03C9'" },
  { filter: "code like '_*'", sql: "code LIKE '_*'" },
  { filter: "code like 'G*%'", sql: "starts_with(code, 'G*')" },
  { filter: "name like '%[*?]%'", sql: "strpos(name, '[*?]') > 0" },
  { filter: "capital like '[_]'", sql: "capital LIKE '[_]'" },
  { filter: "name like '%land%'", sql: "strpos(name, 'land') > 0", order: 'name' },
  { filter: "name like '%LAND%'", sql: "strpos(name, 'LAND') > 0" },
  { filter: "name like 'ö%'", sql: "starts_with(name, U&'\\00F6')", order: 'name' },
  { filter: "name contains 'Ö'", sql: "strpos(name, U&'\\00D6') > 0" },
  { filter: "name starts with 'zo'", sql: "starts_with(name, 'zo')" },
  { filter: "capital not like 'W%'", sql: "NOT starts_with(capital, 'W')", order: 'capital desc' },
  { filter: "capital ends with 'n'", sql: "right(capital, 1) = 'n'", order: 'capital' },
  { filter: 'population > 9007199254740992', sql: 'population > 9007199254740992', order: 'population desc' },
  { filter: 'population = 9007199254740993', sql: 'population = 9007199254740993' },
  { filter: 'population in (9223372036854775807, 0, -1)', sql: 'population IN (9223372036854775807, 0, -1)', order: 'population' },
  { filter: 'population between -5 and 7', sql: 'population BETWEEN -5 AND 7', order: 'population desc' },
  { filter: 'area_km2 > 1e299', sql: "area_km2 > float8 '1e299'" },
  { filter: 'area_km2 = 7', sql: 'area_km2 = 7' },
  { filter: 'area_km2 < 0', sql: 'area_km2 < 0', order: 'area_km2' },
  { filter: 'eu = true', sql: 'eu', order: 'eu_since' },
  { filter: 'eu != true', sql: 'NOT eu', order: 'eu_since desc' },
  { filter: 'eu is null', sql: 'eu IS NULL' },
  { filter: 'eu in (false)', sql: 'eu = false', order: 'code' },
  { filter: "eu_since < '1970-01-01'", sql: "eu_since < date '1970-01-01'", order: 'eu_since' },
  { filter: "eu_since = '2024-02-29'", sql: "eu_since = date '2024-02-29'" },
  { filter: "eu_since between '1995-01-01' and '2004-05-01'", sql: "eu_since >= date '1995-01-01' AND eu_since <= date '2004-05-01'", order: 'eu_since desc' },
  { filter: "updated_at = '2024-03-31T01:00:00Z'", sql: "updated_at = timestamptz '2024-03-31 01:00:00+00'" },
  { filter: "updated_at = '2024-03-31T00:59:59.999Z'", sql: "updated_at = timestamptz '2024-03-31 00:59:59.999+00'" },
  { filter: "updated_at = '2024-03-31 00:59:59.999999'", sql: "updated_at = timestamptz '2024-03-31 00:59:59.999999+00'" },
  { filter: "updated_at < '2024-03-31T01:00:00Z'", sql: "updated_at < timestamptz '2024-03-31 01:00:00+00'", order: 'updated_at desc' },
  { filter: "updated_at >= '2024-03-31T00:59:59.999Z'", sql: "updated_at >= timestamptz '2024-03-31 00:59:59.999+00'", order: 'updated_at' },
  { filter: "updated_at > '2024-03-31T02:59:59.9995+02:00'", sql: "updated_at > timestamptz '2024-03-31 00:59:59.9995+00'", order: 'updated_at' },
  { filter: "updated_at between '2024-03-31' and '2024-03-31T01:00:00.000000Z'", sql: "updated_at >= timestamptz '2024-03-31 00:00:00+00' AND updated_at <= timestamptz '2024-03-31 01:00:00+00'", order: 'updated_at' },
  { filter: "updated_at < '1970-01-01'", sql: "updated_at < timestamptz '1970-01-01 00:00:00+00'", order: 'updated_at' },
  { filter: "updated_at not in ('2024-05-01T00:00:00.000001Z', '1970-01-01T00:00:00Z')", sql: "updated_at NOT IN (timestamptz '2024-05-01 00:00:00.000001+00', timestamptz '1970-01-01 00:00:00+00')", order: 'updated_at desc' },
  { filter: 'vat_rate = 20', sql: 'vat_rate = 20', order: 'vat_rate' },
  { filter: 'vat_rate = 20.00', sql: 'vat_rate = 20.00' },
  { filter: 'vat_rate < 0', sql: 'vat_rate < 0', order: 'vat_rate' },
  { filter: 'vat_rate in (0.001, 12.5, 8.1)', sql: 'vat_rate IN (0.001, 12.5, 8.1)', order: 'vat_rate desc' },
  { filter: 'vat_rate > 22.2', sql: 'vat_rate > 22.2', order: 'vat_rate' },
  // literals no stored INTEGER or REAL equals: SQLite declines them (offer) and the engine decides
  { filter: 'vat_rate < 8.1000000000000001', sql: 'vat_rate < 8.1000000000000001', order: 'vat_rate desc' },
  { filter: 'vat_rate in (8.1000000000000001, 20, 0.0010)', sql: 'vat_rate IN (8.1000000000000001, 20, 0.001)', order: 'vat_rate' },
  { filter: 'vat_rate not in (8.1000000000000001, 12.5)', sql: 'vat_rate NOT IN (8.1000000000000001, 12.5)', order: 'vat_rate' },
  { filter: "status_label like '%✈'", sql: "right(status_label, 1) = U&'\\2708'" },
  { filter: "status_label like 'bez%'", sql: "starts_with(status_label, 'bez')" },
  { filter: 'status_rank = 1', sql: 'status_rank = 1', order: 'status_rank' },
  { filter: 'is_final = true', sql: 'is_final', order: 'status_rank desc' },
  { filter: 'is_final is null', sql: 'is_final IS NULL', order: 'status_rank' },
  { filter: 'refund_days > 9007199254740992', sql: 'refund_days > 9007199254740992' },
  { filter: 'refund_days is null', sql: 'refund_days IS NULL', order: 'refund_days' },
  { filter: 'country_code is null', sql: 'country_code IS NULL', order: 'country_code' },
  { filter: "country_code like 'a%'", sql: "starts_with(country_code, 'a')", order: 'country_code desc' },
  { filter: 'seats = 9007199254740993', sql: 'seats = 9007199254740993' },
  { filter: 'seats2 > 9007199254740993', sql: 'seats2 > 9007199254740993' },
  { filter: "since < '2000-01-01'", sql: "since < date '2000-01-01'", order: 'since' },
  { filter: "display_name = '?'", sql: "display_name = '?'" },
  { filter: 'half_area > 1e299', sql: "half_area > float8 '1e299'", order: 'half_area' },
  { filter: "country_name like '%\\_%'", sql: "strpos(country_name, '_') > 0", order: 'country_name' },
  { filter: "country_updated = '2024-03-31T01:00:00Z'", sql: "country_updated = timestamptz '2024-03-31 01:00:00+00'" },
  { filter: '', sql: '', order: 'updated_at' },
  { filter: '', sql: '', order: 'updated_at desc, population' },
  { filter: '', sql: '', order: 'eu, area_km2 desc' },
  { filter: '', sql: '', order: 'vat_rate desc, capital' },
  { filter: '', sql: '', order: 'status_label, is_final desc' },
];

const GRAMMAR_WORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'like',
  'contains',
  'starts',
  'ends',
  'with',
  'is',
  'null',
  'between',
  'true',
  'false',
]);

/** The field names a filter text mentions (words outside string literals that are not grammar words); test code, not the product's parser. */
function namedFields(filter: string): string[] {
  const tokens =
    filter.match(/'(?:[^']|'')*'|"(?:[^"]|"")+"|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  const fields = tokens
    .filter((t) => t.startsWith('"') || /^[A-Za-z_]/.test(t))
    .map((t) => (t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t))
    .filter((w) => !GRAMMAR_WORDS.has(w.toLowerCase()));
  return [...new Set(fields)];
}

/** The directed queries that apply to a view: unpaged with a count, and one small page. */
export function directedFor(view: OracleView, columns: string[]): GenQuery[] {
  const out: GenQuery[] = [];
  DIRECTED.forEach((d, i) => {
    const order = (d.order ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [column, dir] = s.split(/\s+/);
        return { column: column!, desc: dir?.toLowerCase() === 'desc' };
      });
    const named = [...namedFields(d.filter), ...order.map((o) => o.column)];
    if (!named.every((f) => columns.includes(f))) return;
    for (const k of view.key) if (!order.some((o) => o.column === k)) order.push({ column: k, desc: false });
    const base = { columns, order, ...(d.filter ? { filterText: d.filter, sql: d.sql } : {}) };
    out.push({ id: 10_000 + i * 2, ...base, limit: 1000, offset: 0, count: true });
    out.push({ id: 10_001 + i * 2, ...base, limit: 2, offset: 1, count: false });
  });
  return out;
}
