// A refusal of the view's SQL at a position, thrown by the parse and analyze steps; the view's
// loader reports it as a ViewDefinitionError that names the line and column.
import { ViewDefinitionError } from './errors.js';

/** Thrown by the parse and analyze steps; the caller turns it into a ViewDefinitionError. */
export class Refusal extends Error {
  constructor(
    message: string,
    readonly location?: number,
  ) {
    super(message);
  }
}

/** What a parse or analyze step's failure becomes: a Refusal names the view and position; anything else is unchanged. */
export function definitionErrorOf(viewId: string, sql: string, err: unknown): unknown {
  return err instanceof Refusal ? new ViewDefinitionError(viewId, sql, err.location, err.message) : err;
}
