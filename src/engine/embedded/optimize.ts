// Plans one request on a checked view: where each conjunct runs (a store, right after a fetch,
// after the joins, or on output rows), which LEFT JOINs are really INNER, what the join keys let
// us infer, which relations one SQL source joins itself, where ORDER BY + LIMIT can go, and which
// side of each join is fetched first.
import { splitAnd, type OrderTerm, type Predicate } from '../../query/predicate.js';
import type { ScanAcceptance, ScanOffer, TableInfo } from '../../sources/source.js';
import type { EngineQuery } from '../view.js';
import type { Expr, JoinModel, Relation, ViewModel } from './ast.js';
import { castColumn, conjuncts, mapExpr, relationsOf } from './expr-tools.js';
import type { BindSpec, FetchUnit, Plan, PlannedJoin, PushedPredicate, RelationScan } from './plan.js';
import { chainInvertible, columnsOf, inferAcross, predicateToExpr, rejectsNulls, toSourcePredicate } from './predicates.js';
import { castOrderPreserving } from './sql-types.js';
import { pushLimitIntoBoundChild } from './child-limit.js';
import { formatExpr, formatPredicate } from './explain.js';

export interface PlanOptions {
  pushdown: boolean;
  rowBudget: number;
  batchSize: number;
  concurrency: number;
  /** Whether a source can run a join of its own tables as one query (Source.scanJoin). */
  joinCapable(source: string): boolean;
  /** What a source takes of the work offered for one scan (Source.offer); the engine does the rest. */
  offer(source: string, table: TableInfo, work: ScanOffer): ScanAcceptance;
}

interface Conjunct {
  expr: Expr;
  origin: 'filter' | 'view' | 'join-on';
  /** From the row filter (grant rowFilter or view rowSecurity). */
  scoped?: boolean;
}

