"""test_deploy.py -- the deployment files work: install layout, settings reference, man pages,
systemd units, spawn-fcgi and socket activation, Docker files (checked without a Docker engine).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness

REPO = harness.REPO
BUILD = harness.BUILD
SBIN = ('videoflix-fcgi', 'videoflix-worker', 'videoflixctl')
MANS = ('man5/videoflix.env.5', 'man8/videoflix-fcgi.8', 'man8/videoflix-worker.8',
        'man8/videoflixctl.8')
UNITS = ('videoflix-fcgi.socket', 'videoflix-fcgi.service', 'videoflix-worker.service')
HEALTH = REPO / 'etc' / 'docker' / 'fcgi-health'
RENDER_NGINX = REPO / 'etc' / 'docker' / 'render-nginx'


def settings():
    """(name, default) of every setting declared in lib/base/config.c's table; default is None
    when it is required or computed (engine-dependent, configure-time)."""
    text = (REPO / 'lib' / 'base' / 'config.c').read_text()
    table = text[text.index('static const struct var vars[]'):]
    table = table[:table.index('};')]
    out = []
    for m in re.finditer(r'\{\s*"([A-Z0-9_]+)",\s*V_\w+,\s*[^,]+,\s*(NULL|[A-Z_]+|"((?:[^"\\]|\\.)*)")',
                         table):
        out.append((m.group(1), m.group(3)))
    return out


def run(argv, **kw):
    kw.setdefault('capture_output', True)
    kw.setdefault('text', True)
    kw.setdefault('timeout', 300)
    return subprocess.run([str(a) for a in argv], **kw)


def make(*targets, destdir):
    r = run(['make', '-s', '-C', BUILD] + list(targets) + ['DESTDIR=%s' % destdir])
    if r.returncode != 0:
        raise AssertionError('make %s failed:\n%s%s' % (' '.join(targets), r.stdout, r.stderr))
    return r


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob('*') if not p.is_dir())


class SettingsReferenceTest(unittest.TestCase):
    """Every setting of lib/base/config.c appears with its default in .env.example and in
    videoflix.env(5); neither lists a setting the programs do not read."""

    @classmethod
    def setUpClass(cls):
        cls.vars = settings()
        cls.env_example = (REPO / '.env.example').read_text()
        cls.man = (REPO / 'etc' / 'man' / 'videoflix.env.5').read_text()

    def test_config_table_parsed(self):
        names = [n for n, _ in self.vars]
        self.assertGreater(len(names), 30, names)
        self.assertIn('SECRET_KEY', names)

    def test_env_example_lists_every_setting_with_its_default(self):
        for name, default in self.vars:
            with self.subTest(name=name):
                m = re.search(r'^#?%s=(.*)$' % name, self.env_example, re.M)
                self.assertIsNotNone(m, '%s missing from .env.example' % name)
                if default is not None and name != 'SECRET_KEY':
                    self.assertEqual(m.group(1), default, name)
                # a comment explains each setting (or a group of adjacent settings)
                before = self.env_example[:m.start()].rstrip('\n').splitlines()
                while before and re.match(r'#?[A-Z][A-Z0-9_]*=', before[-1]):
                    before.pop()
                self.assertTrue(before and before[-1].startswith('# '),
                                '%s has no comment line above it' % name)

    def test_env_example_lists_nothing_else(self):
        known = {n for n, _ in self.vars}
        known |= {'VIDEOFLIX_SUPERUSER_EMAIL', 'VIDEOFLIX_SUPERUSER_PASSWORD'}  # videoflixctl
        listed = set(re.findall(r'^#?([A-Z][A-Z0-9_]+)=', self.env_example, re.M))
        self.assertEqual(listed - known, set())

    def test_man_page_describes_every_setting_with_its_default(self):
        items = re.split(r'^\.It Ev ', self.man, flags=re.M)[1:]
        described = {}
        for item in items:
            name = item.split('\n', 1)[0].strip()
            body = item.split('\n.It ', 1)[0].split('\n.El', 1)[0]
            described[name] = body
        for name, default in self.vars:
            with self.subTest(name=name):
                self.assertTrue(name in described, '%s missing from videoflix.env.5' % name)
                body = described[name]
                self.assertIn('Default:', body, name)
                if default is not None and default != '':
                    self.assertIn(default.replace('\\', '\\e'), body, name)
        self.assertEqual(set(described) - {n for n, _ in self.vars}, set())


@unittest.skipUnless(shutil.which('mandoc'), 'mandoc not installed (Debian: mandoc)')
class ManPagesTest(unittest.TestCase):
    def test_mandoc_lint_is_clean(self):
        for page in MANS:
            with self.subTest(page=page):
                path = REPO / 'etc' / 'man' / Path(page).name
                r = run(['mandoc', '-T', 'lint', path])
                # Cross references to our own pages resolve only once installed, and the
                # system's mandoc.db may be stale: neither is a defect of the page.
                msgs = [l for l in (r.stdout + r.stderr).splitlines()
                        if l and 'referenced manual not found' not in l
                        and 'mandoc.db' not in l]
                self.assertEqual(msgs, [])

    def test_man_renders(self):
        r = run(['mandoc', '-T', 'utf8', REPO / 'etc' / 'man' / 'videoflix.env.5'])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('SECRET_KEY', r.stdout)


class InstallTest(unittest.TestCase):
    """make install lays the tree out, keeps edited samples, and make uninstall removes it."""

    @classmethod
    def setUpClass(cls):
        if not (BUILD / 'Makefile').exists():
            raise unittest.SkipTest('no configured build tree at %s' % BUILD)
        cls.tmp = Path(tempfile.mkdtemp(prefix='vf-install-'))
        cls.dest = cls.tmp / 'root'
        make('install', destdir=cls.dest)
        r = run(['make', '-s', '--no-print-directory', '-C', BUILD, 'print-dirs'])
        dirs = dict(l.split('=', 1) for l in r.stdout.splitlines() if '=' in l)
        cls.prefix = Path(dirs.get('prefix', '/usr/local'))
        cls.sbindir = Path(dirs.get('sbindir', cls.prefix / 'sbin'))
        cls.pkgdatadir = Path(dirs.get('pkgdatadir', cls.prefix / 'share' / 'videoflix'))
        cls.vfconfdir = Path(dirs.get('vfconfdir', cls.prefix / 'etc' / 'videoflix'))
        cls.mandir = Path(dirs.get('mandir', cls.prefix / 'share' / 'man'))
        cls.unitdir = Path(dirs.get('systemdsystemunitdir', cls.prefix / 'lib' / 'systemd' / 'system'))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def d(self, path):
        return self.dest / Path(path).relative_to('/')

    def test_01_layout(self):
        for prog in SBIN:
            if (BUILD / {'videoflix-fcgi': 'fcgi', 'videoflix-worker': 'worker',
                         'videoflixctl': 'ctl'}[prog] / prog).exists():
                self.assertTrue(os.access(self.d(self.sbindir / prog), os.X_OK), prog)
        for page in MANS:
            self.assertTrue(self.d(self.mandir / page).is_file(), page)
        for unit in UNITS:
            self.assertTrue(self.d(self.unitdir / unit).is_file(), unit)
        env = self.d(self.vfconfdir / 'videoflix.env')
        self.assertTrue(env.is_file())
        self.assertEqual(env.stat().st_mode & 0o777, 0o640)
        self.assertTrue(self.d(self.vfconfdir / 'nginx' / 'videoflix.conf').is_file())
        self.assertTrue(self.d(self.vfconfdir / 'lighttpd' / 'videoflix.conf').is_file())
        # data keeps the source layout
        for sub in ('schema', 'www', 'data/templates'):
            src = REPO / sub
            if not src.is_dir():
                continue
            for f in files_under(src):
                self.assertTrue(self.d(self.pkgdatadir / sub / f).is_file(), '%s/%s' % (sub, f))
        if (REPO / 'data' / 'common-passwords.txt').exists():
            self.assertTrue(self.d(self.pkgdatadir / 'data' / 'common-passwords.txt').is_file())

    def test_02_samples_are_rendered_for_the_install(self):
        for rel in ('nginx/videoflix.conf', 'lighttpd/videoflix.conf'):
            text = self.d(self.vfconfdir / rel).read_text()
            code = '\n'.join(l for l in text.splitlines() if not l.lstrip().startswith('#'))
            self.assertEqual(re.findall(r'@[A-Z_]+@', code), [], rel)
            self.assertIn(str(self.pkgdatadir / 'www'), code, rel)
        env = self.d(self.vfconfdir / 'videoflix.env').read_text()
        self.assertIn('VIDEOFLIX_DATA_DIR=%s\n' % self.pkgdatadir, env)
        unit = self.d(self.unitdir / 'videoflix-fcgi.service').read_text()
        self.assertIn('ExecStart=%s/videoflix-fcgi' % self.sbindir, unit)
        self.assertIn('EnvironmentFile=%s/videoflix.env' % self.vfconfdir, unit)

    def test_02b_install_writes_no_secret_and_is_reproducible(self):
        nginx = self.d(self.vfconfdir / 'nginx' / 'videoflix.conf').read_text()
        lua = self.d(self.vfconfdir / 'lighttpd' / 'videoflix-hls.lua').read_text()
        # No key at all: nginx verifies against a per-request random value, the Lua script
        # has an empty key; neither accepts a signature until the sysadmin sets one.
        self.assertRegex(nginx, r'secure_link_md5 "[^"]*\$request_id";')
        self.assertRegex(lua, r'(?m)^local key = ""$')
        again = self.tmp / 'again'
        make('install', destdir=again)
        for f in files_under(self.dest / self.vfconfdir.relative_to('/')):
            with self.subTest(sample=f):
                self.assertEqual((self.d(self.vfconfdir) / f).read_bytes(),
                                 (again / self.vfconfdir.relative_to('/') / f).read_bytes())

    def test_03_nothing_refers_to_the_build_or_source_tree(self):
        needles = [str(BUILD).encode(), str(REPO).encode()]
        for f in files_under(self.dest):
            path = self.dest / f
            data = path.read_bytes()
            if data.startswith(b'\x7fELF'):
                if harness.SANITIZED:
                    # ASan/UBSan put every instrumented source file's path into .rodata for
                    # their reports; only the text files can be checked in that build.
                    continue
                # Only the program's constant data counts (debug info names the build dir).
                data = subprocess.run(['readelf', '-p', '.rodata', str(path)],
                                      capture_output=True, timeout=60).stdout
            for n in needles:
                # assertTrue, not assertNotIn: the message must not dump a whole binary.
                self.assertTrue(n not in data, '%s mentions %s' % (f, n.decode()))

    def test_04_reinstall_keeps_edited_samples_and_uninstall_removes_the_rest(self):
        env = self.d(self.vfconfdir / 'videoflix.env')
        env.write_text(env.read_text() + 'SECRET_KEY=edited-by-the-sysadmin\n')
        nginx = self.d(self.vfconfdir / 'nginx' / 'videoflix.conf')
        nginx.write_text('# edited\n')
        make('install', destdir=self.dest)
        self.assertIn('edited-by-the-sysadmin', env.read_text())
        self.assertEqual(nginx.read_text(), '# edited\n')
        make('uninstall', destdir=self.dest)
        left = files_under(self.dest)
        self.assertEqual(sorted(left), sorted(str(p.relative_to(self.dest)) for p in (env, nginx)))


def _wait_socket(path, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def _fcgi_health(addr, timeout=15):
    """Poll fcgi-health until it succeeds; returns the last CompletedProcess."""
    deadline = time.monotonic() + timeout
    while True:
        r = run(['sh', HEALTH, addr], timeout=30)
        if r.returncode == 0 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


@unittest.skipUnless(harness.FCGI_BIN.exists() and harness.CTL_BIN.exists(),
                     'videoflix-fcgi or videoflixctl not built')
@unittest.skipUnless(shutil.which('cgi-fcgi'), 'cgi-fcgi not installed (Debian: libfcgi-bin)')
class LaunchTest(unittest.TestCase):
    """The documented ways to start videoflix-fcgi work: spawn-fcgi (unix socket and TCP)
    and systemd socket activation (LISTEN_FDS)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix='vf-launch-'))
        os.chmod(cls.tmp, 0o755)
        (cls.tmp / 'media').mkdir()
        (cls.tmp / 'empty.env').write_text('')
        cls.env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'VIDEOFLIX_ENV': str(cls.tmp / 'empty.env'),
            'VIDEOFLIX_DATA_DIR': str(REPO),
            'SECRET_KEY': 'k' * 20 + os.urandom(16).hex(),
            'DB_ENGINE': 'sqlite',
            'DB_NAME': str(cls.tmp / 'videoflix.sqlite3'),
            'MEDIA_ROOT': str(cls.tmp / 'media'),
            'FCGI_WORKERS': '2',
        }
        for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'):
            if k in os.environ:
                cls.env[k] = os.environ[k]
        r = run([harness.CTL_BIN, 'migrate'], env=cls.env, cwd=cls.tmp)
        if r.returncode != 0:
            raise AssertionError('migrate failed: %s%s' % (r.stdout, r.stderr))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, argv, log):
        p = subprocess.Popen([str(a) for a in argv], env=self.env, cwd=str(self.tmp),
                             stdin=subprocess.DEVNULL, stdout=open(self.tmp / log, 'wb'),
                             stderr=subprocess.STDOUT, preexec_fn=harness._die_with_parent)
        self.addCleanup(self.stop, p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def log(self, name):
        return (self.tmp / name).read_text(errors='replace')

    @unittest.skipUnless(shutil.which('spawn-fcgi'), 'spawn-fcgi not installed')
    def test_spawn_fcgi_unix_socket(self):
        sock = self.tmp / 'spawn.sock'
        # The README's command line (minus the user switch: the test may not run as root).
        p = self.start(['spawn-fcgi', '-s', sock, '-M', '0660', '-n', '--', harness.FCGI_BIN],
                       'spawn-unix.log')
        self.assertTrue(_wait_socket(sock, p), self.log('spawn-unix.log'))
        r = _fcgi_health(str(sock))
        self.assertEqual(r.returncode, 0, self.log('spawn-unix.log'))
        self.assertEqual(os.stat(sock).st_mode & 0o777, 0o660)

    @unittest.skipUnless(shutil.which('spawn-fcgi'), 'spawn-fcgi not installed')
    def test_spawn_fcgi_tcp(self):
        port = harness.free_port()
        p = self.start(['spawn-fcgi', '-a', '127.0.0.1', '-p', port, '-n', '--', harness.FCGI_BIN],
                       'spawn-tcp.log')
        r = _fcgi_health('127.0.0.1:%d' % port)
        self.assertEqual(r.returncode, 0, self.log('spawn-tcp.log'))
        self.assertIsNone(p.poll())

    @unittest.skipUnless(shutil.which('spawn-fcgi') and os.geteuid() == 0,
                         'needs spawn-fcgi and root (privilege drop)')
    def test_spawn_fcgi_drops_privileges_as_documented(self):
        import grp
        import pwd
        nobody = pwd.getpwnam('nobody')
        group = grp.getgrgid(nobody.pw_gid).gr_name
        priv = self.tmp / 'priv'
        priv.mkdir()
        shutil.copy(self.tmp / 'videoflix.sqlite3', priv / 'videoflix.sqlite3')
        (priv / 'media').mkdir()
        for p in (priv, priv / 'media', priv / 'videoflix.sqlite3'):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
        # The dropped user runs the installed program with the installed data, as in a real
        # install, not the build tree: a checkout in /root (0700) is no place nobody can read.
        dest = self.tmp / 'install'
        make('install', destdir=dest)
        dirs = dict(l.split('=', 1) for l in run(
            ['make', '-s', '--no-print-directory', '-C', BUILD, 'print-dirs']).stdout.splitlines()
            if '=' in l)
        fcgi = dest / Path(dirs['sbindir']).relative_to('/') / 'videoflix-fcgi'
        datadir = dest / Path(dirs['pkgdatadir']).relative_to('/')
        for root, subdirs, files in os.walk(dest):  # as a package would be, whatever our umask
            for name in subdirs + files:
                path = os.path.join(root, name)
                os.chmod(path, os.stat(path).st_mode | (0o055 if name in subdirs else 0o044))
        os.chmod(dest, 0o755)
        r = run(['runuser', '-u', 'nobody', '--', 'test', '-x', fcgi])
        self.assertEqual(r.returncode, 0, 'nobody cannot run %s' % fcgi)
        sock = self.tmp / 'priv.sock'
        env = dict(self.env, DB_NAME=str(priv / 'videoflix.sqlite3'), MEDIA_ROOT=str(priv / 'media'),
                   VIDEOFLIX_DATA_DIR=str(datadir))
        # README: spawn-fcgi -s SOCK -M 0660 -U www-data -G www-data -u videoflix -g videoflix
        p = subprocess.Popen(['spawn-fcgi', '-s', str(sock), '-M', '0660', '-U', 'nobody',
                              '-G', group, '-u', 'nobody', '-g', group,
                              '-n', '--', str(fcgi)],
                             env=env, cwd=str(priv), stdin=subprocess.DEVNULL,
                             stdout=open(self.tmp / 'spawn-priv.log', 'wb'),
                             stderr=subprocess.STDOUT, preexec_fn=harness._die_with_parent)
        self.addCleanup(self.stop, p)
        self.assertTrue(_wait_socket(sock, p), self.log('spawn-priv.log'))
        r = _fcgi_health(str(sock))
        self.assertEqual(r.returncode, 0, self.log('spawn-priv.log'))
        st = os.stat(sock)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777),
                         (nobody.pw_uid, nobody.pw_gid, 0o660))
        uid_line = [l for l in Path('/proc/%d/status' % p.pid).read_text().splitlines()
                    if l.startswith('Uid:')][0]
        self.assertEqual(set(uid_line.split()[1:]), {str(nobody.pw_uid)})

    @unittest.skipUnless(shutil.which('systemd-socket-activate'), 'systemd-socket-activate missing')
    def test_systemd_socket_activation(self):
        sock = self.tmp / 'activate.sock'
        passenv = [a for k in sorted(self.env) for a in ('-E', k)]
        p = self.start(['systemd-socket-activate', '-l', sock] + passenv + [harness.FCGI_BIN],
                       'activate.log')
        self.assertTrue(_wait_socket(sock, p), self.log('activate.log'))
        r = _fcgi_health(str(sock))
        self.assertEqual(r.returncode, 0, self.log('activate.log'))

    def test_health_probe_fails_without_a_server(self):
        r = run(['sh', HEALTH, str(self.tmp / 'nobody-listens.sock')])
        self.assertNotEqual(r.returncode, 0)


