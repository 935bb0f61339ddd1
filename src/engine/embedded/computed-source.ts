// A source that is not a store: viewgate computes its rows itself (governed SQL's views, each a
// governed scan; a statement's subqueries). There is nothing to connect to; it takes every
// predicate offered (it evaluates them with the engine's own semantics) and sorts by nothing.
import type { Predicate, Pushdown } from '../../query/predicate.js';
import type { NativeQuery, ReadOptions, ScanAcceptance, ScanOffer, ScanResult, Source, TableInfo } from '../../sources/source.js';
import { takeEverything } from '../../sources/source.js';

export abstract class ComputedSource implements Source {
  abstract readonly name: string;
  abstract readonly kind: string;
  readonly limits = { maxKeysPerStatement: 500 };

  abstract introspect(table: string): Promise<TableInfo>;
  abstract scan(table: string, pushdown: Pushdown, options?: ReadOptions): Promise<ScanResult>;

  connect(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }

  /** Every predicate; an order only when none is asked, so rows come back in no order a hidden key could reveal. */
  offer(_table: TableInfo, work: ScanOffer): ScanAcceptance {
    return { ...takeEverything({ where: work.where, orderBy: [] }), orderBy: work.orderBy.length === 0 };
  }

  count(_table: string, _where?: Predicate): Promise<number> {
    return Promise.reject(new Error(`${this.kind} rows are counted by the engine`));
  }

  explainScan(table: string): Promise<NativeQuery> {
    return Promise.resolve({ source: this.name, text: `${this.kind} ${table}`, params: [] });
  }

  /** The native queries one scan ran, as one entry naming what was scanned. */
  protected ranFor(what: string, queries: NativeQuery[]): NativeQuery {
    return {
      source: this.name,
      text: `${what}${queries.length ? `: ${queries.map((q) => q.text).join('; ')}` : ''}`,
      params: queries.flatMap((q) => q.params),
    };
  }
}
