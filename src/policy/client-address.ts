// Where a request comes from, and whether that is allowed (docs/security.md, "Client addresses").
// The client address is the TCP peer's, unless the peer is a proxy listed in `server.trustProxy`:
// then it is the right-most X-Forwarded-For entry that is not itself a trusted proxy, as Express
// and Fastify take it (entries left of it were written by the client and prove nothing).
import { BlockList } from 'node:net';
import { normaliseAddress, type Cidr } from '../config/network.js';

/** The address MCP over stdio counts as: the caller runs on this machine. */
export const LOOPBACK = '127.0.0.1';

/** What a connection says about its origin: the TCP peer and the X-Forwarded-For header(s) it sent. */
export interface Origin {
  peer?: string;
  forwardedFor?: string | string[];
}

/** CIDR blocks; IPv4-mapped IPv6 addresses are matched as the IPv4 address they map. */
export class AddressList {
  private readonly blocks = new BlockList();

  constructor(cidrs: readonly Cidr[]) {
    for (const c of cidrs) this.blocks.addSubnet(c.address, c.prefix, c.family);
  }

  /** Whether the address lies in one of the blocks; an address that is not one never does. */
  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    const a = normaliseAddress(address.trim());
    try {
      return this.blocks.check(a, a.includes(':') ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  }
}

/** The client address of a request; undefined when the connection has no peer address any more. */
export function clientAddress(origin: Origin, trusted: AddressList | undefined): string | undefined {
  const peer = origin.peer === undefined ? undefined : normaliseAddress(origin.peer);
  if (peer === undefined || !trusted?.has(peer)) return peer;
  const hops = [origin.forwardedFor ?? []]
    .flat()
    .flatMap((h) => h.split(','))
    .map((h) => h.trim())
    .filter((h) => h !== '');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = normaliseAddress(hops[i]!);
    if (!trusted.has(client)) break;
  }
  return client;
}
