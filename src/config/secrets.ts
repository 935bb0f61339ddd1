// Secrets kept in files (docs/configuration.md, "Secrets"): `${file:/run/secrets/name}` in a config
// value is replaced by that file's content, its trailing line break trimmed (as Docker and
// Kubernetes secrets are written). The file's content never appears in a message.
import { readFileSync } from 'node:fs';

export const FILE_REF_RE = /\$\{file:([^}]*)\}/g;

/** The content of the file a `${file:PATH}` reference names, or the problem naming the reference. */
export function readSecretFile(path: string): { value: string } | { problem: string } {
  const ref = `\${file:${path}}`;
  if (path.trim() === '') return { problem: `${ref} names no file` };
  try {
    return { value: readFileSync(path, 'utf8').replace(/(\r?\n)+$/, '') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'the file may not be read' : `it cannot be read (${code})`;
    return { problem: `${ref}: ${why}` };
  }
}
