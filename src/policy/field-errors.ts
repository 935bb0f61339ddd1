// The 400s that name a field the caller may not use: unknown (or hidden: the same answer) and masked.
import { badRequest, type ApiError } from '../errors.js';
import type { CallerSchema } from './caller-schema.js';

export function unknownField(name: string, param: string, schema: CallerSchema, pos?: number): ApiError {
  return badRequest(`unknown field "${name}" in ${param}; fields are: ${schema.columns.map((c) => c.name).join(', ')}`, {
    param,
    field: name,
    ...(pos !== undefined ? { position: pos } : {}),
  });
}

export function maskedField(name: string, param: string, pos?: number): ApiError {
  return badRequest(`field "${name}" is masked for your role, so it cannot be used in ${param}`, {
    param,
    field: name,
    ...(pos !== undefined ? { position: pos } : {}),
  });
}
