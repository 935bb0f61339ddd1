// The console in a real browser (Debian's Chromium driven by playwright-core): a person signs in
// through a real OpenID Connect provider's login page, lands on the overview, visits every page,
// runs the simulator as the external role and sees masked e-mails and one tenant's rows, signs out;
// a person without an admin role is refused. Every page is saved as a screenshot for docs/console.md.
// Throughout, no request leaves 127.0.0.1 and the console causes no CSP violation or console error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveContract } from '../../src/commands/contract/live.js';
import { contractText, DEFAULT_CONTRACT_FILE } from '../../src/commands/contract/model.js';
import { startAdminScenario, USERS, type AdminScenario } from '../support/admin-console.js';
import { createReferenceStores, get, KEYS, type ReferenceStores } from '../support/reference.js';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let stores: ReferenceStores;
let scenario: AdminScenario;
let srv: AdminScenario['srv'];
let browser: Browser;
let workDir: string;
const startDir = process.cwd();

/** What a browser context did: every URL it asked for, and what its pages reported as errors. */
interface Watched {
  context: BrowserContext;
  page: Page;
  requests: string[];
  /** Answers of 400 and above, as "status path". */
  failures: string[];
  problems: string[];
}

beforeAll(async () => {
  stores = await createReferenceStores('console_browser');
  // The audit page searches the PostgreSQL audit sink: here the reference scenario's own PostgreSQL store.
  scenario = await startAdminScenario(stores.env, {
    edit: (doc) => doc.setIn(['audit'], doc.createNode({ sink: 'postgres', source: 'app' })),
    runtime: { auditSink: undefined },
  });
  srv = scenario.srv;
  // The config check compares with viewgate.contract.json in the server's working directory: a
  // snapshot of this very config, so the page shows a real comparison (and no path of this checkout).
  workDir = mkdtempSync(join(tmpdir(), 'vg-console-'));
  writeFileSync(join(workDir, DEFAULT_CONTRACT_FILE), contractText((await liveContract(srv.rt.config)).contract));
  process.chdir(workDir);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  process.chdir(startDir);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  await browser?.close();
  await scenario?.close();
  await stores?.drop();
});

/** Polls until the page shows what is expected: pages load their data (stores, plans, checks) after they open. */
function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 20_000 });
}