export function planRequest(view: ViewModel, q: EngineQuery, opts: PlanOptions): Plan {
  const notes: string[] = [];
  const alias = (rel: number): string => view.relations[rel]!.alias;

  // 1. The client's conjuncts, through the projection where the view allows it.
  const limited = view.limit !== undefined || view.offset !== undefined;
  const wholeAggregate = view.grouping !== undefined && view.grouping.keys.length === 0;
  const base: Conjunct[] = view.where.map((expr) => ({ expr, origin: 'view' }));
  const post: Predicate[] = [];
  const rowConjuncts = new Set((q.rowFilter ? splitAnd(q.rowFilter) : []).map(predicateKey));
  for (const c of q.where ? splitAnd(q.where) : []) {
    const e = limited || wholeAggregate ? undefined : predicateToExpr(c, (name) => inputExprOfOutput(view, name));
    const scoped = rowConjuncts.has(predicateKey(c));
    if (e) base.push(...conjuncts(e).map((expr) => ({ expr, origin: 'filter' as const, ...(scoped ? { scoped } : {}) })));
    else post.push(c);
  }
  if (post.length > 0) {
    const why = limited ? 'the view has its own LIMIT/OFFSET' : 'it reads aggregated outputs';
    notes.push(`filter ${post.map(formatPredicate).join(' AND ')} is applied to output rows: ${why}`);
  }

  // 2. LEFT JOINs that are really INNER: an INNER join below a padded relation, or a conjunct that rejects NULL rows.
  const kinds = new Map(view.joins.map((j) => [j.child, j.kind]));
  const fromLeft = new Set<number>();
  const joinOf = new Map(view.joins.map((j) => [j.child, j]));
  const makeInner = (rel: number, why: string): void => {
    for (let r = rel; r !== 0; r = joinOf.get(r)!.parent) {
      if (kinds.get(r) === 'left') {
        kinds.set(r, 'inner');
        fromLeft.add(r);
        notes.push(`LEFT JOIN ${alias(r)} is planned as INNER: ${why}`);
      }
    }
  };
  for (const j of view.joins) if (j.kind === 'inner') makeInner(j.parent, `the INNER JOIN of ${alias(j.child)} needs its rows`);
  let padded = paddedOf(view.joins, kinds);
  for (const c of base) {
    for (const r of [...padded]) {
      if (padded.has(r) && rejectsNulls(c.expr, r)) {
        makeInner(r, `${formatExpr(c.expr, view)} rejects its NULL-padded rows`);
        padded = paddedOf(view.joins, kinds);
      }
    }
  }

  // 3. Where each conjunct runs.
  const scanConjuncts = new Map<number, Conjunct[]>(view.relations.map((r) => [r.index, []]));
  const residual: Expr[] = [];
  for (const c of base) {
    const rels = relationsOf(c.expr);
    const [only] = [...rels];
    if (rels.size === 1 && !padded.has(only!)) scanConjuncts.get(only!)!.push(c);
    else residual.push(c.expr);
  }
  for (const j of view.joins) for (const f of j.childFilters) scanConjuncts.get(j.child)!.push({ expr: f, origin: 'join-on' });

  // Each store takes what it evaluates exactly (Source.offer); the rest runs right after its fetch.
  const scans = new Map<number, RelationScan>();
  for (const r of view.relations) {
    const offered: { predicate: Predicate; conjunct: Conjunct }[] = [];
    const local: Expr[] = [];
    for (const c of scanConjuncts.get(r.index)!) {
      const p = opts.pushdown ? toSourcePredicate(c.expr, r.index) : undefined;
      if (p) offered.push({ predicate: p, conjunct: c });
      else local.push(c.expr);
    }
    const taken = takenBy(
      opts,
      r,
      offered.map((o) => o.predicate),
    );
    const pushed: PushedPredicate[] = [];
    for (const { predicate, conjunct: c } of offered) {
      if (taken.has(predicate)) pushed.push({ predicate, origin: c.origin, ...(c.scoped ? { scoped: true } : {}) });
      else {
        local.push(c.expr);
        notes.push(`${formatExpr(c.expr, view)} is evaluated in process: source "${r.source}" does not take it`);
      }
    }
    scans.set(r.index, { rel: r.index, columns: [], pushed, local });
  }

  // 4. Predicates carried across join keys (only those the store takes: they are implied anyway).
  const planned: PlannedJoin[] = view.joins.map((j) => ({
    child: j.child,
    parent: j.parent,
    kind: kinds.get(j.child)!,
    fromLeft: fromLeft.has(j.child),
    conditions: j.conditions,
  }));
  if (opts.pushdown) {
    infer(planned, scans, view);
    for (const s of scans.values()) {
      const inferred = s.pushed.filter((p) => p.origin === 'inferred').map((p) => p.predicate);
      const taken = takenBy(opts, view.relations[s.rel]!, inferred);
      s.pushed = s.pushed.filter((p) => p.origin !== 'inferred' || taken.has(p.predicate));
    }
  }

  // 5. Fetch units: relations of one SQL source joined on plain columns become one query.
  const units: FetchUnit[] = [];
  const unitOf = new Map<number, FetchUnit>();
  const newUnit = (rel: number, reason: string): FetchUnit => {
    const r = view.relations[rel]!;
    const u: FetchUnit = {
      id: units.length,
      source: r.source,
      sourceKind: r.sourceKind,
      members: [rel],
      internalJoins: [],
      scans: [scans.get(rel)!],
      reason,
    };
    units.push(u);
    unitOf.set(rel, u);
    return u;
  };
  newUnit(0, '');
  const inProcess: { unit: number; join: PlannedJoin }[] = [];
  for (const j of planned) {
    const parentUnit = unitOf.get(j.parent)!;
    const child = view.relations[j.child]!;
    const mergeable =
      opts.pushdown &&
      parentUnit.source === child.source &&
      opts.joinCapable(child.source) &&
      j.conditions.every((c) => c.parentKey.kind === 'column' && c.childKey.kind === 'column' && c.parentKey.type === c.childKey.type) &&
      (j.kind === 'inner' || scans.get(j.child)!.local.length === 0);
    if (mergeable) {
      parentUnit.members.push(j.child);
      parentUnit.internalJoins.push(j);
      parentUnit.scans.push(scans.get(j.child)!);
      unitOf.set(j.child, parentUnit);
    } else {
      const u = newUnit(j.child, '');
      inProcess.push({ unit: u.id, join: j });
    }
  }
  for (const u of units) {
    if (u.members.length > 1) notes.push(`${u.members.map(alias).join(', ')} are joined by source "${u.source}" in one query`);
  }

  // 6. Columns each relation must return.
  const outputs = neededOutputs(view, q, post);
  const need = new Map<number, Set<string>>();
  const use = (e: Expr): void => columnsOf(e, need);
  if (view.grouping) {
    view.grouping.keys.forEach(use);
    view.grouping.aggregates.forEach((a) => a.arg && use(a.arg));
  } else {
    for (const name of outputs) use(view.outputs.find((o) => o.name === name)!.expr);
  }
  if (limited) view.orderBy.forEach((o) => use(view.grouping ? (inputExpr(view, o.expr) ?? o.expr) : o.expr));
  residual.forEach(use);
  for (const s of scans.values()) s.local.forEach(use);
  for (const j of planned) j.conditions.forEach((c) => (use(c.parentKey), use(c.childKey)));
  for (const s of scans.values()) {
    s.columns = [...(need.get(s.rel) ?? [])];
  }

  // 7. ORDER BY + LIMIT into the store where that is sound.
  let offsetPushed = false;
  let countInStore = false;
  const root = units[0]!;
  const blockers: string[] = [];
  if (!opts.pushdown) blockers.push('pushdown is off');
  if (view.grouping) blockers.push('the view aggregates');
  if (view.distinct) blockers.push('DISTINCT removes duplicate rows');
  if (limited) blockers.push('the view has its own LIMIT/OFFSET');
  if (post.length > 0) blockers.push('a filter applies to output rows');
  if (residual.length > 0) blockers.push(`${residual.map((e) => formatExpr(e, view)).join(' AND ')} is evaluated after the joins`);
  if (root.scans.some((s) => s.local.length > 0)) blockers.push('a filter on the first table is evaluated in process');
  if (inProcess.some((x) => x.join.kind === 'inner')) blockers.push('an INNER join between stores can drop rows');
  if (q.count && (units.length > 1 || root.members.length > 1)) blockers.push('include_count needs every row');
  // A LIMIT on a first table the row filter does not reach would fetch rows of other tenants.
  const scopedRequest = rowConjuncts.size > 0;
  if (scopedRequest && !unitScoped(root)) blockers.push('the row filter does not reach the first table');
  const mapped = q.orderBy.map((t) => orderColumn(view, t));
  /** The relation whose store does not sort by these terms exactly, if any. */
  const unsorted = (terms: ({ rel: number; column: string; desc: boolean } | undefined)[]): string | undefined => {
    const rels = new Set(terms.flatMap((m) => (m ? [m.rel] : [])));
    for (const rel of rels) {
      const r = view.relations[rel]!;
      const orderBy = terms.flatMap((m) => (m && m.rel === rel ? [{ column: m.column, desc: m.desc }] : []));
      if (!opts.offer(r.source, r.info, { where: [], orderBy }).orderBy) return r.source;
    }
    return undefined;
  };
  const unsortedNote = (source: string): string => `ORDER BY is not pushed: source "${source}" does not sort by it exactly`;
  if (blockers.length === 0) {
    if (units.length === 1) {
      const declined = unsorted(mapped);
      if (declined) notes.push(unsortedNote(declined));
      else if (mapped.every((m) => m !== undefined)) {
        root.orderBy = mapped.map((m) => m!);
        root.limit = q.limit + 1;
        root.offset = q.offset;
        offsetPushed = true;
        countInStore = q.count;
        notes.push(`ORDER BY, LIMIT ${q.limit}+1 and OFFSET ${q.offset} are pushed into "${root.source}"`);
      } else {
        notes.push('ORDER BY is not pushed: an ordering column is computed in process');
      }
    } else if (root.members.length === 1) {
      const prefix: { rel: number; column: string; desc: boolean }[] = [];
      for (const m of mapped) {
        if (!m || m.rel !== 0) break;
        prefix.push(m);
      }
      const pk = view.relations[0]!.primaryKey;
      const declined = unsorted(prefix);
      if (declined) notes.push(unsortedNote(declined));
      else if (pk.length > 0 && pk.every((k) => prefix.some((p) => p.column === k))) {
        root.orderBy = prefix;
        root.limit = q.offset + q.limit + 1;
        notes.push(
          `ORDER BY ${prefix.map((p) => `${alias(0)}.${p.column}${p.desc ? ' DESC' : ''}`).join(', ')} LIMIT ${root.limit} is pushed into ${alias(0)} (offset + limit + 1 rows): ` +
            'every row of it yields at least one output row through the LEFT joins, so these rows hold the page; the page is re-sorted and cut after the joins',
        );
      } else {
        notes.push(`LIMIT is not pushed: the ORDER BY does not start with the key (${pk.join(', ') || 'none'}) of ${alias(0)}`);
      }
    }
  } else {
    notes.push(`ORDER BY/LIMIT run in process: ${blockers.join('; ')}`);
  }

  // 8. Which units are fetched first, and which are bound to their keys.
  // A bind join sends `column IN (keys)`: only to a store that takes it.
  const bindable = (key: Expr): boolean => {
    if (!chainInvertible(key)) return false;
    const c = castColumn(key)!;
    return takenBy(opts, view.relations[c.rel]!, [{ op: 'in', column: c.column, values: [] }]).size === 1;
  };
  if (opts.pushdown) {
    chooseBindings(units, unitOf, planned, view, notes, scopedRequest, bindable);
    // 9. ORDER BY + LIMIT into a bound second table as well, where the page allows it.
    const childLimit = pushLimitIntoBoundChild(units, inProcess, view, mapped, (terms) => unsorted(terms) === undefined);
    if (childLimit) notes.push(childLimit);
  } else for (const u of units) u.reason = 'pushdown off: fetched whole';

  return {
    view,
    pushdown: opts.pushdown,
    units,
    joins: inProcess,
    residual,
    ...(post.length > 0 ? { postFilter: post.length === 1 ? post[0]! : { op: 'and', args: post } } : {}),
    outputs,
    columns: q.columns,
    requested: q.requested ?? q.columns,
    orderBy: q.orderBy,
    limit: q.limit,
    offset: q.offset,
    offsetPushed,
    count: q.count,
    countInStore,
    rowBudget: opts.rowBudget,
    batchSize: opts.batchSize,
    concurrency: opts.concurrency,
    notes,
  };
}

