// The `tls` blocks of the config: certificate files are read when the config is loaded, so a file
// that is missing or unreadable is a config problem naming its key (sources.<name>.tls.ca, ...),
// found by `viewgate check` and refused by `serve` at start, never a failure on the first query.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A PEM file: its path (for messages to the operator) and its content. */
interface PemFile {
  readonly path: string;
  readonly pem: string;
}

const pemFile = z
  .string()
  .min(1, 'the file path is empty')
  .transform((path, ctx): PemFile => {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      ctx.addIssue({ code: 'custom', message: `cannot read the file "${path}" (${e.code ?? e.message})` });
      return z.NEVER;
    }
    if (!pem.includes('-----BEGIN ')) {
      ctx.addIssue({ code: 'custom', message: `the file "${path}" is not PEM (no "-----BEGIN" line)` });
      return z.NEVER;
    }
    return { path, pem };
  });

/** TLS to a store: the CA that verifies it, a client certificate, the name its certificate must carry. */
export const storeTls = z
  .strictObject({
    ca: pemFile.optional(),
    cert: pemFile.optional(),
    key: pemFile.optional(),
    servername: z.string().min(1).optional(),
    // false accepts any certificate (encrypted, not authenticated); say so explicitly.
    rejectUnauthorized: z.boolean().default(true),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'tls.cert and tls.key go together: a client certificate needs its key',
  });

export type StoreTls = z.output<typeof storeTls>;

/** HTTPS for viewgate's own server (REST and MCP over HTTP). */
export const serverTls = z.strictObject({ cert: pemFile, key: pemFile });
