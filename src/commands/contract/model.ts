// The contract file `viewgate contract snapshot` writes and `viewgate contract check` compares
// (docs/contracts.md): what each view promises, and what each role sees of it.
import type { DeprecationConfig } from '../../config/schema.js';

export const CONTRACT_FORMAT = 'viewgate-contract/1';
export const DEFAULT_CONTRACT_FILE = 'viewgate.contract.json';

interface ContractColumn {
  name: string;
  /** The value-model type (int, float, numeric, text, bool, timestamptz, date, jsonb, bytea). */
  type: string;
  /** The store's own type, when the column is read unchanged from one store column. */
  storeType?: string;
  description?: string;
}

export interface ContractView {
  description: string;
  key: string[];
  columns: ContractColumn[];
  deprecated?: DeprecationConfig;
}

/** A column as one role sees it. */
interface RoleColumn {
  name: string;
  type: string;
  masked: boolean;
  /** The mask (email, hash, partial(F,L), redact, null), when masked. */
  mask?: string;
  filterable: boolean;
}

export interface RoleView {
  /** The grant that decides (`crm.customers`, `crm.*` or `*`). */
  grant: string;
  columns: RoleColumn[];
  maxLimit: number;
  /** read, aggregate, sql, export, explain (and write when the grant has it), maxExportRows, minGroupSize. */
  rights: Record<string, unknown>;
}

export interface RoleContract {
  views: Record<string, RoleView>;
  /** The tools MCP tools/list gives the role, sorted. */
  mcpTools: string[];
  /** `METHOD path` of every REST operation in the role's OpenAPI document, sorted. */
  restOperations: string[];
}

export interface Contract {
  format: typeof CONTRACT_FORMAT;
  views: Record<string, ContractView>;
  roles: Record<string, RoleContract>;
}

/** Object keys sorted at every level, arrays in their order: the file diffs cleanly in review. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Whether two values are the same JSON, whatever the order of their keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export function contractText(c: Contract): string {
  return JSON.stringify(canonical(c), null, 2) + '\n';
}

/** The contract in a file, or a message saying what is wrong with it. */
export function parseContract(text: string, file: string): Contract {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  const c = parsed as Partial<Contract> | null;
  if (!c || typeof c !== 'object' || c.format !== CONTRACT_FORMAT || typeof c.views !== 'object' || typeof c.roles !== 'object') {
    throw new Error(`${file} is not a viewgate contract (format "${CONTRACT_FORMAT}"); write one with \`viewgate contract snapshot\``);
  }
  return c as Contract;
}
