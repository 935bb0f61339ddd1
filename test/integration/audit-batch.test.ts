// Audit records that arrive together are written together (src/ops/audit-batch.ts), against the
// real sinks: a real file, the real PostgreSQL, a real stream behind the bounded output. Many
// concurrent records become a few writes, each record is written exactly once and in the order it
// was handed over, each record still learns whether it was written (failClosed answers 503 on
// exactly those), one bad record fails alone, close() writes everything that is waiting, and what
// waits for a stalled file stays bounded.
import { execFileSync } from 'node:child_process';
import fs, { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Audit, sinkFor, type AuditEntry } from '../../src/ops/audit.js';
import { FAIL_OPEN_WINDOW_MS } from '../../src/ops/audit-sinks.js';
import { createLogger } from '../../src/ops/logger.js';
import type { ApiError } from '../../src/errors.js';
import { BoundedOutput } from '../../src/ops/output.js';
import { createPgDatabase, pgExec } from '../support/stores.js';

let dir: string;
let auditDb: Awaited<ReturnType<typeof createPgDatabase>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vg-audit-batch-'));
  auditDb = await createPgDatabase('audit_batch');
});

afterAll(async () => {
  await auditDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A config whose only business is its audit block (and the postgres source the postgres sink names). */
function configWith(audit: string, pgUrl = auditDb.url): Config {
  return parseConfig(
    `sources:\n  auditdb: { kind: postgres, url: "${pgUrl}" }\nservices: {}\nroles: {}\naudit:\n${audit.replace(/^/gm, '  ')}\n`,
    join(dir, 'viewgate.yaml'),
    {},
  );
}

/** An Audit over the config's own sink, with its log captured. */
function auditFor(config: Config, output = new BoundedOutput(new Writable({ write: (_c, _e, cb) => cb() }))) {
  let log = '';
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _e, cb) {
        log += String(chunk);
        cb();
      },
    }),
  );
  return { audit: new Audit(config.audit, logger, sinkFor(config, output)), logText: () => log };
}

/** recordCall() as a promise: failing open it answers nothing at once, failing closed a promise. */
const recorded = (audit: Audit, e: AuditEntry): Promise<ApiError | undefined> => Promise.resolve(audit.recordCall(e));

const entry = (i: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  requestId: `req-${i}`,
  surface: 'rest',
  action: 'query',
  identity: { subject: 'key:partner', identityKey: 'key:partner', role: 'external', method: 'api-key', keyName: 'partner', claims: {} },
  view: 'crm.customers',
  fields: ['customer_id', 'email'],
  filter: `customer_id = ${i}`,
  rowCount: i % 3,
  status: 200,
  latencyMs: 1.5,
  ...extra,
});

const fileLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { requestId: string; status: number });

