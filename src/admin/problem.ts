// What the console says about a view or role it cannot show: viewgate's own words (an ApiError's
// message is written for callers); the driver's detail goes to the log, never to the page.
import type { Runtime } from '../runtime.js';
import { ApiError, operatorDetail } from '../errors.js';
import { redactUrl } from '../ops/logger.js';

export function publicProblem(rt: Runtime, err: unknown): string {
  rt.log.warn({ err: redactUrl(operatorDetail(err)) }, 'console: a view or role cannot be shown');
  return err instanceof ApiError ? err.message : 'this cannot be shown now; the server log says why';
}
