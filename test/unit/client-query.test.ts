import { describe, expect, it } from 'vitest';
import { failure } from '../support/bad-request.js';
import { stripPositions } from '../../src/query/ast.js';
import { parseRestQuery, parseToolQuery, type ClientQuery } from '../../src/query/client-query.js';
import { parseFilter } from '../../src/query/filter-parser.js';

const rest = (q: Record<string, unknown>): ClientQuery => parseRestQuery(q);

describe('parseRestQuery', () => {
  it('an empty query is an empty ClientQuery', () => {
    expect(rest({})).toEqual({});
    expect(rest({ filter: undefined, limit: undefined })).toEqual({});
  });

  it('an unknown parameter is a 400 naming it and listing the parameters that exist', () => {
    const typo = failure(() => rest({ limt: '5' }));
    expect(typo.message).toContain('unknown query parameter "limt" (did you mean "limit"?)');
    expect(typo.message).toContain('fields, filter, order, limit, offset, include_count, ids, explain');
    expect(typo.context).toMatchObject({ param: 'limt' });
    expect(failure(() => rest({ related: 'x' })).message).toContain('the DreamFactory parameter "related" is not supported');
    expect(failure(() => parseRestQuery({ limit: '5' }, ['fields'])).message).toContain('parameters here are: fields');
    expect(parseRestQuery({ fields: 'a' }, ['fields'])).toEqual({ fields: ['a'] });
  });

  it('a filter starting with { is the structured JSON filter; bad JSON is a 400 saying so', () => {
    expect(stripPositions(rest({ filter: '{"field":"a","op":"eq","value":1}' }).filter!)).toEqual(
      stripPositions(rest({ filter: 'a = 1' }).filter!),
    );
    const e = failure(() => rest({ filter: '{"field":"a",}' }));
    expect(e.message).toContain('looks like JSON (a structured filter)');
    expect(e.context).toMatchObject({ param: 'filter' });
    expect(typeof e.context.position).toBe('number');
  });

  it('fields: trimmed, de-duplicated; * or empty means the default', () => {
    expect(rest({ fields: ' a, b ,a,c' }).fields).toEqual(['a', 'b', 'c']);
    expect(rest({ fields: '*' }).fields).toBeUndefined();
    expect(rest({ fields: '' }).fields).toBeUndefined();
    expect(rest({ fields: ['a', 'b'] }).fields).toEqual(['a', 'b']);
    const e = failure(() => rest({ fields: 'a,,b' }));
    expect(e.context).toEqual({ param: 'fields', position: 2 });
    expect(e.message).toMatch(/empty field name at position 2/);
    expect(failure(() => rest({ fields: 'a, *' })).message).toMatch(/'\*' must stand alone/);
  });

  it('filter: parsed with the grammar; blank means none; errors name the parameter and position', () => {
    expect(stripPositions(rest({ filter: "a = 1 and b like 'x%'" }).filter!)).toEqual(stripPositions(parseFilter("a = 1 and b like 'x%'")));
    expect(rest({ filter: '  ' }).filter).toBeUndefined();
    expect(failure(() => rest({ filter: 'a = ' })).context).toEqual({ param: 'filter', position: 4 });
    expect(failure(() => rest({ filter: 'a = {claims.x}' })).message).toMatch(/only available in row filters/);
    expect(failure(() => rest({ filter: ['a = 1', 'b = 2'] })).message).toMatch(/filter is given more than once/);
  });

  it('order: col [asc|desc], comma separated', () => {
    expect(rest({ order: 'a, b desc ,c ASC,  d   DESC' }).order).toEqual([
      { field: 'a', desc: false },
      { field: 'b', desc: true },
      { field: 'c', desc: false },
      { field: 'd', desc: true },
    ]);
    expect(rest({ order: 'a desc,a' }).order).toEqual([{ field: 'a', desc: true }]);
    expect(rest({ order: ['a', 'b desc'] }).order).toEqual([
      { field: 'a', desc: false },
      { field: 'b', desc: true },
    ]);
    const e = failure(() => rest({ order: 'a, b down' }));
    expect(e.message).toMatch(/bad sort direction 'down' for b at position 5/);
    expect(e.context).toEqual({ param: 'order', position: 5 });
    expect(failure(() => rest({ order: 'a desc nulls last' })).context).toEqual({ param: 'order', position: 7 });
    expect(failure(() => rest({ order: 'a,' })).context).toEqual({ param: 'order', position: 2 });
  });

  it('limit: a whole number of 1 or more', () => {
    expect(rest({ limit: '10' }).limit).toBe(10);
    expect(rest({ limit: ' 5 ' }).limit).toBe(5);
    for (const bad of ['0', 'abc', '-1', '1e3', '1.5', '', '+5', '99999999999999999999']) {
      const e = failure(() => rest({ limit: bad }));
      expect(e.context).toEqual({ param: 'limit' });
      expect(e.message).toMatch(/limit must be a whole number of 1 or more/);
    }
    expect(failure(() => rest({ limit: ['1', '2'] })).message).toMatch(/more than once/);
  });

  it('offset: a whole number of 0 or more', () => {
    expect(rest({ offset: '0' }).offset).toBe(0);
    expect(rest({ offset: '25' }).offset).toBe(25);
    for (const bad of ['-1', '1.5', 'x']) expect(failure(() => rest({ offset: bad })).context).toEqual({ param: 'offset' });
  });

  it('include_count and explain: true/false/1/0; present without a value means true', () => {
    expect(rest({ include_count: 'true' }).includeCount).toBe(true);
    expect(rest({ include_count: 'FALSE' }).includeCount).toBe(false);
    expect(rest({ include_count: '1' }).includeCount).toBe(true);
    expect(rest({ include_count: '0' }).includeCount).toBe(false);
    expect(rest({ include_count: '' }).includeCount).toBe(true);
    expect(rest({ explain: 'true' }).explain).toBe(true);
    expect(failure(() => rest({ include_count: 'yes' })).context).toEqual({ param: 'include_count' });
    expect(failure(() => rest({ explain: 'maybe' })).context).toEqual({ param: 'explain' });
  });

  it('ids: a comma list of key values kept as text', () => {
    expect(rest({ ids: '1, 2,2,abc' }).ids).toEqual(['1', '2', 'abc']);
    expect(rest({ ids: ['1', '2'] }).ids).toEqual(['1', '2']);
    expect(failure(() => rest({ ids: '' })).context).toEqual({ param: 'ids' });
    expect(failure(() => rest({ ids: '1,,2' })).context).toEqual({ param: 'ids', position: 2 });
  });

  it('non-text values are a 400', () => {
    expect(failure(() => rest({ filter: { a: 1 } })).context).toEqual({ param: 'filter' });
    expect(failure(() => rest({ fields: [1, 2] })).context).toEqual({ param: 'fields' });
  });

  it('everything together', () => {
    const q = rest({
      fields: 'a,b',
      filter: 'a > 1',
      order: 'b desc',
      limit: '5',
      offset: '10',
      include_count: 'true',
      ids: '7',
      explain: 'false',
    });
    expect({ ...q, filter: stripPositions(q.filter!) }).toEqual({
      fields: ['a', 'b'],
      filter: stripPositions(parseFilter('a > 1')),
      order: [{ field: 'b', desc: true }],
      limit: 5,
      offset: 10,
      includeCount: true,
      ids: ['7'],
      explain: false,
    });
  });
});

