"""test_foundation.py -- the FastCGI responder behind real web servers: health, the HTTP
contract's cross-cutting rules (404/405/413/415, CORS, security headers) and prefork
supervision (kill -9, SIGTERM mid-request, SIGHUP reload, recycling, config errors)."""

import os
import signal
import socket
import subprocess
import threading
import time
import unittest
from pathlib import Path

import harness

ORIGIN = 'http://127.0.0.1:5500'
EVIL = 'http://evil.example'
SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
}


def first_db():
    return 'sqlite'


def raw_request(port, head, body=b'', timeout=10):
    """Send raw bytes (headers + part of a body) and return (status, body bytes).
    For web servers that answer before reading an oversized body."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        s.sendall(head.encode('ascii') + body)
        data = b''
        while not _complete(data):
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    header, _, payload = data.partition(b'\r\n\r\n')
    status = int(header.split(b' ', 2)[1])
    headers = {}
    for line in header.split(b'\r\n')[1:]:
        k, _, v = line.decode('latin-1').partition(':')
        headers[k.strip().lower()] = v.strip()
    if headers.get('transfer-encoding') == 'chunked':
        out, rest = b'', payload
        while rest:
            size_line, _, rest = rest.partition(b'\r\n')
            n = int(size_line.split(b';')[0], 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        payload = out
    elif 'content-length' in headers:
        payload = payload[:int(headers['content-length'])]
    return status, headers, payload


def _complete(data):
    """True once a response with a Content-Length has fully arrived (servers may linger
    before closing a connection whose request body they refused)."""
    head, sep, body = data.partition(b'\r\n\r\n')
    if not sep:
        return False
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            return len(body) >= int(v.strip())
    return False


def syscall_of(pid):
    """The number of the system call pid is blocked in (x86-64), or None."""
    try:
        return int(Path('/proc/%d/syscall' % pid).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


SLEEP_SYSCALLS = {35, 230}  # nanosleep, clock_nanosleep (x86-64)


class HealthOnEveryCombination(unittest.TestCase):
    def test_health_is_ok_through_every_web_server_and_database(self):
        for web, db in harness.matrix():
            with self.subTest(web=web, db=db):
                try:
                    st = harness.Stack(web=web, db=db, workers=1)
                    st.start()
                except unittest.SkipTest as e:
                    self.skipTest(str(e))
                try:
                    r = st.request('GET', '/api/health/')
                    self.assertEqual(r.status, 200, r.body)
                    self.assertTrue(r.headers['Content-Type'].startswith('application/json'))
                    body = r.json()
                    self.assertEqual(body['status'], 'ok')
                    self.assertEqual(body['database'], 'ok')
                    # no version for an anonymous caller without DEBUG (staff: test_admin)
                    self.assertEqual(sorted(body), ['database', 'status'])
                    self.assertEqual(r.headers.get('Cache-Control'), 'no-store')
                    h = st.request('HEAD', '/api/health/')
                    self.assertEqual(h.status, 200)
                    self.assertEqual(h.body, b'')
                    # DEBUG is off by default: the test-only routes do not exist.
                    d = st.request('GET', '/api/health/debug/sleep/?ms=0')
                    self.assertEqual(d.status, 404, d.body)
                finally:
                    st.stop()


@unittest.skipUnless(harness.pg_available(), 'PostgreSQL not available')
class HealthWhenDatabaseIsDown(unittest.TestCase):
    """PostgreSQL refusing connections: health answers 503 JSON with Retry-After, and
    recovers by itself when the database is back."""

    def test_health_is_503_json_while_postgres_refuses_connections(self):
        with harness.Stack(web='nginx', db='postgres', workers=1) as st:
            name = st.pg_dbname
            self.assertEqual(st.request('GET', '/api/health/').status, 200)
            st._psql('postgres', 'ALTER DATABASE "%s" ALLOW_CONNECTIONS false' % name)
            st._psql('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = '%s'" % name)
            try:
                r = st.request('GET', '/api/health/')
                self.assertEqual(r.status, 503, r.body)
                self.assertEqual(r.json()['status'], 'error')
                self.assertEqual(r.json()['database'], 'unavailable')
                self.assertIn('Retry-After', r.headers)
            finally:
                st._psql('postgres', 'ALTER DATABASE "%s" ALLOW_CONNECTIONS true' % name)
            st.wait_for(lambda: st.request('GET', '/api/health/').status == 200, timeout=10,
                        what='health to recover')


class ContractBase:
    """The HTTP contract's cross-cutting rules, once per web server (one stack per class)."""
    WEB = None
    UPLOAD_MAX = 1024 * 1024

    @classmethod
    def setUpClass(cls):
        harness.class_stack(cls, web=cls.WEB, db=first_db(), workers=2,
                            env={'DEBUG': 'true', 'UPLOAD_MAX_BYTES': str(cls.UPLOAD_MAX)})

    def assertJsonError(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertTrue(r.headers.get('Content-Type', '').startswith('application/json'),
                        r.headers.get('Content-Type'))
        body = r.json()
        self.assertIsInstance(body, dict)
        return body

    def test_unknown_route_is_404_json(self):
        for path in ('/api/nothing/', '/api/', '/api/health/x/', '/api/x/%2e%2e/nothing/'):
            with self.subTest(path=path):
                body = self.assertJsonError(self.st.request('GET', path), 404)
                self.assertEqual(body, {'detail': 'Not found.'})

    def test_wrong_method_is_405_json_with_allow(self):
        r = self.st.request('DELETE', '/api/health/')
        body = self.assertJsonError(r, 405)
        self.assertEqual(body, {'detail': 'Method "DELETE" not allowed.'})
        allow = [m.strip() for m in r.headers.get('Allow', '').split(',')]
        self.assertIn('GET', allow)

    def test_preflight_from_allowed_origin(self):
        r = self.st.request('OPTIONS', '/api/login/', headers={
            'Origin': ORIGIN, 'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type'})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b'')
        self.assertEqual(r.headers.get('Access-Control-Allow-Origin'), ORIGIN)
        self.assertEqual(r.headers.get('Access-Control-Allow-Credentials'), 'true')
        self.assertIn('POST', r.headers.get('Access-Control-Allow-Methods', ''))
        allowed = r.headers.get('Access-Control-Allow-Headers', '').lower()
        self.assertIn('content-type', allowed)
        self.assertIn('x-csrftoken', allowed)
        self.assertEqual(r.headers.get('Access-Control-Max-Age'), '86400')

    def test_allowed_origin_is_echoed_on_success_and_errors(self):
        for method, path in (('GET', '/api/health/'), ('GET', '/api/nothing/'),
                             ('DELETE', '/api/health/')):
            with self.subTest(method=method, path=path):
                r = self.st.request(method, path, headers={'Origin': 'http://localhost:5500'})
                self.assertEqual(r.headers.get('Access-Control-Allow-Origin'),
                                 'http://localhost:5500')
                self.assertEqual(r.headers.get('Access-Control-Allow-Credentials'), 'true')
                self.assertIn('Origin', r.headers.get('Vary', ''))
                self.assertNotEqual(r.headers.get('Access-Control-Allow-Origin'), '*')

    def test_other_origin_gets_no_cors_headers(self):
        r = self.st.request('GET', '/api/health/', headers={'Origin': EVIL})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get('Access-Control-Allow-Origin'))
        self.assertIsNone(r.headers.get('Access-Control-Allow-Credentials'))

    def test_unsafe_method_from_other_origin_is_403_json(self):
        r = self.st.request('POST', '/api/health/debug/echo/', headers={'Origin': EVIL},
                            json={'a': 1})
        self.assertJsonError(r, 403)

    def test_security_headers_on_every_response(self):
        for method, path in (('GET', '/api/health/'), ('GET', '/api/nothing/'),
                             ('DELETE', '/api/health/')):
            with self.subTest(method=method, path=path):
                r = self.st.request(method, path)
                for k, v in SECURITY_HEADERS.items():
                    self.assertEqual(r.headers.get(k), v, k)
                server = r.headers.get('Server', '')
                self.assertNotRegex(server, r'\d', 'version banner: %r' % server)

    def test_health_shows_the_version_with_debug_on(self):
        body = self.st.request('GET', '/api/health/').json()
        self.assertRegex(body['version'], r'^\d+\.\d+')

    def test_json_echo_round_trip(self):
        r = self.st.request('POST', '/api/health/debug/echo/', headers={'Origin': ORIGIN},
                            json={'email': 'ä@example.com', 'n': [1, 2]})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {'json': {'email': 'ä@example.com', 'n': [1, 2]}})

    def test_json_body_over_64k_is_413_json_from_the_application(self):
        big = {'x': 'a' * (70 * 1024)}
        body = self.assertJsonError(self.st.request('POST', '/api/health/debug/echo/', json=big),
                                    413)
        self.assertIn('detail', body)

    def test_body_over_upload_limit_is_413_json_from_the_web_server(self):
        size = self.UPLOAD_MAX + 4096
        status, headers, payload = raw_request(
            self.st.http_port,
            'POST /api/health/debug/echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n'
            % size, b'{"x":"' + b'a' * 1000)
        self.assertEqual(status, 413)
        import json
        self.assertIn('detail', json.loads(payload))

    def test_wrong_content_type_is_415_json(self):
        r = self.st.request('POST', '/api/health/debug/echo/', body=b'a=b',
                            headers={'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertJsonError(r, 415)

    def test_malformed_json_is_400_json(self):
        for raw in (b'{', b'{"a":1} x', b'\xff\xfe', b'{"a":"\x00"}'):
            with self.subTest(raw=raw):
                r = self.st.request('POST', '/api/health/debug/echo/', body=raw,
                                    headers={'Content-Type': 'application/json'})
                self.assertJsonError(r, 400)

    def test_application_down_is_json_503(self):
        self.st._terminate('fcgi', timeout=20)
        try:
            r = self.st.request('GET', '/api/health/')
            self.assertIn(r.status, (502, 503), r.body)
            self.assertIn('detail', r.json())
        finally:
            self.st._start_fcgi()
            self.st._wait_healthy()


@unittest.skipUnless(harness.TEST_HOOKS, harness.NO_TEST_HOOKS)
class ContractLighttpd(ContractBase, unittest.TestCase):
    WEB = 'lighttpd'


@unittest.skipUnless(harness.TEST_HOOKS, harness.NO_TEST_HOOKS)
class ContractNginx(ContractBase, unittest.TestCase):
    WEB = 'nginx'


@unittest.skipUnless(harness.TEST_HOOKS, harness.NO_TEST_HOOKS)
class Supervision(unittest.TestCase):
    """Prefork supervision: respawn, graceful stop, reload, recycling."""

    @classmethod
    def setUpClass(cls):
        harness.class_stack(cls, web='nginx', db=first_db(), workers=2, env={'DEBUG': 'true'})

    def workers(self, n=2):
        return self.st.wait_for(lambda: (lambda p: p if len(p) == n else None)(
            self.st.fcgi_worker_pids()), timeout=5, what='%d workers' % n)

    def slow_request(self, ms, results):
        def run():
            try:
                results.append(self.st.request('GET', '/api/health/debug/sleep/?ms=%d' % ms,
                                               timeout=30))
            except Exception as e:  # noqa: BLE001 -- reported by the test
                results.append(e)
        t = threading.Thread(target=run)
        t.start()
        return t

    def busy_worker(self, pids):
        return self.st.wait_for(
            lambda: next((p for p in pids if syscall_of(p) in SLEEP_SYSCALLS), None),
            timeout=5, what='a worker busy in the slow request')

    def test_kill_9_of_an_idle_worker_is_respawned_within_a_second(self):
        before = self.workers()
        os.kill(before[0], signal.SIGKILL)
        t0 = time.monotonic()
        after = self.st.wait_for(
            lambda: (lambda p: p if len(p) == 2 and before[0] not in p else None)(
                self.st.fcgi_worker_pids()), timeout=3, what='a replacement worker')
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertNotIn(before[0], after)
        for _ in range(10):
            self.assertEqual(self.st.request('GET', '/api/health/').status, 200)

    def test_kill_9_of_a_busy_worker_fails_only_its_request(self):
        pids = self.workers()
        results = []
        t = self.slow_request(5000, results)
        victim = self.busy_worker(pids)
        os.kill(victim, signal.SIGKILL)
        for _ in range(10):
            self.assertEqual(self.st.request('GET', '/api/health/').status, 200)
        t.join(30)
        self.assertEqual(len(results), 1)
        r = results[0]
        self.assertNotIsInstance(r, Exception)
        self.assertIn(r.status, (502, 503))
        self.assertIn('detail', r.json())
        self.workers()

    def test_sigterm_during_a_slow_request_lets_it_complete(self):
        pids = self.workers()
        results = []
        t = self.slow_request(1500, results)
        self.busy_worker(pids)
        master = self.st.procs['fcgi']
        master.send_signal(signal.SIGTERM)
        t.join(30)
        try:
            self.assertEqual(len(results), 1)
            r = results[0]
            self.assertNotIsInstance(r, Exception)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()['slept_ms'], 1500)
            self.assertEqual(master.wait(timeout=15), 0)
            self.assertFalse(self.st.socket_path.exists(), 'socket left behind')
        finally:
            self.st.procs.pop('fcgi', None)
            self.st._start_fcgi()
            self.st._wait_healthy()

    def test_sigterm_during_a_large_slow_download_delivers_every_byte(self):
        pids = self.workers()
        size = 24 * 1024 * 1024
        s = socket.create_connection(('127.0.0.1', self.st.http_port), timeout=30)
        master = self.st.procs['fcgi']
        try:
            s.sendall(b'GET /api/health/debug/sleep/?ms=800&bytes=%d HTTP/1.1\r\n'
                      b'Host: 127.0.0.1\r\nConnection: close\r\n\r\n' % size)
            self.busy_worker(pids)
            master.send_signal(signal.SIGTERM)
            data = b''
            while True:
                chunk = s.recv(256 * 1024)
                if not chunk:
                    break
                data += chunk
                time.sleep(0.002)  # a slow client
        finally:
            s.close()
        try:
            head, _, body = data.partition(b'\r\n\r\n')
            self.assertIn(b' 200 ', head.split(b'\r\n')[0])
            self.assertIn(b'"blob":"' + b'a' * 64, body)
            self.assertEqual(body.count(b'a'), size, 'truncated response')
            self.assertTrue(body.rstrip().endswith(b'"}'), body[-80:])
            self.assertEqual(master.wait(timeout=15), 0)
        finally:
            self.st.procs.pop('fcgi', None)
            self.st._start_fcgi()
            self.st._wait_healthy()

    def test_sigterm_escalates_to_sigkill_after_the_graceful_timeout(self):
        self.st.restart_fcgi(graceful_timeout=1)
        try:
            pids = self.workers()
            results = []
            t = self.slow_request(8000, results)
            self.busy_worker(pids)
            master = self.st.procs['fcgi']
            t0 = time.monotonic()
            master.send_signal(signal.SIGTERM)
            self.assertEqual(master.wait(timeout=10), 0)
            self.assertLess(time.monotonic() - t0, 5)
            t.join(30)
            self.assertIn(results[0].status, (502, 503))
            self.assertIn('workers still busy after 1 s', self.st.log_text('fcgi'))
        finally:
            self.st.procs.pop('fcgi', None)
            self.st._start_fcgi()
            self.st._wait_healthy()

    def test_sighup_starts_fresh_workers_and_keeps_serving(self):
        before = set(self.workers())
        errors = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    r = self.st.request('GET', '/api/health/', timeout=10)
                    if r.status != 200:
                        errors.append(r)
                except Exception as e:  # noqa: BLE001
                    errors.append(e)

        th = threading.Thread(target=hammer)
        th.start()
        try:
            time.sleep(0.2)
            os.kill(self.st.fcgi_master_pid, signal.SIGHUP)
            self.st.wait_for(lambda: (lambda p: len(p) == 2 and not (set(p) & before))(
                self.st.fcgi_worker_pids()), timeout=10, what='fresh workers')
            time.sleep(0.3)
        finally:
            stop.set()
            th.join(15)
        self.assertEqual(errors, [])

    def test_workers_die_with_a_killed_master_and_a_restart_reuses_the_stale_socket(self):
        pids = self.workers()
        master = self.st.procs.pop('fcgi')
        master.kill()
        master.wait(timeout=10)
        self.st.wait_for(lambda: not any(Path('/proc/%d' % p).exists() and
                                         syscall_of(p) is not None for p in pids),
                         timeout=5, what='orphaned workers to exit')
        self.assertTrue(self.st.socket_path.exists(), 'the crash leaves the socket file')
        self.st._start_fcgi()
        self.st._wait_healthy()
        self.assertEqual(len(self.workers()), 2)

    def test_exits_2_with_a_clear_message_on_a_config_error(self):
        env = dict(self.st.env)
        env['SECRET_KEY'] = 'short'
        r = subprocess.run([str(harness.FCGI_BIN), '-s', str(self.st.tmpdir / 'run' / 'x.sock')],
                           env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn('SECRET_KEY', r.stderr)
        self.assertNotIn('short', r.stderr)

    def test_refuses_a_socket_path_in_use(self):
        r = subprocess.run([str(harness.FCGI_BIN), '-s', str(self.st.socket_path)],
                           env=self.st.env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('in use', r.stderr)
        self.assertEqual(self.st.request('GET', '/api/health/').status, 200)


@unittest.skipUnless(harness.TEST_HOOKS, harness.NO_TEST_HOOKS)
class CrashLoop(unittest.TestCase):
    def test_crash_loop_pauses_respawning_then_recovers(self):
        with harness.Stack(web='nginx', db=first_db(), workers=2, env={'DEBUG': 'true'}) as st:
            crashes = 12
            for _ in range(crashes):
                r = st.request('GET', '/api/health/debug/crash/', timeout=30)
                self.assertIn(r.status, (502, 503), r.body)
                self.assertIn('detail', r.json())
            st.wait_for(lambda: 'crash loop' in st.log_text('fcgi'), timeout=5,
                        what='the crash-loop guard')
            # Requests queue on the socket during the pause, then are served.
            r = st.request('GET', '/api/health/', timeout=30)
            self.assertEqual(r.status, 200, r.body)
            # The proxy's 502 can reach us before the master has reaped and logged the last
            # crash: wait for the line, then check that there was one per crash, no more.
            st.wait_for(lambda: st.log_text('fcgi').count('killed by signal 6') >= crashes,
                        timeout=10, what='%d crashes logged' % crashes)
            log = st.log_text('fcgi')
            self.assertEqual(log.count('killed by signal 6'), crashes, log)
            # The first respawned worker may answer before the second is forked.
            st.wait_for(lambda: len(st.fcgi_worker_pids()) == 2, timeout=5,
                        what='both workers respawned')


class ReloadConfiguration(unittest.TestCase):
    """SIGHUP re-reads the .env file; an invalid one keeps the running configuration."""

    def test_sighup_applies_a_changed_env_file_and_survives_a_broken_one(self):
        with harness.Stack(web='lighttpd', db=first_db(), workers=1) as st:
            env = dict(st.env)
            env.pop('FCGI_WORKERS')
            envfile = st.tmpdir / 'reload.env'
            secret = env.pop('SECRET_KEY')
            envfile.write_text('SECRET_KEY=%s\nFCGI_WORKERS=1\n' % secret)
            env['VIDEOFLIX_ENV'] = str(envfile)
            sock = st.tmpdir / 'run' / 'reload.sock'
            p = subprocess.Popen([str(harness.FCGI_BIN), '-s', str(sock), '-T', '5'], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                def children(n, old=()):
                    def check():
                        try:
                            text = Path('/proc/%d/task/%d/children' % (p.pid, p.pid)).read_text()
                        except OSError:
                            return None
                        pids = [int(x) for x in text.split() if syscall_of(int(x)) is not None]
                        return pids if len(pids) == n and not set(pids) & set(old) else None
                    return st.wait_for(check, timeout=10, what='%d workers' % n)

                first = children(1)
                envfile.write_text('SECRET_KEY=%s\nFCGI_WORKERS=3\n' % secret)
                p.send_signal(signal.SIGHUP)
                second = children(3, first)
                status, body = fcgi_get(str(sock), '/api/health/')
                self.assertEqual(status, 200, body)

                envfile.write_text('SECRET_KEY=short\nFCGI_WORKERS=1\n')
                p.send_signal(signal.SIGHUP)
                children(3, second)  # the old configuration stays; fresh workers anyway
                status, body = fcgi_get(str(sock), '/api/health/')
                self.assertEqual(status, 200, body)
            finally:
                p.send_signal(signal.SIGTERM)
                out, _ = p.communicate(timeout=20)
            self.assertEqual(p.returncode, 0, out)
            self.assertIn(b'keeping the current configuration', out)
            self.assertNotIn(b'short', out)


@unittest.skipUnless(harness.TEST_HOOKS, harness.NO_TEST_HOOKS)
class Recycling(unittest.TestCase):
    def test_worker_is_replaced_after_fcgi_max_requests(self):
        with harness.Stack(web='lighttpd', db=first_db(), workers=1,
                           env={'DEBUG': 'true', 'FCGI_MAX_REQUESTS': '5'}) as st:
            pids = []
            for _ in range(16):
                r = st.request('GET', '/api/health/debug/sleep/?ms=0')
                self.assertEqual(r.status, 200, r.body)
                pids.append(r.json()['pid'])
            counts = {p: pids.count(p) for p in set(pids)}
            self.assertGreaterEqual(len(counts), 3, counts)
            self.assertLessEqual(max(counts.values()), 5, counts)


class SocketInheritance(unittest.TestCase):
    """spawn-fcgi style: the listening socket arrives on fd 0."""

    def test_serves_a_socket_inherited_on_fd_0(self):
        with harness.Stack(web='lighttpd', db=first_db(), workers=1) as st:
            sock_path = st.tmpdir / 'run' / 'spawned.sock'
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(sock_path))
            listener.listen(16)
            p = subprocess.Popen([str(harness.FCGI_BIN), '-n', '1'], stdin=listener.fileno(),
                                 env=st.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            listener.close()
            try:
                # Speak FastCGI directly: a minimal request for /api/health/.
                status, body = fcgi_get(str(sock_path), '/api/health/')
                self.assertEqual(status, 200, body)
                self.assertIn(b'"status":"ok"', body)
            finally:
                p.send_signal(signal.SIGTERM)
                out, _ = p.communicate(timeout=20)
                self.assertEqual(p.returncode, 0, out)


def fcgi_get(sock_path, uri):
    """A minimal FastCGI client: one GET request; returns (status, body)."""
    import struct

    def record(rtype, content, req_id=1):
        return struct.pack('>BBHHBx', 1, rtype, req_id, len(content), 0) + content

    def nv(name, value):
        n, v = name.encode(), value.encode()
        return bytes([len(n)]) + bytes([len(v)]) + n + v

    params = b''.join(nv(k, v) for k, v in (
        ('REQUEST_METHOD', 'GET'), ('REQUEST_URI', uri), ('QUERY_STRING', ''),
        ('REMOTE_ADDR', '127.0.0.1'), ('SERVER_PROTOCOL', 'HTTP/1.1')))
    msg = (record(1, struct.pack('>HB5x', 1, 0)) + record(4, params) + record(4, b'') +
           record(5, b''))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(msg)
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    out, i = b'', 0
    while i + 8 <= len(data):
        _, rtype, _, clen, plen = struct.unpack('>BBHHB', data[i:i + 7])
        if rtype == 6:
            out += data[i + 8:i + 8 + clen]
        i += 8 + clen + plen
    head, _, body = out.partition(b'\r\n\r\n')
    status = 200
    for line in head.split(b'\r\n'):
        if line.lower().startswith(b'status:'):
            status = int(line.split()[1])
    return status, body


if __name__ == '__main__':
    unittest.main()
