// A request's logger (src/http/request-logger.ts) writes what pino's child with the request id
// wrote, and makes that child only when a line is written at a level that is on.
import { PassThrough, Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { requestLogger } from '../../src/http/request-logger.js';

async function serve(level: string) {
  let out = '';
  const stream = new PassThrough().on('data', (chunk) => (out += String(chunk)));
  const log = createLogger(level, stream);
  let children = 0;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // The parent as the request logger sees it, counting the children it is asked for.
    childLoggerFactory: (logger, bindings, options) =>
      requestLogger(
        Object.assign(Object.create(logger) as FastifyBaseLogger, {
          child: (b: Record<string, unknown>, o?: Parameters<FastifyBaseLogger['child']>[1]) => {
            children++;
            return logger.child(b, o);
          },
        }),
        bindings,
        options,
      ),
    genReqId: () => 'req-1',
  });
  app.get('/quiet', async () => 'ok');
  app.get('/warns', async (req) => {
    req.log.info({ step: 'info' }, 'an info line');
    req.log.warn({ step: 'warn' }, 'a warning');
    req.log.child({ part: 'inner' }).error('an inner error');
    return 'ok';
  });
  await app.ready();
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { app, lines, children: () => children };
}

describe('requestLogger', () => {
  it('at warn, a request that logs nothing makes no child logger and writes nothing', async () => {
    const { app, lines, children } = await serve('warn');
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect(lines()).toEqual([]);
    expect(children()).toBe(0);
    await app.close();
  });

  it('writes the lines of enabled levels with the request id bound, and drops the others', async () => {
    const { app, lines } = await serve('warn');
    expect((await app.inject('/warns')).statusCode).toBe(200);
    const written = lines();
    expect(written.map((l) => l.msg)).toEqual(['a warning', 'an inner error']);
    expect(written.every((l) => l.reqId === 'req-1')).toBe(true);
    expect(written[0]).toMatchObject({ step: 'warn', level: 40 });
    expect(written[1]).toMatchObject({ part: 'inner', level: 50 });
    await app.close();
  });

  it("at info, Fastify's request lines carry the request id as before", async () => {
    const { app, lines } = await serve('info');
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    const msgs = lines()
      .filter((l) => l.reqId === 'req-1')
      .map((l) => l.msg);
    expect(msgs).toEqual(['incoming request', 'request completed']);
    await app.close();
  });

  it("reports the parent's level until a child exists, and a level set on it is the child's", () => {
    const log = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })) as FastifyBaseLogger;
    const reqLog = requestLogger(log, { reqId: 'r' }, {});
    expect(reqLog.level).toBe('warn');
    reqLog.level = 'debug';
    expect(reqLog.level).toBe('debug');
    expect(log.level).toBe('warn');
  });
});
