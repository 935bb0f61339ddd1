import { type ComponentChildren } from 'preact';
import { cellText } from '../parts/format';
import { Pending } from '../parts/status';
import { useApi } from '../parts/use-api';
import { type RoleCell, type RoleLimit, type RolesAnswer } from '../types';

export function RolesPage() {
  const { data, error, loading } = useApi<RolesAnswer>('/admin/api/roles');
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Roles</h1>
      </header>
      <p class="muted">Each role's rights on each view. An empty cell means the role does not see the view at all.</p>
      <Pending error={error} loading={loading} />
      {data && <Matrix answer={data} />}
    </section>
  );
}

function Matrix({ answer }: { answer: RolesAnswer }) {
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
          {answer.roles.map((r) => (
            <tr key={r.role}>
              <th scope="row">
                {r.role}
                {r.description && <div class="muted small">{r.description}</div>}
                {r.metrics && <div class="muted small">may read /metrics</div>}
              </th>
              {answer.views.map((view) => (
                <td key={view}>
                  <Rights cell={r.views[view]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Rights({ cell }: { cell: RoleCell | undefined }) {
  if (!cell) return <span class="muted">—</span>;
  if (cell.problem) return <span class="problem small">{cell.problem}</span>;
  const rights = Object.entries(cell.rights ?? {}).filter(([, v]) => v !== false && v !== undefined && v !== null);
  const masks = Object.entries(cell.masks ?? {});
  const limits = Object.entries(cell.limits ?? {}).filter(([, v]) => v !== null);
  return (
    <dl class="rights">
      <Fact name="May">{rights.map(([k, v]) => (v === true ? k : `${k} ${cellText(v)}`)).join(', ') || 'nothing'}</Fact>
      <Fact name="Fields">{cell.fields ? cell.fields.join(', ') : 'all'}</Fact>
      {masks.length > 0 && <Fact name="Masks">{masks.map(([f, m]) => `${f} (${m})`).join(', ')}</Fact>}
      {cell.rowFilter && (
        <Fact name="Rows">
          <code>{cell.rowFilter}</code>
        </Fact>
      )}
      {limits.length > 0 && <Fact name="Limits">{limits.map(([k, v]) => limit(k, v)).join(', ')}</Fact>}
    </dl>
  );
}

/** maxLimit 100, rateLimit 60/minute, cacheTtl 30 s. */
function limit(name: string, value: RoleLimit): string {
  if (typeof value === 'object' && value !== null) return `${name} ${value.text}`;
  if (name.endsWith('Ms') && typeof value === 'number') return `${name.slice(0, -2)} ${value / 1000} s`;
  return `${name} ${value}`;
}

function Fact({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}
