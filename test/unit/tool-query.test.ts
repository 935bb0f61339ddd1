// A curated tool's call as a ClientQuery (docs/tools.md): parameters checked and put into the parsed
// filter as literals, optional conjuncts dropped, refusals naming the parameter.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { stripPositions } from '../../src/query/ast.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import { formatFilter } from '../../src/query/filter-format.js';
import { compileTool, toolQuery } from '../../src/query/tool-query.js';
import type { CuratedToolConfig } from '../../src/config/schema.js';

const tool = compileTool('orders_by_status', {
  description: 'd',
  view: 'app.orders',
  params: {
    status: { type: 'text', optional: false, enum: ['paid', 'shipped'] },
    since: { type: 'timestamptz', optional: true, min: '2020-01-01T00:00:00Z' },
    customer: { type: 'int', optional: true, min: 1, max: 100 },
    total: { type: 'numeric', optional: true, max: '1000.5' },
    name: { type: 'text', optional: true, pattern: '^[A-Z]' },
  },
  filter:
    'status = {params.status} and created_at >= {params.since} and (customer_id = {params.customer} or total_amount <= {params.total}) and name starts with {params.name} and tenant_id = {claims.tenant_id}',
  fields: ['order_id'],
  order: 'created_at desc',
  limit: 5,
} as CuratedToolConfig);

const filterOf = (args: Record<string, unknown>) => {
  const q = toolQuery(tool, args);
  return q.filter ? formatFilter(q.filter) : undefined;
};

function refusal(args: Record<string, unknown>): ApiError {
  try {
    toolQuery(tool, args);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error(`no refusal for ${JSON.stringify(args)}`);
}

describe('toolQuery', () => {
  it('keeps the fixed part and puts values in place of parameters', () => {
    const q = toolQuery(tool, { status: 'paid', since: '2024-01-01T00:00:00Z', customer: 7, total: '10.5', name: 'A' });
    expect(q.fields).toEqual(['order_id']);
    expect(q.order).toEqual([{ field: 'created_at', desc: true }]);
    expect(q.limit).toBe(5);
    expect(stripPositions(q.filter!)).toEqual(
      stripPositions(
        parseFilter(
          "status = 'paid' and created_at >= '2024-01-01T00:00:00Z' and (customer_id = 7 or total_amount <= '10.5') and name starts with 'A' and tenant_id = {claims.tenant_id}",
          { allowClaims: true },
        ),
      ),
    );
  });

  it('drops each top-level conjunct that reads an absent optional parameter, the whole conjunct', () => {
    expect(filterOf({ status: 'paid' })).toBe("status = 'paid' and tenant_id = {claims.tenant_id}");
    // customer alone is given, but its conjunct also reads total: it is dropped.
    expect(filterOf({ status: 'paid', customer: 7 })).toBe("status = 'paid' and tenant_id = {claims.tenant_id}");
    expect(filterOf({ status: 'shipped', customer: 7, total: 3, since: null })).toBe(
      "status = 'shipped' and (customer_id = 7 or total_amount <= 3) and tenant_id = {claims.tenant_id}",
    );
  });

  it('a value is never parsed: quotes and grammar in it stay text', () => {
    const q = toolQuery(tool, { status: 'paid', name: "A' or '1'='1" });
    expect(formatFilter(q.filter!)).toContain("name starts with 'A'' or ''1''=''1'");
  });

  it.each([
    [{}, 'status', 'parameter "status" is required'],
    [{ status: 'lost' }, 'status', 'parameter "status" must be one of "paid", "shipped", not \'lost\''],
    [{ status: 'paid', customer: 0 }, 'customer', 'must be at least 1'],
    [{ status: 'paid', customer: '101' }, 'customer', 'must be at most 100'],
    [{ status: 'paid', customer: 1.5 }, 'customer', 'is not a whole number'],
    [{ status: 'paid', customer: [1, 2] }, 'customer', 'not a list'],
    [{ status: 'paid', total: '1000.51' }, 'total', 'must be at most "1000.5"'],
    [{ status: 'paid', since: '2019-06-01T00:00:00Z' }, 'since', 'must be at least "2020-01-01T00:00:00Z"'],
    [{ status: 'paid', since: 'soon' }, 'since', 'must be a timestamp'],
    [{ status: 'paid', name: 'abc' }, 'name', 'must match the pattern ^[A-Z]'],
    [{ status: 'paid', name: 'A\u0000' }, 'name', 'NUL'],
    [{ status: 'paid', other: 1 }, 'other', 'tool "orders_by_status" has no parameter "other"'],
  ])('%j is a 400 naming %s', (args, param, message) => {
    const e = refusal(args);
    expect(e.status).toBe(400);
    expect(e.context.param).toBe(param);
    expect(e.message).toContain(message);
  });

  it('takes the cursor of the next page', () => {
    expect(toolQuery(tool, { status: 'paid' }, 'abc').cursor).toBe('abc');
    expect(() => toolQuery(tool, { status: 'paid' }, 5)).toThrow(/cursor must be text/);
  });
});
