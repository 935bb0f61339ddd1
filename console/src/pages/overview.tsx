import { useEffect } from 'preact/hooks';
import { number, percent } from '../parts/format';
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
  const failed = overview.refreshes.filter((r) => !r.ok);
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
              Ping (ms)
            </th>
          </tr>
        </thead>
        <tbody>
          {overview.stores.map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.kind}</td>
              <td>
                <span class={`badge ${s.status === 'up' ? 'good' : 'bad'}`}>{s.status}</span>
              </td>
              <td class="num">{number(s.latencyMs, 1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Last hour</h2>
      <dl class="figures">
        <Figure label="Requests per minute" value={number(overview.requestRate, 1)} />
        <Figure label="Error rate (5xx)" value={percent(overview.errorRate)} />
        <Figure label="Cache hit ratio" value={percent(overview.cacheHitRatio, 'no lookups yet')} />
        <Figure
          label="Hub refreshes"
          value={
            overview.refreshes.length === 0 ? 'none' : failed.length === 0 ? `${overview.refreshes.length} ok` : `${failed.length} failing`
          }
          detail={failed.map((r) => `${r.view}: last success ${r.lastSuccess ?? 'never'}`)}
        />
        <Figure
          label="Views out of contract"
          value={overview.outOfContract.length === 0 ? 'none' : String(overview.outOfContract.length)}
          detail={overview.outOfContract}
        />
      </dl>
      <Charts series={overview.series} />
    </>
  );
}

function Figure({ label, value, detail = [] }: { label: string; value: string; detail?: string[] }) {
  return (
    <div class="figure">
      <dt>{label}</dt>
      <dd>
        {value}
        {detail.length > 0 && (
          <ul class="plain detail-list">
            {detail.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        )}
      </dd>
    </div>
  );
}

function Charts({ series }: { series: SeriesPoint[] }) {
  const times = series.map((p) => Date.parse(p.t));
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
        title="Error rate (5xx)"
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
