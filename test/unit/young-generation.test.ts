// The server's young generation (src/young-generation.ts), in a real Node process under the kind
// of garbage a server makes: a startup that makes many objects at once, all of them kept, then
// many short-lived objects, some of them alive across collections (requests in flight). Without
// the settings V8 grows past the sizes they hold, so the control cases show the workload reaches
// the growth the settings stop.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const MODULE = new URL('../../dist/young-generation.js', import.meta.url).href;

interface Run {
  /** The young generation's size (bytes) right after the startup burst. */
  afterStartup: number;
  /** The largest it reached while serving. */
  largest: number;
  /** Whether capYoungGeneration took over (undefined: Node's options size it). */
  capped: boolean;
}

function run(opts: { small: boolean; cap: boolean }, nodeOptions: string[] = []): Run {
  const script = `
    const { capYoungGeneration, keepYoungGenerationSmall, youngGenerationBytes } = await import(${JSON.stringify(MODULE)});
    ${opts.small ? 'keepYoungGenerationSmall();' : ''}
    // Startup: one long synchronous run whose objects all stay.
    const kept = [];
    for (let i = 0; i < 400000; i++) kept.push({ id: i, name: 'view' + i, columns: [i, i + 1] });
    const afterStartup = youngGenerationBytes();
    const stop = ${opts.cap ? 'capYoungGeneration()' : 'undefined'};
    let largest = 0;
    let inFlight = [];
    // Serving: small turns of the event loop (one request's worth each), between which the
    // collector's observers are told.
    for (let turn = 0; turn < 3000; turn++) {
      for (let i = 0; i < 2000; i++) {
        inFlight.push({ id: i, row: [i, 'x' + i], at: turn });
        if (inFlight.length > 30000) inFlight = [];
      }
      await new Promise((r) => setImmediate(r));
      largest = Math.max(largest, youngGenerationBytes());
    }
    console.log(JSON.stringify({ afterStartup, largest, capped: stop !== undefined, kept: kept.length }));
    stop?.();
  `;
  const out = execFileSync(process.execPath, [...nodeOptions, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out) as Run;
}

describe('young generation', () => {
  it('V8 grows it past 16 MiB by itself, at startup and while serving', () => {
    const { afterStartup, largest } = run({ small: false, cap: false });
    expect(afterStartup).toBeGreaterThan(16 << 20);
    expect(largest).toBeGreaterThan(24 << 20);
  });

  it('does not grow while the process starts, then grows to 16 MiB (two semi-spaces of 8) and no further', () => {
    const { afterStartup, largest, capped } = run({ small: true, cap: true });
    expect(capped).toBe(true);
    // V8's initial size: two semi-spaces of 1 MiB (Node 24 counts up to 3 MiB for them).
    expect(afterStartup).toBeLessThanOrEqual(4 << 20);
    expect(largest).toBeGreaterThan(8 << 20);
    // 16 MiB on Node 20 and 22; V8 alone grows it past 32 MiB. The V8 of Node 24 also counts pages
    // it keeps aside, and overshoots the cap between two collections: seen at 22.8-45.9 MiB there,
    // where V8 alone reaches 128 MiB under this load.
    expect(largest).toBeLessThanOrEqual((Number(process.versions.node.split('.')[0]) >= 24 ? 64 : 24) << 20);
  });

  it('leaves a size given on the command line alone', () => {
    const { afterStartup, largest, capped } = run({ small: true, cap: true }, ['--max-semi-space-size=2']);
    expect(capped).toBe(false);
    // It grew at startup all the same (how far is V8's business: Node 24 counts differently).
    expect(afterStartup).toBeGreaterThan(2 << 20);
    expect(largest).toBeGreaterThanOrEqual(afterStartup);
  });
});
