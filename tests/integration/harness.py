"""harness.py -- start a real Videoflix stack for integration tests.

A Stack is: a fresh database (SQLite file or a new PostgreSQL database in the cluster
script/test started), `videoflixctl migrate`, videoflix-fcgi on a unix socket, lighttpd
or nginx in front of it on a free 127.0.0.1 port, an SMTP catcher (aiosmtpd writing a
Maildir) and, with worker=True, videoflix-worker.  Everything lives in one temporary
directory (logs included) and is stopped when the `with` block ends, even on failure.

    import harness
    for web, db in harness.matrix():
        with harness.Stack(web=web, db=db) as st:
            r = st.request('GET', '/api/health/')
            assert r.status == 200, r.body

Python 3 standard library only; run with /usr/bin/python3 (Debian's, which has aiosmtpd).

Environment:
  VF_BUILD_DIR       build tree with the binaries (default <repo>/build)
  VF_MATRIX          web:db pairs, e.g. "nginx:postgres,lighttpd:sqlite"
                     (default: lighttpd and nginx x sqlite, and postgres when available)
  VF_TEST_PG_HOST    PostgreSQL host or socket directory (script/test sets these)
  VF_TEST_PG_PORT, VF_TEST_PG_USER
  VF_KEEP_TMP=1      keep each stack's temporary directory (logs, database, media)
  VF_SANITIZED=1     the build uses ASan/UBSan (harness.SANITIZED)
  VF_OPENAPI_LOG     append every response to this file, for `python3 openapi.py FILE`
                     (checks them against schema/openapi.json)

Tests of the debug routes and test job kinds need a build configured with
--enable-test-hooks (harness.TEST_HOOKS); they skip with harness.NO_TEST_HOOKS otherwise.
"""

import atexit
import base64
import ctypes
import email
import email.policy
import hashlib
import http.client
import http.cookies
import json as jsonlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get('VF_BUILD_DIR') or REPO / 'build').resolve()
PYTHON = '/usr/bin/python3'
FRONTEND_ORIGIN = 'http://127.0.0.1:5500'

# True when the binaries are built with ASan/UBSan (script/test's second pass): skip checks
# that sanitizers invalidate (e.g. strings embedded in binaries, timing).
SANITIZED = os.environ.get('VF_SANITIZED') == '1'

# A skip whose reason starts with this says the test does not apply here by design (a web
# server that cannot do it, the sanitizer build); any other skip on a supported machine is a
# gap, and `run` counts it as a failure under VF_STRICT_SKIPS / CI.
NOT_APPLICABLE = 'not applicable: '


def not_applicable(reason):
    """The reason of a skip that is no gap: skipTest(harness.not_applicable('...'))."""
    return NOT_APPLICABLE + reason


def strict_skips():
    """True when a skip counts as a failure: VF_STRICT_SKIPS=1 (script/test), else CI=true.
    Then everything script/bootstrap installs is expected, PostgreSQL included."""
    v = os.environ.get('VF_STRICT_SKIPS', '').strip().lower()
    if v:
        return v not in ('0', 'false', 'no')
    return os.environ.get('CI', '').strip().lower() == 'true'


FCGI_BIN = BUILD / 'fcgi' / 'videoflix-fcgi'
CTL_BIN = BUILD / 'ctl' / 'videoflixctl'
WORKER_BIN = BUILD / 'worker' / 'videoflix-worker'

# VF_INSTALLED=1: every stack runs production-shaped, as a sysadmin runs us: the binaries,
# data and samples of `make install` (into a DESTDIR), videoflix-fcgi, videoflix-worker and
# videoflixctl as the unprivileged user APP_USER, the web server's workers as www-data, and
# every one of them in a mount namespace where the source tree is an empty directory, so
# nothing can read it (as on a real host, where it is not there or belongs to someone else).
INSTALLED = os.environ.get('VF_INSTALLED') == '1'
APP_USER = 'vf-app'
INSTALL_ROOT = None     # the DESTDIR (installed mode)
DATA_DIR = REPO         # VIDEOFLIX_DATA_DIR of the stacks
WWW_DIR = REPO / 'www'
ERRORS_DIR = REPO / 'etc' / 'lighttpd' / 'errors'

# The user and group of the web servers' workers (nginx started as root runs them as
# nobody:nogroup; installed mode: www-data); MEDIA_ROOT belongs to that group
# (lib/domain/media.h).
WEB_USER = 'www-data' if INSTALLED else 'nobody'
try:
    import grp as _grp
    WEB_GID = _grp.getgrnam('www-data' if INSTALLED else 'nogroup').gr_gid
except KeyError:
    WEB_GID = os.getgid()


