// date_trunc, extract and date_part (docs/sql.md, "Functions") over timestamptz and date, as
// PostgreSQL computes them with the session TimeZone UTC: extract returns numeric (PostgreSQL 14+,
// with its scales: second and epoch 6 digits, milliseconds 3), date_part double precision (a date
// is read as midnight), date_trunc timestamptz. The field must be a constant: it is checked when
// the statement is analyzed, so an unknown one is refused with its position.
import type { Value } from '../../values.js';
import type { Expr } from './ast.js';
import { resolve, type Typed } from './coercion.js';
import { Refusal } from './refusal.js';
import type { SqlType } from './sql-types.js';

export const DATE_FUNCTIONS = ['date_trunc', 'date_part', 'extract'] as const;

/** PostgreSQL's spellings of the units (a subset of its lookup table) -> the unit. */
const UNIT_NAMES: Record<string, string> = {
  microsecond: 'microseconds',
  microseconds: 'microseconds',
  us: 'microseconds',
  usec: 'microseconds',
  usecs: 'microseconds',
  millisecond: 'milliseconds',
  milliseconds: 'milliseconds',
  ms: 'milliseconds',
  msec: 'milliseconds',
  msecs: 'milliseconds',
  second: 'second',
  seconds: 'second',
  s: 'second',
  sec: 'second',
  secs: 'second',
  minute: 'minute',
  minutes: 'minute',
  m: 'minute',
  min: 'minute',
  mins: 'minute',
  hour: 'hour',
  hours: 'hour',
  h: 'hour',
  hr: 'hour',
  hrs: 'hour',
  day: 'day',
  days: 'day',
  d: 'day',
  week: 'week',
  weeks: 'week',
  w: 'week',
  month: 'month',
  months: 'month',
  mon: 'month',
  mons: 'month',
  quarter: 'quarter',
  qtr: 'quarter',
  year: 'year',
  years: 'year',
  y: 'year',
  yr: 'year',
  yrs: 'year',
  decade: 'decade',
  decades: 'decade',
  dec: 'decade',
  century: 'century',
  centuries: 'century',
  c: 'century',
  cent: 'century',
  millennium: 'millennium',
  millennia: 'millennium',
  millenniums: 'millennium',
  mil: 'millennium',
  mils: 'millennium',
  dow: 'dow',
  isodow: 'isodow',
  doy: 'doy',
  epoch: 'epoch',
  isoyear: 'isoyear',
};

const TRUNC_UNITS = [
  'microseconds',
  'milliseconds',
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'quarter',
  'year',
  'decade',
  'century',
  'millennium',
];
const TIME_UNITS = ['microseconds', 'milliseconds', 'second', 'minute', 'hour'];

function call(fn: string, args: Expr[], type: SqlType, loc: number): Typed {
  return { e: { kind: 'fn', fn, args, type }, unknown: false, loc };
}

/** date_trunc(unit, x), extract(field FROM x) (the parser's `extract(field, x)`) or date_part(field, x), typed. */
export function dateCall(name: string, args: Typed[], loc: number, missing: () => never): Typed {
  if (args.length !== 2) return missing();
  const [f, x] = args as [Typed, Typed];
  const field = constantText(f, name);
  const arg = name === 'extract' ? x : resolve(x, 'timestamptz');
  if (arg.unknown || (arg.e.type !== 'timestamptz' && arg.e.type !== 'date')) return missing();
  const unit = UNIT_NAMES[field.toLowerCase()];
  const ts = arg.e.type === 'date' ? ({ kind: 'cast', arg: arg.e, type: 'timestamptz' } as Expr) : arg.e;
  const unitConst: Expr = { kind: 'const', value: unit ?? field, type: 'text' };
  if (name === 'date_trunc') {
    if (!unit || !TRUNC_UNITS.includes(unit)) throw new Refusal(`date_trunc unit "${field}" is not recognized`, f.loc);
    return call('date_trunc', [unitConst, ts], 'timestamptz', loc);
  }
  if (!unit) throw new Refusal(`${name} field "${field}" is not recognized`, f.loc);
  if (name === 'extract' && arg.e.type === 'date' && TIME_UNITS.includes(unit)) {
    throw new Refusal(`extract field "${field}" is not supported for type date`, f.loc);
  }
  // extract(epoch FROM date) is a whole number; the other date fields are too.
  const fn = name === 'date_part' ? 'date_part' : arg.e.type === 'date' ? 'extract_date' : 'extract';
  return call(fn, [unitConst, ts], name === 'date_part' ? 'float8' : 'numeric', loc);
}

function constantText(t: Typed, name: string): string {
  const e = t.e;
  if (e.kind === 'const' && typeof e.value === 'string' && (t.unknown || e.type === 'text')) return e.value;
  throw new Refusal(`the first argument of ${name} must be a constant text (a field name such as 'year')`, t.loc);
}

// ---- evaluation ---------------------------------------------------------------------------------

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0..999999 */
  micro: number;
}

const CANONICAL = /^(\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})Z$/;

