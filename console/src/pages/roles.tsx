import { cellText } from '../parts/format';
import { label } from '../parts/figures';
import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';

/** One role's rights on one view: fields, masks, row filter, limits, aggregate/sql/export/write. */
type Rights = Record<string, unknown> & { role: string; view: string };

export interface RolesAnswer {
  roles: string[];
  views: string[];
  grants: Rights[];
}

export function RolesPage() {
  const { data, error, loading } = useApi<RolesAnswer>('/admin/api/roles');
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Roles</h1>
      </header>
      <p class="muted">Each role's rights on each view. An empty cell means the role cannot see the view at all.</p>
      <Pending error={error} loading={loading} />
      {data && <Matrix answer={data} />}
    </section>
  );
}

function Matrix({ answer }: { answer: RolesAnswer }) {
  const cell = (role: string, view: string) => answer.grants.find((g) => g.role === role && g.view === view);
  return (
    <div class="scroll">
      <table class="matrix">
        <caption class="sr-only">Role by view</caption>
        <thead>
          <tr>
            <th scope="col">Role \ view</th>
            {answer.views.map((v) => (
              <th scope="col" key={v}>
                {v}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {answer.roles.map((role) => (
            <tr key={role}>
              <th scope="row">{role}</th>
              {answer.views.map((view) => (
                <td key={view}>
                  <RightsCell rights={cell(role, view)} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RightsCell({ rights }: { rights: Rights | undefined }) {
  if (!rights) return <span class="muted">—</span>;
  const { role: _role, view: _view, ...facts } = rights;
  return (
    <dl class="rights">
      {Object.entries(facts)
        .filter(([, v]) => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => (
          <div key={k}>
            <dt>{label(k)}</dt>
            <dd>{v === true ? 'yes' : Array.isArray(v) ? v.map(cellText).join(', ') : cellText(v)}</dd>
          </div>
        ))}
    </dl>
  );
}