def _app_ids():
    """(uid, gid) of APP_USER, created as a system user when missing (installed mode)."""
    import pwd
    try:
        pw = pwd.getpwnam(APP_USER)
    except KeyError:
        subprocess.run(['useradd', '--system', '--user-group', '--no-create-home',
                        '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', APP_USER],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(APP_USER)
    return pw.pw_uid, pw.pw_gid


def _install():
    """`make install DESTDIR=<tmp>` of BUILD, once per build (shared by parallel test
    processes through a lock); returns (root, {dir: path})."""
    import fcntl
    tag = hashlib.sha1(str(BUILD).encode()).hexdigest()[:10]
    root = Path(tempfile.gettempdir()) / ('vf-installed-%s' % tag)
    with open(str(root) + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        dirs = dict(line.split('=', 1) for line in subprocess.run(
            ['make', '-s', '-C', str(BUILD), 'print-dirs'], check=True, capture_output=True,
            text=True).stdout.split())
        stamp = root / '.installed'
        newest = max(p.stat().st_mtime for p in (BUILD / 'fcgi' / 'videoflix-fcgi',
                                                 BUILD / 'ctl' / 'videoflixctl',
                                                 BUILD / 'worker' / 'videoflix-worker'))
        if not stamp.exists() or stamp.stat().st_mtime < newest:
            shutil.rmtree(root, ignore_errors=True)
            r = subprocess.run(['make', '-s', '-C', str(BUILD), 'install', 'DESTDIR=%s' % root],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError('make install failed:\n%s%s' % (r.stdout, r.stderr))
            os.chmod(root, 0o755)
            stamp.write_text('installed from %s\n' % BUILD)
    return root, dirs


if INSTALLED:
    INSTALL_ROOT, _dirs = _install()
    _sbin = INSTALL_ROOT / _dirs['sbindir'].lstrip('/')
    FCGI_BIN = _sbin / 'videoflix-fcgi'
    CTL_BIN = _sbin / 'videoflixctl'
    WORKER_BIN = _sbin / 'videoflix-worker'
    DATA_DIR = INSTALL_ROOT / _dirs['pkgdatadir'].lstrip('/')
    WWW_DIR = DATA_DIR / 'www'
    ERRORS_DIR = INSTALL_ROOT / _dirs['vfconfdir'].lstrip('/') / 'lighttpd' / 'errors'


def confined(argv, as_app):
    """argv run with the source tree hidden (installed mode): a private mount namespace with
    an empty tmpfs over REPO, then (as_app) the privileges of APP_USER.  Unchanged otherwise."""
    if not INSTALLED:
        return [str(a) for a in argv]
    script = 'mount -t tmpfs -o size=4k,mode=0755 vf-hidden "$0" && exec "$@"'
    if as_app:
        script = ('mount -t tmpfs -o size=4k,mode=0755 vf-hidden "$0" && exec setpriv '
                  '--reuid=%s --regid=%s --init-groups --pdeathsig TERM "$@"'
                  % (APP_USER, APP_USER))
    return ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', script,
            str(REPO)] + [str(a) for a in argv]

# Stacks currently running (the runner prints their logs when a test fails).
open_stacks = []

_SANITIZER_RE = re.compile(r'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |'
                           r'SUMMARY: (Address|Undefined|Leak)Sanitizer')


# ---------------------------------------------------------------------------------
# helpers

def _test_hooks():
    """True when BUILD was configured with --enable-test-hooks (autoconf.h says so)."""
    try:
        return '#define VF_TEST_HOOKS 1' in (BUILD / 'autoconf.h').read_text()
    except OSError:
        return False


# The debug routes (/api/health/debug/*) and the test job kinds (VF_TEST_JOB_KINDS) exist only
# in a build configured with --enable-test-hooks (script/test's); tests that drive them skip
# elsewhere with this reason.
TEST_HOOKS = _test_hooks()
NO_TEST_HOOKS = ('needs a test build (configure --enable-test-hooks, as script/test does): '
                 'a production build has no debug routes or test job kinds')


def pg_available():
    """True when script/test (or the developer) pointed us at a PostgreSQL cluster."""
    return bool(os.environ.get('VF_TEST_PG_HOST'))


def matrix():
    """The (web, db) combinations to test: VF_MATRIX, else every available one -- every one
    under strict_skips(), where a PostgreSQL that is not there fails its configurations
    instead of leaving them out."""
    spec = os.environ.get('VF_MATRIX', '').strip()
    if spec:
        pairs = []
        for item in spec.split(','):
            item = item.strip()
            if not item:
                continue
            web, _, db = item.partition(':')
            pairs.append((web or 'lighttpd', db or 'sqlite'))
        return pairs
    dbs = ['sqlite', 'postgres'] if pg_available() or strict_skips() else ['sqlite']
    return [(w, d) for w in ('lighttpd', 'nginx') for d in dbs]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _wait_port(port, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


_libc = None


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test process dies (even by SIGKILL)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL('libc.so.6', use_errno=True)
        _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _size_bytes(text):
    m = re.fullmatch(r'\s*(\d+)\s*([kKmMgG]?)[bB]?\s*', str(text))
    if not m:
        raise ValueError('bad size: %r' % text)
    return int(m.group(1)) * {'': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}[m.group(2).lower()]


def _world_traversable(path):
    p = Path(path).resolve()
    for part in [p] + list(p.parents):
        try:
            if not part.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def render(template, values):
    """Replace every @NAME@ in the template file; unknown placeholders are an error."""
    text = Path(template).read_text()
    for k, v in values.items():
        text = text.replace('@%s@' % k, str(v))
    left = re.findall(r'@[A-Z_]+@', text)
    if left:
        raise RuntimeError('%s: placeholders left unrendered: %s' % (template, sorted(set(left))))
    return text


# ---------------------------------------------------------------------------------
# HTTP

class Response:
    """One HTTP response: status, reason, headers (case-insensitive; get_all), body bytes."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def json(self):
        return jsonlib.loads(self.body.decode('utf-8'))

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    def __repr__(self):
        return '<Response %d %r>' % (self.status, self.body[:200])


def http_request(port, method, path, headers=None, json=None, body=None, timeout=60,
                 host='127.0.0.1', source=None):
    """One request on a fresh connection to host:port, from the local address `source` when
    given (any 127.x.y.z: the server sees another client address, REMOTE_ADDR)."""
    hdrs = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json).encode('utf-8')
        if not any(k.lower() == 'content-type' for k in hdrs):
            hdrs['Content-Type'] = 'application/json'
    if isinstance(body, str):
        body = body.encode('utf-8')
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        if os.environ.get('VF_OPENAPI_LOG'):  # checked against the document (openapi.py)
            import openapi
            openapi.record(method, path, r.status, r.headers, data)
        return Response(r.status, r.reason, r.headers, data)
    finally:
        conn.close()


def nginx_conf(t, site, pid, http_lines, main=None, user=None):
    """Write t/nginx.conf for an nginx run with prefix t (its temp directories under
    t/nginx): one worker (run as `user` when given), errors to stderr, the pid file `pid`,
    the `http_lines` directives, then the server configuration `site`.  `main`: a file of
    main-context settings with the events block (etc/nginx/videoflix-main.conf) included
    instead of the default events block.  Returns the path of nginx.conf."""
    t = Path(t)
    for d in ('nginx/body', 'nginx/fastcgi'):
        (t / d).mkdir(parents=True, exist_ok=True)
        os.chmod(t / d, 0o777)
    os.chmod(t / 'nginx', 0o755)
    conf = t / 'nginx.conf'
    conf.write_text(
        ('user %s %s;\n' % (user, user) if user else '') +
        'worker_processes 1;\n'
        'error_log stderr info;\n'
        'pid %(pid)s;\n'
        '%(events)s\n'
        'http {\n'
        '    include /etc/nginx/mime.types;\n'
        '%(lines)s'
        '    client_body_temp_path %(t)s/nginx/body;\n'
        '    fastcgi_temp_path %(t)s/nginx/fastcgi;\n'
        '    include %(site)s;\n'
        '}\n' % {'t': t, 'pid': pid, 'site': site,
                  'events': 'include %s;' % main if main else 'events { worker_connections 512; }',
                  'lines': ''.join('    %s\n' % l for l in http_lines)})
    return conf


def class_stack(cls, setup=None, **kw):
    """The Stack shared by the tests of TestCase class cls (call it from setUpClass):
    Stack(**kw) started, setup() run once it is up (see Stack.start), set as cls.st and
    stopped after the class (addClassCleanup).  Returns it."""
    cls.st = Stack(**kw)
    cls.st.start(setup=setup)
    cls.addClassCleanup(cls.st.stop)
    return cls.st


def django_hash(password, iterations=1000):
    """A Django pbkdf2_sha256 hash of password, as an imported account has (the accounts
    module verifies and upgrades these); cheap by default."""
    salt = secrets.token_hex(8)
    dk = hashlib.pbkdf2_hmac('sha256', password.encode(), salt.encode(), iterations)
    return 'pbkdf2_sha256$%d$%s$%s' % (iterations, salt, base64.b64encode(dk).decode())


def wait_for(predicate, timeout=10, interval=0.05, what='condition'):
    """Poll predicate() every interval seconds until it returns a true value; returns it.
    AssertionError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(interval)


def wait_healthy(request, what, timeout=20, interval=0.1):
    """Poll GET /api/health/ through request (a Stack.request-like callable) until it
    answers 200; RuntimeError naming `what` and the last answer after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = request('GET', '/api/health/', timeout=5)
            if last.status == 200:
                return
        except OSError as e:
            last = e
        time.sleep(interval)
    raise RuntimeError('%s not healthy after %ds: %r' % (what, timeout, last))


class Client:
    """A browser-like client: keeps cookies (Path=/ only, Max-Age/Expires honoured as
    deletions) and sends Origin when given one."""

    def __init__(self, stack, origin=None, source=None):
        self.stack = stack
        self.origin = origin
        self.source = source  # local address to connect from (harness.http_request)
        self.cookies = {}

    def request(self, method, path, headers=None, json=None, body=None, timeout=60):
        hdrs = dict(headers or {})
        if self.origin and not any(k.lower() == 'origin' for k in hdrs):
            hdrs['Origin'] = self.origin
        if self.cookies and not any(k.lower() == 'cookie' for k in hdrs):
            hdrs['Cookie'] = '; '.join('%s=%s' % kv for kv in self.cookies.items())
        kw = {'source': self.source} if self.source else {}
        r = self.stack.request(method, path, headers=hdrs, json=json, body=body, timeout=timeout,
                               **kw)
        for line in r.headers.get_all('Set-Cookie') or []:
            self._store(line)
        return r

    def _store(self, line):
        c = http.cookies.SimpleCookie()
        try:
            c.load(line)
        except http.cookies.CookieError:
            return
        for name, morsel in c.items():
            expired = morsel['max-age'] not in ('', None) and int(morsel['max-age']) <= 0
            if morsel['expires'] and ('1970' in morsel['expires']):
                expired = True
            if expired:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def head(self, path, **kw):
        return self.request('HEAD', path, **kw)

    def post(self, path, **kw):
        return self.request('POST', path, **kw)

    def put(self, path, **kw):
        return self.request('PUT', path, **kw)

    def patch(self, path, **kw):
        return self.request('PATCH', path, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def options(self, path, **kw):
        return self.request('OPTIONS', path, **kw)


# ---------------------------------------------------------------------------------
# the stack

class Stack:
    """A running Videoflix stack.  Use as a context manager (or start()/stop())."""

    def __init__(self, web='lighttpd', db='sqlite', worker=False, env=None, workers=2):
        if web not in ('lighttpd', 'nginx'):
            raise ValueError('web must be lighttpd or nginx')
        if db not in ('sqlite', 'postgres'):
            raise ValueError('db must be sqlite or postgres')
        self.web = web
        self.db = db
        self.want_worker = worker
        self.extra_env = dict(env or {})
        self.workers = workers
        self.tmpdir = None
        self.procs = {}       # name -> Popen
        self.logs = {}        # name -> Path
        self.failed = False
        self.pg_dbname = None
        self.fcgi_master_pid = None
        self.worker_pid = None

    def __repr__(self):
        return '<Stack %s:%s %s>' % (self.web, self.db, self.tmpdir)

    # -- lifecycle -------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.failed = True
        self.stop()
        return False

    def start(self, setup=None):
        """Start every process of the stack; then setup(), if given.  A failure in either
        stops what was started (its logs printed) and is re-raised."""
        if self.db == 'postgres' and not pg_available():
            raise unittest.SkipTest('PostgreSQL not available (VF_TEST_PG_HOST unset)')
        for b in (FCGI_BIN, CTL_BIN):
            if not b.exists():
                raise RuntimeError('%s not built (VF_BUILD_DIR=%s)' % (b, BUILD))
        self.tmpdir = Path(tempfile.mkdtemp(prefix='vf-%s-%s-' % (self.web, self.db)))
        os.chmod(self.tmpdir, 0o755)  # nginx workers run as nobody when started as root
        open_stacks.append(self)
        try:
            self._start()
            if setup is not None:
                setup()
        except BaseException:
            self.failed = True
            self.stop()
            raise

    def _start(self):
        t = self.tmpdir
        self.media_root = t / 'media'
        for d in ('mail', 'mail/tmp', 'mail/new', 'mail/cur', 'run', 'db', 'home'):
            (t / d).mkdir(mode=0o755, exist_ok=True)
            os.chmod(t / d, 0o755)
        if INSTALLED:
            # The app's own directories; the socket's directory is the web server's group.
            self.app_uid, self.app_gid = _app_ids()
            for d, gid, mode in (('run', WEB_GID, 0o2750), ('db', None, 0o700),
                                 ('home', None, 0o700)):
                os.chown(t / d, self.app_uid, gid if gid is not None else self.app_gid)
                os.chmod(t / d, mode)
        # The permission model (lib/domain/media.h): MEDIA_ROOT belongs to the web server's
        # group (nginx's workers run as nobody:nogroup when started as root) with the setgid
        # bit; the app gives what it publishes the group-readable modes itself.
        self.media_root.mkdir(exist_ok=True)
        if os.getuid() == 0:
            os.chown(self.media_root, -1, WEB_GID)
        os.chmod(self.media_root, 0o2750)
        for d, mode in (('thumbnails', 0o2750), ('hls', 0o2750), ('uploads', 0o2700)):
            (self.media_root / d).mkdir(exist_ok=True)  # inherits the group (setgid)
            os.chmod(self.media_root / d, mode)
        if INSTALLED:
            for d in (self.media_root, self.media_root / 'thumbnails', self.media_root / 'hls',
                      self.media_root / 'uploads'):
                os.chown(d, self.app_uid, -1)
        self.maildir = t / 'mail'
        self.socket_path = t / 'run' / 'fcgi.sock'
        self.http_port = free_port()
        self.smtp_port = free_port()
        self.base_url = 'http://127.0.0.1:%d' % self.http_port
        (t / 'empty.env').write_text('')

        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'HOME': str(t / 'home'),
            'LANG': 'C.UTF-8',
            'TZ': 'UTC',
            'VIDEOFLIX_ENV': str(t / 'empty.env'),
            'VIDEOFLIX_DATA_DIR': str(DATA_DIR),
            'SECRET_KEY': secrets.token_urlsafe(48),
            'DEBUG': 'false',
            'LOG_LEVEL': 'info',
            'MEDIA_ROOT': str(self.media_root),
            'PUBLIC_URL': self.base_url,
            'FRONTEND_URL': FRONTEND_ORIGIN,
            'CORS_ALLOWED_ORIGINS': 'http://127.0.0.1:5500,http://localhost:5500',
            'EMAIL_HOST': '127.0.0.1',
            'EMAIL_PORT': str(self.smtp_port),
            'EMAIL_USE_TLS': 'false',
            'EMAIL_USE_SSL': 'false',
            'DEFAULT_FROM_EMAIL': 'Videoflix <noreply@videoflix.test>',
            'FCGI_WORKERS': str(self.workers),
            'UPLOAD_MAX_BYTES': str(256 * 1024 * 1024),
        }
        for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'GST_DEBUG',
                  'GST_REGISTRY', 'GST_PLUGIN_PATH'):
            if k in os.environ:
                env[k] = os.environ[k]
        if self.db == 'sqlite':
            env.update({'DB_ENGINE': 'sqlite', 'DB_NAME': str(t / 'db' / 'videoflix.sqlite3')})
        else:
            self.pg_dbname = 'vf_test_%s' % secrets.token_hex(6)
            env.update({
                'DB_ENGINE': 'postgres', 'DB_NAME': self.pg_dbname,
                'DB_HOST': os.environ['VF_TEST_PG_HOST'],
                'DB_PORT': os.environ.get('VF_TEST_PG_PORT', '5432'),
                'DB_USER': os.environ.get('VF_TEST_PG_USER', 'postgres'),
                'DB_PASSWORD': os.environ.get('VF_TEST_PG_PASSWORD', ''),
            })
        env.update({k: str(v) for k, v in self.extra_env.items()})
        self.env = env

        self.smtp_start()
        if self.db == 'postgres':
            self._psql('postgres', 'CREATE DATABASE "%s"' % self.pg_dbname)
        r = self.ctl('migrate')
        if r.returncode != 0:
            raise RuntimeError('videoflixctl migrate failed (%d):\n%s%s'
                               % (r.returncode, r.stdout, r.stderr))
        self._start_fcgi()
        self._start_web()
        if self.want_worker and WORKER_BIN.exists():
            p = self._spawn('worker', confined([WORKER_BIN], as_app=True))
            self.worker_pid = p.pid
        self._wait_healthy()

    def stop(self):
        """Stop everything (worker, web server, FastCGI, SMTP), drop the database and
        remove the temporary directory.  Raises AssertionError when a sanitizer
        reported an error in any log (after cleaning up)."""
        if self.tmpdir is None:
            return
        order = ['worker', 'web', 'fcgi', 'smtp']
        for name in order + [n for n in self.procs if n not in order]:
            self._terminate(name, timeout=20 if name == 'fcgi' else 10)
        fcgi_status = getattr(self, 'fcgi_exit_status', None)
        if self.pg_dbname is not None:
            try:
                self._psql('postgres', 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.pg_dbname)
            except Exception as e:  # the cluster may already be gone
                sys.stderr.write('harness: dropping %s: %s\n' % (self.pg_dbname, e))
            self.pg_dbname = None
        reports = self.sanitizer_reports()
        if self.failed or reports:
            self.dump_logs()
        if self in open_stacks:
            open_stacks.remove(self)
        keep = os.environ.get('VF_KEEP_TMP') == '1'
        if keep:
            sys.stderr.write('harness: kept %s\n' % self.tmpdir)
        else:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None
        if reports:
            raise AssertionError('sanitizer errors in %s' % ', '.join(reports))
        if fcgi_status not in (None, 0) and not self.failed:
            raise AssertionError('videoflix-fcgi exited with status %s on shutdown' % fcgi_status)

    # -- processes --------------------------------------------------------------

    def _spawn(self, name, argv, env=None, cwd=None):
        log = self.tmpdir / ('%s.log' % name)
        self.logs[name] = log
        fp = open(log, 'ab')
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fp, stderr=subprocess.STDOUT,
                                 env=env or self.env, cwd=str(cwd or self.tmpdir),
                                 preexec_fn=_die_with_parent)
        finally:
            fp.close()
        self.procs[name] = p
        return p

    def _terminate(self, name, timeout=10, sig=signal.SIGTERM):
        p = self.procs.pop(name, None)
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                sys.stderr.write('harness: %s did not stop in %ds, killing it\n' % (name, timeout))
                p.kill()
                p.wait()
        if name == 'fcgi':
            self.fcgi_exit_status = p.returncode
        return p.returncode

    def _start_fcgi(self, graceful_timeout=15):
        argv = [str(FCGI_BIN), '-s', str(self.socket_path), '-M', '0660' if INSTALLED else '0666',
                '-P', str(self.tmpdir / 'run' / 'fcgi.pid'), '-T', str(graceful_timeout)]
        p = self._spawn('fcgi', confined(argv, as_app=True))
        self.fcgi_master_pid = p.pid
        deadline = time.monotonic() + 15
        while not self.socket_path.exists():
            if p.poll() is not None:
                raise RuntimeError('videoflix-fcgi exited with %s' % p.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError('videoflix-fcgi did not create its socket')
            time.sleep(0.05)

    def _www_root(self):
        if INSTALLED:
            return WWW_DIR
        www = REPO / 'www'
        if www.is_dir() and (os.geteuid() != 0 or _world_traversable(www)):
            return www
        copy = self.tmpdir / 'www'
        if www.is_dir():
            shutil.copytree(www, copy, symlinks=True)
            for root, dirs, files in os.walk(copy):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o755)
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
        else:
            copy.mkdir(exist_ok=True)
        os.chmod(copy, 0o755)
        return copy

    def render_values(self):
        upload = _size_bytes(self.env.get('UPLOAD_MAX_BYTES', 8 * 1024 ** 3))
        return {
            'BIND_ADDRESS': '127.0.0.1',
            'HTTP_PORT': self.http_port,
            'FCGI_SOCKET': self.socket_path,
            'MEDIA_ROOT': self.media_root,
            'WWW_ROOT': self._www_root(),
            'UPLOAD_MAX_BYTES': upload,
            'UPLOAD_MAX_KBYTES': max(1, (upload + 1023) // 1024),
            'ERRORS_DIR': ERRORS_DIR,
            # Without signing in the application the web server still needs a key: one
            # nobody knows, so no signature is ever accepted (catalogue).
            'MEDIA_SIGNING_KEY': self.env.get('MEDIA_SIGNING_KEY') or secrets.token_urlsafe(32),
            'CORS_ALLOWED_ORIGINS': self.env.get('CORS_ALLOWED_ORIGINS', ''),
            'CORS_ORIGIN_REGEX': '^(%s)$' % '|'.join(
                re.escape(o) for o in self.env.get('CORS_ALLOWED_ORIGINS', '').split(',') if o),
            'HLS_SIGN_LUA': self.tmpdir / 'videoflix-hls.lua',
        }

    def _local_logs(self, text):
        """The shipped configurations write the distribution's access log: a stack writes
        its own, t/nginx-access.log or t/lighttpd-access.log."""
        for dist, mine in (('/var/log/nginx/access.log', 'nginx-access.log'),
                           ('/var/log/lighttpd/access.log', 'lighttpd-access.log')):
            text = text.replace(dist, str(self.tmpdir / mine))
        return text

    def _start_web(self):
        values = self.render_values()
        t = self.tmpdir
        if self.web == 'lighttpd':
            (t / 'videoflix-hls.lua').write_text(
                render(REPO / 'etc' / 'lighttpd' / 'videoflix-hls.lua', values))
            conf = t / 'lighttpd.conf'
            text = self._local_logs(render(REPO / 'etc' / 'lighttpd' / 'videoflix.conf', values))
            if INSTALLED:
                text += '\nserver.username = "www-data"\nserver.groupname = "www-data"\n'
                # lighttpd opens its access log after dropping to www-data (Debian's
                # /var/log/lighttpd belongs to www-data for that reason)
                log = t / 'lighttpd-access.log'
                log.touch()
                os.chown(log, pwd.getpwnam('www-data').pw_uid, WEB_GID)
            conf.write_text(text)
            p = self._spawn('web', confined(['lighttpd', '-D', '-f', str(conf)], as_app=False))
        else:
            site = t / 'nginx-site.conf'
            site.write_text(self._local_logs(
                render(REPO / 'etc' / 'nginx' / 'videoflix.conf', values)))
            # a copy: in installed mode the web server cannot read the source tree
            main = t / 'nginx-main.conf'
            shutil.copyfile(REPO / 'etc' / 'nginx' / 'videoflix-main.conf', main)
            conf = nginx_conf(t, site, t / 'nginx.pid',
                              ['default_type application/octet-stream;',
                               'access_log %s/nginx-access.log;' % t],
                              main=main, user='www-data' if INSTALLED else None)
            p = self._spawn('web', confined(['nginx', '-e', 'stderr', '-p', str(t), '-c',
                                             str(conf), '-g', 'daemon off;'], as_app=False))
        if not _wait_port(self.http_port, 15, p):
            raise RuntimeError('%s did not start listening on %d' % (self.web, self.http_port))

    def _wait_healthy(self, timeout=20):
        wait_healthy(self.request, 'stack', timeout)

    # -- SMTP catcher -------------------------------------------------------------

    def smtp_start(self):
        """Start (or restart) the SMTP catcher on the stack's SMTP port."""
        if 'smtp' in self.procs and self.procs['smtp'].poll() is None:
            return
        p = self._spawn('smtp', [PYTHON, '-m', 'aiosmtpd', '-n', '-l',
                                 '127.0.0.1:%d' % self.smtp_port,
                                 '-c', 'aiosmtpd.handlers.Mailbox', str(self.maildir)])
        if not _wait_port(self.smtp_port, 15, p):
            raise RuntimeError('SMTP catcher did not start')

    def smtp_stop(self):
        """Take the SMTP catcher down (connections to EMAIL_PORT are refused)."""
        self._terminate('smtp', timeout=5)

    def mails(self):
        """Every message received so far, oldest first, as email.message.EmailMessage."""
        files = []
        for sub in ('new', 'cur'):
            d = self.maildir / sub
            if d.is_dir():
                files.extend(d.iterdir())
        files.sort(key=lambda f: (f.stat().st_mtime_ns, f.name))
        return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
                for f in files]

    def wait_mails(self, n, timeout=10):
        """Wait until at least n messages arrived; returns them.  AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.mails()
            if len(m) >= n or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if len(m) < n:
            raise AssertionError('expected %d mails within %ss, got %d' % (n, timeout, len(m)))
        return m

    # -- HTTP --------------------------------------------------------------------

    def request(self, method, path, headers=None, json=None, body=None, timeout=60,
                source=None):
        """One request through the web server.  json= sends a JSON body; source= connects from
        that local address (e.g. '127.0.0.2': another client address for the server)."""
        return http_request(self.http_port, method, path, headers=headers, json=json, body=body,
                            timeout=timeout, source=source)

    def client(self, origin=None, source=None):
        """A cookie-keeping client; origin=None sends no Origin header; source as request()."""
        return Client(self, origin=origin, source=source)

    # -- tools -------------------------------------------------------------------

    def ctl(self, *args, input=None, env=None, timeout=120):
        """Run videoflixctl with the stack's environment; returns CompletedProcess (text)."""
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(confined([CTL_BIN] + list(args), as_app=True), input=input, env=e,
                              cwd=str(self.tmpdir), capture_output=True, text=True,
                              timeout=timeout)

    def add_user(self, email, password, staff=False):
        """Insert an active user (staff when asked) with a Django hash of password, as an
        imported account; returns its id."""
        self.sql('INSERT INTO users (email, password, is_active, is_staff, created_at)'
                 ' VALUES (?, ?, 1, ?, ?)',
                 (email, django_hash(password), 1 if staff else 0, int(time.time() * 1e6)))
        return self.sql('SELECT id FROM users WHERE email = ?', (email,))[0][0]

    def sql(self, query, params=()):
        """Run one statement on the stack's database; returns a list of tuples.
        Placeholders are '?' for both engines.  With PostgreSQL the values come back as
        int (integers), None (NULL) or str."""
        if self.db == 'sqlite':
            con = sqlite3.connect(self.env['DB_NAME'], timeout=10)
            try:
                rows = con.execute(query, tuple(params)).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
                if INSTALLED:  # files this root process created stay the app's
                    for suffix in ('', '-wal', '-shm'):
                        try:
                            os.chown(self.env['DB_NAME'] + suffix, self.app_uid, self.app_gid)
                        except FileNotFoundError:
                            pass
        return self._psql(self.pg_dbname, _pg_inline(query, params), rows=True)

    def _psql(self, dbname, query, rows=False):
        null = '\x02NULL\x02'
        argv = ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-R', '\x1e',
                '-P', 'null=' + null,
                '-h', os.environ['VF_TEST_PG_HOST'], '-p', os.environ.get('VF_TEST_PG_PORT', '5432'),
                '-U', os.environ.get('VF_TEST_PG_USER', 'postgres'), '-d', dbname, '-c', query]
        env = dict(os.environ)
        if os.environ.get('VF_TEST_PG_PASSWORD'):
            env['PGPASSWORD'] = os.environ['VF_TEST_PG_PASSWORD']
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        if r.returncode != 0:
            raise RuntimeError('psql: %s' % r.stderr.strip())
        if not rows:
            return []
        out = []
        for rec in r.stdout.rstrip('\n').split('\x1e'):
            rec = rec.strip('\n')
            if rec == '':
                continue
            vals = []
            for v in rec.split('\x1f'):
                if v == null:
                    vals.append(None)
                elif re.fullmatch(r'-?\d+', v):
                    vals.append(int(v))
                else:
                    vals.append(v)
            out.append(tuple(vals))
        return out

    def fcgi_worker_pids(self):
        """Pids of the FastCGI master's live children (its workers)."""
        try:
            text = Path('/proc/%d/task/%d/children' % (self.fcgi_master_pid,
                                                       self.fcgi_master_pid)).read_text()
        except OSError:
            return []
        pids = []
        for p in text.split():
            try:
                state = Path('/proc/%s/stat' % p).read_text().rsplit(')', 1)[1].split()[0]
            except OSError:
                continue
            if state != 'Z':
                pids.append(int(p))
        return sorted(pids)

    def wait_for(self, predicate, timeout=10, interval=0.05, what='condition'):
        """Poll predicate() until it returns a true value; returns it.  AssertionError on timeout."""
        return wait_for(predicate, timeout, interval, what)

    def restart_fcgi(self, graceful_timeout=15):
        """Stop videoflix-fcgi gracefully and start it again (same socket); waits until
        the stack is healthy.  graceful_timeout is its -T (seconds granted to in-flight
        requests on the next stop)."""
        self._terminate('fcgi', timeout=20)
        self._start_fcgi(graceful_timeout)
        self._wait_healthy()

    # -- logs --------------------------------------------------------------------

    def log_text(self, name):
        p = self.logs.get(name)
        try:
            return p.read_text(errors='replace') if p else ''
        except OSError:
            return ''

    def sanitizer_reports(self):
        """Names of the logs in which ASan/UBSan/LSan reported something."""
        return [n for n in self.logs if _SANITIZER_RE.search(self.log_text(n))]

    def dump_logs(self, tail=80, out=None):
        """Print the last lines of every log of this stack."""
        out = out or sys.stdout
        out.write('\n----- logs of %r -----\n' % self)
        for name in sorted(self.logs):
            lines = self.log_text(name).splitlines()
            out.write('--- %s.log (%d lines%s) ---\n'
                      % (name, len(lines), ', last %d' % tail if len(lines) > tail else ''))
            for line in lines[-tail:]:
                out.write(line + '\n')
        out.write('----- end of logs -----\n')
        out.flush()


def _pg_inline(query, params):
    """Inline '?' parameters as PostgreSQL literals (test helper only)."""
    params = list(params)
    out, i = [], 0
    for part in re.split(r"('(?:[^']|'')*')", query):
        if part.startswith("'"):
            out.append(part)
            continue
        pieces = part.split('?')
        out.append(pieces[0])
        for piece in pieces[1:]:
            if i >= len(params):
                raise ValueError('not enough parameters for %r' % query)
            v = params[i]
            i += 1
            if v is None:
                lit = 'NULL'
            elif isinstance(v, bool):
                lit = '1' if v else '0'
            elif isinstance(v, (int, float)):
                lit = repr(v)
            elif isinstance(v, bytes):
                lit = "'\\x%s'::bytea" % v.hex()
            else:
                lit = "'%s'" % str(v).replace("'", "''")
            out.append(lit + piece)
    if i != len(params):
        raise ValueError('too many parameters for %r' % query)
    return ''.join(out)


@atexit.register
def _stop_all():
    for st in list(open_stacks):
        try:
            st.stop()
        except Exception:
            pass
