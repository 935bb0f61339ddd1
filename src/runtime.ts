// Wires one running viewgate: config -> sources -> catalog -> gateway, plus logging and audit.
import type { Config } from './config/schema.js';
import { Sources } from './sources/index.js';
import { Catalog } from './engine/catalog.js';
import { Gateway } from './gateway.js';
import { Authenticator } from './policy/identity.js';
import { Audit, sinkFor, type AuditSink } from './ops/audit.js';
import { createLogger, type Logger } from './ops/logger.js';

export interface Runtime {
  config: Config;
  sources: Sources;
  catalog: Catalog;
  gateway: Gateway;
  auth: Authenticator;
  audit: Audit;
  log: Logger;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** MCP over stdio: stdout carries only the protocol, so logs and audit go to stderr. */
  stdio?: boolean;
  logger?: Logger;
  auditSink?: AuditSink;
}

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const log = opts.logger ?? createLogger(config.logging.level, opts.stdio ? 'stderr' : 'stdout');
  const sources = new Sources(config);
  await sources.connect();
  const catalog = new Catalog(config, sources);
  const gateway = new Gateway(config, catalog);
  const auth = new Authenticator(config);
  const audit = new Audit(config.audit, log, opts.auditSink ?? sinkFor(config, opts.stdio));
  return {
    config,
    sources,
    catalog,
    gateway,
    auth,
    audit,
    log,
    async close() {
      await audit.close();
      await sources.close();
    },
  };
}
