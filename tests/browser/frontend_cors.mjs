// frontend_cors.mjs -- the Videoflix web frontend's cross-origin use of the API, in real
// headless Chromium: a page served from ANOTHER origin (the frontend's) calls the API the
// way the frontend does, fetch(url, {credentials: 'include'}) with a JSON Content-Type
// (so every call is preflighted): register, activate through the link from the mail,
// login, list videos, refresh, hls.js-style XHRs with withCredentials for a playlist and
// the segment it names, logout.  Chromium enforces CORS and the cookie rules: a missing
// or wrong Access-Control-* header or a refused cookie makes a step fail.
//
// Run by tests/integration/test_contract.py, which starts the stack and sets:
//   VF_API_URL        the API origin (the stack's base URL)
//   VF_FRONTEND_PORT  port for the frontend origin http://127.0.0.1:<port> served here
//                     (the stack has it in CORS_ALLOWED_ORIGINS and as FRONTEND_URL)
//   VF_MAILDIR        the SMTP catcher's Maildir (the activation mail is read from it)
//   VF_EMAIL, VF_PASSWORD, VF_VIDEO_ID (a ready video with a 480p rendition)
//   VF_CHROMIUM       (default /usr/bin/chromium)
// Prints one "step: ..." line per step and a last line "result: <json>"; exit status 0
// when every step passed.
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const api = env.VF_API_URL;
const port = Number(env.VF_FRONTEND_PORT);
const frontend = `http://127.0.0.1:${port}`;
if (!api || !port || !env.VF_MAILDIR || !env.VF_EMAIL || !env.VF_PASSWORD || !env.VF_VIDEO_ID) {
  console.error('frontend_cors.mjs: VF_API_URL, VF_FRONTEND_PORT, VF_MAILDIR, VF_EMAIL, VF_PASSWORD, VF_VIDEO_ID required');
  process.exit(2);
}

// The frontend's helpers, as its shared script defines them: every call sends JSON with
// credentials, the reply is always parsed as JSON.
const helpers = `
const API = ${JSON.stringify(api)};
async function call(method, path, body) {
  const init = { method, credentials: 'include', headers: { 'Content-Type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = await fetch(API + path, init);
  return { status: r.status, body: await r.json() };
}
function xhr(url, type, withCredentials) {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('GET', url);
    x.withCredentials = withCredentials;
    x.responseType = type;
    x.onload = () => resolve({ status: x.status, type: x.getResponseHeader('Content-Type'),
      size: type === 'arraybuffer' ? x.response.byteLength : x.response.length,
      text: type === 'text' ? x.response : null });
    x.onerror = () => resolve({ status: 0, error: 'network error (CORS refused?)' });
    x.send();
  });
}`;
const pages = {
  '/index.html': `<!doctype html><meta charset="utf-8"><title>Videoflix</title>
<script>${helpers}</script><h1>Videoflix</h1>`,
  // The activation page reads uid and token from its query and calls the API at once.
  '/pages/auth/activate.html': `<!doctype html><meta charset="utf-8"><title>Activate</title>
<script>${helpers}
const q = new URLSearchParams(location.search);
window.activation = call('GET', '/api/activate/' + q.get('uid') + '/' + q.get('token') + '/')
  .catch((e) => ({ status: 0, error: String(e) }));
</script><h1>Activating...</h1>`,
};

const server = createServer((req, res) => {
  const path = new URL(req.url, frontend).pathname;
  const page = pages[path === '/' ? '/index.html' : path];
  res.writeHead(page ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page || 'not found');
});
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));

const steps = [];
function check(name, ok, detail) {
  steps.push({ name, ok: !!ok, detail });
  console.log(`step: ${ok ? 'ok  ' : 'FAIL'} ${name} ${JSON.stringify(detail)}`);
  if (!ok) throw new Error(`step failed: ${name}`);
}

function activationLink(email, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      for (const sub of ['new', 'cur']) {
        let names = [];
        try { names = readdirSync(join(env.VF_MAILDIR, sub)); } catch { /* not yet */ }
        for (const n of names) {
          const text = readFileSync(join(env.VF_MAILDIR, sub, n), 'utf8');
          if (!text.includes(email)) continue;
          // The plain part carries the raw link (quoted-printable undone).
          const flat = text.replace(/=\r?\n/g, '')
            .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
          const m = flat.match(/(https?:\/\/[^\s"<>]+\/pages\/auth\/activate\.html\?uid=[A-Za-z0-9_-]+&(?:amp;)?token=[A-Za-z0-9_-]+)/);
          if (m) return resolve(m[1].replace('&amp;', '&'));
        }
      }
      if (Date.now() > deadline) return reject(new Error('no activation mail'));
      setTimeout(poll, 100);
    };
    poll();
  });
}

