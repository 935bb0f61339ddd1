// The five-field cron matcher behind `materialize.refresh`, and the scheduler's one-at-a-time rule.
import { describe, expect, it } from 'vitest';
import { CronError, parseCron } from '../../src/hub/cron.js';
import { RefreshScheduler } from '../../src/hub/scheduler.js';

const at = (iso: string) => new Date(iso);

describe('parseCron', () => {
  it('matches every minute with * * * * *', () => {
    const c = parseCron('* * * * *');
    expect(c.matches(at('2024-05-01T00:00:00Z'))).toBe(true);
    expect(c.matches(at('2024-12-31T23:59:59Z'))).toBe(true);
  });

  it('handles steps, ranges, stepped ranges, lists and start/step', () => {
    const every5 = parseCron('*/5 * * * *');
    expect(every5.matches(at('2024-05-01T10:05:30Z'))).toBe(true);
    expect(every5.matches(at('2024-05-01T10:07:00Z'))).toBe(false);
    const office = parseCron('0 9-17 * * 1-5');
    expect(office.matches(at('2024-05-01T09:00:00Z'))).toBe(true); // a Wednesday
    expect(office.matches(at('2024-05-01T18:00:00Z'))).toBe(false);
    expect(office.matches(at('2024-05-04T09:00:00Z'))).toBe(false); // Saturday
    const stepped = parseCron('10-40/10 * * * *');
    expect([10, 20, 30, 40].every((m) => stepped.matches(at(`2024-05-01T00:${m}:00Z`)))).toBe(true);
    expect(stepped.matches(at('2024-05-01T00:50:00Z'))).toBe(false);
    const list = parseCron('0,15,45 0 1,15 * *');
    expect(list.matches(at('2024-05-15T00:45:00Z'))).toBe(true);
    expect(list.matches(at('2024-05-16T00:45:00Z'))).toBe(false);
    const from7 = parseCron('7/15 * * * *');
    expect([7, 22, 37, 52].every((m) => from7.matches(at(`2024-05-01T03:${String(m).padStart(2, '0')}:00Z`)))).toBe(true);
  });

  it('reads month and weekday names, and 7 as Sunday', () => {
    expect(parseCron('0 0 * jan-mar sun').matches(at('2024-02-04T00:00:00Z'))).toBe(true);
    expect(parseCron('0 0 * * 7').matches(at('2024-02-04T00:00:00Z'))).toBe(true);
    expect(parseCron('0 0 * DEC *').matches(at('2024-02-04T00:00:00Z'))).toBe(false);
  });

  it('ORs the two day fields when both are restricted, as Vixie cron does', () => {
    const c = parseCron('0 0 13 * 5'); // the 13th, or any Friday
    expect(c.matches(at('2024-09-13T00:00:00Z'))).toBe(true); // Friday the 13th
    expect(c.matches(at('2024-05-13T00:00:00Z'))).toBe(true); // a Monday the 13th
    expect(c.matches(at('2024-05-17T00:00:00Z'))).toBe(true); // a Friday
    expect(c.matches(at('2024-05-14T00:00:00Z'))).toBe(false);
    expect(parseCron('0 0 */2 * 5').matches(at('2024-05-02T00:00:00Z'))).toBe(false); // */2 counts as '*': Fridays only
  });

  it('evaluates in UTC, whatever the process time zone', () => {
    expect(parseCron('30 2 * * *').matches(at('2024-05-01T02:30:00Z'))).toBe(true);
    expect(parseCron('30 2 * * *').matches(at('2024-05-01T02:30:00+02:00'))).toBe(false);
  });

  it('expands the @ macros', () => {
    expect(parseCron('@hourly').matches(at('2024-05-01T07:00:00Z'))).toBe(true);
    expect(parseCron('@daily').matches(at('2024-05-01T07:00:00Z'))).toBe(false);
    expect(parseCron('@weekly').matches(at('2024-05-05T00:00:00Z'))).toBe(true);
    expect(parseCron('@monthly').next(at('2024-05-01T00:00:00Z'))).toEqual(at('2024-06-01T00:00:00Z'));
  });

  it('finds the next firing minute, across months, and null for a date that never comes', () => {
    expect(parseCron('*/5 * * * *').next(at('2024-05-01T10:03:12Z'))).toEqual(at('2024-05-01T10:05:00Z'));
    expect(parseCron('0 0 29 2 *').next(at('2024-03-01T00:00:00Z'))).toEqual(at('2028-02-29T00:00:00Z'));
    expect(parseCron('0 0 31 4 *').next(at('2024-01-01T00:00:00Z'))).toBeNull();
  });

  it('refuses malformed expressions with a message that names the problem', () => {
    const msg = (e: string) => {
      try {
        parseCron(e);
      } catch (err) {
        expect(err).toBeInstanceOf(CronError);
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(msg('* * * *')).toContain('has 4 fields');
    expect(msg('60 * * * *')).toContain('not a valid minute (0-59');
    expect(msg('* 24 * * *')).toContain('not a valid hour');
    expect(msg('* * 0 * *')).toContain('not a valid day of month');
    expect(msg('* * * 13 *')).toContain('not a valid month');
    expect(msg('* * * * 8')).toContain('not a valid day of week');
    expect(msg('*/0 * * * *')).toContain('not a valid step');
    expect(msg('5-1 * * * *')).toContain('runs backwards');
    expect(msg('1,,2 * * * *')).toContain('not a valid minute item');
    expect(msg('a * * * *')).toContain('not a valid minute');
  });
});

describe('RefreshScheduler', () => {
  const quiet = { info() {}, warn() {}, error() {} };

  it('runs only the jobs due in the tick minute', async () => {
    const ran: string[] = [];
    const s = new RefreshScheduler(
      [
        { id: 'a', schedule: parseCron('*/2 * * * *'), run: async () => ran.push('a') },
        { id: 'b', schedule: parseCron('1 * * * *'), run: async () => ran.push('b') },
      ],
      quiet,
    );
    await s.tick(at('2024-05-01T00:02:00Z'));
    await s.tick(at('2024-05-01T00:01:00Z'));
    expect(ran).toEqual(['a', 'b']);
    await s.stop();
  });

  it('logs a failure and keeps going', async () => {
    const errors: unknown[] = [];
    const s = new RefreshScheduler([{ id: 'a', schedule: parseCron('* * * * *'), run: async () => Promise.reject(new Error('boom')) }], {
      ...quiet,
      error: (o: unknown) => errors.push(o),
    } as never);
    await s.tick(at('2024-05-01T00:00:00Z'));
    await s.tick(at('2024-05-01T00:01:00Z'));
    expect(errors).toEqual([
      { view: 'a', err: 'boom' },
      { view: 'a', err: 'boom' },
    ]);
  });

  it('stop() waits for a running refresh', async () => {
    let finish!: () => void;
    let done = false;
    const s = new RefreshScheduler(
      [{ id: 'a', schedule: parseCron('* * * * *'), run: () => new Promise<void>((r) => (finish = r)).then(() => void (done = true)) }],
      quiet,
    );
    void s.tick(at('2024-05-01T00:00:00Z'));
    const stopped = s.stop();
    finish();
    await stopped;
    expect(done).toBe(true);
  });
});