function parts(ts: string): Parts | undefined {
  const m = CANONICAL.exec(ts);
  if (!m) return undefined; // infinity
  const [year, month, day, hour, minute, second, micro] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { year, month, day, hour, minute, second, micro };
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): { year: number; month: number; day: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** ISO 8601 weekday, Monday 1 .. Sunday 7. */
const isoDow = (days: number): number => ((((days + 3) % 7) + 7) % 7) + 1;

/** The ISO year and week of a day. */
function isoWeek(days: number): { year: number; week: number } {
  const thursday = days - isoDow(days) + 4;
  const { year } = civilFromDays(thursday);
  return { year, week: Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1 };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function timestamp(p: Parts): string {
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}.${pad(p.micro, 6)}Z`;
}

function dateTrunc(unit: string, ts: string): string {
  const p = parts(ts);
  if (!p) return ts;
  const q = { ...p };
  const upTo = TRUNC_UNITS.indexOf(unit);
  // Zero every unit below `unit` (second keeps no fraction, milliseconds keeps whole milliseconds).
  if (unit === 'milliseconds') q.micro -= q.micro % 1000;
  else if (upTo > 0) q.micro = 0;
  if (upTo > 2) q.second = 0;
  if (upTo > 3) q.minute = 0;
  if (upTo > 4) q.hour = 0;
  if (unit === 'week') {
    const days = daysFromCivil(p.year, p.month, p.day);
    return timestamp({ ...q, ...civilFromDays(days - isoDow(days) + 1) });
  }
  if (upTo > 6) q.day = 1;
  if (unit === 'month') return timestamp(q);
  if (unit === 'quarter') q.month = 3 * Math.floor((p.month - 1) / 3) + 1;
  if (upTo > 8) q.month = 1;
  if (unit === 'decade') q.year = p.year - (p.year % 10);
  if (unit === 'century') q.year = Math.floor((p.year + 99) / 100) * 100 - 99;
  if (unit === 'millennium') q.year = Math.floor((p.year + 999) / 1000) * 1000 - 999;
  return timestamp(q);
}

/** A field as an integer (every field but second, milliseconds and epoch). */
function wholeField(unit: string, p: Parts): number {
  const days = daysFromCivil(p.year, p.month, p.day);
  switch (unit) {
    case 'microseconds':
      return p.second * 1_000_000 + p.micro;
    case 'minute':
      return p.minute;
    case 'hour':
      return p.hour;
    case 'day':
      return p.day;
    case 'week':
      return isoWeek(days).week;
    case 'month':
      return p.month;
    case 'quarter':
      return Math.floor((p.month - 1) / 3) + 1;
    case 'year':
      return p.year;
    case 'decade':
      return Math.floor(p.year / 10);
    case 'century':
      return Math.floor((p.year + 99) / 100);
    case 'millennium':
      return Math.floor((p.year + 999) / 1000);
    case 'dow':
      return isoDow(days) % 7;
    case 'isodow':
      return isoDow(days);
    case 'doy':
      return days - daysFromCivil(p.year, 1, 1) + 1;
    case 'isoyear':
      return isoWeek(days).year;
    default:
      throw new Error(`date field ${unit}`);
  }
}

/** Microseconds since the epoch, exactly. */
function epochMicros(p: Parts): bigint {
  const secs = daysFromCivil(p.year, p.month, p.day) * 86400 + p.hour * 3600 + p.minute * 60 + p.second;
  return BigInt(secs) * 1_000_000n + BigInt(p.micro);
}

/** A whole number of `scale`-digit units as numeric text: 5500000 at scale 6 -> 5.500000. */
function scaled(units: bigint, scale: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${body}` : body;
}

function extractNumeric(unit: string, ts: string, date: boolean): string | null {
  const p = parts(ts);
  if (!p) return null;
  if (unit === 'epoch') {
    const us = epochMicros(p);
    return date ? scaled(us / 1_000_000n, 0) : scaled(us, 6);
  }
  if (unit === 'second') return scaled(BigInt(p.second * 1_000_000 + p.micro), 6);
  if (unit === 'milliseconds') return scaled(BigInt(p.second * 1_000_000 + p.micro), 3);
  return String(wholeField(unit, p));
}

/** date_part's double precision, by PostgreSQL's own formulas for the fractional fields. */
function datePart(unit: string, ts: string): number | null {
  const p = parts(ts);
  if (!p) return null;
  switch (unit) {
    case 'epoch':
      return Number(epochMicros(p)) / 1_000_000.0;
    case 'second':
      return p.second + p.micro / 1_000_000.0;
    case 'milliseconds':
      return p.second * 1000.0 + p.micro / 1000.0;
    case 'microseconds':
      return p.second * 1_000_000.0 + p.micro;
    default:
      return wholeField(unit, p);
  }
}

/** The value of a date function (strict: a NULL argument was already answered). */
export function evalDateFunction(fn: string, unit: string, ts: string): Value {
  switch (fn) {
    case 'date_trunc':
      return dateTrunc(unit, ts);
    case 'extract':
    case 'extract_date':
      return extractNumeric(unit, ts, fn === 'extract_date');
    case 'date_part':
      return datePart(unit, ts);
    default:
      throw new Error(`evalDateFunction: unknown function ${fn}`);
  }
}
