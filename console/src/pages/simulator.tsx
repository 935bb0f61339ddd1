import { useState } from 'preact/hooks';
import { type ApiError, postJson } from '../api';
import { DataTable } from '../parts/data-table';
import { Field } from '../parts/field';
import { pretty } from '../parts/format';
import { Pending, Problem } from '../parts/status';
import { useApi } from '../parts/use-api';
import { type CallerView, type RolesAnswer, type Simulation } from '../types';

type Caller = 'role' | 'token';
type Target = 'view' | 'sql';

export function SimulatorPage() {
  const roles = useApi<RolesAnswer>('/admin/api/roles');
  const [caller, setCaller] = useState<Caller>('role');
  const [target, setTarget] = useState<Target>('view');
  const [result, setResult] = useState<Simulation>();
  const [problem, setProblem] = useState<Error>();
  const [running, setRunning] = useState(false);

  async function run(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setProblem(undefined);
    let body: Record<string, unknown>;
    try {
      body = { ...callerOf(caller, form), ...targetOf(target, form) };
    } catch (err) {
      setProblem(err as Error);
      return;
    }
    setRunning(true);
    try {
      setResult(await postJson<Simulation>('/admin/api/simulate', body));
    } catch (err) {
      setResult(undefined);
      setProblem(err as ApiError);
    } finally {
      setRunning(false);
    }
  }

  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Simulator</h1>
      </header>
      <p class="muted">
        See exactly what a caller sees before granting it: their schema, the MCP tools an LLM would receive, and the first rows as the
        gateway answers them. Each run is audited with your identity and the simulated one.
      </p>
      <Pending error={roles.error} loading={roles.loading} />
      <form class="stack" onSubmit={(e) => void run(e)}>
        <fieldset>
          <legend>Caller</legend>
          <Choice name="caller" value={caller} onChange={setCaller} options={{ role: 'A role and claims', token: 'A pasted token' }} />
          {caller === 'role' ? (
            <>
              <Pick id="sim-role" label="Role" name="role" options={(roles.data?.roles ?? []).map((r) => r.role)} />
              <Field id="sim-claims" label="Claims (JSON object)">
                <textarea id="sim-claims" name="claims" rows={3} spellcheck={false} placeholder='{"tenant_id": "t1"}' />
              </Field>
            </>
          ) : (
            <Field id="sim-token" label="Token (a JWT as an API caller would send it)">
              <textarea id="sim-token" name="token" rows={4} required spellcheck={false} autocomplete="off" />
            </Field>
          )}
        </fieldset>
        <fieldset>
          <legend>What to read</legend>
          <Choice name="target" value={target} onChange={setTarget} options={{ view: 'A view', sql: 'A SQL query' }} />
          {target === 'view' ? (
            <>
              <Pick id="sim-view" label="View" name="view" options={roles.data?.views ?? []} />
              <Field id="sim-query" label="Query parameters (optional, as in a REST URL)">
                <input id="sim-query" name="query" type="text" spellcheck={false} placeholder="limit=5&order=customer_id" />
              </Field>
            </>
          ) : (
            <Field id="sim-sql" label="SQL">
              <textarea id="sim-sql" name="sql" rows={4} required spellcheck={false} placeholder="SELECT * FROM crm.customers LIMIT 5" />
            </Field>
          )}
        </fieldset>
        <div>
          <button type="submit" class="primary" disabled={running}>
            {running ? 'Running…' : 'Simulate'}
          </button>
        </div>
      </form>
      {problem && <Problem error={problem} />}
      {result && <SimulationResult result={result} />}
    </section>
  );
}

function callerOf(caller: Caller, form: FormData): Record<string, unknown> {
  if (caller === 'token') return { token: String(form.get('token') ?? '').trim() };
  const text = String(form.get('claims') ?? '').trim();
  let claims: unknown = {};
  if (text) {
    try {
      claims = JSON.parse(text);
    } catch {
      throw new Error('Claims must be a JSON object, for example {"tenant_id": "t1"}.');
    }
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new Error('Claims must be a JSON object, for example {"tenant_id": "t1"}.');
  }
  return { role: String(form.get('role') ?? ''), claims };
}

function targetOf(target: Target, form: FormData): Record<string, unknown> {
  if (target === 'sql') return { sql: String(form.get('sql') ?? '') };
  const query = Object.fromEntries(new URLSearchParams(String(form.get('query') ?? '').replace(/^\?/, '')));
  return { view: String(form.get('view') ?? ''), query };
}

function Pick(props: { id: string; label: string; name: string; options: string[] }) {
  return (
    <Field id={props.id} label={props.label}>
      <select id={props.id} name={props.name} required>
        {props.options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </Field>
  );
}

function Choice<T extends string>(props: { name: string; value: T; onChange: (v: T) => void; options: Record<T, string> }) {
  return (
    <div class="choice">
      {(Object.entries(props.options) as [T, string][]).map(([value, text]) => (
        <label key={value} class="inline">
          <input type="radio" name={props.name} value={value} checked={props.value === value} onChange={() => props.onChange(value)} />
          {text}
        </label>
      ))}
    </div>
  );
}

function SimulationResult({ result }: { result: Simulation }) {
  const { identity, rows } = result;
  return (
    <div class="result" aria-live="polite">
      <p class="muted">
        As <strong>{identity.subject}</strong> with role <strong>{identity.role}</strong> and claims{' '}
        <code>{JSON.stringify(identity.claims)}</code>.
      </p>
      {rows && (
        <>
          <h2>
            Rows <span class={`badge ${rows.status < 400 ? 'good' : 'bad'}`}>HTTP {rows.status}</span>
          </h2>
          {rows.body.error ? (
            <p class="problem">The gateway would refuse: {rows.body.error.message}</p>
          ) : (
            <DataTable rows={rows.body.resource ?? []} caption="The first rows as the gateway answers this caller" />
          )}
        </>
      )}
      <h2>
        MCP tools/list <span class="badge">{result.toolsTokens} tokens</span>
      </h2>
      <ul class="tools">
        {result.tools.map((t) => (
          <li key={t.name}>
            <code>{t.name}</code> {t.description}
          </li>
        ))}
      </ul>
      <details>
        <summary>The tools/list answer as JSON</summary>
        <pre class="code">{pretty({ tools: result.tools })}</pre>
      </details>
      <h2>Schema</h2>
      {result.schema.length === 0 && <p class="muted">This caller sees no view at all.</p>}
      {result.schema.map((view) => (
        <SchemaView key={view.id} view={view} />
      ))}
    </div>
  );
}

function SchemaView({ view }: { view: CallerView }) {
  return (
    <section aria-label={view.id}>
      <h3>{view.id}</h3>
      {view.problem ? (
        <p class="problem">{view.problem}</p>
      ) : (
        <ul class="plain columns">
          {(view.columns ?? []).map((c) => (
            <li key={c.name}>
              <code>{c.name}</code> <span class="muted">{c.type}</span>
              {c.masked && <span class="badge">masked{c.mask ? `: ${c.mask}` : ''}</span>}
              {!c.filterable && <span class="badge">not filterable</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
