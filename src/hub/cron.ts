// A five-field cron matcher (minute hour day-of-month month day-of-week), evaluated in UTC.
// Each field: `*`, `N`, `A-B`, with an optional `/STEP` (`*/5`, `10-40/10`, `7/15`), and comma
// lists of those. Months and weekdays also take three-letter names; weekday 0 and 7 are Sunday.
// As in Vixie cron, when both day fields are restricted a day matches if either one does.
// Also @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually).

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function value(text: string, f: Field): number {
  const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
  const n = named >= 0 ? named + (f.name === 'month' ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < f.min || n > f.max) {
    throw new CronError(`"${text}" is not a valid ${f.name} (${f.min}-${f.max}${f.names ? ' or a name' : ''})`);
  }
  return n;
}

function parseField(text: string, f: Field): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') throw new CronError(`"${item}" is not a valid ${f.name} item`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new CronError(`"${stepText}" is not a valid step in the ${f.name} field`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      [lo, hi] = [f.min, f.max];
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined || !a || !b) throw new CronError(`"${range}" is not a valid ${f.name} range`);
      [lo, hi] = [value(a, f), value(b, f)];
      if (lo > hi) throw new CronError(`the ${f.name} range "${range}" runs backwards`);
    } else {
      lo = value(range, f);
      // `7/15` means from 7 to the end in steps of 15.
      hi = stepText !== undefined ? f.max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  if (f.name === 'day of week' && out.has(7)) out.add(0);
  return out;
}

export interface CronSchedule {
  readonly text: string;
  /** Whether the schedule fires in the minute that contains `d` (UTC). */
  matches(d: Date): boolean;
  /** The first minute after `after` in which it fires, or null when none within five years. */
  next(after: Date): Date | null;
}

export function parseCron(expr: string): CronSchedule {
  const text = expr.trim();
  const expanded = MACROS[text.toLowerCase()] ?? text;
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(
      `"${expr}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron expression has five: minute hour day-of-month month day-of-week`,
    );
  }
  const [minutes, hours, doms, months, dows] = parts.map((p, i) => parseField(p, FIELDS[i]!)) as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  const domAny = parts[2]!.startsWith('*');
  const dowAny = parts[4]!.startsWith('*');
  const dayMatches = (d: Date): boolean => {
    const dom = doms.has(d.getUTCDate());
    const dow = dows.has(d.getUTCDay());
    if (domAny && dowAny) return true;
    if (domAny) return dow;
    if (dowAny) return dom;
    return dom || dow;
  };
  const matches = (d: Date): boolean =>
    minutes.has(d.getUTCMinutes()) && hours.has(d.getUTCHours()) && months.has(d.getUTCMonth() + 1) && dayMatches(d);
  return {
    text,
    matches,
    next(after) {
      const d = new Date(after.getTime());
      d.setUTCSeconds(0, 0);
      d.setUTCMinutes(d.getUTCMinutes() + 1);
      const limit = after.getTime() + 5 * 366 * 86_400_000;
      while (d.getTime() <= limit) {
        if (!months.has(d.getUTCMonth() + 1)) {
          d.setUTCMonth(d.getUTCMonth() + 1, 1);
          d.setUTCHours(0, 0);
        } else if (!dayMatches(d)) {
          d.setUTCDate(d.getUTCDate() + 1);
          d.setUTCHours(0, 0);
        } else if (!hours.has(d.getUTCHours())) {
          d.setUTCHours(d.getUTCHours() + 1, 0);
        } else if (!minutes.has(d.getUTCMinutes())) {
          d.setUTCMinutes(d.getUTCMinutes() + 1);
        } else {
          return d;
        }
      }
      return null;
    },
  };
}