describe('file sink', () => {
  it('writes many concurrent records in a few appends, each once, in the order handed over', async () => {
    const path = join(dir, 'many.log');
    const { audit } = auditFor(configWith(`sink: file\npath: ${path}`));
    // Count the real writes (node:fs's own write, called through).
    const write = vi.spyOn(fs, 'write');
    try {
      const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => recorded(audit, entry(i))));
      expect(outcomes.every((o) => o === undefined)).toBe(true);
      await audit.flush(); // failing open, an answer does not wait for its record
      const lines = fileLines(path);
      expect(lines.map((l) => l.requestId)).toEqual(Array.from({ length: 1000 }, (_, i) => `req-${i}`));
      expect(lines[7]).toMatchObject({
        requestId: 'req-7',
        filter: 'customer_id = 7',
        fields: ['customer_id', 'email'],
        decision: 'allow',
      });
      // 1000 records handed over in one turn of the event loop: batches of up to 256 records.
      const appends = write.mock.calls.filter((call) => String(call[1]).includes('"requestId":"req-'));
      expect(appends.length).toBeGreaterThanOrEqual(1);
      expect(appends.length).toBeLessThanOrEqual(4);
      expect(audit.failures).toBe(0);
    } finally {
      write.mockRestore();
      await audit.close();
    }
  });

  it('failing open, a lone record is written when its batch window ends, with no flush', async () => {
    const path = join(dir, 'lone.log');
    const { audit } = auditFor(configWith(`sink: file\npath: ${path}`));
    try {
      await audit.recordCall(entry(1)); // opens the file
      await audit.flush();
      const started = performance.now();
      expect(await audit.recordCall(entry(2))).toBeUndefined();
      while (!readFileSync(path, 'utf8').includes('"req-2"') && performance.now() - started < 2_000) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(performance.now() - started).toBeLessThan(FAIL_OPEN_WINDOW_MS + 500);
      expect(fileLines(path).map((l) => l.requestId)).toEqual(['req-1', 'req-2']);
    } finally {
      await audit.close();
    }
  });

  it('a flush writes what waits in the window at once', async () => {
    const path = join(dir, 'flushed.log');
    const { audit } = auditFor(configWith(`sink: file\npath: ${path}`));
    // The window's timer never fires here: only a flush that ends the window writes the records.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await audit.recordCall(entry(1));
      await audit.recordCall(entry(2));
      await audit.flush();
      expect(fileLines(path).map((l) => l.requestId)).toEqual(['req-1', 'req-2']);
    } finally {
      vi.useRealTimers();
      await audit.close();
    }
  }, 10_000);

  it('failing closed, a lone record is written at the next turn of the event loop, not after the window', async () => {
    const path = join(dir, 'lone-closed.log');
    const { audit } = auditFor(configWith(`sink: file\npath: ${path}\nfailClosed: true`));
    try {
      expect(await audit.recordCall(entry(1))).toBeUndefined(); // opens the file
      // The answer waits for its record: recordCall settles only once it is in the file.
      const timer = vi.spyOn(globalThis, 'setTimeout');
      try {
        expect(await audit.recordCall(entry(2))).toBeUndefined();
        expect(timer.mock.calls.filter((c) => c[1] === FAIL_OPEN_WINDOW_MS)).toHaveLength(0);
      } finally {
        timer.mockRestore();
      }
      expect(fileLines(path).map((l) => l.requestId)).toEqual(['req-1', 'req-2']);
    } finally {
      await audit.close();
    }
  });

  it('failClosed: each request learns whether its own batch was written', async () => {
    const missing = join(dir, 'not-yet');
    const path = join(missing, 'audit.log');
    const { audit, logText } = auditFor(configWith(`sink: file\npath: ${path}\nfailClosed: true`));
    try {
      const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => recorded(audit, entry(i))));
      expect(refused.map((r) => r?.status)).toEqual(Array(20).fill(503));
      expect(audit.failures).toBe(20);
      expect(
        logText()
          .split('\n')
          .filter((l) => l.includes('audit write failed')),
      ).toHaveLength(20);
      // The directory appears: the next batch is written, and its requests are answered.
      mkdirSync(missing);
      const answered = await Promise.all(Array.from({ length: 20 }, (_, i) => recorded(audit, entry(100 + i))));
      expect(answered.every((r) => r === undefined)).toBe(true);
      expect(fileLines(path).map((l) => l.requestId)).toEqual(Array.from({ length: 20 }, (_, i) => `req-${100 + i}`));
      expect(audit.failures).toBe(20);
    } finally {
      await audit.close();
    }
  });

  it('close() writes every record still waiting', async () => {
    const path = join(dir, 'close.log');
    const { audit } = auditFor(configWith(`sink: file\npath: ${path}`));
    // Handed over without waiting for them (as the HTTP client-error path does), then closed at once.
    for (let i = 0; i < 600; i++) void audit.recordCall(entry(i));
    await audit.close();
    expect(fileLines(path).map((l) => l.requestId)).toEqual(Array.from({ length: 600 }, (_, i) => `req-${i}`));
  });

  it('a stalled file: what waits stays bounded, further records are dropped at once and counted', async () => {
    // A FIFO nobody reads: opening it for writing never completes, like a disk that stopped answering.
    const path = join(dir, 'stalled.fifo');
    execFileSync('mkfifo', [path]);
    const { audit, logText } = auditFor(configWith(`sink: file\npath: ${path}\nfailClosed: true`));
    const big = 'x'.repeat(64 << 10);
    const waiting: Promise<unknown>[] = [];
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      // Failing closed, every record is answered with a promise.
      const outcome = audit.recordCall(entry(i, { filter: big }))!;
      waiting.push(outcome);
      // A refusal settles at once, while the batches ahead of it are still waiting.
      const settled = await Promise.race([
        outcome.then((r) => r?.status ?? 'written'),
        new Promise((r) => setImmediate(() => r('waiting'))),
      ]);
      if (settled === 503) refused++;
    }
    // 8 MiB of 64 KiB records: about 128 wait, the rest are refused.
    expect(refused).toBeGreaterThan(60);
    expect(refused).toBeLessThan(80);
    expect(audit.dropped).toBe(refused);
    expect(audit.failures).toBe(0);
    expect(logText()).toMatch(/audit record dropped: the audit file .* is not keeping up/);
    // The reader arrives: everything that waited is written.
    const read: Buffer[] = [];
    const reader = createReadStream(path).on('data', (c) => read.push(c as Buffer));
    await Promise.all(waiting);
    await audit.close();
    await new Promise<void>((r) => reader.on('close', () => r()));
    const written = Buffer.concat(read).toString('utf8').trim().split('\n');
    expect(written).toHaveLength(200 - refused);
  });
});