async function watchedContext(): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Runs before any page script (and outside the page's CSP): a violation is reported as a console error.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`,
  });
  const watched: Watched = { context, page: await context.newPage(), requests: [], failures: [], problems: [] };
  context.on('request', (r) => watched.requests.push(r.url()));
  context.on('response', (r) => {
    if (r.status() >= 400) watched.failures.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  watched.page.on('console', (m) => {
    if (m.type() === 'error') watched.problems.push(`${watched.page.url()}: ${m.text()}`);
  });
  watched.page.on('pageerror', (e) => watched.problems.push(`${watched.page.url()}: ${e.message}`));
  return watched;
}

/** From /admin through the provider's login form back to the console. */
async function signIn(page: Page, user: string): Promise<void> {
  await page.goto(`${srv.url}/admin`);
  await page.waitForURL((u) => u.origin === scenario.idp.issuer);
  await page.fill('#username', user);
  await page.fill('#password', USERS[user]!.password);
  await page.click('#sign-in');
}

async function visit(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: link, exact: true }).click();
  await eventually(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(heading);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

/** The problems reported on viewgate's pages (the identity provider's login page is not ours to judge). */
function fromViewgate(problems: string[]): string[] {
  return problems.filter((p) => p.startsWith(`${srv.url}/`));
}

function leftLoopback(requests: string[]): string[] {
  return requests.filter((u) => {
    const url = new URL(u);
    return !(url.protocol === 'data:' || url.protocol === 'about:' || url.hostname === '127.0.0.1');
  });
}

describe('the console in Chromium', () => {
  it('signs an admin in, shows every page, simulates the external role, signs out', async () => {
    // Some traffic for the overview's figures and charts.
    for (let i = 0; i < 12; i++) await get(`${srv.url}/api/v2/crm/_table/customers?limit=3`, { 'x-api-key': KEYS.internal });
    await get(`${srv.url}/api/v2/crm/_table/nothing`, { 'x-api-key': KEYS.internal });

    const { context, page, requests, failures, problems } = await watchedContext();
    try {
      await signIn(page, 'alice');
      await page.waitForURL(`${srv.url}/admin**`);
      await eventually(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Overview');
      await eventually(() => page.locator('header.top .who').textContent()).toBe('Alice Admin');
      const stores = page.getByRole('table', { name: "Each store's health and latency" });
      for (const name of ['analytics', 'app', 'crm']) await eventually(() => stores.getByRole('rowheader', { name }).count()).toBe(1);
      await eventually(() => page.locator('figure.chart svg').count()).toBe(3);
      // The request chart has drawn a line from the traffic above.
      await eventually(() => page.locator('figure.chart').first().locator('path.chart-line').getAttribute('d')).toMatch(/^M/);
      await screenshot(page, 'overview');

      await visit(page, 'Views', 'Views');
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'crm.customers' }).click();
      await eventually(() => page.locator('#view-title').textContent()).toBe('crm.customers');
      await eventually(() => page.getByRole('table', { name: 'Columns of crm.customers' }).count()).toBe(1);
      // The sample query's plan and native queries are this view's own: one MySQL query, no join.
      const detail = page.locator('article.detail');
      await eventually(() => detail.textContent()).toContain('To crm');
      expect(await detail.textContent()).not.toContain('HashJoin');
      // The federated view: each column names the store column it is read from.
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'federation.unified_customer_activity' }).click();
      const columns = page.getByRole('table', { name: 'Columns of federation.unified_customer_activity' });
      await eventually(() =>
        columns
          .getByRole('row', { name: /^email / })
          .locator('td')
          .nth(2)
          .textContent(),
      ).toBe('crm.customers.email');
      await screenshot(page, 'views');

      await visit(page, 'Roles', 'Roles');
      const matrix = page.getByRole('table', { name: 'Role by view' });
      for (const role of ['internal', 'external', 'llm'])
        await eventually(() => matrix.getByRole('rowheader', { name: role }).count()).toBe(1);
      await screenshot(page, 'roles');

      await visit(page, 'Simulator', 'Simulator');
      await page.getByLabel('Role', { exact: true }).selectOption('external');
      await page.getByLabel('Claims (JSON object)').fill('{"tenant_id": "t2"}');
      await page.getByLabel('View', { exact: true }).selectOption('crm.customers');
      await page.getByLabel('Query parameters (optional, as in a REST URL)').fill('limit=10');
      await page.getByRole('button', { name: 'Simulate' }).click();
      const rows = page.getByRole('table', { name: 'The first rows as the gateway answers this caller' });
      await eventually(() => rows.locator('tbody tr').count()).toBeGreaterThan(0);
      const shown = await tableOf(rows);
      // Exactly what the gateway answers the external role with tenant t2 (the partner key) over REST.
      const rest = await get(`${srv.url}/api/v2/crm/_table/customers?limit=10`, { 'x-api-key': KEYS.partner });
      expect(rest.status).toBe(200);
      expect(shown.map((r) => r.customer_id)).toEqual(rest.body.resource.map((r: any) => String(r.customer_id)));
      expect(new Set(shown.map((r) => r.tenant_id))).toEqual(new Set(['t2']));
      for (const r of shown) expect(r.email).toMatch(/^.\*\*\*@/);
      expect(Object.keys(shown[0]!)).not.toContain('is_active');
      await eventually(() => page.getByText(/\d+ tokens/).count()).toBe(1);
      await screenshot(page, 'simulator');

      await visit(page, 'Audit', 'Audit');
      // The simulation above is audited as the external caller, naming the admin who ran it.
      await page.getByLabel('Role', { exact: true }).fill('external');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByLabel(/Live tail/).check();
      const audit = page.getByRole('table', { name: 'Newest audit records, refreshed live' });
      const simulated = async () => (await tableOf(audit)).filter((r) => r.simulatedBy !== '—' && r.view === 'crm.customers');
      await eventually(simulated).toHaveLength(1);
      expect((await tableOf(audit)).every((r) => r.role === 'external')).toBe(true);
      await screenshot(page, 'audit');

      await visit(page, 'Config check', 'Config check');
      await eventually(() => page.locator('pre.code').textContent()).toContain('all checks passed');
      await eventually(() => page.getByText('0 breaking and 0 compatible changes').count()).toBe(1);
      await screenshot(page, 'check');

      // Keyboard: the navigation is reachable with Tab and shows where focus is.
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(`document.activeElement?.matches(':focus-visible')`)).toBe(true);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await eventually(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Signed out');
      expect((await context.request.get(`${srv.url}/admin/api/session`)).status()).toBe(401);

      expect(leftLoopback(requests)).toEqual([]);
      expect(failures).toEqual([]);
      expect(fromViewgate(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('refuses a person without an admin role with a 403 page', async () => {
    const { context, page, requests, failures, problems } = await watchedContext();
    try {
      const refused = page.waitForResponse((r) => r.url().startsWith(`${srv.url}/admin`) && r.status() === 403);
      await signIn(page, 'bob');
      await refused;
      await eventually(() => page.getByRole('navigation', { name: 'Pages' }).count()).toBe(0);
      // Refused at the callback: no session was made, so the API does not know this browser.
      expect((await context.request.get(`${srv.url}/admin/api/overview`)).status()).toBe(401);
      await screenshot(page, 'refused');
      expect(leftLoopback(requests)).toEqual([]);
      // The refusal is the only failure (besides the browser's own favicon request for that plain page).
      expect(failures.filter((f) => f !== '404 /favicon.ico')).toEqual(['403 /admin/callback']);
      expect(fromViewgate(problems).filter((p) => !/status of 40[34]/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** A rendered table's rows as column -> cell text. */
async function tableOf(table: ReturnType<Page['getByRole']>): Promise<Record<string, string>[]> {
  const columns = await table.locator('thead th').allTextContents();
  const rows = await table.locator('tbody tr').all();
  return Promise.all(
    rows.map(async (row) => {
      const cells = await row.locator('td').allTextContents();
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    }),
  );
}
