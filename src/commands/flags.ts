// Flags shared by CLI commands.

/** `--claim k=v` flags as claims; throws with the offending flag when one is not key=value. */
export function parseClaimFlags(flags: string[] | undefined): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const c of flags ?? []) {
    const eq = c.indexOf('=');
    if (eq <= 0) throw new Error(`--claim "${c}" must be key=value`);
    claims[c.slice(0, eq)] = c.slice(eq + 1);
  }
  return claims;
}
