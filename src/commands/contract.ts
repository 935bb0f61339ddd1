// `viewgate contract snapshot | check` (docs/contracts.md).
//   snapshot --config FILE [--out viewgate.contract.json]
//   check    --config FILE [--contract viewgate.contract.json] [--format text|json]
// Exit codes: 0 fine; 1 snapshot: a view does not build / check: a breaking change; 2 a store
// cannot be reached (named), a bad flag or an unreadable contract file.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configPath, loadConfigFile } from '../config/load.js';
import { compareContracts } from './contract/compare.js';
import { liveContract, StoreUnreachable } from './contract/live.js';
import { contractText, DEFAULT_CONTRACT_FILE, parseContract } from './contract/model.js';

interface ContractIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: ContractIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

const CONTRACT_USAGE = `Usage: viewgate contract snapshot --config FILE [--out viewgate.contract.json]
       viewgate contract check --config FILE [--contract viewgate.contract.json] [--format text|json]

snapshot writes what every view promises (columns, types, key, descriptions) and what every role
sees of it (visible, masked and filterable columns, maxLimit, rights, MCP tools, REST operations).
check compares the config plus the stores as they are now with that file: one line per change,
BREAKING or compatible; exit 1 when anything is breaking, 2 when a store cannot be reached.
See docs/contracts.md.`;

export async function contractCommand(args: string[], io: ContractIo = defaultIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'snapshot' && sub !== 'check') {
    io.err(`viewgate contract: ${sub ? `unknown command "${sub}"` : 'a command is required'}\n${CONTRACT_USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      out: { type: 'string' },
      contract: { type: 'string' },
      format: { type: 'string', default: 'text' },
    },
  });
  if (values.format !== 'text' && values.format !== 'json') {
    io.err(`viewgate contract: --format is text or json, not "${values.format}"\n`);
    return 2;
  }
  const { config } = loadConfigFile(configPath(values.config));
  try {
    return sub === 'snapshot'
      ? await snapshot(config, values.out ?? DEFAULT_CONTRACT_FILE, io)
      : await check(config, values.contract ?? DEFAULT_CONTRACT_FILE, values.format === 'json', io);
  } catch (err) {
    if (err instanceof StoreUnreachable) {
      io.err(`viewgate contract ${sub}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function snapshot(config: Parameters<typeof liveContract>[0], file: string, io: ContractIo): Promise<number> {
  const { contract, problems } = await liveContract(config);
  if (problems.size > 0) {
    for (const [id, p] of problems) io.err(`view ${id} does not build: ${p}\n`);
    io.err(`viewgate contract snapshot: ${file} not written; fix the views above (viewgate check) first\n`);
    return 1;
  }
  writeFileSync(file, contractText(contract));
  const roles = Object.keys(contract.roles).length;
  io.out(`wrote ${file}: ${Object.keys(contract.views).length} views, ${roles} roles\n`);
  return 0;
}

/** `contract check`'s answer as data (the JSON format's report), or why the contract file cannot be read. */
export type ContractCheckReport =
  | {
      contract: string;
      ok: boolean;
      summary: { breaking: number; compatible: number };
      changes: { severity: 'breaking' | 'compatible'; view: string | null; role: string | null; change: string }[];
    }
  | { contract: string; unreadable: string };

/** Compares the live contract with `file`; a store that cannot be reached throws StoreUnreachable. */
export async function contractCheckReport(config: Parameters<typeof liveContract>[0], file: string): Promise<ContractCheckReport> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { contract: file, unreadable: `cannot read ${file}: ${(err as Error).message}; write it with \`viewgate contract snapshot\`` };
  }
  let before;
  try {
    before = parseContract(text, file);
  } catch (err) {
    return { contract: file, unreadable: (err as Error).message };
  }
  const live = await liveContract(config);
  const changes = compareContracts(before, live.contract, live.problems);
  const breaking = changes.filter((c) => c.breaking).length;
  return {
    contract: file,
    ok: breaking === 0,
    summary: { breaking, compatible: changes.length - breaking },
    changes: changes.map((c) => ({
      severity: c.breaking ? 'breaking' : 'compatible',
      view: c.view ?? null,
      role: c.role ?? null,
      change: c.change,
    })),
  };
}

async function check(config: Parameters<typeof liveContract>[0], file: string, json: boolean, io: ContractIo): Promise<number> {
  const report = await contractCheckReport(config, file);
  if ('unreadable' in report) {
    io.err(`viewgate contract check: ${report.unreadable}\n`);
    return 2;
  }
  const { breaking, compatible } = report.summary;
  if (json) io.out(JSON.stringify(report, null, 2) + '\n');
  else {
    for (const c of report.changes) io.out(changeLine(c) + '\n');
    io.out(
      report.changes.length === 0
        ? `no changes: the live contract matches ${file}\n`
        : `${breaking} breaking, ${compatible} compatible change${report.changes.length === 1 ? '' : 's'} against ${file}\n`,
    );
  }
  return breaking > 0 ? 1 : 0;
}

/** `BREAKING    view crm.customers, role external: column "email" newly masked (email)`. */
function changeLine(c: { severity: string; view: string | null; role: string | null; change: string }): string {
  const where = [c.view !== null ? `view ${c.view}` : '', c.role !== null ? `role ${c.role}` : ''].filter(Boolean).join(', ');
  return `${(c.severity === 'breaking' ? 'BREAKING' : 'compatible').padEnd(10)}  ${where}: ${c.change}`;
}
