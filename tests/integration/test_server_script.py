"""test_server_script.py -- script/server supervises: a FastCGI master, web server or job
worker killed with SIGKILL is started again and the API answers again; a crash loop ends
the run (status 1, everything stopped); SIGTERM and SIGINT (Ctrl-C) stop gracefully, so a
large download in flight gets every byte.

Each test runs the real script/server (VF_NO_BOOTSTRAP=1, the build under test) on a free
port with its state and .env in a temporary directory (VF_STATE_DIR, VIDEOFLIX_ENV): the
repository's var/ and .env are not touched.  One class per web server of the matrix.
"""

import hashlib
import http.client
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness

SCRIPT = harness.REPO / 'script' / 'server'
BIG = 48 * 1024 * 1024  # the download that a stop must not cut


def _child_setup():
    """preexec_fn: SIGINT back to its default (a runner started in the background has it
    ignored, and bash cannot trap a signal ignored at entry); die with the test."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    harness._die_with_parent()


class Server:
    """One script/server run: start(), pid(service), health(), stop()."""

    def __init__(self, web, env=None):
        self.web = web
        self.tmp = Path(tempfile.mkdtemp(prefix='vf-server-%s-' % web))
        os.chmod(self.tmp, 0o755)  # nginx workers run as nobody
        self.state = self.tmp / 'state'
        self.port = harness.free_port()
        self.log_path = self.tmp / 'script-server.log'
        self.env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'HOME': str(self.tmp),
            'LANG': 'C.UTF-8',
            'TZ': 'UTC',
            'WEB_SERVER': web,
            'HTTP_PORT': str(self.port),
            'BUILD_DIR': str(harness.BUILD),
            'VF_NO_BOOTSTRAP': '1',
            'VF_STATE_DIR': str(self.state),
            'VIDEOFLIX_ENV': str(self.tmp / 'env'),
            'FCGI_WORKERS': '2',
            'STOP_TIMEOUT': '30',
        }
        for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'):
            if k in os.environ:
                self.env[k] = os.environ[k]
        self.env.update(env or {})
        self.proc = None
        # Every process of this run carries VF_STATE_DIR in its environment, or names the
        # state directory on its command line (nginx writes its title over its environment),
        # or descends from one that does: that tells ours from a process that got a recycled
        # pid (other test modules run beside this one).
        self.mark = ('VF_STATE_DIR=%s' % self.state).encode() + b'\0'

    def start(self):
        self.proc = subprocess.Popen([str(SCRIPT)], env=self.env, cwd=str(self.tmp),
                                     stdin=subprocess.DEVNULL, stdout=open(self.log_path, 'wb'),
                                     stderr=subprocess.STDOUT, preexec_fn=_child_setup)
        self.wait_healthy(60)
        return self

    def log(self):
        try:
            return self.log_path.read_text(errors='replace')
        except OSError:
            return ''

    def pid(self, service):
        """The pid script/server recorded for service (None while it is not running)."""
        try:
            return int((self.state / 'run' / ('%s.pid' % service)).read_text())
        except (OSError, ValueError):
            return None

    def running(self, pid):
        """True when pid is a live process of this run (not a zombie, not a recycled pid)."""
        return _alive(pid) and self._ours(pid)

    def _ours(self, pid, depth=0):
        if pid <= 1 or depth > 16:
            return False
        proc = Path('/proc/%d' % pid)
        try:
            if (self.mark in (proc / 'environ').read_bytes()
                    or str(self.state).encode() in (proc / 'cmdline').read_bytes()):
                return True
            ppid = int((proc / 'stat').read_text().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        return self._ours(ppid, depth + 1)

    def leftovers(self):
        """Pids of every live process of this run but script/server itself."""
        out = []
        for d in Path('/proc').iterdir():
            if d.name.isdigit() and int(d.name) != self.proc.pid and self.running(int(d.name)):
                out.append(int(d.name))
        return out

    def request(self, method, path, timeout=10, **kw):
        return harness.http_request(self.port, method, path, timeout=timeout, **kw)

    def wait_healthy(self, timeout=20):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('script/server exited with %s:\n%s'
                                     % (self.proc.returncode, self.log()[-4000:]))
            try:
                last = self.request('GET', '/api/health/', timeout=3)
                if last.status == 200:
                    return
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError('not healthy after %ss (%r):\n%s' % (timeout, last, self.log()[-4000:]))

    def wait_new_pid(self, service, old, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.pid(service)
            if p is not None and p != old and self.running(p):
                return p
            time.sleep(0.1)
        raise AssertionError('%s was not started again within %ss:\n%s'
                             % (service, timeout, self.log()[-4000:]))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError('script/server still running %ss after the stop:\n%s'
                                 % (timeout, self.log()[-4000:]))

    def stop(self):
        """Cleanup: whatever is still running goes (gracefully if it can), then the files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            for p in self.leftovers():
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        if os.environ.get('VF_KEEP_TMP') != '1':
            shutil.rmtree(self.tmp, ignore_errors=True)


def _alive(pid):
    try:
        stat = Path('/proc/%d/stat' % pid).read_text()
    except OSError:
        return False
    return stat.rsplit(')', 1)[1].split()[0] != 'Z'


