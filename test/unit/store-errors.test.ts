// How driver errors are classified: login refusals of every kind are "unavailable" (503 naming the
// store), never a generic failure.
import { describe, expect, it } from 'vitest';
import { mysqlReason } from '../../src/sources/mysql/errors.js';
import { pgReason } from '../../src/sources/postgres/errors.js';

describe('driver error classification', () => {
  it('MySQL/MariaDB access denied, with or without a password, is unavailable', () => {
    for (const errno of [1044, 1045, 1698]) expect(mysqlReason({ errno, message: 'Access denied' })).toBe('unavailable');
    expect(mysqlReason({ errno: 1146, message: "Table 'x' doesn't exist" })).toBe('failed');
  });

  it('PostgreSQL authentication failures (class 28) are unavailable', () => {
    expect(pgReason({ code: '28P01', message: 'password authentication failed' })).toBe('unavailable');
    expect(pgReason({ code: '42P01', message: 'relation does not exist' })).toBe('failed');
  });
});
