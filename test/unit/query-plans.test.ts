// QueryPlans (src/gateway/query-plans.ts): what is kept, for whom, and when it is made again.
import { describe, expect, it } from 'vitest';
import { QueryPlans, type Plan } from '../../src/gateway/query-plans.js';
import type { ClientQuery } from '../../src/query/client-query.js';
import type { ViewAccess } from '../../src/policy/access.js';
import type { Identity } from '../../src/policy/identity.js';

const identity = (name: string): Identity =>
  Object.freeze({ subject: name, identityKey: name, role: 'r', method: 'api-key', claims: Object.freeze({ tenant: name }) }) as Identity;
const access = () => ({}) as ViewAccess;
const plan = (label: string) =>
  ({ cacheKey: label, governed: { engine: { columns: ['a'], orderBy: [{ column: 'a', desc: false }] } } }) as unknown as Plan;

describe('QueryPlans.query', () => {
  it('parses a text once and hands out the same frozen query', () => {
    const plans = new QueryPlans();
    let parsed = 0;
    const parse = (): ClientQuery => (parsed++, { fields: ['a'], filter: undefined, limit: 5 });
    const a = plans.query('t', parse);
    const b = plans.query('t', parse);
    expect(b).toBe(a);
    expect(parsed).toBe(1);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.fields)).toBe(true);
    expect(plans.query('other', parse)).not.toBe(a);
    expect(parsed).toBe(2);
  });

  it('keeps no failure, and parses every time without a text', () => {
    const plans = new QueryPlans();
    let calls = 0;
    const failing = (): ClientQuery => {
      calls++;
      throw new Error('bad');
    };
    expect(() => plans.query('t', failing)).toThrow('bad');
    expect(() => plans.query('t', failing)).toThrow('bad');
    expect(calls).toBe(2);
    const parse = (): ClientQuery => ({ limit: 1 });
    expect(plans.query(undefined, parse)).not.toBe(plans.query(undefined, parse));
  });

  it('starts over when full (texts and plans count alike), and still answers', () => {
    const plans = new QueryPlans();
    const first = plans.query('text-0', () => ({ limit: 0 }));
    for (let i = 1; i < 4096; i++) plans.query(`text-${i}`, () => ({ limit: i }));
    expect(plans.query('text-0', () => ({ limit: 0 }))).toBe(first);
    // The 4097th item kept, a plan: everything starts over.
    plans.plan(first, identity('a'), access(), () => plan('a'));
    const again = plans.query('text-0', () => ({ limit: 0 }));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    let made = 0;
    const [record, bob] = [access(), identity('b')];
    plans.plan(again, bob, record, () => (made++, plan('b')));
    plans.plan(again, bob, record, () => (made++, plan('b')));
    expect(made).toBe(1);
  });
});

describe('QueryPlans.plan', () => {
  it('is made once per caller and access record', () => {
    const plans = new QueryPlans();
    const q = plans.query('t', () => ({ limit: 1 }));
    const [alice, bob] = [identity('alice'), identity('bob')];
    const record = access();
    let made = 0;
    const make = (label: string) => () => (made++, plan(label));
    const kept = plans.plan(q, alice, record, make('alice'));
    expect(kept.cacheKey).toBe('alice');
    // Shared by the caller's requests, and kept by identity downstream (the pushdown, the statement): frozen.
    expect(Object.isFrozen(kept.governed.engine)).toBe(true);
    expect(Object.isFrozen(kept.governed.engine.orderBy[0])).toBe(true);
    expect(plans.plan(q, alice, record, make('not again')).cacheKey).toBe('alice');
    expect(plans.plan(q, bob, record, make('bob')).cacheKey).toBe('bob');
    expect(plans.plan(q, alice, record, make('not again')).cacheKey).toBe('alice');
    expect(made).toBe(2);
    // A new access record (a reload, a rebuilt view): made again.
    expect(plans.plan(q, alice, access(), make('alice 2')).cacheKey).toBe('alice 2');
    expect(made).toBe(3);
  });

  it('is made every time for a caller that is not frozen or a query that was not kept', () => {
    const plans = new QueryPlans();
    const q = plans.query('t', () => ({ limit: 1 }));
    const record = access();
    let made = 0;
    const make = () => (made++, plan('x'));
    const loose = { subject: 's', identityKey: 's', role: 'r', method: 'api-key', claims: {} } as Identity;
    plans.plan(q, loose, record, make);
    plans.plan(q, loose, record, make);
    const fresh: ClientQuery = { limit: 1 };
    plans.plan(fresh, identity('a'), record, make);
    plans.plan(fresh, identity('a'), record, make);
    expect(made).toBe(4);
  });
});