describe('parseToolQuery', () => {
  it('fields as a list or a comma string', () => {
    expect(parseToolQuery({ fields: ['a', ' b', 'a'] }).fields).toEqual(['a', 'b']);
    expect(parseToolQuery({ fields: 'a, b' }).fields).toEqual(['a', 'b']);
    expect(parseToolQuery({ fields: [] }).fields).toBeUndefined();
    expect(failure(() => parseToolQuery({ fields: [1] as unknown as string[] })).context).toEqual({ param: 'fields' });
  });

  it('filter as text, as a structured object, or as JSON text', () => {
    const expected = stripPositions(parseFilter("a = 1 and b in ('x')"));
    expect(stripPositions(parseToolQuery({ filter: "a = 1 and b in ('x')" }).filter!)).toEqual(expected);
    const structured = {
      and: [
        { field: 'a', op: 'eq', value: 1 },
        { field: 'b', op: 'in', value: ['x'] },
      ],
    };
    expect(stripPositions(parseToolQuery({ filter: structured }).filter!)).toEqual(expected);
    expect(stripPositions(parseToolQuery({ filter: JSON.stringify(structured) }).filter!)).toEqual(expected);
    expect(parseToolQuery({ filter: '' }).filter).toBeUndefined();
    expect(failure(() => parseToolQuery({ filter: '{"and": [' })).message).toMatch(/looks like JSON/);
    expect(failure(() => parseToolQuery({ filter: { field: 'a', op: 'nope', value: 1 } })).context).toEqual({
      param: 'filter',
      path: 'filter.op',
    });
    expect(failure(() => parseToolQuery({ filter: 'a =' })).context).toEqual({ param: 'filter', position: 3 });
  });

  it('order as a list or a comma string', () => {
    expect(parseToolQuery({ order: ['a desc', 'b'] }).order).toEqual([
      { field: 'a', desc: true },
      { field: 'b', desc: false },
    ]);
    expect(parseToolQuery({ order: 'a desc, b' }).order).toEqual(parseToolQuery({ order: ['a desc', 'b'] }).order);
    expect(failure(() => parseToolQuery({ order: ['a sideways'] })).context).toEqual({ param: 'order', position: 2 });
  });

  it('limit and offset: numbers (or digit strings)', () => {
    expect(parseToolQuery({ limit: 10, offset: 0 })).toEqual({ limit: 10, offset: 0 });
    expect(parseToolQuery({ limit: '10' }).limit).toBe(10);
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 60])
      expect(failure(() => parseToolQuery({ limit: bad })).context).toEqual({ param: 'limit' });
    expect(failure(() => parseToolQuery({ offset: -1 })).context).toEqual({ param: 'offset' });
    expect(failure(() => parseToolQuery({ offset: 0.5 })).context).toEqual({ param: 'offset' });
  });
});
