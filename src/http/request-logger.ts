// Each request's logger (Fastify's `request.log`, `reply.log`): pino's child logger with the
// request id bound, made only when the request writes a line at a level that is on. Making the
// child serializes its bindings through the redaction paths (src/ops/logger.ts), which cost a few
// microseconds on every request while the usual level (warn) writes nothing for a request that
// succeeds. A line that is written is the child's own, so it reads as before.
import type { FastifyBaseLogger } from 'fastify';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type Level = (typeof LEVELS)[number];
type LogMethod = (...args: unknown[]) => void;
type Bindings = Record<string, unknown>;
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];

/** pino's loggers answer this; a logger that does not is asked by its method instead. */
type LevelAware = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };

class RequestLogger implements FastifyBaseLogger {
  private made?: FastifyBaseLogger;
  declare fatal: LogMethod;
  declare error: LogMethod;
  declare warn: LogMethod;
  declare info: LogMethod;
  declare debug: LogMethod;
  declare trace: LogMethod;

  static {
    // One method per level, on the prototype: `info(...)` is write('info', ...).
    for (const level of LEVELS) {
      Object.defineProperty(RequestLogger.prototype, level, {
        value: function (this: RequestLogger, ...args: unknown[]) {
          this.write(level, args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  constructor(
    private readonly parent: LevelAware,
    private readonly bindings: Bindings,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    // A level that is off writes nothing: the child is not needed to say so.
    if (this.made === undefined && this.parent.isLevelEnabled?.(level) === false) return;
    (this.real[level] as LogMethod)(...args);
  }
}

/**
 * Fastify's `childLoggerFactory`: a request logger that makes pino's child on first use. Options
 * that change the child (a route's own level or serializers) make it at once.
 */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  if (options && Object.keys(options).length > 0) return logger.child(bindings, options);
  return new RequestLogger(logger, bindings);
}
