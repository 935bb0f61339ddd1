import { describe, expect, it } from 'vitest';
import { failure } from '../support/bad-request.js';
import { parseRestQuery, parseToolAggregate, type ClientQuery } from '../../src/query/client-query.js';

const rest = (q: Record<string, unknown>): ClientQuery => parseRestQuery(q);

describe('aggregates in fields', () => {
  it('names outputs by default and by alias, in the order written, group columns first when not named', () => {
    const q = rest({
      fields: 'count(*), COUNT( distinct customer_id ),sum(total) as revenue,avg(x),min(y),max(z),count(w)',
      group: 'status,region',
    });
    expect(q.fields).toBeUndefined();
    expect(q.aggregate!.group).toEqual(['status', 'region']);
    expect(
      q.aggregate!.select.map((s) => (s.kind === 'field' ? s.name : `${s.metric.fn}:${s.metric.field ?? ''}:${s.metric.name}`)),
    ).toEqual([
      'status',
      'region',
      'count::count',
      'count_distinct:customer_id:count_distinct_customer_id',
      'sum:total:revenue',
      'avg:x:avg_x',
      'min:y:min_y',
      'max:z:max_z',
      'count:w:count_w',
    ]);
  });

  it('keeps the position of group columns named in fields', () => {
    const q = rest({ fields: 'count(*),status', group: 'status' });
    expect(q.aggregate!.select.map((s) => (s.kind === 'field' ? s.name : s.metric.name))).toEqual(['count', 'status']);
  });

  it('group alone is the distinct groups; plain fields without aggregates or group stay fields', () => {
    expect(rest({ group: 'status' }).aggregate).toEqual({ select: [{ kind: 'field', name: 'status' }], group: ['status'] });
    expect(rest({ fields: 'a,b' })).toEqual({ fields: ['a', 'b'] });
  });

  it('count_only is a flag; group, having and count_only are no longer refused as DreamFactory-only', () => {
    expect(rest({ count_only: 'true' }).countOnly).toBe(true);
    expect(rest({ count_only: 'false' }).countOnly).toBeUndefined();
    expect(failure(() => rest({ count_only: 'maybe' })).context).toMatchObject({ param: 'count_only' });
  });

  it('refuses malformed aggregates naming the parameter and position', () => {
    const cases: [Record<string, string>, string, number | undefined, RegExp][] = [
      [{ fields: 'a, sum(*)', group: 'a' }, 'fields', 3, /sum\(\*\) does not exist at position 3 in fields/],
      [{ fields: 'count(*) as 9x' }, 'fields', 0, /alias '9x' must match/],
      [{ fields: 'count(*) named x' }, 'fields', 0, /unexpected 'named'/],
      [{ fields: 'count(*) x' }, 'fields', 0, /unexpected 'x'/],
      [{ fields: 'stddev(x)' }, 'fields', 0, /unknown aggregate function 'stddev'/],
      [{ fields: 'sum(distinct x)' }, 'fields', 0, /sum\(distinct \.\.\.\) is not supported/],
      [{ fields: 'sum(a b)' }, 'fields', 0, /malformed argument 'a b'/],
      [{ fields: 'sum(x' }, 'fields', 0, /malformed aggregate/],
      [{ fields: 'x, count(*)' }, 'fields', 0, /stands next to aggregates, so it must be in group/],
      [{ fields: 'count(*), count(*)' }, 'fields', 10, /output name "count" is used twice/],
      [{ fields: 'count(*), *' }, 'fields', 10, /'\*' cannot stand next to aggregates/],
      [{ group: 'a,,b' }, 'group', 2, /empty column name at position 2 in group/],
      [{ having: 'n > 1' }, 'having', undefined, /needs group or an aggregate/],
      [{ group: 'a', having: 'n >' }, 'having', undefined, /./],
    ];
    for (const [params, param, position, message] of cases) {
      const e = failure(() => rest(params));
      expect(e.message, JSON.stringify(params)).toMatch(message);
      expect(e.context.param, JSON.stringify(params)).toBe(param);
      if (position !== undefined) expect(e.context.position, JSON.stringify(params)).toBe(position);
    }
  });
});

describe('parseToolAggregate', () => {
  it('builds the same model as REST', () => {
    const tool = parseToolAggregate({
      group_by: ['status'],
      metrics: [{ fn: 'count' }, { fn: 'count_distinct', field: 'c' }, { fn: 'sum', field: 't', as: 'revenue' }],
      filter: 'x > 1',
      having: 'revenue > 10',
      order: 'revenue desc',
      limit: 5,
    });
    const restQ = rest({
      fields: 'status,count(*),count(distinct c),sum(t) as revenue',
      group: 'status',
      filter: 'x > 1',
      having: 'revenue > 10',
      order: 'revenue desc',
      limit: '5',
    });
    const names = (q: ClientQuery) => q.aggregate!.select.map((s) => (s.kind === 'field' ? s.name : `${s.metric.fn}:${s.metric.name}`));
    expect(names(tool)).toEqual(names(restQ));
    expect(tool.limit).toBe(5);
    expect(tool.order).toEqual(restQ.order);
    expect(tool.aggregate!.having).toBeDefined();
  });

  it('refuses a metric without the field it needs, and an empty request', () => {
    expect(failure(() => parseToolAggregate({ metrics: [{ fn: 'sum' }] })).message).toMatch(/metrics\[0\]: sum needs a field/);
    expect(failure(() => parseToolAggregate({})).context).toMatchObject({ param: 'metrics' });
  });
});