const profile = mkdtempSync(join(tmpdir(), 'vf-chromium-'));
let context;
let status = 1;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: env.VF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));

  await page.goto(`${frontend}/index.html`);
  check('page origin differs from the API', await page.evaluate(() => location.origin) !== new URL(api).origin,
    { frontend, api });

  const email = env.VF_EMAIL;
  const password = env.VF_PASSWORD;
  let r = await page.evaluate(([e, p]) => call('POST', '/api/register/',
    { email: e, password: p, confirmed_password: p, privacy_policy: 'on' }), [email, password]);
  check('register 201 readable cross-origin', r.status === 201 && r.body.user && r.body.user.email === email, r);

  const link = await activationLink(email, 20000);
  check('activation link points at the frontend', link.startsWith(`${frontend}/pages/auth/activate.html?uid=`), { link });
  await page.goto(link);
  r = await page.evaluate(() => window.activation);
  check('activate 200 (preflighted GET)', r.status === 200 && r.body.message === 'Account successfully activated.', r);

  await page.goto(`${frontend}/index.html`);
  r = await page.evaluate(() => call('GET', '/api/video/'));
  check('list without cookies is a readable 401', r.status === 401 && typeof r.body.detail === 'string', r);

  // Before any cookie (the browser may cache the private, immutable segment afterwards).
  const anon = await page.evaluate(([u]) => xhr(u, 'arraybuffer', true),
    [`${api}/api/video/${env.VF_VIDEO_ID}/480p/000.ts`]);
  check('segment XHR without a cookie is a readable 401', anon.status === 401, anon);

  r = await page.evaluate(([e, p]) => call('POST', '/api/login/', { email: e, password: p }), [email, password]);
  check('login 200', r.status === 200 && r.body.detail === 'Login successful', r);
  const cookies = await context.cookies(api);
  const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
  for (const name of ['access_token', 'refresh_token']) {
    const c = byName[name];
    check(`browser stored ${name} (HttpOnly, Lax, Path=/)`, c && c.httpOnly && c.sameSite === 'Lax' && c.path === '/' && !c.secure,
      c ? { httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path, secure: c.secure } : null);
  }
  const docCookie = await page.evaluate(() => document.cookie);
  check('tokens are invisible to page scripts', !/access_token|refresh_token/.test(docCookie), { docCookie });

  r = await page.evaluate(() => call('GET', '/api/video/'));
  const listed = Array.isArray(r.body) ? r.body.map((v) => v.id) : null;
  check('list 200 with the cookie (preflighted, credentials)', r.status === 200 && listed && listed.includes(Number(env.VF_VIDEO_ID)), { status: r.status, listed });
  const video = r.body.find((v) => v.id === Number(env.VF_VIDEO_ID));
  const thumb = await page.evaluate((src) => new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ ok: true, w: img.naturalWidth });
    img.onerror = () => resolve({ ok: false });
    img.src = src;
  }), video.thumbnail_url);
  check('thumbnail loads as <img src>', thumb.ok, { url: video.thumbnail_url, thumb });

  const oldAccess = byName.access_token.value;
  r = await page.evaluate(() => call('POST', '/api/token/refresh/'));
  const afterRefresh = Object.fromEntries((await context.cookies(api)).map((c) => [c.name, c.value]));
  check('refresh 200 and the browser took the new access cookie',
    r.status === 200 && r.body.access === afterRefresh.access_token && afterRefresh.access_token !== oldAccess,
    { status: r.status, detail: r.body.detail });

  // hls.js: XHR with withCredentials; segment URIs resolved against the playlist URL.
  const playlistUrl = `${api}/api/video/${env.VF_VIDEO_ID}/480p/index.m3u8`;
  const pl = await page.evaluate(([u]) => xhr(u, 'text', true), [playlistUrl]);
  check('playlist XHR 200 with withCredentials', pl.status === 200 && pl.text.startsWith('#EXTM3U'), { status: pl.status, type: pl.type, error: pl.error });
  const segName = pl.text.split('\n').find((l) => l && !l.startsWith('#'));
  const segUrl = new URL(segName, playlistUrl).href;
  const seg = await page.evaluate(([u]) => xhr(u, 'arraybuffer', true), [segUrl]);
  check('segment XHR 200 with withCredentials', seg.status === 200 && seg.size > 0 && seg.type === 'video/MP2T', { segUrl, seg });

  r = await page.evaluate(() => call('POST', '/api/logout/'));
  check('logout 200', r.status === 200 && /Logout successful/.test(r.body.detail), r);
  const left = (await context.cookies(api)).map((c) => c.name);
  check('logout deleted both cookies in the browser', !left.includes('access_token') && !left.includes('refresh_token'), { left });
  r = await page.evaluate(() => call('POST', '/api/token/refresh/'));
  check('refresh after logout: 400 no cookie', r.status === 400 && r.body.detail === 'Refresh token not provided.', r);
  r = await page.evaluate(() => call('GET', '/api/video/'));
  check('list after logout: 401', r.status === 401, r);

  const corsErrors = consoleErrors.filter((t) => /CORS|Access-Control|blocked/i.test(t));
  check('no CORS errors in the console', corsErrors.length === 0, corsErrors);
  status = 0;
} catch (e) {
  console.log(`error: ${e.stack || e}`);
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`result: ${JSON.stringify({ status, steps: steps.map((s) => [s.name, s.ok]) })}`);
process.exit(status);