@unittest.skipUnless(shutil.which('systemd-analyze'), 'systemd-analyze not installed')
class SystemdUnitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (BUILD / 'etc' / 'systemd' / 'videoflix-fcgi.service').exists():
            raise unittest.SkipTest('units not rendered in %s (make all)' % BUILD)
        cls.tmp = Path(tempfile.mkdtemp(prefix='vf-units-'))
        for unit in UNITS:
            text = (BUILD / 'etc' / 'systemd' / unit).read_text()
            # Point ExecStart at an executable that exists here (verify checks it).
            text = re.sub(r'^ExecStart=\S+/(videoflix-\w+)', lambda m: 'ExecStart=%s' % (
                harness.FCGI_BIN if m.group(1) == 'videoflix-fcgi' and harness.FCGI_BIN.exists()
                else harness.WORKER_BIN if harness.WORKER_BIN.exists() else '/bin/true'),
                text, flags=re.M)
            (cls.tmp / unit).write_text(text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_units_verify_clean(self):
        r = run(['systemd-analyze', 'verify', '--man=no'] + [self.tmp / u for u in UNITS],
                env=dict(os.environ, SYSTEMD_LOG_LEVEL='notice'))
        out = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
        self.assertEqual((r.returncode, out), (0, []))

    def test_services_are_hardened(self):
        for unit in ('videoflix-fcgi.service', 'videoflix-worker.service'):
            text = (self.tmp / unit).read_text()
            for line in ('ProtectSystem=strict', 'NoNewPrivileges=yes', 'PrivateTmp=yes',
                         'ReadWritePaths=/var/lib/videoflix', 'ProtectHome=yes',
                         'CapabilityBoundingSet=\n'):
                self.assertIn(line, text, unit)
            self.assertRegex(text, r'(?m)^(User=videoflix|DynamicUser=yes)$')

    def test_services_exposure_is_low(self):
        for unit in ('videoflix-fcgi.service', 'videoflix-worker.service'):
            r = run(['systemd-analyze', 'security', '--offline=yes', '--no-pager',
                     '--threshold=25', self.tmp / unit])  # 2.5 on the 0-10 scale
            m = re.search(r'Overall exposure level for \S+: ([0-9.]+)', r.stdout + r.stderr)
            if m is None:
                self.skipTest('systemd-analyze security --offline not supported here')
            self.assertLessEqual(float(m.group(1)), 2.5, unit)
            self.assertEqual(r.returncode, 0, r.stdout[-400:])

    def test_socket_unit(self):
        text = (self.tmp / 'videoflix-fcgi.socket').read_text()
        self.assertIn('ListenStream=/run/videoflix/fcgi.sock', text)
        service = (self.tmp / 'videoflix-fcgi.service').read_text()
        self.assertIn('Requires=videoflix-fcgi.socket', service)


def _compose_cmd():
    if shutil.which('docker'):
        r = run(['docker', 'compose', 'version'])
        if r.returncode == 0:
            return ['docker', 'compose']
    if shutil.which('docker-compose'):
        return ['docker-compose']
    return None


class DockerFilesTest(unittest.TestCase):
    """Dockerfile and docker-compose.yml, checked without a Docker engine."""

    @classmethod
    def setUpClass(cls):
        cls.dockerfile = (REPO / 'Dockerfile').read_text()
        cls.stages = {}
        cur = None
        for line in re.sub(r'\\\n', ' ', cls.dockerfile).splitlines():
            s = line.strip()
            if not s or s.startswith('#'):
                continue
            m = re.match(r'FROM\s+(\S+)(?:\s+AS\s+(\S+))?$', s, re.I)
            if m:
                cur = m.group(2) or m.group(1)
                cls.stages[cur] = {'from': m.group(1), 'lines': []}
                continue
            cls.stages[cur]['lines'].append(s)

    def stage(self, name):
        self.assertIn(name, self.stages)
        return self.stages[name]

    def test_build_stage_runs_bootstrap_with_the_build_package_list(self):
        b = self.stage('build')
        self.assertRegex(b['from'], r'^debian:12')
        runs = ' '.join(l for l in b['lines'] if l.startswith('RUN'))
        self.assertIn('PACKAGE_LISTS=script/packages.build', runs)
        self.assertIn('script/bootstrap', runs)
        self.assertIn('install DESTDIR=/out', runs)
        # script/bootstrap really reads PACKAGE_LISTS
        self.assertIn('PACKAGE_LISTS', (REPO / 'script' / 'bootstrap').read_text())

    def test_runtime_stage_is_slim_unprivileged_and_installs_only_runtime_packages(self):
        r = self.stage('runtime')
        self.assertEqual(r['from'], 'debian:12-slim')
        self.assertEqual(list(self.stages)[-1], 'runtime')  # `docker build .` builds it
        text = '\n'.join(r['lines'])
        self.assertIn('script/packages.runtime', text)
        self.assertNotRegex(text, r'-dev\b')
        users = [l.split()[1] for l in r['lines'] if l.startswith('USER ')]
        self.assertTrue(users and users[-1] not in ('root', '0'), users)
        self.assertRegex(text, r'(?m)^HEALTHCHECK ')
        self.assertEqual(self.stage('web')['from'], 'debian:12-slim')

    def test_runtime_packages_cover_the_binaries(self):
        pkgs = [l.strip() for l in (REPO / 'script' / 'packages.runtime').read_text().splitlines()
                if l.strip() and not l.startswith('#')]
        self.assertNotIn('', pkgs)
        for p in pkgs:
            self.assertNotRegex(p, r'-dev$')
        bins = [b for b in (harness.FCGI_BIN, harness.WORKER_BIN, harness.CTL_BIN) if b.exists()]
        if not bins or not shutil.which('objdump') or not shutil.which('dpkg'):
            self.skipTest('binaries, objdump or dpkg missing')
        allowed = set(pkgs) | {'libc6', 'libgcc-s1', 'libstdc++6', 'libasan8', 'libubsan1'}
        deps = run(['apt-cache', 'depends', '--no-recommends', '--no-suggests'] + pkgs).stdout
        allowed |= {m.split(':')[0] for m in re.findall(r'Depends: <?([\w.+-]+)', deps)}
        needed = {}
        for b in bins:
            for so in re.findall(r'NEEDED\s+(\S+)', run(['objdump', '-p', b]).stdout):
                needed.setdefault(so, b.name)
        # one dpkg query for every library: "pkg:arch: /path/libfoo.so.1"
        r = run(['dpkg', '-S'] + ['*/' + so for so in sorted(needed)])
        owners = {}
        for line in r.stdout.splitlines():
            pkg, _, path = line.partition(': ')
            for p in pkg.split(', '):
                owners.setdefault(os.path.basename(path.strip()), set()).add(p.split(':')[0])
        for so, prog in sorted(needed.items()):
            self.assertTrue(owners.get(so, set()) & allowed,
                            '%s needs %s from %s, not in packages.runtime'
                            % (prog, so, owners.get(so)))

    def test_media_root_follows_the_permission_model(self):
        # lib/domain/media.h: MEDIA_ROOT group www-data with the setgid bit, uploads/ and
        # staging/ closed to the group.  Both images that mount the media volume make it
        # alike, so the volume gets the same root whichever service mounts it first.
        for name, owner in (('runtime', 'videoflix'), ('web', '10001')):
            text = re.sub(r'\s+', ' ', ' '.join(self.stage(name)['lines']))
            with self.subTest(stage=name):
                self.assertRegex(text, r'install -d -o %s -g www-data -m 2750 /var/lib/videoflix/media '
                                 r'/var/lib/videoflix/media/hls /var/lib/videoflix/media/thumbnails' % owner)
                self.assertRegex(text, r'install -d -o %s -g www-data -m 2700 /var/lib/videoflix/media/uploads '
                                 r'/var/lib/videoflix/media/staging' % owner)
        self.assertIn('groupadd --system --gid 10001 videoflix', ' '.join(self.stage('runtime')['lines']))

    def test_container_test_script_is_clean(self):
        script = REPO / 'tests' / 'container' / 'run'
        self.assertTrue(os.access(script, os.X_OK))
        r = run(['bash', '-n', script])
        self.assertEqual(r.returncode, 0, r.stderr)
        if shutil.which('shellcheck'):
            r = run(['shellcheck', script, REPO / 'tests' / 'container' / 'postgres' / 'entrypoint'])
            self.assertEqual(r.returncode, 0, r.stdout)
        # the images it builds are the ones compose runs
        compose = (REPO / 'docker-compose.yml').read_text()
        text = script.read_text()
        for image in re.findall(r'^(?:APP|WEB)_IMAGE=(\S+)$', text, re.M):
            self.assertIn('image: %s' % image, compose)

    def test_copy_sources_exist_and_are_not_ignored(self):
        ignored = [l.strip() for l in (REPO / '.dockerignore').read_text().splitlines()
                   if l.strip() and not l.startswith('#')]
        for name, st in self.stages.items():
            for l in st['lines']:
                if not l.startswith('COPY ') or '--from=' in l:
                    continue
                parts = l.split()[1:-1]
                for src in parts:
                    with self.subTest(copy=src):
                        if src == '.':
                            continue
                        self.assertTrue((REPO / src).exists(), src)
                        top = src.split('/')[0]
                        self.assertNotIn(top, ignored, src)

    def test_shell_scripts_are_clean(self):
        scripts = [RENDER_NGINX, HEALTH]
        for sc in scripts:
            r = run(['sh', '-n', sc])
            self.assertEqual(r.returncode, 0, r.stderr)
        if shutil.which('shellcheck'):
            r = run(['shellcheck'] + scripts)
            self.assertEqual(r.returncode, 0, r.stdout)

    def test_render_nginx_for_docker_and_multihost(self):
        if not shutil.which('nginx'):
            self.skipTest('nginx not installed')
        tmp = Path(tempfile.mkdtemp(prefix='vf-nginx-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        for mode in ('APP=app:9000', 'APPS=10.0.0.1:9000 10.0.0.2:9000'):
            with self.subTest(mode=mode):
                site = tmp / 'site.conf'
                r = run(['sh', RENDER_NGINX, REPO / 'etc' / 'nginx' / 'videoflix.conf', site, mode,
                         'HTTP_PORT=%d' % harness.free_port(), 'BIND_ADDRESS=127.0.0.1'])
                self.assertEqual(r.returncode, 0, r.stderr)
                (tmp / 'nginx.conf').write_text(
                    'pid %s/nginx.pid;\nerror_log stderr;\nevents {}\n'
                    'http { client_body_temp_path %s; include %s; }\n' % (tmp, tmp, site))
                r = run(['nginx', '-t', '-q', '-e', 'stderr', '-p', tmp, '-c', tmp / 'nginx.conf'])
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_render_nginx_resolves_app_through_the_containers_nameservers(self):
        # Not a hard-coded 127.0.0.11 (Docker's embedded DNS): podman's is the network's
        # gateway.  The image renders at container start, from the container's resolv.conf.
        tmp = Path(tempfile.mkdtemp(prefix='vf-resolv-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        resolv = tmp / 'resolv.conf'
        site = tmp / 'site.conf'
        template = REPO / 'etc' / 'nginx' / 'videoflix.conf'
        # Only the engine's server, listed first: nginx spreads its queries over every server
        # it is given, and the host's resolvers podman lists after aardvark-dns answer "app"
        # with NXDOMAIN (seen as sporadic 503s under podman: tests/container/run).
        resolv.write_text('# written by the engine\nsearch dns.podman\nnameserver 10.89.0.1\n'
                          'nameserver 10.255.255.53\nnameserver 2001:db8::53\noptions ndots:0\n')
        r = run(['sh', RENDER_NGINX, template, site, 'APP=app:9000', 'RESOLV_CONF=%s' % resolv])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('resolver 10.89.0.1 valid=5s ipv6=off;', site.read_text())
        resolv.write_text('nameserver fe80::1%eth0\nnameserver 2001:db8::53\nnameserver 192.0.2.1\n')
        r = run(['sh', RENDER_NGINX, template, site, 'APP=app:9000', 'RESOLV_CONF=%s' % resolv])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('resolver [2001:db8::53] valid=5s ipv6=off;', site.read_text())
        r = run(['sh', RENDER_NGINX, template, site, 'APP=app:9000', 'RESOLV_CONF=%s' % resolv,
                 'RESOLVER=192.0.2.53'])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('resolver 192.0.2.53 valid=5s', site.read_text())
        resolv.write_text('search example\n')
        r = run(['sh', RENDER_NGINX, template, tmp / 'none.conf', 'APP=app:9000',
                 'RESOLV_CONF=%s' % resolv])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('no usable nameserver', r.stderr)
        self.assertFalse((tmp / 'none.conf').exists())
        web = '\n'.join(self.stage('web')['lines'])
        self.assertNotIn('127.0.0.11', web)

    def test_env_example_and_readme_agree_with_compose(self):
        example = (REPO / '.env.example').read_text()
        # An empty "DB_USER=" in the .env compose reads is a setting, not a default.
        self.assertIsNone(re.search(r'^DB_USER=\s*$', example, re.M))
        public = re.search(r'^PUBLIC_URL=(\S+)$', example, re.M).group(1)
        compose = (REPO / 'docker-compose.yml').read_text()
        self.assertIn('PUBLIC_URL: ${PUBLIC_URL:-%s}' % public, compose)
        # What the README's Docker section tells people to open is PUBLIC_URL's origin, the
        # one origin the panel's requests are accepted from without CORS_ALLOWED_ORIGINS.
        readme = (REPO / 'README.md').read_text()
        docker = readme[readme.index('### With Docker'):]
        docker = docker[:docker.index('\n### ', 1)]
        opened = set(re.findall(r'http://[\w.]+:8000', docker))
        self.assertEqual(opened, {public}, docker)

    def test_compose_config(self):
        cmd = _compose_cmd()
        if cmd is None:
            self.skipTest('neither "docker compose" nor docker-compose installed')
        tmp = Path(tempfile.mkdtemp(prefix='vf-compose-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        for f in ('docker-compose.yml', 'Dockerfile', '.dockerignore'):
            shutil.copy(REPO / f, tmp / f)
        (tmp / '.env').write_text((REPO / '.env.example').read_text().replace(
            'SECRET_KEY=\n', 'SECRET_KEY=%s\n' % os.urandom(32).hex()))
        env = dict(os.environ, DOCKER_HOST='unix:///nonexistent/docker.sock')
        r = run(cmd + ['config'], cwd=tmp, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r2 = run(cmd + ['config', '--services'], cwd=tmp, env=env)
        services = set(r2.stdout.split())
        self.assertTrue({'web', 'app', 'worker', 'db', 'mail'} <= services, services)
        try:
            import yaml
        except ImportError:
            self.skipTest('python3-yaml missing: structure not checked')
        cfg = yaml.safe_load(r.stdout)['services']
        self.assertRegex(cfg['db']['image'], r'^postgres:15')
        for s in ('app', 'worker'):
            # scalable: no fixed name, no published port, shared media, env from .env
            self.assertNotIn('container_name', cfg[s])
            self.assertNotIn('ports', cfg[s])
            vols = [v if isinstance(v, str) else '%s:%s' % (v.get('source'), v.get('target'))
                    for v in cfg[s].get('volumes', [])]
            self.assertTrue(any(v.startswith('media:') for v in vols), (s, vols))
            self.assertEqual(cfg[s]['environment']['DB_ENGINE'], 'postgres')
            self.assertEqual(cfg[s]['environment']['DB_HOST'], 'db')
            self.assertIn('SECRET_KEY', cfg[s]['environment'])  # came from env_file .env
        for s in ('db', 'worker', 'mail'):
            self.assertIn('healthcheck', cfg[s], s)
        # TCP, not the unix socket that PostgreSQL's first-start set-up listens on
        self.assertIn('-h 127.0.0.1', ' '.join(cfg['db']['healthcheck']['test']))
        for s in ('app', 'worker', 'migrate'):
            self.assertEqual(cfg[s]['environment']['DB_USER'], 'videoflix', s)
            self.assertEqual(cfg[s]['environment']['DB_USER'], cfg['db']['environment']['POSTGRES_USER'])
        # app and web repeat their image's HEALTHCHECK: podman builds OCI images without it
        self.assertRegex('\n'.join(self.stage('web')['lines']), r'(?m)^HEALTHCHECK ')
        for s in ('app', 'web'):
            self.assertIn('healthcheck', cfg[s], s)
        self.assertIn('videoflix-fcgi-health', cfg['app']['healthcheck']['test'])
        # podman-compose does not wait for depends_on conditions: migrate waits for the database
        self.assertIn('until videoflixctl migrate', ' '.join(cfg['migrate']['command']))
        self.assertIn('8025', str(cfg['mail'].get('ports')))
        self.assertIn('8000', str(cfg['web'].get('ports')))
        self.assertTrue({'media', 'postgres_data'} <= set(yaml.safe_load(r.stdout)['volumes']))


if __name__ == '__main__':
    unittest.main()
