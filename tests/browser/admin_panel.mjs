// admin_panel.mjs -- the admin panel in real headless Chromium: sign in as staff, upload a clip
// (upload progress bar), watch the transcode progress bar reach "ready", play the HLS preview
// until currentTime advances, switch quality, delete the video; screenshots of the panel.
//
// Run by tests/integration/test_admin_browser.py, which starts the stack and sets:
//   VF_BASE_URL, VF_STAFF_EMAIL, VF_STAFF_PASSWORD, VF_CLIP (a video file), VF_OUT_DIR,
//   VF_TIMEOUT_S (transcode wait), VF_CHROMIUM (default /usr/bin/chromium)
// Exit status 0 on success; prints "screenshot: <path>" lines.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const base = env.VF_BASE_URL;
const outDir = env.VF_OUT_DIR;
const timeoutMs = Number(env.VF_TIMEOUT_S || 180) * 1000;
if (!base || !env.VF_STAFF_EMAIL || !env.VF_STAFF_PASSWORD || !env.VF_CLIP || !outDir) {
  console.error('admin_panel.mjs: VF_BASE_URL, VF_STAFF_EMAIL, VF_STAFF_PASSWORD, VF_CLIP, VF_OUT_DIR required');
  process.exit(2);
}
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
    colorScheme: 'dark',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') console.log(`console: ${m.text()}`); });

  step('sign in');
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor({ state: 'visible' });
  const mse = await page.evaluate(() => window.MediaSource &&
    MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"'));
  console.log(`MediaSource H.264/AAC support: ${mse}`);
  await page.fill('#login-email', env.VF_STAFF_EMAIL);
  await page.fill('#login-password', env.VF_STAFF_PASSWORD);
  await page.click('#login-submit');
  await page.locator('#app-view').waitFor({ state: 'visible' });
  const who = await page.textContent('#me-email');
  if (who.trim() !== env.VF_STAFF_EMAIL) throw new Error(`signed in as "${who}"`);

  step('upload');
  await page.click('#open-upload');
  await page.setInputFiles('#upload-file', env.VF_CLIP);
  await page.fill('#upload-title-input', 'Browser test clip');
  await page.fill('#upload-category', 'Testing');
  await page.fill('#upload-description', 'Uploaded by the headless Chromium test.');
  // Sample the upload progress bar while the request runs.
  const uploadSeen = page.evaluate(() => new Promise((resolve) => {
    const bar = document.querySelector('#upload-bar');
    const seen = new Set();
    const obs = new MutationObserver(() => seen.add(bar.getAttribute('aria-valuenow')));
    obs.observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
    document.querySelector('#upload-dialog').addEventListener('close', () => {
      obs.disconnect();
      resolve([...seen]);
    }, { once: true });
  }));
  await page.click('#upload-submit');
  const values = await uploadSeen;
  console.log(`upload progress values seen: ${values.join(', ')}`);
  if (!values.includes('100')) throw new Error('the upload progress bar never reached 100%');
  const errText = await page.textContent('#upload-error');
  if (errText && errText.trim() && await page.isVisible('#upload-error')) throw new Error(`upload error: ${errText}`);

  step('transcode');
  const row = page.locator('#video-rows tr', { hasText: 'Browser test clip' });
  await row.waitFor({ state: 'visible', timeout: 15000 });
  const id = await row.getAttribute('data-video-id');
  const states = new Set();
  let maxProgress = 0;
  let barSeen = false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await row.getAttribute('data-state');
    states.add(st);
    const bar = row.locator('.progress');
    if (await bar.isVisible()) {
      barSeen = true;
      const v = Number(await bar.getAttribute('aria-valuenow') || 0);
      maxProgress = Math.max(maxProgress, v);
    }
    if (st === 'ready') break;
    if (st === 'failed') throw new Error(`transcode failed: ${await row.textContent()}`);
    if (Date.now() > deadline) throw new Error(`video ${id} not ready after ${timeoutMs / 1000}s (states ${[...states]})`);
    await page.waitForTimeout(250);
  }
  console.log(`video ${id}: states seen ${[...states].join(' -> ')}; progress bar seen: ${barSeen}` +
    ` (max ${maxProgress}%)`);
  if (!states.has('ready')) throw new Error('never ready');
  await page.screenshot({ path: join(outDir, 'admin-videos.png') });
  console.log(`screenshot: ${join(outDir, 'admin-videos.png')}`);

  step('preview');
  await row.locator('.act-preview').click();
  await page.locator('#preview-dialog[open]').waitFor();
  const t0 = Date.now();
  await page.waitForFunction(() => {
    const v = document.querySelector('#preview-video');
    return v && v.currentTime > 1.5 && !v.paused;
  }, null, { timeout: 60000 });
  const played = await page.evaluate(() => document.querySelector('#preview-video').currentTime);
  const qualities = await page.$$eval('#quality option', (os) => os.map((o) => o.textContent));
  console.log(`preview played to ${played.toFixed(2)}s in ${((Date.now() - t0) / 1000).toFixed(1)}s; qualities: ${qualities.join(', ')}`);
  if (qualities.length < 2) throw new Error('the quality selector lists no rendition');
  // Pick an explicit rendition, then check playback keeps going.
  await page.selectOption('#quality', { label: qualities[1] });
  const t1 = await page.evaluate(() => document.querySelector('#preview-video').currentTime);
  await page.waitForFunction((t) => document.querySelector('#preview-video').currentTime > t + 0.3
    || document.querySelector('#preview-video').ended, t1, { timeout: 30000 });
  await page.screenshot({ path: join(outDir, 'admin-panel.png') });
  console.log(`screenshot: ${join(outDir, 'admin-panel.png')}`);
  await page.click('#preview-dialog [data-close]');

  step('delete');
  await row.locator('.act-delete').click();
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.click('#confirm-ok');
  await row.waitFor({ state: 'detached', timeout: 15000 });
  const res = await page.evaluate(async (vid) => (await fetch(`/api/admin/videos/${vid}/`)).status, id);
  if (res !== 404) throw new Error(`deleted video answers ${res}`);

  if (problems.length) throw new Error(problems.join('; '));
  console.log('admin panel browser test: ok');
  status = 0;
} catch (e) {
  console.error(`admin panel browser test FAILED: ${e.stack || e}`);
  if (page) {
    const p = join(outDir, 'admin-failure.png');
    await page.screenshot({ path: p }).catch(() => {});
    console.error(`screenshot: ${p}`);
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
