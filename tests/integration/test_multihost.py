"""test_multihost.py -- the scale-out topology on one machine: network namespaces as hosts.

    hub   (10.213.N.1)   PostgreSQL, nginx (FastCGI over TCP to both app hosts), SMTP catcher
    app1  (10.213.N.11)  videoflix-fcgi -s 10.213.N.11:9000
    app2  (10.213.N.12)  videoflix-fcgi -s 10.213.N.12:9000
    wk1   (10.213.N.21)  videoflix-worker
    wk2   (10.213.N.22)  videoflix-worker

The hosts share one PostgreSQL database and one media directory (the filesystem is shared,
as an NFS mount would be); each sits on a veth pair plugged into a bridge in the hub; the
test talks to nginx from the root namespace over one more veth (10.213.N.254).  A host is
"killed" by SIGKILL to every process in its namespace and its link going down.

Skipped, with the reason, when not root, when the kernel refuses network namespaces, or
under the sanitizer build (the plain build runs it).
"""

import json as jsonlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness

REPO = harness.REPO
RENDER_NGINX = REPO / 'etc' / 'docker' / 'render-nginx'
HOSTS = {'app1': 11, 'app2': 12, 'wk1': 21, 'wk2': 22}
FCGI_PORT = 9000
HTTP_PORT = 8080
SMTP_PORT = 2525
PG_PORT = 5432
LEASE_S = 3


def sh(argv, check=True, **kw):
    kw.setdefault('capture_output', True)
    kw.setdefault('text', True)
    kw.setdefault('timeout', 120)
    if 'input' not in kw:
        kw.setdefault('stdin', subprocess.DEVNULL)
    r = subprocess.run([str(a) for a in argv], **kw)
    if check and r.returncode != 0:
        raise RuntimeError('%s failed (%d): %s%s' % (' '.join(map(str, argv)), r.returncode,
                                                      r.stdout, r.stderr))
    return r


def _skip_reason():
    if os.environ.get('ASAN_OPTIONS') and os.environ.get('VF_MULTIHOST_ASAN') != '1':
        return harness.not_applicable(
            'runs in the plain build only (sanitizer run; VF_MULTIHOST_ASAN=1 forces it)')
    if os.geteuid() != 0:
        return 'network namespaces need root (ip netns add)'
    if not shutil.which('ip'):
        return 'iproute2 not installed (ip)'
    for b in (harness.FCGI_BIN, harness.CTL_BIN, harness.WORKER_BIN):
        if not b.exists():
            return '%s not built' % b.name
    if not harness.TEST_HOOKS:
        return harness.NO_TEST_HOOKS
    if not shutil.which('nginx'):
        return 'nginx not installed'
    if not _pg_bindir():
        return 'PostgreSQL server binaries not installed'
    probe = 'vfprobe%d' % os.getpid()
    r = sh(['ip', 'netns', 'add', probe], check=False)
    if r.returncode != 0:
        return 'the kernel refuses network namespaces here: %s' % r.stderr.strip()
    sh(['ip', 'netns', 'del', probe], check=False)
    return None


def _pg_bindir():
    for d in sorted(Path('/usr/lib/postgresql').glob('*/bin'), reverse=True):
        if (d / 'initdb').exists():
            return d
    return None


