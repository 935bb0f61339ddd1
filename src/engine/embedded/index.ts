// The embedded federation engine (docs/engine.md): builds a View from a service's SQL view
// definition. parse.ts -> analyze.ts check the SQL once (when the view loads); for each request
// optimize.ts plans, execute.ts runs, explain.ts prints.
import type { Config, ViewConfig } from '../../config/schema.js';
import { viewIdOf } from '../../config/view-id.js';
import type { Sources } from '../../sources/index.js';
import type { ColumnInfo } from '../../sources/source.js';
import { StoreError } from '../../errors.js';
import type { Source } from '../../sources/source.js';
import { aggregateBelowJoin, explainBelowJoin, type JoinedView } from '../partial-aggregate.js';
import type {
  AggregateQuery,
  AggregateResult,
  EngineQuery,
  EngineResult,
  ExecuteOptions,
  ExplainResult,
  View,
  ViewColumn,
  ViewEngine,
} from '../view.js';
import { analyzeView } from './analyze.js';
import type { OutputColumn, ViewModel } from './ast.js';
import { outputLineage } from './column-lineage.js';
import { ViewDefinitionError } from './errors.js';
import { castColumn } from './expr-tools.js';
import { executePlan, joinScanner } from './execute.js';
import { explainFailure, renderPlan } from './explain.js';
import { planRequest } from './optimize.js';
import { parseViewSql } from './parse.js';
import type { Plan } from './plan.js';
import { definitionErrorOf, Refusal } from './refusal.js';
import type { TableLookup } from './scope.js';
import { castInjective, columnTypeOf } from './sql-types.js';

export interface SqlViewSpec {
  service: string;
  name: string;
  view: ViewConfig;
  config: Config;
  sources: Sources;
}

export interface EmbeddedOptions {
  /** false: no filter, order, limit, inferred predicate, bind join or single-source join is sent to a store (for differential tests). */
  pushdown?: boolean;
}

export async function buildEmbeddedView(spec: SqlViewSpec, options: EmbeddedOptions = {}): Promise<View> {
  const id = viewIdOf(spec.service, spec.name);
  const sql = spec.view.sql;
  const model = await loadModel(id, sql, spec);
  const names = model.outputs.map((o) => o.name);
  const key = spec.view.key ?? deriveKey(model);
  for (const k of key) {
    if (!names.includes(k))
      throw new ViewDefinitionError(id, sql, undefined, `key column "${k}" is not an output column (outputs: ${names.join(', ')})`);
  }
  for (const c of Object.keys(spec.view.columns ?? {})) {
    if (!names.includes(c))
      throw new ViewDefinitionError(id, sql, undefined, `columns: "${c}" is not an output column (outputs: ${names.join(', ')})`);
  }
  return {
    service: spec.service,
    name: spec.name,
    id,
    description: spec.view.description ?? '',
    key,
    columns: model.outputs.map((o) => {
      const stored = storeColumn(model, o.expr);
      return {
        ...viewColumn(o),
        ...optional(spec.view.columns?.[o.name]?.description ?? stored?.description),
        ...(stored ? { storeType: stored.nativeType } : {}),
        lineage: outputLineage(model, o.expr),
      };
    }),
    engine: new EmbeddedEngine(model, spec, options.pushdown ?? true),
  };
}

function viewColumn(o: OutputColumn): ViewColumn {
  return {
    name: o.name,
    type: columnTypeOf(o.type),
    nullable: o.nullable,
    ...(o.type === 'int2' || o.type === 'int4' || o.type === 'int8' ? { intWidth: o.type } : {}),
  };
}

function optional(description: string | undefined): { description?: string } {
  return description ? { description } : {};
}

/** The store's column an output reads unchanged: it keeps that column's comment and store type. */
function storeColumn(model: ViewModel, expr: ViewModel['outputs'][number]['expr']): ColumnInfo | undefined {
  if (expr.kind !== 'column') return undefined;
  return model.relations.find((r) => r.index === expr.rel)?.info.columns.find((c) => c.name === expr.column);
}

