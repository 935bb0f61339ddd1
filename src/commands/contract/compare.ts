// The changes between a contract file and the live contract, each BREAKING or compatible by the
// rules of docs/contracts.md: anything a client relied on that is gone, retyped, re-keyed, masked,
// hidden, narrowed or revoked breaks it; additions, descriptions, raised limits, int -> numeric
// and a wider store type with the same value-model type do not.
import { typeChangeIsCompatible } from '../../gateway/view-fit.js';
import { sameJson, type Contract, type ContractView, type RoleContract, type RoleView } from './model.js';

export interface ContractChange {
  breaking: boolean;
  /** The view it concerns, if any. */
  view?: string;
  /** The role it concerns; absent: every role that reads the view. */
  role?: string;
  change: string;
}

type Emit = (breaking: boolean, change: string) => void;

export function compareContracts(before: Contract, after: Contract, problems: ReadonlyMap<string, string> = new Map()): ContractChange[] {
  const out: ContractChange[] = [];
  const at =
    (view?: string, role?: string): Emit =>
    (breaking, change) =>
      out.push({ breaking, ...(view !== undefined ? { view } : {}), ...(role !== undefined ? { role } : {}), change });
  // Views whose disappearance is already reported: their per-role consequences are not repeated.
  const gone = new Set<string>();
  for (const [id, b] of Object.entries(before.views)) {
    const a = own(after.views, id);
    const problem = problems.get(id);
    if (problem !== undefined) {
      gone.add(id);
      at(id)(true, `no longer builds from its sources: ${problem}`);
    } else if (!a) {
      gone.add(id);
      at(id)(true, 'view removed (or renamed)');
    } else {
      compareView(b, a, at(id));
    }
  }
  for (const id of Object.keys(after.views)) if (!own(before.views, id)) at(id)(false, 'view added');

  for (const [role, b] of Object.entries(before.roles)) {
    const a = own(after.roles, role);
    if (!a) at(undefined, role)(true, 'role removed (or renamed)');
    else compareRole(role, b, a, before, after, gone, at);
  }
  for (const role of Object.keys(after.roles)) if (!own(before.roles, role)) at(undefined, role)(false, 'role added');
  return out;
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function compareView(b: ContractView, a: ContractView, emit: Emit): void {
  if (b.description !== a.description) emit(false, 'description changed');
  if (b.key.join(',') !== a.key.join(',')) emit(true, `key changed from (${b.key.join(', ')}) to (${a.key.join(', ')})`);
  const now = new Map(a.columns.map((c) => [c.name, c]));
  for (const c of b.columns) {
    const n = now.get(c.name);
    if (!n) {
      emit(true, `column "${c.name}" removed (or renamed)`);
      continue;
    }
    if (c.type !== n.type) {
      emit(!typeChangeIsCompatible(c.type, n.type), `column "${c.name}" changed type from ${c.type} to ${n.type}`);
    } else if ((c.storeType ?? '') !== (n.storeType ?? '') && c.storeType && n.storeType) {
      emit(false, `column "${c.name}" store type ${c.storeType} -> ${n.storeType} (same value-model type ${n.type})`);
    }
    if ((c.description ?? '') !== (n.description ?? '')) emit(false, `column "${c.name}" description changed`);
  }
  const had = new Set(b.columns.map((c) => c.name));
  for (const c of a.columns) if (!had.has(c.name)) emit(false, `column "${c.name}" added (${c.type})`);
  if (!sameJson(b.deprecated ?? null, a.deprecated ?? null)) {
    emit(false, a.deprecated ? `deprecated: ${deprecationText(a.deprecated)}` : 'no longer deprecated');
  }
}

function deprecationText(d: NonNullable<ContractView['deprecated']>): string {
  const parts = [d.since && `since ${d.since}`, d.sunset && `sunset ${d.sunset}`, d.successor && `successor ${d.successor}`];
  return parts.filter(Boolean).join(', ') || 'yes';
}

function compareRole(
  role: string,
  b: RoleContract,
  a: RoleContract,
  before: Contract,
  after: Contract,
  gone: ReadonlySet<string>,
  at: (view?: string, role?: string) => Emit,
): void {
  for (const [id, bv] of Object.entries(b.views)) {
    const av = own(a.views, id);
    if (!av) {
      if (!gone.has(id)) at(id, role)(true, 'grant removed: the role may no longer read the view');
    } else {
      compareRoleView(bv, av, own(after.views, id), at(id, role));
    }
  }
  for (const id of Object.keys(a.views)) if (!own(b.views, id)) at(id, role)(false, 'granted: the role may read the view');

  const emit = at(undefined, role);
  listChanges(b.mcpTools, a.mcpTools, (tool, added) => emit(!added, `MCP tool "${tool}" ${added ? 'added' : 'removed'}`));
  // Operations of a view whose grant or existence changed are told by that line already.
  const told = new Set([
    ...gone,
    ...Object.keys(b.views).filter((id) => !own(a.views, id)),
    ...Object.keys(a.views).filter((id) => !own(b.views, id)),
  ]);
  const viewsBefore = new Set(Object.keys(before.views));
  listChanges(b.restOperations, a.restOperations, (op, added) => {
    const id = operationView(op);
    if (id !== undefined && (told.has(id) || (added && !viewsBefore.has(id)))) return;
    emit(!added, `REST operation ${op} ${added ? 'added' : 'removed'}`);
  });
}

function compareRoleView(b: RoleView, a: RoleView, view: ContractView | undefined, emit: Emit): void {
  if (b.grant !== a.grant) emit(false, `deciding grant "${b.grant}" -> "${a.grant}"`);
  const now = new Map(a.columns.map((c) => [c.name, c]));
  const inView = new Set(view?.columns.map((c) => c.name));
  for (const c of b.columns) {
    const n = now.get(c.name);
    if (!n) {
      // A column gone from the view itself is told once, for the view.
      if (inView.has(c.name)) emit(true, `column "${c.name}" hidden from the role`);
      continue;
    }
    if (!c.masked && n.masked) emit(true, `column "${c.name}" newly masked (${n.mask ?? 'masked'})`);
    else if (c.masked && !n.masked) emit(false, `column "${c.name}" no longer masked`);
    else if (c.masked && n.masked && c.mask !== n.mask) emit(true, `column "${c.name}" mask changed from ${c.mask} to ${n.mask}`);
    if (c.masked === n.masked && c.filterable !== n.filterable) {
      emit(c.filterable, `column "${c.name}" ${n.filterable ? 'now filterable' : 'no longer filterable'}`);
    }
  }
  const had = new Set(b.columns.map((c) => c.name));
  for (const c of a.columns) if (!had.has(c.name)) emit(false, `column "${c.name}" now visible to the role`);
  if (a.maxLimit < b.maxLimit) emit(true, `maxLimit lowered from ${b.maxLimit} to ${a.maxLimit}`);
  if (a.maxLimit > b.maxLimit) emit(false, `maxLimit raised from ${b.maxLimit} to ${a.maxLimit}`);
  rightsChanges(b.rights, a.rights, 'rights', emit);
}

/** minGroupSize suppresses more groups as it grows: for it, a higher number narrows. */
const HIGHER_NARROWS = new Set(['rights.minGroupSize']);

/** A right revoked, a limit lowered, an item removed breaks; the opposite is compatible. */
function rightsChanges(b: unknown, a: unknown, path: string, emit: Emit): void {
  if (sameJson(b, a)) return;
  const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (HIGHER_NARROWS.has(path) && (b === undefined || a === undefined)) {
    emit(b === undefined, `${path} ${b === undefined ? `set to ${JSON.stringify(a)}` : 'removed'}`);
  } else if (isRecord(b) && isRecord(a)) {
    for (const k of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) rightsChanges(b[k], a[k], `${path}.${k}`, emit);
  } else if (b === undefined || b === false) {
    emit(false, `${path} granted${a === true ? '' : `: ${JSON.stringify(a)}`}`);
  } else if (a === undefined || a === false) {
    emit(true, `${path} revoked`);
  } else if (typeof b === 'number' && typeof a === 'number') {
    const narrows = HIGHER_NARROWS.has(path) ? a > b : a < b;
    emit(narrows, `${path} ${a < b ? 'lowered' : 'raised'} from ${b} to ${a}`);
  } else if (Array.isArray(b) && Array.isArray(a)) {
    listChanges(b.map(String), a.map(String), (item, added) => emit(!added, `${path}: "${item}" ${added ? 'added' : 'removed'}`));
  } else {
    emit(true, `${path} changed from ${JSON.stringify(b)} to ${JSON.stringify(a)}`);
  }
}

function listChanges(b: readonly string[], a: readonly string[], report: (item: string, added: boolean) => void): void {
  const [was, is] = [new Set(b), new Set(a)];
  for (const x of b) if (!is.has(x)) report(x, false);
  for (const x of a) if (!was.has(x)) report(x, true);
}

/** The view a REST operation belongs to: `GET /api/v2/crm/_table/customers/{id}` -> crm.customers. */
function operationView(op: string): string | undefined {
  const m = /^\S+ \/api\/v2\/([^/]+)\/_(?:table|schema)\/([^/]+)/.exec(op);
  return m ? `${m[1]}.${m[2]}` : undefined;
}
