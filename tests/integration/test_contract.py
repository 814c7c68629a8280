"""test_contract.py -- CONTRACT.md's cross-cutting rules where the web server matters, as
tables over every route and every kind of response: preflights, CORS on errors and files
(including the errors lighttpd and nginx make themselves: 411, 413, 400, 503 with the
application down), JSON bodies with the right status, 405 with Allow, Cache-Control:
no-store on auth and user data, no version banners; and the frontend's real cross-origin
use of the API in headless Chromium (tests/browser/frontend_cors.mjs: register, activate
from the mailed link, login, list, refresh, hls.js-style XHRs, logout), served from a
different origin that is in CORS_ALLOWED_ORIGINS.

One stack per web server of the matrix (the first database listed for it), with the
worker (the activation mail)."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import harness

ORIGIN = 'http://127.0.0.1:5500'
EVIL = 'http://evil.example'
EMAIL = 'viewer@example.com'
PASSWORD = 'Xk9#mq2!Lw-video'
UPLOAD_MAX = 1024 * 1024
SECURITY = {'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY',
            'Referrer-Policy': 'same-origin'}
NO_LIMITS = {'RATELIMIT_LOGIN': '1000', 'RATELIMIT_REGISTER': '1000',
             'RATELIMIT_PASSWORD_RESET': '1000'}


def raw_http(port, head, body=b'', timeout=10):
    """Send bytes exactly as given; returns (status, headers dict lower-case, body)."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(head.encode('latin-1') + body)
        if body:
            s.shutdown(socket.SHUT_WR)  # a cut-short body: the server need not linger
        data = b''
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    head_raw, _, payload = data.partition(b'\r\n\r\n')
    lines = head_raw.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers.setdefault(k.strip().lower(), v.strip())
    return status, headers, payload


def webs():
    """Each web server of the matrix once, with the first database listed for it."""
    seen = {}
    for web, db in harness.matrix():
        seen.setdefault(web, db)
    return sorted(seen.items())


