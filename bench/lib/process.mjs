// Child processes for the bench scripts: start one, wait until it answers, stop it (SIGTERM, then
// SIGKILL after a grace period), and stop every one still running when the bench exits, fails or is
// interrupted (Ctrl-C). Only processes started here are ever signalled, by their own pid.
import { spawn } from 'node:child_process';

const running = new Set();

/**
 * Starts `command args` and polls `ready()` (true once the process serves) until `timeoutMs`.
 * Resolves to { child, output(), stop() }; rejects with the process's output if it exits or never
 * becomes ready (and kills it).
 */
export async function startProcess({ name, command, args = [], env = process.env, cwd, ready, timeoutMs = 60_000 }) {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr.on('data', (d) => (err = (err + d).slice(-20_000)));
  let spawnError;
  child.on('error', (e) => (spawnError = e));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  const handle = {
    name,
    child,
    output: () => ({ out, err }),
    async stop(graceMs = 5_000) {
      running.delete(handle);
      if (child.exitCode === null && child.signalCode === null && !spawnError) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return spawnError ? `not started (${spawnError.message})` : (child.exitCode ?? child.signalCode);
    },
  };
  running.add(handle);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      running.delete(handle);
      throw new Error(`${name}: could not start ${command}: ${spawnError.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(handle);
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it served:\n${tail(err || out)}`);
    }
    if (Date.now() > deadline) {
      await handle.stop(1_000);
      throw new Error(`${name} did not answer within ${timeoutMs / 1000} s:\n${tail(err || out)}`);
    }
    if (await ready().catch(() => false)) return handle;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stops every process started by startProcess that is still running. */
export async function stopAll() {
  await Promise.all([...running].map((h) => h.stop()));
}

/** Kills leftovers on exit (synchronous: the last resort if stopAll was not awaited). */
process.on('exit', () => {
  for (const h of running) if (h.child.exitCode === null) h.child.kill('SIGKILL');
});

/** Ctrl-C / SIGTERM: stop what was started, run `also` (e.g. viewgate's stop), then exit. */
export function stopOnSignals(also = async () => {}) {
  const onSignal = async (sig) => {
    console.error(`\n${sig}: stopping everything this bench started...`);
    await Promise.allSettled([stopAll(), also()]);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export function tail(text, lines = 15) {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** True once an HTTP GET on `url` answers with any status (the server is listening). */
export async function answers(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return true;
}
