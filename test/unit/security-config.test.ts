// Client-address and key settings as the config loader reads them (docs/security.md, "Client
// addresses", "Key rotation"; docs/configuration.md, "Secrets"): allowFrom and trustProxy CIDR
// lists, `expires`, `${file:}` references, the client address behind trusted proxies, stdio as
// the loopback address, and `viewgate check`'s warning about keys that expire soon.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { AddressList, clientAddress } from '../../src/policy/client-address.js';
import { parseCidr } from '../../src/config/network.js';
import { Authenticator } from '../../src/policy/identity.js';
import { credentialsFromEnv } from '../../src/mcp/stdio.js';
import { keyExpiryWarnings, trustProxyWarnings } from '../../src/commands/access-warnings.js';

const env = {
  CRM_MYSQL_URL: 'mysql://u:p@db:3306/crm',
  APP_PG_URL: 'postgres://u:p@db:5432/app',
  EVENTS_MONGO_URL: 'mongodb://db:27017/',
  VIEWGATE_HASH_SECRET: 's3cret',
};
const fixture = parse(readFileSync(new URL('../fixtures/spec-config.yaml', import.meta.url), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'vg-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The reference example with `edit` applied to its parsed form. */
function load(edit: (c: any) => void): Config {
  const c = structuredClone(fixture);
  edit(c);
  return parseConfig(stringify(c), 'test.yaml', env);
}

function problems(edit: (c: any) => void): string[] {
  try {
    load(edit);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('allowFrom and trustProxy', () => {
  it('read CIDR blocks and single addresses, IPv4-mapped ones as IPv4', () => {
    const c = load((c) => {
      c.auth.apiKeys[0].allowFrom = ['10.0.0.0/8', '127.0.0.1', '::1', '::ffff:192.168.0.0/112'];
      c.roles.external.allowFrom = ['2001:db8::/32'];
      c.server.trustProxy = ['10.1.2.3'];
    });
    expect(c.auth.apiKeys[0]!.allowFrom).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: '192.168.0.0', prefix: 16, family: 'ipv4' },
    ]);
    expect(c.roles.external!.allowFrom).toEqual([{ address: '2001:db8::', prefix: 32, family: 'ipv6' }]);
    expect(c.server.trustProxy).toEqual([{ address: '10.1.2.3', prefix: 32, family: 'ipv4' }]);
  });

  it('refuse what is not an address or block, and an empty list', () => {
    expect(
      problems((c) => {
        c.auth.apiKeys[0].allowFrom = ['10.0.0.0/33', 'localhost'];
        c.roles.external.allowFrom = [];
      }),
    ).toEqual([
      'auth.apiKeys.0.allowFrom.0: "10.0.0.0/33" is not an IP address or CIDR block; write e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128',
      'auth.apiKeys.0.allowFrom.1: "localhost" is not an IP address or CIDR block; write e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128',
      'roles.external.allowFrom: list at least one address or CIDR block (leave the key out to allow every address)',
    ]);
  });

  it('match IPv4, IPv6 and IPv4-mapped addresses; never what is not an address', () => {
    const list = new AddressList([parseCidr('10.0.0.0/8')!, parseCidr('::1')!]);
    expect(['10.9.8.7', '::ffff:10.0.0.1', '::1', 'fe80::1%eth0', '11.0.0.1', '::2', 'garbage', ''].map((a) => list.has(a))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(list.has(undefined)).toBe(false);
  });
});

it('viewgate check warns about trustProxy when no allowFrom reads it', () => {
  const proxyOnly = load((c) => (c.server.trustProxy = ['10.0.0.1']));
  expect(trustProxyWarnings(proxyOnly)).toEqual(['server.trustProxy is read only by `allowFrom`, and no API key or role has one']);
  const withList = load((c) => {
    c.server.trustProxy = ['10.0.0.1'];
    c.roles.external.allowFrom = ['10.0.0.0/8'];
  });
  expect(trustProxyWarnings(withList)).toEqual([]);
});

describe('the client address', () => {
  const proxies = new AddressList([parseCidr('10.0.0.0/24')!]);

  it('is the peer without trusted proxies, whatever X-Forwarded-For says', () => {
    expect(clientAddress({ peer: '::ffff:192.0.2.1', forwardedFor: '127.0.0.1' }, undefined)).toBe('192.0.2.1');
    expect(clientAddress({ peer: '192.0.2.1', forwardedFor: '127.0.0.1' }, proxies)).toBe('192.0.2.1');
  });

  it('is the right-most untrusted X-Forwarded-For entry behind a trusted peer', () => {
    expect(clientAddress({ peer: '10.0.0.5', forwardedFor: '198.51.100.7, 192.0.2.1, 10.0.0.9' }, proxies)).toBe('192.0.2.1');
    expect(clientAddress({ peer: '10.0.0.5', forwardedFor: ['198.51.100.7', '192.0.2.1'] }, proxies)).toBe('192.0.2.1');
    // Every hop trusted: the left-most is the client. No header: the peer.
    expect(clientAddress({ peer: '10.0.0.5', forwardedFor: '10.0.0.7, 10.0.0.8' }, proxies)).toBe('10.0.0.7');
    expect(clientAddress({ peer: '10.0.0.5' }, proxies)).toBe('10.0.0.5');
    // Junk where an address should be stays junk, which no allowFrom list holds.
    expect(clientAddress({ peer: '10.0.0.5', forwardedFor: 'unknown' }, proxies)).toBe('unknown');
  });
});

describe('MCP over stdio', () => {
  const key = 'vg_stdio_key';
  const withKey = (allowFrom: string[]) =>
    load((c) => {
      c.auth.apiKeys.push({ name: 'desk', sha256: createHash('sha256').update(key).digest('hex'), role: 'internal', allowFrom });
    });

  it('counts as the loopback address', async () => {
    const creds = credentialsFromEnv({ VIEWGATE_API_KEY: key })!;
    expect(await new Authenticator(withKey(['127.0.0.1'])).authenticate(creds)).toMatchObject({ keyName: 'desk' });
    await expect(new Authenticator(withKey(['10.0.0.0/8'])).authenticate(creds)).rejects.toMatchObject({
      status: 403,
      message: 'requests from this client address are not allowed for this API key',
    });
  });
});

describe('${file:} references', () => {
  it('read the file, its trailing line break trimmed', () => {
    writeFileSync(join(dir, 'hash'), 'file-hash-secret-0123456789\n');
    const c = load((c) => (c.masking.hashSecret = `\${file:${join(dir, 'hash')}}`));
    expect(c.masking.hashSecret).toBe('file-hash-secret-0123456789');
  });

  it('a missing file is a problem naming the reference', () => {
    const ref = `\${file:${join(dir, 'absent')}}`;
    expect(problems((c) => (c.masking.hashSecret = ref))).toEqual([`masking.hashSecret: ${ref}: the file does not exist`]);
  });

  it('a problem with the value read never shows it', () => {
    writeFileSync(join(dir, 'bad-sha'), 'not-a-hash-but-a-s3cret\n');
    const found = problems((c) => (c.auth.apiKeys[0].sha256 = `\${file:${join(dir, 'bad-sha')}}`));
    expect(found).toEqual([expect.stringMatching(/^auth\.apiKeys\.0\.sha256: /)]);
    expect(found.join('\n')).not.toContain('s3cret');
  });

  it('a file whose content looks like a reference is not substituted again', () => {
    writeFileSync(join(dir, 'literal'), '${HOME}');
    expect(load((c) => (c.masking.hashSecret = `\${file:${join(dir, 'literal')}}`)).masking.hashSecret).toBe('${HOME}');
  });
});

describe('expires', () => {
  it('takes a date (the start of that day, UTC) or an ISO timestamp with its offset', () => {
    const c = load((c) => {
      c.auth.apiKeys[0].expires = '2027-01-01';
      c.auth.apiKeys[1].expires = '2027-01-01T12:00:00+02:00';
    });
    expect(c.auth.apiKeys.map((k) => k.expires)).toEqual([Date.UTC(2027, 0, 1), Date.UTC(2027, 0, 1, 10)]);
  });

  it('refuses what is not a date', () => {
    expect(
      problems((c) => {
        c.auth.apiKeys[0].expires = '2027-02-30';
        c.auth.apiKeys[1].expires = '2027-01-01T12:00';
      }),
    ).toEqual([
      'auth.apiKeys.0.expires: "2027-02-30" is not a date or timestamp; write e.g. 2027-01-01 or 2027-01-01T12:00:00Z',
      'auth.apiKeys.1.expires: "2027-01-01T12:00" is not a date or timestamp; write e.g. 2027-01-01 or 2027-01-01T12:00:00Z',
    ]);
  });

  it('viewgate check warns about keys that expire within 14 days, and about expired ones', () => {
    const now = Date.UTC(2027, 0, 1);
    const c = load((c) => {
      c.auth.apiKeys[0].expires = '2027-01-10';
      c.auth.apiKeys[1].expires = '2027-02-01';
      c.auth.apiKeys.push({ ...c.auth.apiKeys[1], sha256: 'c'.repeat(64), expires: '2026-12-01' });
    });
    expect(keyExpiryWarnings(c, now)).toEqual([
      'auth.apiKeys.0 (name "internal-tools") expires at 2027-01-10T00:00:00.000Z, within 14 days; give its successor the same name before then',
      'auth.apiKeys.2 (name "partner-t2") expired at 2026-12-01T00:00:00.000Z; it is refused',
    ]);
  });
});