class _ContractTests(unittest.TestCase):
    WEB, DB = 'nginx', 'sqlite'

    @classmethod
    def setUpClass(cls):
        cls.frontend_port = harness.free_port()
        cls.frontend = 'http://127.0.0.1:%d' % cls.frontend_port
        env = dict(NO_LIMITS)
        env.update({'UPLOAD_MAX_BYTES': str(UPLOAD_MAX), 'FRONTEND_URL': cls.frontend,
                    'CORS_ALLOWED_ORIGINS': '%s,%s,http://localhost:5500'
                                            % (cls.frontend, ORIGIN)})
        harness.class_stack(cls, cls._populate, web=cls.WEB, db=cls.DB, worker=True, env=env)

    @classmethod
    def _populate(cls):
        """A signed-in viewer and one ready video: 480p playlist, 1000 + 1 segments named
        000.ts and 1000.ts, a real JPEG thumbnail; the maildir the browser test reads."""
        st = cls.st
        for sub in ('tmp', 'new', 'cur'):
            (st.maildir / sub).mkdir(exist_ok=True)
        st.add_user(EMAIL, PASSWORD)
        now = int(time.time() * 1e6)
        st.sql('INSERT INTO videos (title, description, category, created_at, updated_at,'
               ' source_path, has_thumbnail, state, duration_ms, width, height)'
               " VALUES ('Clip', 'About it', 'Drama', ?, ?, 'uploads/x.mp4', 1, 'ready', 2000,"
               ' 640, 360)', (now, now))
        cls.vid = st.sql('SELECT id FROM videos')[0][0]
        st.sql('INSERT INTO video_renditions (video_id, height, width, bandwidth, avg_bandwidth,'
               " codecs) VALUES (?, 480, 640, 800000, 700000, 'avc1.64001e')", (cls.vid,))
        d = st.media_root / 'hls' / str(cls.vid) / '480p'
        d.mkdir(parents=True)
        (d / 'index.m3u8').write_text(
            '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n'
            '#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.0,\n000.ts\n#EXTINF:1.0,\n1000.ts\n'
            '#EXT-X-ENDLIST\n')
        cls.segment = bytes([0x47]) + os.urandom(187) * 20
        (d / '000.ts').write_bytes(cls.segment)
        (d / '1000.ts').write_bytes(cls.segment)
        thumb = st.media_root / 'thumbnails' / ('%d.jpg' % cls.vid)
        subprocess.run(['ffmpeg', '-loglevel', 'error', '-f', 'lavfi', '-i',
                        'color=c=red:s=16x16', '-frames:v', '1', '-y', str(thumb)],
                       check=True, timeout=60)
        for p in st.media_root.rglob('*'):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        cls.viewer = st.client(origin=ORIGIN)
        r = cls.viewer.post('/api/login/', json={'email': EMAIL, 'password': PASSWORD})
        assert r.status == 200, r

    # -- helpers ---------------------------------------------------------------------

    def cookie(self):
        return '; '.join('%s=%s' % kv for kv in self.viewer.cookies.items())

    def assertCors(self, headers, origin=ORIGIN, what=''):
        get = headers.get
        self.assertEqual(get('Access-Control-Allow-Origin') or get('access-control-allow-origin'),
                         origin, what)
        self.assertEqual(get('Access-Control-Allow-Credentials')
                         or get('access-control-allow-credentials'), 'true', what)
        self.assertIn('Origin', get('Vary') or get('vary') or '', what)

    def assertJson(self, status, ctype, body, want_status, what=''):
        self.assertEqual(status, want_status, '%s: %r' % (what, body[:200]))
        self.assertTrue((ctype or '').startswith('application/json'), '%s: %s' % (what, ctype))
        self.assertIsInstance(json.loads(body), dict, what)

    def paths(self):
        v = self.vid
        return {
            'register': '/api/register/',
            'activate': '/api/activate/Mw/abc-def/',
            'login': '/api/login/',
            'logout': '/api/logout/',
            'refresh': '/api/token/refresh/',
            'reset': '/api/password_reset/',
            'confirm': '/api/password_confirm/Mw/abc-def/',
            'list': '/api/video/',
            'playlist': '/api/video/%d/480p/index.m3u8' % v,
            'segment': '/api/video/%d/480p/000.ts' % v,
            'segment/': '/api/video/%d/480p/000.ts/' % v,
            'segment1000': '/api/video/%d/480p/1000.ts' % v,
        }

    # -- preflight -------------------------------------------------------------------

    def test_preflight_on_every_route_of_the_contract(self):
        methods = {'activate': 'GET', 'list': 'GET', 'playlist': 'GET', 'segment': 'GET',
                   'segment/': 'GET', 'segment1000': 'GET', 'thumbnail': 'GET',
                   'missing thumbnail': 'GET', 'admin panel': 'GET'}
        # "on any path": the files the web server serves itself too.
        paths = dict(self.paths(), **{
            'thumbnail': '/media/thumbnails/%d.jpg' % self.vid,
            'missing thumbnail': '/media/thumbnails/999999.jpg',
            'admin panel': '/admin/'})
        for name, path in paths.items():
            for origin in (ORIGIN, 'http://localhost:5500', self.frontend):
                with self.subTest(route=name, origin=origin):
                    method = methods.get(name, 'POST')
                    r = self.st.request('OPTIONS', path, headers={
                        'Origin': origin, 'Access-Control-Request-Method': method,
                        'Access-Control-Request-Headers': 'content-type,x-csrftoken'})
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.body, b'')
                    self.assertCors(r.headers, origin, name)
                    self.assertIn(method, r.headers.get('Access-Control-Allow-Methods', ''))
                    allowed = [h.strip() for h in
                               r.headers.get('Access-Control-Allow-Headers', '').lower().split(',')]
                    self.assertIn('content-type', allowed)
                    self.assertIn('x-csrftoken', allowed)
                    self.assertEqual(r.headers.get('Access-Control-Max-Age'), '86400')

    def test_preflight_from_a_foreign_origin_is_not_allowed(self):
        for name, path in self.paths().items():
            with self.subTest(route=name):
                r = self.st.request('OPTIONS', path, headers={
                    'Origin': EVIL, 'Access-Control-Request-Method': 'POST'})
                self.assertIsNone(r.headers.get('Access-Control-Allow-Origin'), r)
                self.assertNotEqual(r.headers.get('Access-Control-Allow-Credentials'), 'true')

    # -- CORS and headers on every kind of response ------------------------------------

    def test_cors_and_security_headers_on_every_kind_of_response(self):
        p = self.paths()
        cases = [
            # (what, method, path, with cookie, expected status)
            ('JSON 200', 'GET', p['list'], True, 200),
            ('JSON 401', 'GET', p['list'], False, 401),
            ('JSON 404', 'GET', '/api/nothing/', False, 404),
            ('JSON 405', 'DELETE', p['login'], False, 405),
            ('JSON 400', 'GET', p['activate'], False, 400),
            ('playlist file', 'GET', p['playlist'], True, 200),
            ('segment file', 'GET', p['segment'], True, 200),
            ('segment file, slash form', 'GET', p['segment/'], True, 200),
            ('segment 1000', 'GET', p['segment1000'], True, 200),
            ('segment HEAD', 'HEAD', p['segment'], True, 200),
            ('segment 401', 'GET', p['segment'], False, 401),
            ('segment 404', 'GET', '/api/video/%d/480p/999.ts' % self.vid, True, 404),
            ('playlist 404', 'GET', '/api/video/%d/360p/index.m3u8' % self.vid, True, 404),
            ('playlist 404, unknown video', 'GET', '/api/video/999999/480p/index.m3u8', True,
             404),
            ('thumbnail file', 'GET', '/media/thumbnails/%d.jpg' % self.vid, False, 200),
        ]
        for what, method, path, cookie, status in cases:
            with self.subTest(what=what):
                h = {'Origin': ORIGIN}
                if cookie:
                    h['Cookie'] = self.cookie()
                r = self.st.request(method, path, headers=h)
                self.assertEqual(r.status, status, '%s: %r' % (what, r))
                self.assertCors(r.headers, ORIGIN, what)
                for k, v in SECURITY.items():
                    self.assertEqual(r.headers.get(k), v, '%s: %s' % (what, k))
                server = r.headers.get('Server', '')
                self.assertNotRegex(server, r'\d', '%s: version banner %r' % (what, server))
                if path.startswith('/api/') and status >= 400:
                    self.assertJson(r.status, r.headers.get('Content-Type'), r.body, status, what)
                # A foreign origin gets no CORS headers at all.
                h['Origin'] = EVIL
                r = self.st.request(method, path, headers=h)
                self.assertIsNone(r.headers.get('Access-Control-Allow-Origin'), what)

    def test_not_modified_list_keeps_the_cors_headers(self):
        # CONTRACT.md does not ask for an ETag; where the list has one, its 304 is a
        # response like any other (the browser merges it with the cached 200 and checks
        # CORS again).
        h = {'Origin': ORIGIN, 'Cookie': self.cookie()}
        etag = self.st.request('GET', '/api/video/', headers=h).headers.get('ETag')
        if not etag:
            self.skipTest(harness.not_applicable('the list sends no ETag'))
        r = self.st.request('GET', '/api/video/', headers=dict(h, **{'If-None-Match': etag}))
        self.assertEqual(r.status, 304, r)
        self.assertCors(r.headers, ORIGIN, '304')

    def test_segments_answer_directly_in_both_forms(self):
        for name in ('segment', 'segment/', 'segment1000'):
            with self.subTest(form=name):
                r = self.st.request('GET', self.paths()[name],
                                    headers={'Cookie': self.cookie(), 'Origin': ORIGIN})
                self.assertEqual(r.status, 200, r)  # no redirect
                self.assertEqual(r.headers.get('Content-Type'), 'video/MP2T')
                self.assertEqual(r.headers.get('Content-Length'), str(len(self.segment)))
                self.assertEqual(r.headers.get('Accept-Ranges'), 'bytes')
                self.assertEqual(r.body, self.segment)
                r = self.st.request('GET', self.paths()[name], headers={
                    'Cookie': self.cookie(), 'Range': 'bytes=10-19'})
                self.assertEqual(r.status, 206, r)
                self.assertEqual(r.body, self.segment[10:20])
                r = self.st.request('HEAD', self.paths()[name], headers={'Cookie': self.cookie()})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.headers.get('Content-Length'), str(len(self.segment)))
                self.assertEqual(r.body, b'')

    def test_wrong_method_is_405_json_with_allow_on_every_route(self):
        p = self.paths()
        gets = ('activate', 'list', 'playlist', 'segment', 'segment/', 'segment1000')
        cases = [('GET', 'register'), ('PUT', 'register'), ('POST', 'activate'),
                 ('GET', 'login'), ('DELETE', 'login'), ('GET', 'logout'), ('GET', 'refresh'),
                 ('GET', 'reset'), ('GET', 'confirm'), ('POST', 'list'), ('DELETE', 'list'),
                 ('POST', 'playlist'), ('PUT', 'segment'), ('POST', 'segment'),
                 ('POST', 'segment/'), ('DELETE', 'segment1000')]
        for method, name in cases:
            with self.subTest(method=method, route=name):
                r = self.st.request(method, p[name], json={} if method != 'GET' else None,
                                    headers={'Origin': ORIGIN, 'Cookie': self.cookie()})
                self.assertJson(r.status, r.headers.get('Content-Type'), r.body, 405,
                                '%s %s' % (method, name))
                self.assertEqual(r.json(), {'detail': 'Method "%s" not allowed.' % method})
                allow = [m.strip() for m in r.headers.get('Allow', '').split(',')]
                self.assertNotIn(method, allow)
                self.assertIn('GET' if name in gets else 'POST', allow)
                self.assertCors(r.headers, ORIGIN, name)

    def test_no_store_on_auth_and_user_data(self):
        # RELIABILITY.md 21: Cache-Control: no-store on auth and user data.
        c = self.st.client(origin=ORIGIN)
        staff = 'staff-%s@example.com' % self.WEB
        self.st.add_user(staff, PASSWORD, staff=True)
        admin = self.st.client(origin=ORIGIN)
        self.assertEqual(admin.post('/api/login/', json={'email': staff,
                                                         'password': PASSWORD}).status, 200)
        cases = [
            ('register 400', lambda: c.post('/api/register/', json={}), 400),
            ('activate 400', lambda: c.get('/api/activate/Mw/abc/'), 400),
            ('login 401', lambda: c.post('/api/login/', json={'email': EMAIL,
                                                               'password': 'wrong-one'}), 401),
            ('login 200', lambda: c.post('/api/login/', json={'email': EMAIL,
                                                               'password': PASSWORD}), 200),
            ('refresh 200', lambda: c.post('/api/token/refresh/'), 200),
            ('reset 200', lambda: c.post('/api/password_reset/',
                                         json={'email': 'nobody@example.com'}), 200),
            ('confirm 400', lambda: c.post('/api/password_confirm/Mw/abc/', json={}), 400),
            ('list 401', lambda: self.st.request('GET', '/api/video/'), 401),
            ('admin me', lambda: admin.get('/api/admin/me/'), 200),
            ('admin users', lambda: admin.get('/api/admin/users/'), 200),
            ('logout 200', lambda: c.post('/api/logout/'), 200),
            ('logout 400', lambda: c.post('/api/logout/'), 400),
        ]
        for what, call, status in cases:
            with self.subTest(what=what):
                r = call()
                self.assertEqual(r.status, status, '%s: %r' % (what, r))
                self.assertIn('no-store', r.headers.get('Cache-Control', ''), what)
        # The list is shared data revalidated with its ETag: never stored by a shared cache.
        r = self.st.request('GET', '/api/video/', headers={'Cookie': self.cookie()})
        cc = r.headers.get('Cache-Control', '')
        self.assertTrue('private' in cc or 'no-store' in cc, cc)

    def test_urls_come_from_configuration_never_from_request_headers(self):
        spoof = {'Host': 'evil.example', 'X-Forwarded-Host': 'evil.example',
                 'X-Forwarded-Proto': 'https', 'Forwarded': 'host=evil.example',
                 'Origin': ORIGIN}
        r = self.st.request('GET', '/api/video/', headers=dict(spoof, Cookie=self.cookie()))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([v['thumbnail_url'] for v in r.json()],
                         ['%s/media/thumbnails/%d.jpg' % (self.st.base_url, self.vid)])
        before = len(self.st.mails())
        r = self.st.request('POST', '/api/password_reset/', headers=spoof,
                            json={'email': EMAIL})
        self.assertEqual(r.status, 200, r)
        mail = self.st.wait_mails(before + 1, timeout=15)[-1]
        for part in ('plain', 'html'):
            text = mail.get_body((part,)).get_content()
            self.assertNotIn('evil.example', text, part)
            self.assertIn('%s/pages/auth/confirm_password.html?uid=' % self.frontend, text)

    def test_login_email_is_case_insensitive(self):
        # CONTRACT.md: emails are compared case-insensitively; the surrounding blanks go as
        # DRF's serializer fields trim them (where the contract is silent, DRF's behaviour).
        for email in (EMAIL.upper(), EMAIL.capitalize(), ' %s ' % EMAIL):
            with self.subTest(email=email):
                r = self.st.request('POST', '/api/login/', headers={'Origin': ORIGIN},
                                    json={'email': email, 'password': PASSWORD})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()['user']['username'], EMAIL)

    def test_no_version_banner_anywhere(self):
        for path in ('/api/health/', '/api/nothing/', '/admin/', '/nothing.html',
                     '/media/thumbnails/%d.jpg' % self.vid, '/media/thumbnails/0.jpg'):
            with self.subTest(path=path):
                r = self.st.request('GET', path)
                server = r.headers.get('Server', '')
                self.assertNotRegex(server, r'\d', 'version banner %r' % server)
                self.assertNotIn(b'nginx/', r.body)
                self.assertNotIn(b'lighttpd/', r.body)
                self.assertIsNone(r.headers.get('X-Powered-By'))

    # -- errors the web server makes itself ---------------------------------------------

    def web_server_error_cases(self):
        """(what, raw request head, body, expected statuses)."""
        o = 'Origin: %s\r\n' % ORIGIN
        return [
            ('body over the upload limit', 'POST /api/login/ HTTP/1.1\r\nHost: x\r\n' + o +
             'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n'
             % (UPLOAD_MAX + 4096), b'{"email":"', (413,)),
            # lighttpd refuses a POST without Content-Length itself (411); nginx passes it
            # on as an empty body and the application answers (no refresh cookie: 400).
            ('POST without Content-Length', 'POST /api/token/refresh/ HTTP/1.1\r\nHost: x\r\n'
             + o + 'Connection: close\r\n\r\n', b'',
             (411,) if self.WEB == 'lighttpd' else (400,)),
        ]

    def test_web_server_errors_under_api_are_json_with_cors(self):
        for what, head, body, statuses in self.web_server_error_cases():
            with self.subTest(what=what):
                status, h, payload = raw_http(self.st.http_port, head, body)
                self.assertIn(status, statuses, '%s: %r' % (what, payload[:200]))
                self.assertIn('detail', json.loads(payload), what)
                self.assertTrue(h.get('content-type', '').startswith('application/json'),
                                '%s: %s' % (what, h.get('content-type')))
                self.assertCors(h, ORIGIN, what)
                self.assertEqual(h.get('x-content-type-options'), 'nosniff', what)

    def test_unparsable_request_under_api_gets_a_json_body(self):
        # Both servers now (nginx's server-level error_page: etc/nginx/videoflix.conf).
        cases = [('broken header line', 'GET /api/video/ HTTP/1.1\r\nHost: x\r\n'
                  'Origin: %s\r\nBroken header line\r\nConnection: close\r\n\r\n', (400,)),
                 ('unsupported Transfer-Encoding', 'POST /api/login/ HTTP/1.1\r\nHost: x\r\n'
                  'Origin: %s\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n',
                  (400, 411, 501))]
        for what, head, statuses in cases:
            with self.subTest(what=what):
                status, h, payload = raw_http(self.st.http_port, head % ORIGIN)
                self.assertIn(status, statuses, payload)
                self.assertIn('detail', json.loads(payload))
                self.assertTrue(h.get('content-type', '').startswith('application/json'),
                                '%s: %s' % (what, h.get('content-type')))
                self.assertCors(h, ORIGIN, what)

    def test_z_application_down_is_json_503_with_retry_after_and_cors(self):
        self.st._terminate('fcgi', timeout=20)
        try:
            for method, path in (('GET', '/api/video/'), ('POST', '/api/login/'),
                                 ('GET', self.paths()['segment'])):
                with self.subTest(method=method, path=path):
                    r = self.st.request(method, path, json={} if method == 'POST' else None,
                                        headers={'Origin': ORIGIN, 'Cookie': self.cookie()})
                    self.assertJson(r.status, r.headers.get('Content-Type'), r.body, 503, path)
                    self.assertTrue(r.headers.get('Retry-After', '').isdigit(), r.headers)
                    self.assertCors(r.headers, ORIGIN, path)
                    for k, v in SECURITY.items():
                        self.assertEqual(r.headers.get(k), v, k)
                    self.assertIn('no-store', r.headers.get('Cache-Control', ''))
        finally:
            self.st._start_fcgi()
            self.st._wait_healthy()

    # -- the real frontend's cross-origin use, in Chromium ------------------------------

    def test_browser_frontend_from_another_origin(self):
        from test_admin_browser import browser_or_skip, run_browser_script
        browser_or_skip(self)
        tmp = tempfile.mkdtemp(prefix='vf-cors-browser-')
        try:
            r = run_browser_script('frontend_cors.mjs', {
                'VF_API_URL': self.st.base_url,
                'VF_FRONTEND_PORT': str(self.frontend_port),
                'VF_MAILDIR': str(self.st.maildir),
                'VF_EMAIL': 'browser-%s@example.com' % self.WEB,
                'VF_PASSWORD': PASSWORD,
                'VF_VIDEO_ID': str(self.vid),
            }, tmp, 300)
            self.assertEqual(r.returncode, 0, 'browser test failed (output above)')
            result = json.loads(r.stdout.strip().splitlines()[-1].partition('result: ')[2])
            self.assertGreaterEqual(len(result['steps']), 18, result)
            self.assertTrue(all(ok for _, ok in result['steps']), result)
            if self.WEB == 'nginx':
                # The preflights really happened (Chromium hides them from the page).
                log = (self.st.tmpdir / 'nginx-access.log').read_text()
                self.assertIn('"OPTIONS /api/video/ ', log)
                self.assertIn('"OPTIONS /api/login/ ', log)
                self.assertIn('"OPTIONS /api/activate/', log)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


for _web, _db in webs():
    _name = 'Contract_%s_%s' % (_web, _db)
    globals()[_name] = type(_name, (_ContractTests,), {'WEB': _web, 'DB': _db})
del _ContractTests


if __name__ == '__main__':
    unittest.main()
