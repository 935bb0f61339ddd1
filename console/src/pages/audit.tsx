import { useEffect, useState } from 'preact/hooks';
import { type ApiError, getJson } from '../api';
import { DataTable } from '../parts/data-table';
import { Field } from '../parts/field';
import { Problem } from '../parts/status';
import { type Row } from '../types';

const FILTERS = ['subject', 'role', 'view', 'status'] as const;
const TAIL_MS = 3_000;

export function AuditPage() {
  const [search, setSearch] = useState<URLSearchParams>(new URLSearchParams({ limit: '50' }));
  const [tail, setTail] = useState(false);
  const [records, setRecords] = useState<Row[]>();
  const [problem, setProblem] = useState<ApiError>();

  useEffect(() => {
    let current = true;
    const load = () => {
      const params = new URLSearchParams(search);
      if (tail) params.set('tail', 'true');
      getJson<{ records: Row[] }>(`/admin/api/audit?${params}`).then(
        (answer) => {
          if (!current) return;
          setRecords(answer.records);
          setProblem(undefined);
        },
        (err: ApiError) => current && setProblem(err),
      );
    };
    load();
    const timer = tail ? setInterval(load, TAIL_MS) : undefined;
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [search, tail]);

  function submit(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const params = new URLSearchParams();
    for (const [name, value] of form) {
      const text = String(value).trim();
      if (!text) continue;
      params.set(name, name === 'from' || name === 'to' ? new Date(text).toISOString() : text);
    }
    setSearch(params);
  }

  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Audit</h1>
      </header>
      <form class="filters" onSubmit={submit}>
        <Field id="audit-from" label="From">
          <input id="audit-from" name="from" type="datetime-local" />
        </Field>
        <Field id="audit-to" label="To">
          <input id="audit-to" name="to" type="datetime-local" />
        </Field>
        {FILTERS.map((name) => (
          <Field key={name} id={`audit-${name}`} label={name.charAt(0).toUpperCase() + name.slice(1)}>
            <input id={`audit-${name}`} name={name} type="text" spellcheck={false} />
          </Field>
        ))}
        <Field id="audit-decision" label="Decision">
          <select id="audit-decision" name="decision">
            <option value="">any</option>
            <option value="allow">allow</option>
            <option value="deny">deny</option>
          </select>
        </Field>
        <Field id="audit-limit" label="Limit">
          <input id="audit-limit" name="limit" type="number" min={1} max={1000} value="50" />
        </Field>
        <button type="submit" class="primary">
          Search
        </button>
        <label class="inline">
          <input type="checkbox" checked={tail} onChange={(e) => setTail((e.currentTarget as HTMLInputElement).checked)} />
          Live tail (every {TAIL_MS / 1000} s)
        </label>
      </form>
      {problem && <Problem error={problem} />}
      {records && (
        <DataTable rows={records} caption={tail ? 'Newest audit records, refreshed live' : 'Audit records matching the search'} />
      )}
    </section>
  );
}