function predicateKey(p: Predicate): string {
  return JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Whether a unit's own store query carries a row-filter predicate (given or inferred). */
function unitScoped(u: FetchUnit): boolean {
  return u.scans.some((s) => s.pushed.some((p) => p.scoped));
}

/** Relations NULL-padded under the current join kinds. */
function paddedOf(joins: JoinModel[], kinds: Map<number, string>): Set<number> {
  const out = new Set<number>();
  for (const j of joins) if (kinds.get(j.child) === 'left' || out.has(j.parent)) out.add(j.child);
  return out;
}

/** An output's expression over the view's input rows (a grouped view: only outputs that are functions of group keys). */
function inputExprOfOutput(view: ViewModel, name: string): Expr | undefined {
  const o = view.outputs.find((x) => x.name === name);
  return o ? inputExpr(view, o.expr) : undefined;
}

function inputExpr(view: ViewModel, e: Expr): Expr | undefined {
  if (!view.grouping) return e;
  const keys = view.grouping.keys;
  let ok = true;
  const out = mapExpr(e, (x) => {
    if (x.kind !== 'slot') return undefined;
    if (x.slot.startsWith('g')) return keys[Number(x.slot.slice(1))]!;
    ok = false;
    return x;
  });
  return ok ? out : undefined;
}

function neededOutputs(view: ViewModel, q: EngineQuery, post: Predicate[]): string[] {
  // DISTINCT compares whole output rows.
  if (view.distinct) return view.outputs.map((o) => o.name);
  const names = new Set(q.columns);
  for (const t of q.orderBy) names.add(t.column);
  for (const p of post) predicateColumnsOf(p, names);
  return view.outputs.filter((o) => names.has(o.name)).map((o) => o.name);
}

function predicateColumnsOf(p: Predicate, out: Set<string>): void {
  if (p.op === 'and' || p.op === 'or') p.args.forEach((a) => predicateColumnsOf(a, out));
  else if (p.op === 'not') predicateColumnsOf(p.arg, out);
  else if (p.op !== 'const') out.add(p.column);
}

/** An ORDER BY term as a source column, when the output is that column under order-preserving casts. */
function orderColumn(view: ViewModel, t: OrderTerm): { rel: number; column: string; desc: boolean } | undefined {
  if (view.grouping) return undefined;
  const o = view.outputs.find((x) => x.name === t.column);
  if (!o) return undefined;
  let cur = o.expr;
  while (cur.kind === 'cast') {
    if (cur.mod || !castOrderPreserving(cur.arg.type, cur.type)) return undefined;
    cur = cur.arg;
  }
  return cur.kind === 'column' ? { rel: cur.rel, column: cur.column, desc: t.desc } : undefined;
}

/** Carries `=`, IN and range facts across join keys until nothing new is learned. */
function infer(joins: PlannedJoin[], scans: Map<number, RelationScan>, view: ViewModel): void {
  const keyOf = predicateKey;
  const add = (rel: number, p: Predicate, via: string, scoped: boolean): boolean => {
    const k = keyOf(p);
    const existing = scans.get(rel)!.pushed.find((x) => keyOf(x.predicate) === k);
    if (existing) {
      // The same fact learnt from the row filter makes the scan scoped.
      if (scoped && !existing.scoped) {
        existing.scoped = true;
        return true;
      }
      return false;
    }
    scans.get(rel)!.pushed.push({ predicate: p, origin: 'inferred', via, ...(scoped ? { scoped } : {}) });
    return true;
  };
  const name = (e: Expr): string => {
    const c = castColumn(e)!;
    return `${view.relations[c.rel]!.alias}.${c.column}`;
  };
  for (let round = 0; round <= joins.length; round++) {
    let changed = false;
    for (const j of joins) {
      for (const c of j.conditions) {
        const directions: [Expr, Expr][] = [[c.parentKey, c.childKey]];
        // Out of a NULL-padded side nothing may be inferred: its rows never remove preserved rows.
        if (j.kind === 'inner') directions.push([c.childKey, c.parentKey]);
        for (const [from, to] of directions) {
          const fromCol = castColumn(from)!;
          const toCol = castColumn(to)!;
          for (const fact of [...scans.get(fromCol.rel)!.pushed]) {
            const p = fact.predicate;
            if ((p.op !== 'cmp' && p.op !== 'in') || p.column !== fromCol.column) continue;
            const q = inferAcross(p, from, to, c.via);
            if (q && add(toCol.rel, q, name(from), fact.scoped === true)) changed = true;
          }
        }
      }
    }
    if (!changed) break;
  }
}

/** The offered predicates the relation's store takes (the same objects). */
function takenBy(opts: PlanOptions, r: Relation, where: Predicate[]): Set<Predicate> {
  if (where.length === 0) return new Set();
  return new Set(opts.offer(r.source, r.info, { where, orderBy: [] }).taken);
}

function isSelective(p: Predicate): boolean {
  if (p.op === 'cmp') return p.cmp === '=';
  if (p.op === 'in') return true;
  if (p.op === 'and') return p.args.some(isSelective);
  if (p.op === 'or') return p.args.every(isSelective);
  return false;
}

/**
 * The driving-side heuristic: a unit with a pushed equality or IN (given or inferred) or a pushed
 * LIMIT is selective and fetched on its own, in parallel with the other selective ones. Every
 * other unit is bound to the keys of a unit fetched before it where the join allows (from the
 * preserved side of a LEFT JOIN, either side of an INNER one). A unit nothing can bind is fetched
 * on its own (the first table when nothing is selective).
 *
 * Under a row filter the row filter drives instead: only units whose store query carries it are
 * fetched on their own, and every other unit is bound (directly or through other bound units) to
 * their keys, so no store returns a row of another tenant and the rows counted against the row
 * budget never depend on other tenants' data (docs/security.md). Only a unit that neither carries
 * the row filter nor can be bound is fetched unscoped, and explain says so.
 */
function chooseBindings(
  units: FetchUnit[],
  unitOf: Map<number, FetchUnit>,
  joins: PlannedJoin[],
  view: ViewModel,
  notes: string[],
  rowFiltered: boolean,
  bindable: (key: Expr) => boolean,
): void {
  const alias = (rel: number): string => view.relations[rel]!.alias;
  const fetched = new Set<number>();
  // When no store can take the row filter, the usual heuristic is as good as any.
  const scopedRequest = rowFiltered && units.some(unitScoped);
  if (rowFiltered && !scopedRequest) notes.push('the row filter reaches no store: every table is fetched unscoped and filtered in process');
  for (const u of units) {
    if (scopedRequest) {
      const own = u.scans.flatMap((s) => s.pushed.filter((p) => p.scoped));
      if (own.length > 0) {
        u.reason = `driving: row filter ${formatPredicate(own[0]!.predicate)}`;
        u.scoped = true;
        fetched.add(u.id);
      }
      continue;
    }
    const sel = u.scans.flatMap((s) => s.pushed.filter((p) => isSelective(p.predicate)));
    if (u.limit !== undefined) {
      u.reason = 'driving: ORDER BY + LIMIT pushed';
      fetched.add(u.id);
    } else if (sel.length > 0) {
      u.reason = `driving: selective ${sel[0]!.origin === 'inferred' ? 'inferred ' : ''}predicate ${formatPredicate(sel[0]!.predicate)}`;
      fetched.add(u.id);
    }
  }
  const joinOfChild = new Map(joins.map((j) => [j.child, j]));
  while (fetched.size < units.length) {
    let progressed = false;
    for (const u of units) {
      if (fetched.has(u.id)) continue;
      const bind = bindFor(u, fetched, unitOf, joinOfChild, joins, bindable);
      if (!bind) continue;
      u.bind = bind;
      const provider = units[bind.fromUnit]!;
      u.scoped = provider.scoped === true || unitScoped(u);
      u.reason = `bind join: ${alias(bind.targetRel)}.${bind.targetColumn} IN (keys of ${provider.members.map(alias).join(', ')})`;
      fetched.add(u.id);
      progressed = true;
    }
    if (!progressed) {
      const next = units.find((u) => !fetched.has(u.id))!;
      next.reason = next.id === 0 ? 'driving: first table (no selective filter)' : 'fetched on its own: no fetched side can bind it';
      if (rowFiltered) next.reason += '; the row filter does not reach it, so it is fetched unscoped';
      fetched.add(next.id);
    }
  }
  const bound = units.filter((u) => u.bind);
  if (bound.length > 0)
    notes.push(`bind joins: ${bound.map((u) => alias(u.members[0]!)).join(', ')} fetched with the key values of the side fetched before`);
}

function bindFor(
  u: FetchUnit,
  fetched: Set<number>,
  unitOf: Map<number, FetchUnit>,
  joinOfChild: Map<number, PlannedJoin>,
  joins: PlannedJoin[],
  bindable: (key: Expr) => boolean,
): BindSpec | undefined {
  // From the parent of the unit's root (allowed for INNER and for the padded side of a LEFT JOIN).
  const up = joinOfChild.get(u.members[0]!);
  if (up) {
    const provider = unitOf.get(up.parent)!;
    if (fetched.has(provider.id)) {
      const c = up.conditions.find((x) => bindable(x.childKey));
      if (c) return spec(provider.id, c.parentKey, c.childKey, c.via);
    }
  }
  // From a child of one of the unit's relations, over an INNER join.
  for (const j of joins) {
    if (j.kind !== 'inner' || !u.members.includes(j.parent) || u.members.includes(j.child)) continue;
    const provider = unitOf.get(j.child)!;
    if (!fetched.has(provider.id)) continue;
    const c = j.conditions.find((x) => bindable(x.parentKey));
    if (c) return spec(provider.id, c.childKey, c.parentKey, c.via);
  }
  return undefined;
}

function spec(fromUnit: number, providerKey: Expr, targetKey: Expr, via: string): BindSpec {
  const t = castColumn(targetKey)!;
  return { fromUnit, providerKey, targetKey, via, targetRel: t.rel, targetColumn: t.column };
}
