// A vitest reporter that fails the run when a test is skipped (skip, runIf/skipIf, ctx.skip(),
// todo, or left out by an `only`) without a reason listed in test/allowed-skips.json, so a test
// cannot quietly stop running. Keys there are a test's full name ("suite > test") or a test file
// (every skip in it); values say why the skip is right. See docs/testing.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export const ALLOWED_SKIPS_FILE = 'test/allowed-skips.json';

function readAllowed(root: string): Map<string, string> {
  const path = join(root, ALLOWED_SKIPS_FILE);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${ALLOWED_SKIPS_FILE} must be a JSON object {"test or file": "reason"}`);
  const allowed = new Map<string, string>();
  for (const [key, reason] of Object.entries(parsed)) {
    if (typeof reason !== 'string' || reason.trim() === '')
      throw new Error(`${ALLOWED_SKIPS_FILE}: "${key}" needs a reason (a non-empty string)`);
    allowed.set(key, reason);
  }
  return allowed;
}

export default class AllowedSkipsReporter implements Reporter {
  private root = process.cwd();
  private filtered = false;

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
    // With -t, tests left out by the name filter count as skipped: nothing to judge then.
    this.filtered = Boolean(vitest.config.testNamePattern);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.filtered) return;
    const allowed = readAllowed(this.root);
    const unlisted: string[] = [];
    for (const mod of testModules) {
      const file = mod.relativeModuleId;
      for (const test of mod.children.allTests('skipped')) {
        if (allowed.has(test.fullName) || allowed.has(file)) continue;
        unlisted.push(`  ${file} > ${test.fullName} (${test.options.mode === 'todo' ? 'todo' : 'skipped'})`);
      }
    }
    if (unlisted.length === 0) return;
    process.stderr.write(
      `\n${unlisted.length} test(s) did not run and are not listed in ${ALLOWED_SKIPS_FILE}:\n${unlisted.join('\n')}\n` +
        `Make them run, or add each full name (or its file) to ${ALLOWED_SKIPS_FILE} with the reason it may be skipped.\n`,
    );
    process.exitCode = 1;
  }
}