class Topology:
    """The namespaces, links and processes; everything is undone by down()."""

    def __init__(self):
        self.id = os.getpid() % 100000
        self.net = '10.213.%d' % (os.getpid() % 250)
        self.ns = {name: 'vf%d%s' % (self.id, name) for name in ['hub'] + list(HOSTS)}
        self.root_if = 'vf%dr' % self.id
        self.tmp = Path(tempfile.mkdtemp(prefix='vf-multihost-'))
        os.chmod(self.tmp, 0o755)
        self.procs = {}
        self.logs = {}
        self.created = []

    def ip(self, host):
        return '%s.%d' % (self.net, 1 if host == 'hub' else HOSTS[host])

    def nsexec(self, host):
        return ['ip', 'netns', 'exec', self.ns[host]]

    # -- network ------------------------------------------------------------------

    def up(self):
        for name in self.ns.values():
            sh(['ip', 'netns', 'add', name])
            self.created.append(name)
        hub = self.ns['hub']
        for host, name in self.ns.items():
            sh(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
        sh(['ip', '-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
        sh(['ip', '-n', hub, 'addr', 'add', self.ip('hub') + '/24', 'dev', 'br0'])
        sh(['ip', '-n', hub, 'link', 'set', 'br0', 'up'])
        for host in HOSTS:
            port = 'p-' + host
            sh(['ip', '-n', hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0',
                'netns', self.ns[host]])
            sh(['ip', '-n', hub, 'link', 'set', port, 'master', 'br0', 'up'])
            sh(['ip', '-n', self.ns[host], 'addr', 'add', self.ip(host) + '/24', 'dev', 'eth0'])
            sh(['ip', '-n', self.ns[host], 'link', 'set', 'eth0', 'up'])
        # the test's own leg, from the root namespace
        sh(['ip', 'link', 'add', self.root_if, 'type', 'veth', 'peer', 'name', 'p-root',
            'netns', hub])
        sh(['ip', '-n', hub, 'link', 'set', 'p-root', 'master', 'br0', 'up'])
        sh(['ip', 'addr', 'add', '%s.254/24' % self.net, 'dev', self.root_if])
        sh(['ip', 'link', 'set', self.root_if, 'up'])

    def link(self, host, state):
        sh(['ip', '-n', self.ns[host], 'link', 'set', 'eth0', state])

    def pids(self, host):
        r = sh(['ip', 'netns', 'pids', self.ns[host]], check=False)
        return [int(p) for p in r.stdout.split()]

    def kill_host(self, host):
        """SIGKILL every process of the host, then cut its network."""
        for _ in range(5):
            pids = self.pids(host)
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for name, p in list(self.procs.items()):
            if name.startswith(host + '-'):
                p.wait(timeout=10)
                del self.procs[name]
        self.link(host, 'down')

    def down(self):
        for name in list(self.procs):
            self.stop(name)
        for host in list(self.ns):
            if self.ns[host] in self.created:
                for p in self.pids(host):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if getattr(self, 'pg_data', None):
            sh(self.nsexec('hub') + ['runuser', '-u', self.pg_user, '--', self.pg_bin / 'pg_ctl',
                                     '-D', self.pg_data, '-m', 'immediate', '-w', 'stop'],
               check=False)
        sh(['ip', 'link', 'del', self.root_if], check=False)
        for name in self.created:
            sh(['ip', 'netns', 'del', name], check=False)
        self.created = []
        if os.environ.get('VF_KEEP_TMP') == '1':
            print('multihost: kept %s' % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- processes ----------------------------------------------------------------

    def spawn(self, host, name, argv, env=None, cwd=None):
        key = '%s-%s' % (host, name)
        log = self.tmp / ('%s.log' % key)
        self.logs[key] = log
        with open(log, 'ab') as fp:
            p = subprocess.Popen(self.nsexec(host) + [str(a) for a in argv],
                                 stdin=subprocess.DEVNULL, stdout=fp, stderr=subprocess.STDOUT,
                                 env=env, cwd=str(cwd or self.tmp),
                                 preexec_fn=harness._die_with_parent)
        self.procs[key] = p
        return p

    def stop(self, key, timeout=15):
        p = self.procs.pop(key, None)
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def dump_logs(self, tail=60):
        for key, log in sorted(self.logs.items()):
            try:
                lines = log.read_text(errors='replace').splitlines()
            except OSError:
                continue
            print('--- %s (%d lines) ---' % (key, len(lines)))
            for line in lines[-tail:]:
                print(line)

    # -- services -----------------------------------------------------------------

    def start_postgres(self):
        self.pg_bin = _pg_bindir()
        self.pg_user = 'postgres'
        if sh(['id', '-u', 'postgres'], check=False).returncode != 0:
            self.pg_user = 'nobody'
        pg = self.tmp / 'pg'
        (pg / 'sock').mkdir(parents=True)
        sh(['chown', '-R', self.pg_user, pg])
        self.pg_data = pg / 'data'
        sh(['runuser', '-u', self.pg_user, '--', self.pg_bin / 'initdb', '-D', self.pg_data,
            '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'])
        with open(self.pg_data / 'pg_hba.conf', 'a') as f:
            f.write('host all all %s.0/24 trust\n' % self.net)
        sh(self.nsexec('hub') + [
            'runuser', '-u', self.pg_user, '--', self.pg_bin / 'pg_ctl', '-D', self.pg_data,
            '-l', pg / 'server.log', '-w', '-t', '60', '-o',
            '-p %d -k %s -c listen_addresses=%s -c fsync=off -c synchronous_commit=off '
            '-c max_connections=100' % (PG_PORT, pg / 'sock', self.ip('hub')), 'start'])
        self.logs['hub-postgres'] = pg / 'server.log'
        self.psql('CREATE DATABASE videoflix')

    def psql(self, query, db='postgres'):
        r = sh(['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-F', '|',
                '-h', self.ip('hub'), '-p', PG_PORT, '-U', 'postgres', '-d', db, '-c', query])
        return [l.split('|') for l in r.stdout.splitlines() if l]

    def start_nginx(self):
        site = self.tmp / 'nginx-site.conf'
        apps = ' '.join('%s:%d' % (self.ip(h), FCGI_PORT) for h in ('app1', 'app2'))
        sh(['sh', RENDER_NGINX, REPO / 'etc' / 'nginx' / 'videoflix.conf', site,
            'APPS=' + apps, 'BIND_ADDRESS=' + self.ip('hub'), 'HTTP_PORT=%d' % HTTP_PORT,
            'MEDIA_ROOT=%s' % self.media, 'WWW_ROOT=%s' % self.www(),
            'UPLOAD_MAX_BYTES=%d' % (256 * 1024 * 1024), 'FAIL_TIMEOUT=3s',
            'CORS_ALLOWED_ORIGINS=' + self.env['CORS_ALLOWED_ORIGINS'],
            # the server's own access_log: this test's format, defined below
            'ACCESS_LOG=%s/nginx-upstream.log up' % self.tmp])
        t = self.tmp
        conf = harness.nginx_conf(t, site, t / 'nginx.pid',
                                  ['log_format up "$status|$upstream_addr|$request";',
                                   'access_log %s/nginx-upstream.log up;' % t])
        self.spawn('hub', 'nginx', ['nginx', '-e', 'stderr', '-p', t, '-c', conf, '-g',
                                    'daemon off;'])

    def www(self):
        www = self.tmp / 'www'
        if not www.exists():
            if (REPO / 'www').is_dir():
                shutil.copytree(REPO / 'www', www)
            else:
                www.mkdir()
            for root, dirs, files in os.walk(www):
                os.chmod(root, 0o755)
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
        return www

    def start_app(self, host):
        return self.spawn(host, 'fcgi', [harness.FCGI_BIN, '-s', '%s:%d' % (self.ip(host), FCGI_PORT),
                                         '-T', '10'], env=self.env)

    def start_worker(self, host):
        cwd = self.tmp / host
        cwd.mkdir(exist_ok=True)
        return self.spawn(host, 'worker', [harness.WORKER_BIN], env=self.env, cwd=cwd)


SKIP = _skip_reason()


@unittest.skipIf(SKIP, SKIP)
class MultiHostTest(unittest.TestCase):
    """Two app hosts and two worker hosts on one PostgreSQL and one media directory."""

    @classmethod
    def setUpClass(cls):
        t = cls.topo = Topology()
        try:
            t.up()
            t.media = t.tmp / 'media'
            for d in ('', 'uploads', 'hls', 'thumbnails', 'staging'):
                (t.media / d).mkdir(parents=True, exist_ok=True)
                os.chmod(t.media / d, 0o755)
            (t.tmp / 'empty.env').write_text('')
            cls.base = 'http://%s:%d' % (t.ip('hub'), HTTP_PORT)
            t.env = {
                'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
                'LANG': 'C.UTF-8', 'TZ': 'UTC',
                'VIDEOFLIX_ENV': str(t.tmp / 'empty.env'),
                'VIDEOFLIX_DATA_DIR': str(REPO),
                'SECRET_KEY': secrets.token_urlsafe(48),
                'DB_ENGINE': 'postgres', 'DB_NAME': 'videoflix', 'DB_USER': 'postgres',
                'DB_HOST': t.ip('hub'), 'DB_PORT': str(PG_PORT),
                'MEDIA_ROOT': str(t.media),
                'PUBLIC_URL': cls.base,
                'FRONTEND_URL': harness.FRONTEND_ORIGIN,
                'CORS_ALLOWED_ORIGINS': 'http://127.0.0.1:5500,http://localhost:5500',
                'EMAIL_HOST': t.ip('hub'), 'EMAIL_PORT': str(SMTP_PORT),
                'DEFAULT_FROM_EMAIL': 'Videoflix <noreply@videoflix.test>',
                'FCGI_WORKERS': '2',
                'UPLOAD_MAX_BYTES': str(256 * 1024 * 1024),
                'JOB_LEASE_SECONDS': str(LEASE_S),
                'JOB_RETRY_DELAY': '1',
                'WORKER_SHUTDOWN_GRACE': '5',
                'TRANSCODE_CONCURRENCY': '1',
                'VF_TEST_JOB_KINDS': '1',
            }
            t.start_postgres()
            r = sh(t.nsexec('app1') + [harness.CTL_BIN, 'migrate'], check=False, env=t.env)
            if r.returncode != 0:
                raise RuntimeError('migrate: %s%s' % (r.stdout, r.stderr))
            t.maildir = t.tmp / 'mail'
            t.spawn('hub', 'smtp', [harness.PYTHON, '-m', 'aiosmtpd', '-n', '-l',
                                    '%s:%d' % (t.ip('hub'), SMTP_PORT), '-c',
                                    'aiosmtpd.handlers.Mailbox', t.maildir])
            for h in ('app1', 'app2'):
                t.start_app(h)
            for h in ('wk1', 'wk2'):
                t.start_worker(h)
            t.start_nginx()
            cls.wait_healthy()
        except BaseException:
            t.dump_logs()
            t.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.topo.down()

    def run(self, result=None):
        # print the hosts' logs when a test fails
        before = len(result.failures) + len(result.errors) if result else 0
        r = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            self.topo.dump_logs()
        return r

    # -- helpers ------------------------------------------------------------------

    @classmethod
    def request(cls, method, path, headers=None, json=None, body=None, timeout=30):
        return harness.http_request(HTTP_PORT, method, path, headers=headers, json=json,
                                    body=body, timeout=timeout, host=cls.topo.ip('hub'))

    @classmethod
    def wait_healthy(cls, timeout=30):
        harness.wait_healthy(cls.request, 'nginx -> app hosts', timeout, interval=0.2)

    def client(self):
        c = harness.Client(self, origin=None)
        return c

    def upstreams(self, tag, count):
        """The upstream addresses nginx used for the `count` requests whose URI contains
        `tag` (from its access log; the line is written just after the response)."""
        def read():
            try:
                text = (self.topo.tmp / 'nginx-upstream.log').read_text()
            except OSError:
                return []
            rows = [l.split('|', 2) for l in text.splitlines() if l.count('|') >= 2]
            return [r[1] for r in rows if tag in r[2]]
        self.wait_for(lambda: len(read()) >= count, 5, 'the access log')
        return read()

    def wait_for(self, predicate, timeout, what):
        return harness.wait_for(predicate, timeout, 0.1, what)

    def enqueue_noop(self, tag, sleep_ms):
        payload = jsonlib.dumps({'log': 'noop.log', 'tag': tag, 'sleep_ms': sleep_ms})
        now = int(time.time() * 1e6)
        rows = self.topo.psql(
            "INSERT INTO jobs (kind, payload, run_after, created_at, updated_at) "
            "VALUES ('noop', '%s', %d, %d, %d) RETURNING id" % (payload.replace("'", "''"),
                                                                 now, now, now), db='videoflix')
        self.topo.psql("NOTIFY videoflix_jobs", db="videoflix")  # as job_enqueue does
        return int(rows[0][0])

    def job(self, job_id):
        rows = self.topo.psql('SELECT state, attempts, lease_owner FROM jobs WHERE id = %d'
                              % job_id, db='videoflix')
        return rows[0] if rows else None

    def noop_tags(self, host):
        try:
            text = (self.topo.tmp / host / 'noop.log').read_text()
        except OSError:
            return []
        return [l.split()[0] for l in text.splitlines() if l]

    def restore(self, host):
        """Bring a killed host back (link up, its service restarted)."""
        self.topo.link(host, 'up')
        if host.startswith('app'):
            self.topo.start_app(host)
        else:
            self.topo.start_worker(host)

    # -- tests --------------------------------------------------------------------

    def test_1_requests_are_balanced_over_both_app_hosts(self):
        for _ in range(20):
            r = self.request('GET', '/api/health/?t1')
            self.assertEqual(r.status, 200, r.body)
        used = self.upstreams('?t1', 20)
        self.assertEqual(len(used), 20)
        for h in ('app1', 'app2'):
            self.assertIn('%s:%d' % (self.topo.ip(h), FCGI_PORT), used)

    def test_2_jobs_run_on_both_worker_hosts_exactly_once(self):
        # more jobs than one worker runs at once (noop concurrency 4), each long enough
        # for the other worker to claim its share
        ids = [self.enqueue_noop('t2-%d' % i, 1000) for i in range(12)]
        self.wait_for(lambda: all(self.job(i)[0] == 'done' for i in ids), 60, 'jobs done')
        tags = self.noop_tags('wk1') + self.noop_tags('wk2')
        mine = sorted(t for t in tags if t.startswith('t2-'))
        self.assertEqual(mine, sorted('t2-%d' % i for i in range(12)))  # each exactly once
        self.assertTrue(any(t.startswith('t2-') for t in self.noop_tags('wk1')))
        self.assertTrue(any(t.startswith('t2-') for t in self.noop_tags('wk2')))

    def test_3_killing_a_worker_host_mid_job_loses_nothing(self):
        job_id = self.enqueue_noop('t3', 4000)
        owner = self.wait_for(lambda: (self.job(job_id)[0] == 'running' and self.job(job_id)[2]),
                              20, 'the job to be claimed')
        pid = int(owner.split(':')[1])
        victim = next(h for h in ('wk1', 'wk2') if pid in self.topo.pids(h))
        survivor = 'wk2' if victim == 'wk1' else 'wk1'
        time.sleep(0.5)
        self.topo.kill_host(victim)
        try:
            self.wait_for(lambda: self.job(job_id)[0] == 'done', LEASE_S + 40,
                          'the job to finish on %s' % survivor)
            state, attempts, _ = self.job(job_id)
            self.assertGreaterEqual(int(attempts), 2)
            self.assertIn('t3', self.noop_tags(survivor))
        finally:
            self.restore(victim)

    def test_4_killing_an_app_host_loses_no_request(self):
        self.topo.kill_host('app1')
        try:
            for _ in range(10):
                r = self.request('GET', '/api/health/?t4')
                self.assertEqual(r.status, 200, r.body)
            # the survivor answered every request; the dead host was at most tried
            answered = [u.split(', ')[-1] for u in self.upstreams('?t4', 10)]
            self.assertEqual(len(answered), 10)
            self.assertEqual(set(answered), {'%s:%d' % (self.topo.ip('app2'), FCGI_PORT)})
        finally:
            self.restore('app1')
        self.wait_serving('app1')

    def wait_serving(self, host, timeout=30):
        """Wait until nginx sends requests to `host` again (it rests a failed upstream for
        fail_timeout seconds)."""
        addr = '%s:%d' % (self.topo.ip(host), FCGI_PORT)
        tag = '?back-%s-%s' % (host, secrets.token_hex(3))
        deadline = time.monotonic() + timeout
        n = 0
        while time.monotonic() < deadline:
            r = self.request('GET', '/api/health/' + tag)
            n += 1
            if r.status == 200 and addr in [u.split(', ')[-1] for u in self.upstreams(tag, n)]:
                return
            time.sleep(0.3)
        self.fail('%s did not get requests again within %ds' % (host, timeout))

    def test_5_accounts_work_across_app_hosts(self):
        email = 'multi-%s@example.com' % secrets.token_hex(4)
        password = 'Correct-Horse-%s' % secrets.token_hex(4)
        c = harness.Client(self)
        r = c.post('/api/register/', json={'email': email, 'password': password,
                                           'confirmed_password': password})
        self.assertEqual(r.status, 201, r.body)
        mail = self.wait_for(lambda: self.mail_to(email), 30, 'the activation mail')
        m = re.search(r'uid=([\w-]+)&(?:amp;)?token=([\w-]+)', mail)
        self.assertIsNotNone(m, mail)
        r = c.get('/api/activate/%s/%s/' % (m.group(1), m.group(2)))
        self.assertEqual(r.status, 200, r.body)
        r = c.post('/api/login/', json={'email': email, 'password': password})
        self.assertEqual(r.status, 200, r.body)
        for _ in range(6):  # the cookie is accepted by whichever host answers
            r = c.get('/api/video/?t5')
            self.assertEqual(r.status, 200, r.body)
        used = set(self.upstreams('?t5', 6))
        self.assertEqual(len(used), 2, used)

    def staff_client(self):
        """A logged-in staff client (videoflixctl createsuperuser, then /api/login/)."""
        email = 'staff-%s@example.com' % secrets.token_hex(4)
        password = 'Staff-Pass-%s' % secrets.token_hex(6)
        r = sh(self.topo.nsexec('app2') + [harness.CTL_BIN, 'createsuperuser', email],
               check=False, env=self.topo.env, input=password + '\n' + password + '\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        c = harness.Client(self)
        r = c.post('/api/login/', json={'email': email, 'password': password})
        self.assertEqual(r.status, 200, r.body)
        return c

    def test_6_upload_transcode_play_survives_losing_an_app_and_a_worker_host(self):
        if not shutil.which('ffmpeg'):
            self.skipTest('ffmpeg not installed (test video)')
        c = self.staff_client()
        src = self.topo.tmp / 'source.mp4'
        sh(['ffmpeg', '-v', 'error', '-y', '-f', 'lavfi', '-i',
            'testsrc=duration=6:size=1280x720:rate=25', '-f', 'lavfi', '-i',
            'sine=frequency=440:duration=6', '-shortest', '-c:v', 'libx264', '-preset',
            'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', src])
        boundary = 'vfmultihost%s' % secrets.token_hex(8)
        parts = []
        for k, v in (('title', 'Multihost'), ('description', 'two app hosts, two workers'),
                     ('category', 'Test')):
            parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                         % (boundary, k, v))
        body = ''.join(parts).encode() + (
            '--%s\r\nContent-Disposition: form-data; name="file"; filename="source.mp4"\r\n'
            'Content-Type: video/mp4\r\n\r\n' % boundary).encode() + src.read_bytes() + \
            ('\r\n--%s--\r\n' % boundary).encode()
        r = c.post('/api/admin/videos/', body=body,
                   headers={'Content-Type': 'multipart/form-data; boundary=%s' % boundary})
        self.assertIn(r.status, (200, 201, 202), r.body)
        video_id = r.json()['id']

        # an app host dies right after the upload ...
        self.topo.kill_host('app1')
        try:
            # ... and the worker host that picked up the transcode dies in the middle of it
            def running_owner():
                rows = self.topo.psql("SELECT state, lease_owner, last_error FROM jobs "
                                      "WHERE kind = 'transcode'", db='videoflix')
                for state, owner, error in rows:
                    if state == 'failed':
                        self.fail('the transcode job failed: %s' % error)
                    if state == 'running' and owner:
                        return owner
                return None
            owner = self.wait_for(running_owner, 60, 'the transcode to start')
            pid = int(owner.split(':')[1])
            victim = next((h for h in ('wk1', 'wk2') if pid in self.topo.pids(h)), None)
            self.assertIsNotNone(victim, owner)
            time.sleep(0.3)
            self.topo.kill_host(victim)
            try:
                def ready():
                    rows = self.topo.psql("SELECT state, last_error FROM jobs "
                                          "WHERE kind = 'transcode'", db='videoflix')
                    for state, error in rows:
                        if state == 'failed':
                            self.fail('the transcode job failed: %s' % error)
                    return rows and all(r[0] == 'done' for r in rows)
                self.wait_for(ready, 240, 'the transcode to finish on the surviving worker')
                # a 720p source gets the 480p and 720p renditions (never upscaled)
                for res in ('480p', '720p'):
                    r = c.get('/api/video/%d/%s/index.m3u8' % (video_id, res))
                    self.assertEqual(r.status, 200, (res, r.body[:300]))
                    segs = [l for l in r.text.splitlines() if l and not l.startswith('#')]
                    self.assertTrue(segs, r.text)
                    seg = segs[0] if segs[0].startswith('/') else \
                        '/api/video/%d/%s/%s' % (video_id, res, segs[0])
                    r = c.get(seg)
                    self.assertEqual(r.status, 200, (seg, r.body[:200]))
                    self.assertGreater(len(r.body), 1000)
                    self.assertEqual(r.body[0], 0x47)  # MPEG-TS sync byte
            finally:
                self.restore(victim)
        finally:
            self.restore('app1')
            self.wait_serving('app1')

    def mail_to(self, addr):
        import email as emaillib
        import email.policy
        for sub in ('new', 'cur'):
            d = self.topo.maildir / sub
            if not d.is_dir():
                continue
            for f in d.iterdir():
                m = emaillib.message_from_bytes(f.read_bytes(), policy=email.policy.default)
                if addr in str(m['To']):
                    body = m.get_body(('plain', 'html'))
                    return body.get_content() if body else str(m)
        return None


if __name__ == '__main__':
    unittest.main()
