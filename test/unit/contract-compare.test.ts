// The classification rules of docs/contracts.md, one by one, on contracts that differ in exactly
// the change under test (the end-to-end test drives the same rules through real stores).
import { describe, expect, it } from 'vitest';
import { compareContracts, type ContractChange } from '../../src/commands/contract/compare.js';
import { CONTRACT_FORMAT, contractText, parseContract, type Contract } from '../../src/commands/contract/model.js';

function base(): Contract {
  return {
    format: CONTRACT_FORMAT,
    views: {
      'crm.customers': {
        description: 'Customers',
        key: ['customer_id'],
        columns: [
          { name: 'customer_id', type: 'int', storeType: 'integer' },
          { name: 'email', type: 'text', storeType: 'text', description: 'E-mail' },
          { name: 'balance', type: 'numeric', storeType: 'numeric(12,2)' },
        ],
      },
    },
    roles: {
      partner: {
        views: {
          'crm.customers': {
            grant: 'crm.customers',
            maxLimit: 100,
            columns: [
              { name: 'customer_id', type: 'int', masked: false, filterable: true },
              { name: 'email', type: 'text', masked: false, filterable: true },
              { name: 'balance', type: 'numeric', masked: false, filterable: true },
            ],
            rights: { read: true, aggregate: true, sql: false, export: false, explain: false },
          },
        },
        mcpTools: ['aggregate_view', 'describe_view', 'list_views', 'query_view'],
        restOperations: ['GET /api/v2/crm/_table/customers', 'GET /api/v2/crm/_table/customers/{id}'],
      },
    },
  };
}

function changes(edit: (c: Contract) => void, problems = new Map<string, string>()): ContractChange[] {
  const after = base();
  edit(after);
  return compareContracts(base(), after, problems);
}

const view = (c: Contract) => c.views['crm.customers']!;
const grant = (c: Contract) => c.roles.partner!.views['crm.customers']!;