async function loadModel(id: string, sql: string, spec: SqlViewSpec): Promise<ViewModel> {
  const syntax = await parseViewSql(id, sql);
  const lookup: TableLookup = async (source, table, location) => {
    const cfg = spec.config.sources[source];
    if (!cfg) throw new Refusal(`source "${source}" is not configured (sources: ${Object.keys(spec.config.sources).join(', ')})`, location);
    try {
      const store = spec.sources.get(source);
      return { kind: store.kind, info: await store.introspect(table) };
    } catch (err) {
      // A missing table is the view's fault; a store that is down is retried on the next use.
      if (err instanceof StoreError && err.reason === 'failed') throw new Refusal(err.message, location);
      throw err;
    }
  };
  try {
    return await analyzeView(id, sql, syntax, lookup);
  } catch (err) {
    throw definitionErrorOf(id, sql, err);
  }
}

/**
 * The key when the config gives none: a grouped view's group keys, or every relation's primary
 * key when all of them are output (as the reference view's customer_id, order_id, event_id).
 */
function deriveKey(model: ViewModel): string[] {
  if (model.grouping) {
    const keys = model.grouping.keys.map((_, i) => model.outputs.find((o) => o.expr.kind === 'slot' && o.expr.slot === `g${i}`)?.name);
    return keys.length > 0 && keys.every((k) => k !== undefined) ? (keys as string[]) : [];
  }
  const key: string[] = [];
  for (const r of model.relations) {
    if (r.primaryKey.length === 0) return [];
    for (const pk of r.primaryKey) {
      const out = model.outputs.find((o) => {
        const c = castColumn(o.expr);
        return c && c.rel === r.index && c.column === pk && (o.expr.kind === 'column' || castInjective(c.type, o.expr.type));
      });
      if (!out) return [];
      key.push(out.name);
    }
  }
  return key;
}

export class EmbeddedEngine implements ViewEngine {
  private readonly columns: Map<string, ViewColumn>;

  constructor(
    private readonly model: ViewModel,
    private readonly spec: SqlViewSpec,
    private readonly pushdown: boolean,
  ) {
    this.columns = new Map(model.outputs.map((o) => [o.name, viewColumn(o)]));
  }

  /** The checked view definition. */
  get definition(): ViewModel {
    return this.model;
  }

  /** The plan this engine would run for `q` (for tests and tools; explain runs it). */
  plan(q: EngineQuery): Plan {
    const engine = this.spec.config.engine;
    return planRequest(this.model, q, {
      pushdown: this.pushdown,
      rowBudget: this.spec.view.rowBudget ?? engine.rowBudget,
      batchSize: engine.batchSize,
      concurrency: engine.concurrency,
      joinCapable: (name) => joinScanner(this.spec.sources.get(name)) !== undefined,
      offer: (name, table, work) => this.spec.sources.get(name).offer(table, work),
    });
  }

  async execute(q: EngineQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    return (await executePlan(this.plan(q), this.source, options)).result;
  }

  /** Aggregates below the join where that is sound (docs/engine.md, "Aggregate pushdown"). */
  async aggregate(q: EngineQuery, agg: AggregateQuery, options: ExecuteOptions = {}): Promise<AggregateResult | undefined> {
    return aggregateBelowJoin(this.joined, q, agg, options);
  }

  async explainAggregate(q: EngineQuery, agg: AggregateQuery, options: ExecuteOptions = {}): Promise<ExplainResult | undefined> {
    return explainBelowJoin(this.joined, q, agg, options);
  }

  private get joined(): JoinedView {
    return { pushdown: this.pushdown, columns: this.columns, plan: (q) => this.plan(q), source: this.source };
  }

  private readonly source = (name: string): Source => this.spec.sources.get(name);

  /** Runs the query (so every native query is known, bind-join batches included) and describes it. */
  async explain(q: EngineQuery, options: ExecuteOptions = {}): Promise<ExplainResult> {
    const plan = this.plan(q);
    try {
      const { result, stats } = await executePlan(plan, this.source, options);
      return {
        plan: {
          engine: 'embedded',
          text: renderPlan(plan, stats),
          fetched: result.fetched,
          returned: result.rows.length,
          hasMore: result.hasMore,
        },
        queries: result.queries,
      };
    } catch (err) {
      return explainFailure(plan, err);
    }
  }
}
