// pino, JSON, with credentials redacted wherever they could appear (docs/security.md, "Logs"):
// - known credential fields (Authorization, X-API-Key, X-DreamFactory-API-Key, cookies, passwords,
//   secrets, tokens) are replaced by "[redacted]" through pino's `redact` paths;
// - every finished log line then goes through redactText, which hides passwords inside URLs
//   (scheme://user:***@host), secret query parameters (?api_key=, ?access_token=, ?password=, an OIDC ?code=, ...),
//   bearer tokens and anything shaped like a JWT, wherever they sit: messages, error messages and
//   stacks, request URLs logged by Fastify, nested objects.
import pino, { type DestinationStream, type Logger } from 'pino';
import { BoundedOutput } from './output.js';

export type { Logger };

const CENSOR = '[redacted]';

const SECRET_KEYS = ['password', 'secret', 'token', 'apiKey', 'api_key', 'hashSecret', 'cursorSecret', 'authorization', 'cookie'];

const REDACT_PATHS = [
  ...['req.headers', 'headers', 'request.headers', 'res.headers'].flatMap((h) => [
    `${h}.authorization`,
    `${h}["x-api-key"]`,
    `${h}["x-dreamfactory-api-key"]`,
    `${h}.cookie`,
    `${h}["set-cookie"]`,
  ]),
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

// scheme://user:password@ -> scheme://user:***@. The password runs to the last '@' before the end
// of the JSON string or word, so an unencoded '@' or '/' inside it is hidden too. The scheme starts
// where a run of scheme characters starts (the lookbehind): otherwise every letter of a long word
// would start a new attempt, and a long request URL would cost quadratic time on every log line.
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@"\\]*):((?:[^\s"\\]|\\.)*)@/gi;
const SECRET_PARAM = /([?&](?:api[_-]?key|access[_-]?token|id[_-]?token|token|jwt|password|passwd|pwd|secret|code)=)[^&#\s"\\]*/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const JWT_SHAPE = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** Hides credentials inside free text: URL passwords, secret query parameters, bearer tokens, JWTs. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1:***@')
    .replace(SECRET_PARAM, `$1${CENSOR}`)
    .replace(BEARER, `$1${CENSOR}`)
    .replace(JWT_SHAPE, CENSOR);
}

/** Hides passwords inside connection URLs (and other credentials in the text); for messages shown to people. */
export function redactUrl(text: string): string {
  return redactText(text);
}

export type LogDestination = 'stdout' | 'stderr' | BoundedOutput | DestinationStream;

const METADATA = Symbol.for('pino.metadata');

/**
 * A pino destination over a BoundedOutput: pino tells it each line's level (through its metadata
 * hook), so debug/info lines are dropped before warnings and errors when the reader falls behind.
 * No sonic-boom: its exit handler flushes synchronously, which spins forever on a stalled pipe.
 */
function boundedDestination(output: BoundedOutput): DestinationStream {
  const dest = {
    [METADATA]: true,
    lastLevel: 30,
    write(line: string) {
      const level = dest.lastLevel;
      output.write(line, level >= 40 ? 'alert' : 'log', pino.levels.labels[level] ?? String(level));
    },
  };
  return dest;
}

export function createLogger(level = 'info', destination: LogDestination = 'stdout'): Logger {
  const output =
    destination === 'stdout'
      ? new BoundedOutput(process.stdout)
      : destination === 'stderr'
        ? new BoundedOutput(process.stderr)
        : destination;
  const stream = output instanceof BoundedOutput ? boundedDestination(output) : output;
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      hooks: { streamWrite: redactText },
    },
    stream,
  );
}
