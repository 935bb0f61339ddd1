import { type FunctionComponent } from 'preact';
import { AuditPage } from './pages/audit';
import { CheckPage } from './pages/check';
import { OverviewPage } from './pages/overview';
import { RolesPage } from './pages/roles';
import { SimulatorPage } from './pages/simulator';
import { ViewsPage } from './pages/views';

/** The console's pages, in navigation order; each lives at /admin/#/<path>. */
export const ROUTES: { path: string; title: string; page: FunctionComponent }[] = [
  { path: '', title: 'Overview', page: OverviewPage },
  { path: 'views', title: 'Views', page: ViewsPage },
  { path: 'roles', title: 'Roles', page: RolesPage },
  { path: 'simulator', title: 'Simulator', page: SimulatorPage },
  { path: 'audit', title: 'Audit', page: AuditPage },
  { path: 'check', title: 'Config check', page: CheckPage },
];

/** The route a location hash names ("#/views" -> views); anything else is the overview. */
export function routeOf(hash: string) {
  const path = hash.replace(/^#\/?/, '');
  return ROUTES.find((r) => r.path === path) ?? ROUTES[0]!;
}