describe('contract check rules', () => {
  it('finds nothing between a contract and itself', () => {
    expect(changes(() => {})).toEqual([]);
  });

  it('a view removed (or renamed) breaks; one that no longer builds breaks once, with why; a view added is compatible', () => {
    expect(changes((c) => delete c.views['crm.customers'])).toContainEqual({
      breaking: true,
      view: 'crm.customers',
      change: 'view removed (or renamed)',
    });
    const broken = changes(() => {}, new Map([['crm.customers', 'column "email" does not exist']]));
    expect(broken).toEqual([
      { breaking: true, view: 'crm.customers', change: 'no longer builds from its sources: column "email" does not exist' },
    ]);
    expect(changes((c) => (c.views['crm.orders'] = { description: '', key: ['id'], columns: [] }))).toEqual([
      { breaking: false, view: 'crm.orders', change: 'view added' },
    ]);
  });

  it('a column removed or renamed breaks; a column added is compatible', () => {
    expect(changes((c) => (view(c).columns[1]!.name = 'mail'))).toEqual([
      { breaking: true, view: 'crm.customers', change: 'column "email" removed (or renamed)' },
      { breaking: false, view: 'crm.customers', change: 'column "mail" added (text)' },
    ]);
    expect(changes((c) => view(c).columns.push({ name: 'tier', type: 'text' }))).toEqual([
      { breaking: false, view: 'crm.customers', change: 'column "tier" added (text)' },
    ]);
  });

  it('a value-model type change breaks, except int -> numeric', () => {
    expect(changes((c) => (view(c).columns[1]!.type = 'jsonb'))).toEqual([
      { breaking: true, view: 'crm.customers', change: 'column "email" changed type from text to jsonb' },
    ]);
    expect(changes((c) => (view(c).columns[0]!.type = 'numeric'))).toEqual([
      { breaking: false, view: 'crm.customers', change: 'column "customer_id" changed type from int to numeric' },
    ]);
    expect(changes((c) => (view(c).columns[2]!.type = 'int'))[0]!.breaking).toBe(true); // numeric -> int narrows
  });

  it('a wider store type with the same value-model type is compatible', () => {
    expect(changes((c) => (view(c).columns[2]!.storeType = 'numeric(14,2)'))).toEqual([
      {
        breaking: false,
        view: 'crm.customers',
        change: 'column "balance" store type numeric(12,2) -> numeric(14,2) (same value-model type numeric)',
      },
    ]);
  });

  it('the key changed breaks', () => {
    expect(changes((c) => (view(c).key = ['email']))).toEqual([
      { breaking: true, view: 'crm.customers', change: 'key changed from (customer_id) to (email)' },
    ]);
  });

  it('descriptions are compatible', () => {
    expect(
      changes((c) => {
        view(c).description = 'All customers';
        view(c).columns[1]!.description = 'Contact address';
      }).map((x) => [x.breaking, x.change]),
    ).toEqual([
      [false, 'description changed'],
      [false, 'column "email" description changed'],
    ]);
  });

  it('a column newly masked or hidden for a role breaks; unmasked or newly visible is compatible', () => {
    expect(
      changes((c) => {
        Object.assign(grant(c).columns[1]!, { masked: true, mask: 'email', filterable: false });
      }),
    ).toEqual([{ breaking: true, view: 'crm.customers', role: 'partner', change: 'column "email" newly masked (email)' }]);
    expect(changes((c) => grant(c).columns.splice(2, 1))).toEqual([
      { breaking: true, view: 'crm.customers', role: 'partner', change: 'column "balance" hidden from the role' },
    ]);
    const masked = base();
    Object.assign(grant(masked).columns[1]!, { masked: true, mask: 'email', filterable: false });
    expect(compareContracts(masked, base())).toEqual([
      { breaking: false, view: 'crm.customers', role: 'partner', change: 'column "email" no longer masked' },
    ]);
    const other = base();
    Object.assign(grant(other).columns[1]!, { masked: true, mask: 'hash', filterable: false });
    expect(compareContracts(masked, other)).toEqual([
      { breaking: true, view: 'crm.customers', role: 'partner', change: 'column "email" mask changed from email to hash' },
    ]);
  });

  it('maxLimit lowered breaks; raised is compatible', () => {
    expect(changes((c) => (grant(c).maxLimit = 50))).toEqual([
      { breaking: true, view: 'crm.customers', role: 'partner', change: 'maxLimit lowered from 100 to 50' },
    ]);
    expect(changes((c) => (grant(c).maxLimit = 500))).toEqual([
      { breaking: false, view: 'crm.customers', role: 'partner', change: 'maxLimit raised from 100 to 500' },
    ]);
  });

  it('a grant or a role removed breaks; a right revoked breaks, granted is compatible', () => {
    expect(changes((c) => delete c.roles.partner!.views['crm.customers'])).toContainEqual({
      breaking: true,
      view: 'crm.customers',
      role: 'partner',
      change: 'grant removed: the role may no longer read the view',
    });
    // Its REST operations are not listed again.
    expect(
      changes((c) => {
        delete c.roles.partner!.views['crm.customers'];
        c.roles.partner!.restOperations = [];
      }).filter((x) => x.change.startsWith('REST')),
    ).toEqual([]);
    expect(changes((c) => delete c.roles.partner)).toEqual([{ breaking: true, role: 'partner', change: 'role removed (or renamed)' }]);
    expect(changes((c) => (grant(c).rights.aggregate = false))).toEqual([
      { breaking: true, view: 'crm.customers', role: 'partner', change: 'rights.aggregate revoked' },
    ]);
    expect(changes((c) => (grant(c).rights.sql = true))).toEqual([
      { breaking: false, view: 'crm.customers', role: 'partner', change: 'rights.sql granted' },
    ]);
    // A minimum group size suppresses groups: setting one (or raising it) narrows.
    expect(changes((c) => (grant(c).rights.minGroupSize = 5))[0]).toMatchObject({ breaking: true, change: 'rights.minGroupSize set to 5' });
    const k5 = base();
    grant(k5).rights.minGroupSize = 5;
    const k10 = base();
    grant(k10).rights.minGroupSize = 10;
    expect(compareContracts(k5, k10)[0]).toMatchObject({ breaking: true, change: 'rights.minGroupSize raised from 5 to 10' });
  });

  it('an MCP tool or REST operation gone for a role breaks; one added is compatible', () => {
    expect(changes((c) => (c.roles.partner!.mcpTools = ['describe_view', 'list_views', 'query_view', 'query_sql']))).toEqual([
      { breaking: true, role: 'partner', change: 'MCP tool "aggregate_view" removed' },
      { breaking: false, role: 'partner', change: 'MCP tool "query_sql" added' },
    ]);
    expect(changes((c) => c.roles.partner!.restOperations.pop())).toEqual([
      { breaking: true, role: 'partner', change: 'REST operation GET /api/v2/crm/_table/customers/{id} removed' },
    ]);
  });

  it('a deprecation is compatible news', () => {
    expect(changes((c) => (view(c).deprecated = { sunset: '2027-06-30', successor: 'crm.customers_v2' }))).toEqual([
      { breaking: false, view: 'crm.customers', change: 'deprecated: sunset 2027-06-30, successor crm.customers_v2' },
    ]);
  });

  it('the file is written with sorted keys and read back; anything else is refused', () => {
    const text = contractText(base());
    expect(text.indexOf('"format"')).toBeLessThan(text.indexOf('"roles"'));
    expect(text.indexOf('"roles"')).toBeLessThan(text.indexOf('"views"'));
    expect(parseContract(text, 'f.json')).toEqual(base());
    expect(() => parseContract('{"views":{}}', 'f.json')).toThrow(/not a viewgate contract/);
    expect(() => parseContract('nope', 'f.json')).toThrow(/not JSON/);
  });
});

describe('contract check reads the file as JSON', () => {
  it('the order of keys in the file makes no change', () => {
    const before = base();
    before.views['crm.customers']!.deprecated = { sunset: '2027-06-30', since: '2026-11-01' };
    const after = base();
    after.views['crm.customers']!.deprecated = { since: '2026-11-01', sunset: '2027-06-30' };
    expect(compareContracts(parseContract(contractText(before), 'f.json'), after)).toEqual([]);
  });
});
