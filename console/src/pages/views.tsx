import { useState } from 'preact/hooks';
import { DataTable } from '../parts/data-table';
import { Figures } from '../parts/figures';
import { cellText, pretty } from '../parts/format';
import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';

interface ViewInfo {
  name: string;
  engine?: string;
  key?: string | string[];
  columns?: Record<string, unknown>[];
  sql?: string;
  deprecation?: unknown;
  explain?: unknown;
  [more: string]: unknown;
}

export function ViewsPage() {
  const { data, error, loading } = useApi<{ views: ViewInfo[] }>('/admin/api/views');
  const [chosen, choose] = useState<string>();
  const views = data?.views ?? [];
  const view = views.find((v) => v.name === chosen) ?? views[0];
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Views</h1>
      </header>
      <Pending error={error} loading={loading} />
      {views.length > 0 && (
        <div class="split">
          <nav aria-label="Views" class="side-list">
            <ul class="plain">
              {views.map((v) => (
                <li key={v.name}>
                  <button type="button" class="link" aria-current={v === view ? 'true' : undefined} onClick={() => choose(v.name)}>
                    {v.name}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          {view && <ViewDetail view={view} />}
        </div>
      )}
    </section>
  );
}

function ViewDetail({ view }: { view: ViewInfo }) {
  const { name, engine, key, columns = [], sql, deprecation, explain, ...more } = view;
  return (
    <article class="detail" aria-labelledby="view-title">
      <h2 id="view-title">{name}</h2>
      <dl class="facts">
        <dt>Engine</dt>
        <dd>{cellText(engine)}</dd>
        <dt>Key</dt>
        <dd>{Array.isArray(key) ? key.join(', ') : cellText(key)}</dd>
        <dt>Deprecation</dt>
        <dd>{deprecation ? cellText(deprecation) : 'not deprecated'}</dd>
      </dl>
      <h3>Columns and lineage</h3>
      <DataTable rows={columns} caption={`Columns of ${name}`} />
      {sql && (
        <>
          <h3>SQL</h3>
          <pre class="code">{sql}</pre>
        </>
      )}
      <h3>Explain of a sample query</h3>
      {explain === undefined ? (
        <p class="muted">No plan for this view.</p>
      ) : (
        <pre class="code">{typeof explain === 'string' ? explain : pretty(explain)}</pre>
      )}
      <Figures figures={more} />
    </article>
  );
}
