// The embedded engine's two kinds of failure: a view definition it refuses (when the config
// loads), and a value the view's expressions cannot compute for some row (at query time).
import { ApiError } from '../../errors.js';

/** A view's SQL is outside the supported subset or does not type-check. Names the view and the position. */
export class ViewDefinitionError extends ApiError {
  constructor(view: string, sql: string, location: number | undefined, message: string) {
    const at = location === undefined ? '' : ` at ${position(sql, location)}`;
    super('view_definition_invalid', `view "${view}"${at}: ${message}`, {
      view,
      ...(location === undefined ? {} : linePos(sql, location)),
    });
    this.name = 'ViewDefinitionError';
  }
}

/** 1-based line and column of a byte offset (libpg-query locations count UTF-8 bytes). */
export function linePos(sql: string, location: number): { line: number; column: number } {
  const prefix = Buffer.from(sql, 'utf8').subarray(0, location).toString('utf8');
  const lines = prefix.split('\n');
  return { line: lines.length, column: Array.from(lines[lines.length - 1]!).length + 1 };
}

function position(sql: string, location: number): string {
  const { line, column } = linePos(sql, location);
  return `line ${line}, column ${column}`;
}

/**
 * A row the view's expressions cannot compute (division by zero, integer overflow, a text that is
 * not a number): PostgreSQL's SQLSTATE class 22. A 400, as PostgREST answers data exceptions,
 * because a narrower filter can avoid the row.
 */
export function dataError(message: string, sqlstate: string): ApiError {
  return new ApiError('data_exception', `${message} (while evaluating the view)`, { sqlstate });
}