describe('postgres sink', () => {
  /** Rows of one INSERT share its transaction id: distinct xmin values count the statements. */
  const statements = async () =>
    (await pgExec(auditDb.url, 'SELECT count(DISTINCT xmin::text)::int AS n FROM viewgate_audit')).rows[0].n as number;

  it('writes many concurrent records in a few INSERTs, each once, in the order handed over', async () => {
    await pgExec(auditDb.url, 'DROP TABLE IF EXISTS viewgate_audit');
    const { audit } = auditFor(configWith('sink: postgres\nsource: auditdb'));
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          recorded(audit, entry(i, i % 5 === 0 ? { fields: undefined, filter: undefined, args: { id: i, note: "it's" } } : {})),
        ),
      );
      expect(outcomes.every((o) => o === undefined)).toBe(true);
      await audit.flush();
      const rows = (await pgExec(auditDb.url, 'SELECT * FROM viewgate_audit ORDER BY id')).rows;
      expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 500 }, (_, i) => `req-${i}`));
      expect(rows[1]).toMatchObject({
        surface: 'rest',
        action: 'query',
        subject: 'key:partner',
        identity_key: 'key:partner',
        role: 'external',
        key_name: 'partner',
        view: 'crm.customers',
        fields: ['customer_id', 'email'],
        filter: 'customer_id = 1',
        row_count: 1,
        decision: 'allow',
        status: 200,
        latency_ms: 1.5,
        args: null,
      });
      expect(rows[1].time).toBeInstanceOf(Date);
      expect(rows[5]).toMatchObject({ fields: null, filter: null, args: { id: 5, note: "it's" } });
      expect(await statements()).toBeLessThanOrEqual(4);
    } finally {
      await audit.close();
    }
  });

  it('a record the database refuses fails alone; its batch is written', async () => {
    await pgExec(auditDb.url, 'DROP TABLE IF EXISTS viewgate_audit');
    const { audit, logText } = auditFor(configWith('sink: postgres\nsource: auditdb\nfailClosed: true'));
    try {
      // PostgreSQL text cannot hold a NUL character.
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => recorded(audit, entry(i, i === 17 ? { filter: 'a\u0000b' } : {}))),
      );
      expect(outcomes.map((o, i) => (o ? i : -1)).filter((i) => i >= 0)).toEqual([17]);
      expect(outcomes[17]!.status).toBe(503);
      expect(audit.failures).toBe(1);
      expect(logText()).toMatch(/"requestId":"req-17".*audit write failed/);
      const rows = (await pgExec(auditDb.url, 'SELECT request_id FROM viewgate_audit ORDER BY id')).rows;
      expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 50 }, (_, i) => `req-${i}`).filter((id) => id !== 'req-17'));
    } finally {
      await audit.close();
    }
  });

  it('close() writes every record still waiting', async () => {
    await pgExec(auditDb.url, 'DROP TABLE IF EXISTS viewgate_audit');
    const { audit } = auditFor(configWith('sink: postgres\nsource: auditdb'));
    for (let i = 0; i < 300; i++) void audit.recordCall(entry(i));
    await audit.close();
    const rows = (await pgExec(auditDb.url, 'SELECT request_id FROM viewgate_audit ORDER BY id')).rows;
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 300 }, (_, i) => `req-${i}`));
    expect(await statements()).toBeLessThanOrEqual(3);
  });
});

describe('stdout sink', () => {
  /** A stream that counts its writes and keeps what it was given. */
  function countingStream() {
    const s = Object.assign(
      new Writable({
        write(chunk, _e, cb) {
          s.writes++;
          s.text += String(chunk);
          cb();
        },
      }),
      { writes: 0, text: '' },
    );
    return s;
  }

  it('writes the records of one turn of the event loop in one write', async () => {
    const stream = countingStream();
    const { audit } = auditFor(configWith('sink: stdout'), new BoundedOutput(stream));
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => recorded(audit, entry(i))));
    expect(outcomes.every((o) => o === undefined)).toBe(true);
    await audit.flush();
    expect(stream.writes).toBe(1);
    const lines = stream.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).audit.requestId);
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `req-${i}`));
    await audit.close();
  });

  it('a stalled output: each record of a batch is kept while there is room, then refused and counted', async () => {
    const stalled = new Writable({ highWaterMark: 16, write: () => {} }); // takes the first chunk, never the next
    const { audit } = auditFor(configWith('sink: stdout\nfailClosed: true'), new BoundedOutput(stalled, { log: 1, alert: 1, audit: 4096 }));
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => recorded(audit, entry(i))));
    // One batch: the records that fit are written, in order; the ones after them are refused, each on its own.
    const kept = outcomes.findIndex((o) => o !== undefined);
    expect(kept).toBeGreaterThan(5);
    expect(outcomes.slice(kept).map((o) => o?.status)).toEqual(Array(30 - kept).fill(503));
    expect(audit.dropped).toBe(30 - kept);
    expect(audit.failures).toBe(0);
    expect(stalled.writableLength).toBeLessThanOrEqual(4096);
    expect(stalled.writableLength).toBeGreaterThan(4096 - 400);
    // A lone record finds no room either once the output is full.
    expect((await audit.recordCall(entry(99)))?.status).toBe(503);
  });
});
