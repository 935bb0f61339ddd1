// The bounded output (docs/operations.md, "Slow or stalled log consumers") over a stream whose
// reader has stopped: a Writable that takes its first chunk and never finishes writing it.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BoundedOutput } from '../../src/ops/output.js';
import { createLogger } from '../../src/ops/logger.js';

function stalled(): { stream: Writable; taken: () => string } {
  let taken = '';
  const stream = new Writable({
    write(chunk, _enc, _cb) {
      taken += String(chunk);
      // never calls back: the reader stopped reading
    },
  });
  return { stream, taken: () => taken };
}

const line = (n: number) => 'x'.repeat(n - 1) + '\n';

describe('BoundedOutput', () => {
  it('drops info first, then warnings, then audit records, and counts each', () => {
    const { stream } = stalled();
    const out = new BoundedOutput(stream, { log: 100, alert: 200, audit: 300 });
    expect(out.write(line(50), 'log', 'info')).toBe(true);
    expect(out.write(line(50), 'log', 'info')).toBe(true);
    expect(out.write(line(50), 'log', 'info')).toBe(false);
    expect(out.write(line(50), 'log', 'debug')).toBe(false);
    expect(out.write(line(50), 'alert', 'warn')).toBe(true);
    expect(out.write(line(50), 'alert', 'error')).toBe(true);
    expect(out.write(line(50), 'alert', 'error')).toBe(false);
    expect(out.write(line(50), 'audit')).toBe(true);
    expect(out.write(line(50), 'audit')).toBe(true);
    expect(out.write(line(50), 'audit')).toBe(false);
    expect(out.buffered).toBe(300);
    expect(Object.fromEntries(out.droppedLogs)).toEqual({ info: 1, debug: 1, error: 1 });
    expect(out.droppedAudit).toBe(1);
  });

  it('writeLines: one stream write for the lines that fit, each line kept or dropped as write would decide', () => {
    const { stream } = stalled();
    let writes = 0;
    const write = stream.write.bind(stream);
    stream.write = (chunk: unknown) => {
      writes++;
      return write(chunk);
    };
    const out = new BoundedOutput(stream, { log: 100, alert: 200, audit: 300 });
    expect(out.write(line(100), 'audit')).toBe(true);
    // 200 bytes of room: the 150 fits, the 100 after it does not, the 50 after that does.
    expect(out.writeLines([line(150), line(100), line(50)], 'audit')).toEqual([true, false, true]);
    expect(writes).toBe(2);
    expect(out.buffered).toBe(300);
    expect(out.droppedAudit).toBe(1);
    expect(out.writeLines([line(1)], 'audit')).toEqual([false]);
  });

  it('flush gives up at its deadline on a stalled reader, and resolves true once the reader has taken everything', async () => {
    const { stream } = stalled();
    const out = new BoundedOutput(stream);
    out.write(line(10), 'audit');
    expect(await out.flush(100)).toBe(false);

    const chunks: string[] = [];
    const reading = new BoundedOutput(
      new Writable({
        write(chunk, _enc, cb) {
          chunks.push(String(chunk));
          setImmediate(cb);
        },
      }),
    );
    reading.write(line(10), 'log');
    reading.write(line(10), 'audit');
    expect(await reading.flush(10_000)).toBe(true);
    expect(chunks.join('')).toBe(line(10) + line(10));
  });

  it('a reader that went away (a stream error such as EPIPE) does not crash the process; everything after is dropped', () => {
    const { stream } = stalled();
    const out = new BoundedOutput(stream);
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(out.write(line(10), 'audit')).toBe(false);
    expect(out.droppedAudit).toBe(1);
  });
});

describe('the logger over a bounded output', () => {
  it('drops info lines before warnings, by the level pino reports', () => {
    const { stream, taken } = stalled();
    const out = new BoundedOutput(stream, { log: 200, alert: 10_000, audit: 20_000 });
    const log = createLogger('info', out);
    for (let i = 0; i < 20; i++) log.info({ i }, 'routine');
    log.warn('the store is slow');
    log.child({ component: 'pool' }).error('the store is down');
    expect(out.droppedLogs.get('info')).toBeGreaterThan(10);
    expect(out.droppedLogs.get('warn')).toBeUndefined();
    expect(out.droppedLogs.get('error')).toBeUndefined();
    // The stalled reader took the first line only; the accepted rest waits, bounded.
    expect(taken()).toContain('routine');
    expect(out.buffered).toBeLessThan(200 + 2 * 1_000);
  });
});