class ServerScriptTest(unittest.TestCase):
    WEB = None  # set by the subclasses below

    def server(self, **env):
        if shutil.which(self.WEB) is None:
            self.skipTest('%s not installed' % self.WEB)
        if not harness.WORKER_BIN.exists():
            self.skipTest('videoflix-worker not built')
        s = Server(self.WEB, env)
        self.addCleanup(s.stop)
        s.start()
        return s

    def assertNoSanitizerReport(self, s):
        self.assertIsNone(harness._SANITIZER_RE.search(s.log()), s.log()[-6000:])

    def test_killed_fcgi_master_web_server_and_worker_are_started_again(self):
        s = self.server()
        for service in ('fcgi', 'web', 'worker'):
            with self.subTest(service=service):
                old = s.pid(service)
                os.kill(old, signal.SIGKILL)
                new = s.wait_new_pid(service, old)
                s.wait_healthy(20)
                self.assertIn('%s (pid %d) was killed by SIGKILL' % (service, old), s.log())
                self.assertIn('starting %s again' % service, s.log())
                self.assertTrue(s.running(new))
        self.assertIsNone(s.proc.poll())
        s.proc.send_signal(signal.SIGTERM)
        self.assertEqual(s.wait_exit(40), 0, s.log()[-4000:])
        self.assertNoSanitizerReport(s)

    def test_a_crash_loop_stops_everything_with_status_1(self):
        s = self.server(RESTART_MAX='2', RESTART_WINDOW='60')
        for i in range(2):
            old = s.pid('worker')
            os.kill(old, signal.SIGKILL)
            s.wait_new_pid('worker', old)
        os.kill(s.pid('worker'), signal.SIGKILL)  # the third death within the window
        self.assertEqual(s.wait_exit(40), 1, s.log()[-4000:])
        self.assertIn('worker died 3 times within 60s: giving up', s.log())
        self.assertEqual(s.leftovers(), [], 'still running after the crash loop')

    def _download_survives(self, sig):
        s = self.server()
        big = s.state / 'media' / 'thumbnails' / 'big.jpg'  # public: served by the web server
        data = os.urandom(BIG)
        big.write_bytes(data)
        conn = http.client.HTTPConnection('127.0.0.1', s.port, timeout=30)
        conn.request('GET', '/media/thumbnails/big.jpg')
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        got = bytearray(r.read(1 << 20))
        s.proc.send_signal(sig)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2:  # a slow client for a while: the stop must wait
            chunk = r.read(1 << 16)
            if not chunk:
                break
            got += chunk
            time.sleep(0.01)
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            got += chunk
        conn.close()
        self.assertEqual(len(got), BIG, s.log()[-4000:])
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(data).digest())
        self.assertEqual(s.wait_exit(40), 0, s.log()[-4000:])
        self.assertIn('==> stopped', s.log())
        self.assertEqual(s.leftovers(), [], 'still running after the stop')
        self.assertNoSanitizerReport(s)

    def test_a_video_added_with_the_tool_plays_through_the_web_server(self):
        """The permission model under script/server: nginx's workers run as nobody (or the
        checkout's owner), not as the app; they still serve a transcoded video's segments
        (X-Accel-Redirect) and its thumbnail, which a 0700 staging tree made 403 before."""
        from test_admin import clip_path
        s = self.server()
        env = dict(s.env)
        ctl = [str(harness.CTL_BIN)]
        r = subprocess.run(ctl + ['video', 'add', str(clip_path()), '--title', 'Clip',
                                  '--category', 'Test'], env=env, cwd=str(s.tmp),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(ctl + ['createsuperuser'], env=dict(
            env, VIDEOFLIX_SUPERUSER_EMAIL='boss@example.com',
            VIDEOFLIX_SUPERUSER_PASSWORD='Boss-passw0rd-long'), cwd=str(s.tmp),
            capture_output=True, text=True, timeout=60, input='')
        self.assertEqual(r.returncode, 0, r.stderr)

        def ready():
            out = subprocess.run(ctl + ['video', 'list'], env=env, cwd=str(s.tmp),
                                 capture_output=True, text=True, timeout=60).stdout
            return 'ready' in out or 'failed' in out
        harness.wait_for(ready, timeout=180, interval=0.5, what='the transcode')
        r = s.request('POST', '/api/login/', json={'email': 'boss@example.com',
                                                    'password': 'Boss-passw0rd-long'})
        self.assertEqual(r.status, 200, r.body)
        cookie = '; '.join(c.split(';', 1)[0] for c in r.headers.get_all('Set-Cookie'))
        videos = s.request('GET', '/api/video/', headers={'Cookie': cookie})
        self.assertEqual(videos.status, 200, videos.body)
        v = videos.json()[0]
        pl = s.request('GET', '/api/video/%d/480p/index.m3u8' % v['id'], headers={'Cookie': cookie})
        self.assertEqual(pl.status, 200, pl.body)
        seg = next(l for l in pl.text.splitlines() if l and not l.startswith('#')).split('?')[0]
        r = s.request('GET', '/api/video/%d/480p/%s' % (v['id'], seg), headers={'Cookie': cookie})
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.body[:1], b'\x47')
        self.assertIsNotNone(v['thumbnail_url'])
        r = s.request('GET', '/media/thumbnails/%d.jpg' % v['id'])
        self.assertEqual(r.status, 200, r.body[:300])

    def test_sigterm_during_a_large_download_lets_it_finish(self):
        self._download_survives(signal.SIGTERM)

    def test_ctrl_c_during_a_large_download_lets_it_finish(self):
        self._download_survives(signal.SIGINT)


for _web in sorted({w for w, _ in harness.matrix()}):
    _name = 'ServerScript_%s' % _web
    globals()[_name] = type(_name, (ServerScriptTest,), {'WEB': _web})
del ServerScriptTest  # only the per-web-server classes run
