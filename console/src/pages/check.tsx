import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';
import { type CheckAnswer } from '../types';

export function CheckPage() {
  const { data, error, loading, reload } = useApi<CheckAnswer>('/admin/api/check');
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Config check</h1>
        <button type="button" onClick={reload}>
          Run again
        </button>
      </header>
      <Pending error={error} loading={loading && !data} />
      {data && (
        <>
          <h2>
            viewgate check <Verdict ok={data.check.ok} />
          </h2>
          <pre class="code">{data.check.lines.join('\n')}</pre>
          <Contract report={data.contract} />
        </>
      )}
    </section>
  );
}

function Contract({ report }: { report: CheckAnswer['contract'] }) {
  if ('unreadable' in report) {
    return (
      <>
        <h2>viewgate contract check</h2>
        <p class="problem">No contract to compare with: {report.unreadable}</p>
      </>
    );
  }
  return (
    <>
      <h2>
        viewgate contract check <Verdict ok={report.ok} />
      </h2>
      <p class="muted">
        Against {report.contract}: {report.summary.breaking} breaking and {report.summary.compatible} compatible changes.
      </p>
      {report.changes.length > 0 && (
        <table>
          <caption class="sr-only">Changes against the recorded contract</caption>
          <thead>
            <tr>
              <th scope="col">Severity</th>
              <th scope="col">View</th>
              <th scope="col">Role</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {report.changes.map((c, i) => (
              <tr key={i}>
                <td>
                  <span class={`badge ${c.severity === 'breaking' ? 'bad' : ''}`}>{c.severity}</span>
                </td>
                <td>{c.view ?? 'any'}</td>
                <td>{c.role ?? 'every role'}</td>
                <td>{c.change}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Verdict({ ok }: { ok: boolean }) {
  return <span class={`badge ${ok ? 'good' : 'bad'}`}>{ok ? 'ok' : 'problems'}</span>;
}
