import { useState } from 'preact/hooks';
import { cellText, pretty } from '../parts/format';
import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';
import { type ViewInfo } from '../types';

export function ViewsPage() {
  const { data, error, loading } = useApi<{ views: ViewInfo[] }>('/admin/api/views');
  const [chosen, choose] = useState<string>();
  const views = data?.views ?? [];
  const view = views.find((v) => v.id === chosen) ?? views[0];
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
                <li key={v.id}>
                  <button type="button" class="link" aria-current={v === view ? 'true' : undefined} onClick={() => choose(v.id)}>
                    {v.id}
                  </button>
                  {v.deprecated && <span class="badge">deprecated</span>}
                  {(v.outOfContract || v.problem) && <span class="badge bad">{v.problem ? 'broken' : 'drift'}</span>}
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
  return (
    <article class="detail" aria-labelledby="view-title">
      <h2 id="view-title">{view.id}</h2>
      {view.description && <p>{view.description}</p>}
      {view.problem && <p class="problem">This view does not build: {view.problem}</p>}
      <dl class="facts">
        <dt>Engine</dt>
        <dd>{view.engine}</dd>
        <dt>Key</dt>
        <dd>{view.key ? view.key.join(', ') : '—'}</dd>
        <dt>Deprecation</dt>
        <dd>{deprecation(view.deprecated)}</dd>
        <dt>Contract</dt>
        <dd>{view.outOfContract ? 'out of contract: the stores no longer match the view' : 'as recorded'}</dd>
      </dl>
      {view.columns && (
        <>
          <h3>Columns and lineage</h3>
          <table>
            <caption class="sr-only">Columns of {view.id}</caption>
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">Type</th>
                <th scope="col">Null</th>
                <th scope="col">Read from</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {view.columns.map((c) => (
                <tr key={c.name}>
                  <th scope="row">{c.name}</th>
                  <td>{c.type}</td>
                  <td>{c.nullable ? 'yes' : 'no'}</td>
                  <td>{c.lineage.length > 0 ? c.lineage.join(', ') : '—'}</td>
                  <td>{c.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {view.sql && (
        <>
          <h3>SQL</h3>
          <pre class="code">{view.sql}</pre>
        </>
      )}
      {view.explain && <Explain explain={view.explain} />}
    </article>
  );
}

function Explain({ explain }: { explain: NonNullable<ViewInfo['explain']> }) {
  return (
    <>
      <h3>Explain of a sample query</h3>
      <p class="muted">
        The query <code>{new URLSearchParams(Object.entries(explain.query).map(([k, v]) => [k, cellText(v)])).toString()}</code> read{' '}
        {fetched(explain.fetched)} and returned {explain.returned} rows.
      </p>
      {explain.error && <p class="problem">It failed: {explain.error}</p>}
      <pre class="code">{typeof explain.plan === 'string' ? explain.plan : pretty(explain.plan)}</pre>
      <h4>Native queries sent</h4>
      {explain.queries.length === 0 && <p class="muted">None.</p>}
      {explain.queries.map((q, i) => (
        <div key={i}>
          <p class="muted">
            To <strong>{q.source}</strong>
            {q.params.length > 0 ? `, parameters ${cellText(q.params)}` : ''}
          </p>
          <pre class="code">{q.text}</pre>
        </div>
      ))}
    </>
  );
}

/** { crm: 6, app: 7 } -> "6 rows from crm, 7 from app". */
function fetched(bySource: Record<string, number>): string {
  const parts = Object.entries(bySource).map(([source, n], i) => `${n} ${i === 0 ? 'rows ' : ''}from ${source}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing from the stores';
}

function deprecation(d: ViewInfo['deprecated']): string {
  if (!d) return 'not deprecated';
  const parts = ['deprecated'];
  if (d.since) parts.push(`since ${d.since}`);
  if (d.sunset) parts.push(`sunset ${d.sunset}`);
  if (d.successor) parts.push(`use ${d.successor} instead`);
  return parts.join(', ');
}
