// api_docs.mjs -- the API reference (/api/docs/, Swagger UI) in real headless Chromium: the
// page renders the served description with no script error and no CSP violation, and lists
// every operation of it (method and path); one operation expands to its responses.
//
// Run by tests/integration/test_openapi_browser.py, which starts the stack and sets:
//   VF_BASE_URL, VF_OPERATIONS (JSON array of "METHOD /path" the page must list),
//   VF_OUT_DIR (screenshots), VF_CHROMIUM (default /usr/bin/chromium)
// Exit status 0 on success; prints "screenshot: <path>" lines.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const base = env.VF_BASE_URL;
const outDir = env.VF_OUT_DIR;
if (!base || !env.VF_OPERATIONS || !outDir) {
  console.error('api_docs.mjs: VF_BASE_URL, VF_OPERATIONS, VF_OUT_DIR required');
  process.exit(2);
}
const expected = JSON.parse(env.VF_OPERATIONS);
mkdirSync(outDir, { recursive: true });

const step = (msg) => console.log(`step: ${msg}`);
const profile = mkdtempSync(join(tmpdir(), 'vf-chromium-'));
let context;
let page;
let status = 1;

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: env.VF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] || await context.newPage();
  const problems = [];
  const foreign = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      console.log(`console: ${m.text()}`);
      if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    }
  });
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  // Violations are reported as events in the page as well (console messages can be missed).
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  step('open /api/docs/');
  const resp = await page.goto(`${base}/api/docs/`);
  if (resp.status() !== 200) throw new Error(`/api/docs/ answered ${resp.status()}`);
  const csp = resp.headers()['content-security-policy'] || '';
  if (!csp.includes("script-src 'self'")) throw new Error(`no strict CSP on the page: "${csp}"`);
  await page.locator('.swagger-ui .information-container .title').waitFor({ state: 'visible', timeout: 30000 });
  const title = (await page.textContent('.swagger-ui .information-container .title')).trim();
  console.log(`title: ${title}`);
  if (!title.startsWith('Videoflix API')) throw new Error(`title "${title}"`);
  await page.locator('.opblock').first().waitFor({ state: 'visible' });

  step('every operation is listed');
  const listed = await page.$$eval('.opblock', (blocks) => blocks.map((b) => {
    const m = b.querySelector('.opblock-summary-method');
    const p = b.querySelector('.opblock-summary-path');
    return `${m ? m.textContent.trim() : '?'} ${p ? (p.getAttribute('data-path') || p.textContent).trim().replace(/\u200b/g, '') : '?'}`;
  }));
  const missing = expected.filter((op) => !listed.includes(op));
  const extra = listed.filter((op) => !expected.includes(op));
  console.log(`operations listed: ${listed.length} (expected ${expected.length})`);
  if (missing.length || extra.length) {
    throw new Error(`missing: ${JSON.stringify(missing)} extra: ${JSON.stringify(extra)}`);
  }
  await page.screenshot({ path: join(outDir, 'api-docs.png'), fullPage: false });
  console.log(`screenshot: ${join(outDir, 'api-docs.png')}`);

  step('an operation expands to its responses');
  const login = page.locator('.opblock-post', { has: page.locator('[data-path="/api/login/"]') }).first();
  await login.locator('.opblock-summary').click();
  await login.locator('.responses-table').waitFor({ state: 'visible' });
  const codes = (await login.locator('.responses-table .response-col_status').allTextContents())
    .map((c) => c.trim());
  console.log(`POST /api/login/ responses: ${codes.join(' ')}`);
  for (const code of ['200', '401', '429']) {
    if (!codes.some((c) => c.startsWith(code))) throw new Error(`response ${code} not shown`);
  }
  await login.screenshot({ path: join(outDir, 'api-docs-login.png') });
  console.log(`screenshot: ${join(outDir, 'api-docs-login.png')}`);

  const violations = await page.evaluate(() => window.__cspViolations);
  problems.push(...violations.map((v) => `CSP violation: ${v}`));
  if (foreign.length) problems.push(`requests to other hosts: ${foreign.join(', ')}`);
  if (problems.length) throw new Error(problems.join('\n'));
  console.log('api docs: ok');
  status = 0;
} catch (e) {
  console.error(`FAILED: ${e.stack || e}`);
  if (page) {
    try {
      await page.screenshot({ path: join(outDir, 'api-docs-failure.png'), fullPage: true });
      console.error(`screenshot: ${join(outDir, 'api-docs-failure.png')}`);
    } catch (_) { /* the page is gone */ }
  }
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
