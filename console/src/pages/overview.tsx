import { useEffect } from 'preact/hooks';
import { Figures } from '../parts/figures';
import { number } from '../parts/format';
import { LineChart } from '../parts/line-chart';
import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';
import { type Overview, type SeriesPoint } from '../types';

const REFRESH_MS = 30_000;

export function OverviewPage() {
  const { data, error, loading, reload } = useApi<Overview>('/admin/api/overview');
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Overview</h1>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </header>
      <Pending error={error} loading={loading && !data} />
      {data && <OverviewBody overview={data} />}
    </section>
  );
}

function OverviewBody({ overview }: { overview: Overview }) {
  const { stores, series = [], ...figures } = overview;
  return (
    <>
      <h2>Stores</h2>
      <table>
        <caption class="sr-only">Each store's health and latency</caption>
        <thead>
          <tr>
            <th scope="col">Store</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Latency (ms)
            </th>
          </tr>
        </thead>
        <tbody>
          {stores.map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.kind}</td>
              <td>
                <span class={`badge ${s.status === 'up' || s.status === 'ok' ? 'good' : 'bad'}`}>{s.status}</span>
                {s.error ? <span class="muted"> {s.error}</span> : null}
              </td>
              <td class="num">{number(s.latencyMs, 1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Traffic</h2>
      <Figures figures={figures} />
      <h2>Last hour</h2>
      <Charts series={series} />
    </>
  );
}

function Charts({ series }: { series: SeriesPoint[] }) {
  const times = series.map((p) => (typeof p.t === 'number' ? p.t : Date.parse(p.t)));
  return (
    <div class="charts">
      <LineChart
        title="Requests per minute"
        unit="requests"
        times={times}
        lines={[{ label: 'requests', tone: 'chart-line-1', values: series.map((p) => p.requests) }]}
      />
      <LineChart
        title="Latency percentiles"
        unit="ms"
        times={times}
        lines={[
          { label: 'p50', tone: 'chart-line-1', values: series.map((p) => p.p50) },
          { label: 'p95', tone: 'chart-line-2', values: series.map((p) => p.p95) },
          { label: 'p99', tone: 'chart-line-3', values: series.map((p) => p.p99) },
        ]}
      />
      <LineChart
        title="Error rate"
        unit="% of requests"
        times={times}
        lines={[
          {
            label: 'errors',
            tone: 'chart-line-3',
            values: series.map((p) => (p.requests > 0 ? (100 * p.errors) / p.requests : null)),
          },
        ]}
      />
    </div>
  );
}
