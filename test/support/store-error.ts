// The StoreError a store call rejects with (the test fails if it resolves or throws anything else).
import { expect } from 'vitest';
import { StoreError } from '../../src/errors.js';

export async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}
