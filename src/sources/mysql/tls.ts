// MariaDB/MySQL over TLS: mysql2's `ssl` option from the source's tls block. mysql2 checks the
// certificate's name (verifyIdentity) against the host it was given, and sends no SNI for an IP
// address; so a configured servername becomes that host, and the socket connects to the URL's host.
import { connect, type Socket } from 'node:net';
import type { SslOptions } from 'mysql2';
import type { StoreTls } from '../../config/tls.js';

export interface MysqlConnectionOptions {
  uri: string;
  ssl?: SslOptions;
  stream?: () => Socket;
}

export function mysqlConnection(url: string, tls: StoreTls | undefined): MysqlConnectionOptions {
  if (!tls) return { uri: url };
  const ssl: SslOptions = {
    ...(tls.ca ? { ca: tls.ca.pem } : {}),
    ...(tls.cert && tls.key ? { cert: tls.cert.pem, key: tls.key.pem } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
    verifyIdentity: tls.rejectUnauthorized,
  };
  if (!tls.servername) return { uri: url, ssl };
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || 3306);
  u.hostname = tls.servername;
  return { uri: u.toString(), ssl, stream: () => connect(port, host) };
}
