// The client-gone Cancellation (src/http/client-gone.ts, src/cancellation.ts) over real HTTP: it
// reports a client that closed its connection before the answer, and makes its AbortSignal only
// when asked (a cached answer never asks), aborted at once if the client had gone already.
import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientGone } from '../../src/http/client-gone.js';
import type { Cancellation } from '../../src/cancellation.js';
import { watchAbort } from '../../src/sources/abort-watch.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: FastifyInstance;
let port: number;
/** Each request's Cancellation, and a way to let its answer go. */
const seen: { gone: Cancellation; release: () => void }[] = [];

beforeAll(async () => {
  app = Fastify();
  app.get('/slow', async (_req, reply) => {
    const gone = clientGone(reply);
    await new Promise<void>((release) => seen.push({ gone, release }));
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});
afterAll(() => app.close());

/** Starts GET /slow; resolves once the server holds the request. */
async function startSlow(): Promise<{ gone: Cancellation; release: () => void; close: () => void; answer: Promise<number> }> {
  const before = seen.length;
  let close!: () => void;
  const answer = new Promise<number>((resolve) => {
    const req = request({ port, host: '127.0.0.1', path: '/slow' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    close = () => req.destroy();
    req.end();
  });
  while (seen.length === before) await wait(2);
  return { ...seen[before]!, close, answer };
}

/** The client closes its connection; resolves once the server has seen it. */
async function clientLeaves(s: { close: () => void; answer: Promise<number> }): Promise<void> {
  s.close();
  await s.answer;
  await wait(20);
}

/** Counts AbortControllers made while `fn` runs. */
async function controllersMadeBy(fn: () => Promise<void>): Promise<number> {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  try {
    await fn();
  } finally {
    globalThis.AbortController = Original;
  }
  return made;
}

describe('clientGone', () => {
  it('makes no signal for an answer nobody asked one for', async () => {
    const made = await controllersMadeBy(async () => {
      const s = await startSlow();
      expect(s.gone.aborted).toBe(false);
      s.release();
      expect(await s.answer).toBe(200);
      expect(s.gone.aborted).toBe(false);
    });
    expect(made).toBe(0);
  });

  it('reports a client that left, and aborts a signal made before it left', async () => {
    const s = await startSlow();
    const signal = s.gone.signal;
    expect(signal.aborted).toBe(false);
    await clientLeaves(s);
    expect(s.gone.aborted).toBe(true);
    expect(signal.aborted).toBe(true);
    s.release();
  });

  it('makes an aborted signal when first asked after the client left', async () => {
    const s = await startSlow();
    await clientLeaves(s);
    expect(s.gone.aborted).toBe(true);
    expect(s.gone.signal.aborted).toBe(true);
    s.release();
  });

  it('stays aborted once seen, after the answer to nobody was ended too', async () => {
    // A second statement's error arrives after the first one's 499 was sent: still a cancellation.
    const s = await startSlow();
    await clientLeaves(s);
    expect(s.gone.aborted).toBe(true);
    s.release();
    await wait(20);
    expect(s.gone.aborted).toBe(true);
  });

  it('a finished answer never counts as gone', async () => {
    const s = await startSlow();
    s.release();
    await s.answer;
    await wait(20);
    expect(s.gone.aborted).toBe(false);
    expect(s.gone.signal.aborted).toBe(false);
  });

  it("a store's watch stops the statement of a client that left, making the signal only then", async () => {
    const quick = await startSlow();
    const quickMade = await controllersMadeBy(async () => {
      const done = watchAbort(quick.gone, () => {});
      done(); // a statement that ended before the watch began
      await wait(40);
    });
    expect(quickMade).toBe(0);
    quick.release();
    await quick.answer;

    const slow = await startSlow();
    let stops = 0;
    const done = watchAbort(slow.gone, () => stops++);
    await wait(40); // the watch began: it listens now
    await clientLeaves(slow);
    expect(stops).toBe(1);
    done();
    slow.release();
  });
});
