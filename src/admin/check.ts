// GET /admin/api/check (docs/console.md, "JSON API"): `viewgate check` and `viewgate contract check`
// as data, by their own code: the check's lines (with its verdict), and the contract report against
// viewgate.contract.json in the server's working directory (or why it could not be read). The file
// is named relative to that directory, so the answer never shows where the server is installed.
import type { Config } from '../config/schema.js';
import { runCheck } from '../commands/check.js';
import { contractCheckReport } from '../commands/contract.js';
import { StoreUnreachable } from '../commands/contract/live.js';
import { DEFAULT_CONTRACT_FILE } from '../commands/contract/model.js';

export async function checks(config: Config) {
  const file = DEFAULT_CONTRACT_FILE;
  const [check, contract] = await Promise.all([
    runCheck(config),
    contractCheckReport(config, file).catch((err: unknown) => {
      if (err instanceof StoreUnreachable) return { contract: file, unreadable: err.message };
      throw err;
    }),
  ]);
  return { check, contract };
}
