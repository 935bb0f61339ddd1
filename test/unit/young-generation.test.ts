// The server's young generation held at 8 MiB per semi-space (src/young-generation.ts), in a real
// Node process under the kind of garbage a busy server makes: many short-lived objects, some of
// them alive across collections (requests in flight). Without the cap V8 grows past it, so the
// first case shows the workload reaches the growth the cap stops.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const MODULE = new URL('../../dist/young-generation.js', import.meta.url).href;

/** The largest young generation (bytes) a child process reached, and what capYoungGeneration returned there. */
function run(cap: boolean, nodeOptions: string[] = []): { largest: number; capped: boolean } {
  const script = `
    const { capYoungGeneration, youngGenerationBytes } = await import(${JSON.stringify(MODULE)});
    const stop = ${cap ? 'capYoungGeneration()' : 'undefined'};
    let largest = 0;
    let inFlight = [];
    // A server's work comes in small turns of the event loop (one request's worth each), between
    // which the collector's observers are told.
    for (let turn = 0; turn < 3000; turn++) {
      for (let i = 0; i < 2000; i++) {
        inFlight.push({ id: i, row: [i, 'x' + i], at: turn });
        if (inFlight.length > 30000) inFlight = [];
      }
      await new Promise((r) => setImmediate(r));
      largest = Math.max(largest, youngGenerationBytes());
    }
    console.log(JSON.stringify({ largest, capped: stop !== undefined }));
    stop?.();
  `;
  const out = execFileSync(process.execPath, [...nodeOptions, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out) as { largest: number; capped: boolean };
}

describe('young generation cap', () => {
  it('V8 grows the young generation past 16 MiB under this load by itself', () => {
    expect(run(false).largest).toBeGreaterThan(16 << 20);
  });

  it('holds it at 16 MiB (two semi-spaces of 8) with the cap', () => {
    const { largest, capped } = run(true);
    expect(capped).toBe(true);
    expect(largest).toBeLessThanOrEqual(16 << 20);
  });

  it('leaves a size given on the command line alone', () => {
    const { largest, capped } = run(true, ['--max-semi-space-size=2']);
    expect(capped).toBe(false);
    // Two semi-spaces of 2 MiB: 4 MiB on Node 20 and 22; Node 24 counts 5.25 for the same setting.
    expect(largest).toBeLessThanOrEqual(6 << 20);
  });
});
