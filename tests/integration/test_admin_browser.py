"""test_admin_browser.py -- the admin panel in real headless Chromium (Debian's chromium +
playwright-core from npm, pinned in tests/browser/package-lock.json and installed there with
`npm ci` on first use): sign in as staff, upload a generated clip, watch the progress bar
reach ready, play the HLS preview until currentTime advances, delete it.  Screenshots go to
<build>/test-output/browser/ (their paths are printed).  One stack: the first web server x
database pair of the matrix, with the worker."""

import fcntl
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import harness

BROWSER_DIR = harness.REPO / 'tests' / 'browser'
CHROMIUM = os.environ.get('VF_CHROMIUM', '/usr/bin/chromium')
OUT_DIR = harness.BUILD / 'test-output' / 'browser'
EMAIL = 'studio@videoflix.test'
PASSWORD = 'Studio-Test-Passw0rd'


def ensure_playwright():
    """Install the pinned playwright-core into tests/browser/node_modules if missing.  Under
    a lock: test modules run in parallel (run -j) share it, and `npm ci` first deletes
    node_modules."""
    marker = BROWSER_DIR / 'node_modules' / 'playwright-core' / 'package.json'
    with open(BROWSER_DIR / 'package-lock.json', 'rb') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return
        r = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'],
                           cwd=str(BROWSER_DIR), capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError('npm ci in tests/browser failed:\n%s%s' % (r.stdout, r.stderr))


def browser_or_skip(test):
    """Skip `test` (a TestCase) unless Chromium, node and npm are installed; then make sure
    playwright-core is (ensure_playwright)."""
    if not Path(CHROMIUM).exists():
        test.skipTest('%s not installed (Debian package chromium, in script/packages)' % CHROMIUM)
    if shutil.which('node') is None or shutil.which('npm') is None:
        test.skipTest('node/npm not installed')
    ensure_playwright()


def run_browser_script(script, env, home, timeout):
    """Run tests/browser/<script> with node in our environment plus env, VF_CHROMIUM and
    HOME=home; print its output.  Returns the CompletedProcess."""
    e = dict(os.environ)
    e.update(env)
    e.update({'VF_CHROMIUM': CHROMIUM, 'HOME': home})
    r = subprocess.run(['node', str(BROWSER_DIR / script)], env=e, cwd=str(BROWSER_DIR),
                       capture_output=True, text=True, timeout=timeout)
    print()
    print(r.stdout.rstrip())
    if r.stderr.strip():
        print(r.stderr.rstrip())
    return r


def make_clip(path):
    """8 s of 720p test pattern with a tone, H.264/AAC in MP4 (about 1.5 MB): transcoded to
    480p and 720p, so the preview has a quality to choose."""
    subprocess.run(
        ['gst-launch-1.0', '-q', 'videotestsrc', 'num-buffers=192', 'pattern=smpte', '!',
         'video/x-raw,width=1280,height=720,framerate=24/1', '!', 'x264enc',
         'speed-preset=ultrafast', 'bitrate=1500', '!', 'h264parse', '!', 'mp4mux', 'name=mux',
         '!', 'filesink', 'location=%s' % path,
         'audiotestsrc', 'num-buffers=375', '!', 'audioconvert', '!', 'avenc_aac', '!', 'mux.'],
        check=True, timeout=120, capture_output=True)


class AdminPanelBrowserTest(unittest.TestCase):

    def test_staff_uploads_watches_transcode_previews_and_deletes_in_chromium(self):
        browser_or_skip(self)
        web, db = harness.matrix()[0]
        tmp = tempfile.mkdtemp(prefix='vf-browser-')
        try:
            clip = Path(tmp) / 'browser-clip.mp4'
            make_clip(clip)
            with harness.Stack(web=web, db=db, worker=True,
                               env={'UPLOAD_MAX_BYTES': str(64 * 1024 * 1024)}) as st:
                r = st.ctl('createsuperuser', env={'VIDEOFLIX_SUPERUSER_EMAIL': EMAIL,
                                                   'VIDEOFLIX_SUPERUSER_PASSWORD': PASSWORD})
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                r = run_browser_script('admin_panel.mjs', {
                    'VF_BASE_URL': st.base_url,
                    'VF_STAFF_EMAIL': EMAIL,
                    'VF_STAFF_PASSWORD': PASSWORD,
                    'VF_CLIP': str(clip),
                    'VF_OUT_DIR': str(OUT_DIR),
                    'VF_TIMEOUT_S': '400' if harness.SANITIZED else '240',
                }, tmp, 600)
                self.assertEqual(r.returncode, 0, 'browser test failed (output above)')
                self.assertTrue((OUT_DIR / 'admin-panel.png').is_file())
                # Nothing of the deleted video is left.
                self.assertEqual(st.sql('SELECT id FROM videos'), [])
                self.assertEqual(list((st.media_root / 'uploads').iterdir()), [])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    unittest.main()
