// The 400 a client query parser throws, for tests that check its message and context.
import { expect } from 'vitest';
import { ApiError } from '../../src/errors.js';

/** The ApiError `fn` throws, after checking that it is a 400; throws when `fn` does not fail. */
export function failure(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(400);
    return e as ApiError;
  }
  throw new Error('expected a 400');
}
