// Network address lists in the configuration (docs/security.md, "Client addresses"): `allowFrom`
// on an API key or a role and `server.trustProxy` hold CIDR blocks (`10.0.0.0/8`, `::1/128`) or
// single addresses (`127.0.0.1`), checked when the config loads.
import { isIP } from 'node:net';
import { z } from 'zod';

export interface Cidr {
  /** The network address as written, IPv4-mapped IPv6 normalised to IPv4. */
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `::ffff:127.0.0.1` is 127.0.0.1; an IPv6 zone (`fe80::1%eth0`) is not part of the address. */
export function normaliseAddress(address: string): string {
  const bare = address.split('%')[0]!;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  return mapped ? mapped[1]! : bare;
}

/** `a.b.c.d/n`, `x::y/n` or one address (a /32 or /128); undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const [raw, prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0 || raw === undefined) return undefined;
  const address = normaliseAddress(raw);
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  // A mapped IPv6 block (::ffff:10.0.0.0/104) is the IPv4 block it maps: its prefix counts 96 bits fewer.
  const mapped = address !== raw.split('%')[0];
  const max = version === 6 || mapped ? 128 : 32;
  if (prefixText === undefined) return { address, prefix: version === 4 ? 32 : 128, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  const prefix = Number(prefixText) - (mapped ? 96 : 0);
  return prefix < 0 ? undefined : { address, prefix, family };
}

/** A non-empty list of CIDR blocks or addresses. */
export const cidrList = z
  .array(
    z.string().transform((v, ctx): Cidr => {
      const cidr = parseCidr(v);
      if (!cidr) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not an IP address or CIDR block; write e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128` });
        return z.NEVER;
      }
      return cidr;
    }),
  )
  .min(1, 'list at least one address or CIDR block (leave the key out to allow every address)');
