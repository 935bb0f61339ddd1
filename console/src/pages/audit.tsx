import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, getJson } from '../api';
import { DataTable } from '../parts/data-table';
import { Field } from '../parts/field';
import { cellText } from '../parts/format';
import { Problem } from '../parts/status';
import { type AuditRecord } from '../types';

const FILTERS = ['subject', 'role', 'view', 'status'] as const;
const COLUMNS = ['time', 'subject', 'role', 'action', 'view', 'decision', 'status', 'rowCount', 'latencyMs', 'simulatedBy'] as const;
const TAIL_MS = 3_000;
/** Records the page keeps while tailing; older ones scroll away. */
const KEEP = 500;

export function AuditPage() {
  const [search, setSearch] = useState(new URLSearchParams({ limit: '50' }));
  const [tail, setTail] = useState(false);
  const [records, setRecords] = useState<AuditRecord[]>();
  const [problem, setProblem] = useState<ApiError>();
  const newest = useRef('0');

  useEffect(() => {
    let current = true;
    const answer = (fresh: AuditRecord[], tailing: boolean) => {
      if (!current) return;
      setProblem(undefined);
      if (fresh.length > 0) newest.current = fresh.reduce((m, r) => (BigInt(r.id) > BigInt(m) ? r.id : m), newest.current);
      // A search answers newest first; a tail (after=<id>) answers oldest first.
      setRecords((old) => (tailing ? [...fresh.reverse(), ...(old ?? [])].slice(0, KEEP) : fresh));
    };
    const fail = (err: ApiError) => current && setProblem(err);
    newest.current = '0';
    getJson<{ records: AuditRecord[] }>(`/admin/api/audit?${search}`).then((a) => answer(a.records, false), fail);
    const timer = tail
      ? setInterval(() => {
          const params = new URLSearchParams(search);
          params.set('after', newest.current);
          getJson<{ records: AuditRecord[] }>(`/admin/api/audit?${params}`).then((a) => answer(a.records, true), fail);
        }, TAIL_MS)
      : undefined;
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
      // datetime-local is the browser's local time; the API takes an instant.
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
        <Field id="audit-from" label="From (local time)">
          <input id="audit-from" name="from" type="datetime-local" />
        </Field>
        <Field id="audit-to" label="To (local time)">
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
            <option value="error">error</option>
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
      {records && <Records records={records} tail={tail} />}
    </section>
  );
}

function Records({ records, tail }: { records: AuditRecord[]; tail: boolean }) {
  if (records.length === 0) return <p class="muted">No audit records match.</p>;
  return (
    <div class="audit-records">
      <DataTable
        rows={records}
        columns={COLUMNS}
        caption={tail ? 'Newest audit records, refreshed live' : 'Audit records matching the search'}
        render={(r, c) => (c === 'time' ? `${r.time.slice(0, 19).replace('T', ' ')}Z` : cellText(r[c]))}
      />
    </div>
  );
}
