// What to do next about a store failure, from the driver's message as StoreError carries it
// (src/sources/store-errors.ts). `viewgate check` prints it after the problem. Hints for messages
// only one store gives come with its descriptor.
import { STORES } from '../sources/registry.js';
import type { StoreHint } from '../sources/store.js';
import { TLS_HINTS } from '../sources/tls.js';

const SHARED: StoreHint[] = [
  {
    test: /ECONNREFUSED/,
    next: 'nothing answers at that host and port: is the server running? Check host:port in the url',
  },
  {
    test: /ENOTFOUND|EAI_AGAIN/,
    next: 'the host name does not resolve: check the host in the url',
  },
  {
    test: /password authentication failed|role "[^"]*" does not exist|Access denied|Authentication failed|authentication mechanism|\[(18|28000|28P01|ER_ACCESS_DENIED\w*)\]/i,
    next: 'the store refused the login: check the user and password in the url (and that this user may connect from this host)',
  },
  {
    test: /database "[^"]*" does not exist|Unknown database|\[(3D000|ER_BAD_DB_ERROR)\]/,
    next: 'the database does not exist: create it, or fix its name in the url',
  },
  {
    test: /(relation|table) "[^"]*" does not exist|Table '[^']*' doesn't exist/i,
    next: 'the table does not exist: create it, or fix its name in the config (schema.table for PostgreSQL)',
  },
  {
    test: /ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|timed out|timeout|Connection terminated unexpectedly|Server selection/i,
    next: "the store did not answer in time: check that its host is reachable from here (firewall, VPN) or raise the source's `timeout`",
  },
];

// TLS first: a store's own hints and the shared ones would read a TLS failure as a timeout.
const HINTS: StoreHint[] = [...TLS_HINTS, ...STORES.flatMap((s) => s.hints ?? []), ...SHARED];

/** The next step for a store failure, or undefined when the message says nothing we recognise. */
export function nextStep(message: string): string | undefined {
  return HINTS.find((h) => h.test.test(message))?.next;
}
