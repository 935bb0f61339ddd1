import { pretty } from '../parts/format';
import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';

export function CheckPage() {
  const { data, error, loading, reload } = useApi<Record<string, unknown>>('/admin/api/check');
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Config check</h1>
        <button type="button" onClick={reload}>
          Run again
        </button>
      </header>
      <p class="muted">
        The results of <code>viewgate check</code> and <code>viewgate contract check</code> on the running config.
      </p>
      <Pending error={error} loading={loading} />
      {data &&
        Object.entries(data).map(([name, result]) => (
          <section key={name} aria-label={name}>
            <h2>{name}</h2>
            <pre class="code">{typeof result === 'string' ? result : pretty(result)}</pre>
          </section>
        ))}
    </section>
  );
}
