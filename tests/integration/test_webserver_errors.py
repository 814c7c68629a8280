"""test_webserver_errors.py -- RELIABILITY 31: the errors lighttpd and nginx make
themselves under /api/ (and /media/) are JSON {"detail": "..."} labelled
application/json, with the CORS headers for an allowed origin (once each) and the
security headers, whatever the status: 400, 403, 404, 405, 411, 413, 414, 416, 429, 431,
501, 503 (the application stopped), 505.  Each is provoked for real with raw bytes on a
socket.

Where the server refuses a request before it has read the Origin header (a request line
too long or malformed, a header block too large for lighttpd), there is no origin to
answer: those are checked for JSON and the security headers only.

Also RELIABILITY 31: the web server's access log never holds an activation or reset
token, whether the application answers, the web server refuses the request, or the token
comes in an absolute-form target, a query or a Referer -- and the requests are logged.

One stack per web server of the matrix, with segment signing on (signed segments are
files the web server serves itself: its 403, 404 and 416) and a 1 MiB upload limit."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import time
import unittest

import harness

ORIGIN = 'http://127.0.0.1:5500'
KEY = 'test-signing-key-' + 'x' * 32
UPLOAD_MAX = 1024 * 1024
SECURITY = {'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY',
            'referrer-policy': 'same-origin'}
VID = 7


def raw(port, data, timeout=10):
    """Send bytes as given; returns (status, {lower-case name: [values]}, body)."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(data if isinstance(data, bytes) else data.encode('latin-1'))
        buf = b''
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b'\r\n\r\n')
            if sep:
                lengths = [l.split(b':', 1)[1] for l in head.split(b'\r\n')
                           if l.lower().startswith(b'content-length:')]
                if lengths and len(body) >= int(lengths[0]):
                    break
    head, _, body = buf.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, body


def webs():
    seen = {}
    for web, db in harness.matrix():
        seen.setdefault(web, db)
    return sorted(seen.items())


class _WebServerErrorTests(unittest.TestCase):
    WEB, DB = 'nginx', 'sqlite'

    @classmethod
    def setUpClass(cls):
        harness.class_stack(cls, cls._populate, web=cls.WEB, db=cls.DB,
                            env={'MEDIA_SIGNING_KEY': KEY, 'UPLOAD_MAX_BYTES': str(UPLOAD_MAX)})
        cls.port = cls.st.http_port

    @classmethod
    def _populate(cls):
        """Segments the web server serves itself (one a symlink, which it refuses) and a
        thumbnail; no database rows are needed for either."""
        m = cls.st.media_root
        d = m / 'hls' / str(VID) / '480p'
        d.mkdir(parents=True)
        (d / '000.ts').write_bytes(b'\x47' * 1880)
        os.symlink(str(d / '000.ts'), str(d / '001.ts'))
        (m / 'thumbnails' / ('%d.jpg' % VID)).write_bytes(b'\xff\xd8\xff' + b'\0' * 97)
        for p in m.rglob('*'):
            if not p.is_symlink():
                os.chmod(p, 0o755 if p.is_dir() else 0o644)

    # -- helpers ---------------------------------------------------------------------

    def segment(self, name):
        """A validly signed URL of segment `name` of VID for this web server."""
        path = '/api/video/%d/480p/%s' % (VID, name)
        e = int(time.time()) + 3600
        if self.WEB == 'nginx':   # secure_link_md5 "$secure_link_expires$uri$remote_addr KEY"
            d = hashlib.md5(('%d%s127.0.0.1 %s' % (e, path, KEY)).encode()).digest()
            s = base64.urlsafe_b64encode(d).decode().rstrip('=')
        else:                     # lib/urlsig.h, URLSIG_LIGHTTPD
            s = hmac.new(KEY.encode(), ('%d|%s|127.0.0.1' % (e, path)).encode(),
                         hashlib.sha256).hexdigest()
        return '%s?e=%d&s=%s' % (path, e, s)

    def assertJsonError(self, status, headers, body, want, cors, what):
        msg = '%s: %d %r %r' % (what, status, headers, body[:200])
        self.assertEqual(status, want, msg)
        self.assertEqual(headers.get('content-type'), ['application/json'], msg)
        doc = json.loads(body.decode('utf-8'))
        self.assertIsInstance(doc, dict, msg)
        self.assertIsInstance(doc.get('detail'), str, msg)
        self.assertTrue(doc['detail'], msg)
        for k, v in SECURITY.items():
            self.assertEqual(headers.get(k), [v], '%s (%s)' % (msg, k))
        if cors:
            self.assertEqual(headers.get('access-control-allow-origin'), [ORIGIN], msg)
            self.assertEqual(headers.get('access-control-allow-credentials'), ['true'], msg)
            self.assertIn('Origin', ', '.join(headers.get('vary', [])), msg)
        else:
            self.assertNotIn('access-control-allow-origin', headers, msg)
        self.assertNotIn(b'<html', body.lower(), msg)
        self.assertNotIn(b'nginx', body, msg)
        self.assertNotIn(b'lighttpd', body, msg)

    def check(self, what, request, want, cors=True):
        with self.subTest(what):
            status, headers, body = raw(self.port, request)
            self.assertJsonError(status, headers, body, want, cors, what)
            return status, headers, body

    # -- the request never got far: request line, headers --------------------------------

    def test_request_line_errors(self):
        # A request line longer than the server's buffers: nginx 414; lighttpd counts it
        # in its 8 KiB header limit: 431.  Nothing after it is read (no Origin).
        self.check('huge URI', 'GET /api/%s/ HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n\r\n'
                   % ('a' * 20000, ORIGIN), 414 if self.WEB == 'nginx' else 431, cors=False)
        # A control character in the method: nginx 400, lighttpd "unknown method" 501.
        self.check('malformed method', 'G\x01T /api/health/ HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\n\r\n' % ORIGIN, 400 if self.WEB == 'nginx' else 501,
                   cors=False)
        self.check('malformed version', 'GET /api/health/ HTTX/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\n\r\n' % ORIGIN, 400, cors=False)
        self.check('HTTP/2.0 request line', 'GET /api/health/ HTTP/2.0\r\nHost: x\r\n'
                   'Origin: %s\r\n\r\n' % ORIGIN, 505, cors=False)
        if self.WEB == 'lighttpd':
            # nginx passes any well-formed method on (the application answers 405).
            self.check('unknown method', 'FROB /api/health/ HTTP/1.1\r\nHost: x\r\n'
                       'Origin: %s\r\n\r\n' % ORIGIN, 501, cors=False)

    def test_header_errors(self):
        # One header too large, and too many headers: 431 on both (nginx's own status
        # for these is a 400 "Request Header Or Cookie Too Large"; it is mapped to 431).
        # nginx has read the Origin before the big header; lighttpd reads nothing of a
        # header block over its limit.
        cors = self.WEB == 'nginx'
        self.check('huge header', 'GET /api/health/ HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n'
                   'X-Big: %s\r\n\r\n' % (ORIGIN, 'a' * 20000), 431, cors=cors)
        self.check('too many headers', 'GET /api/health/ HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\n%s\r\n' % (ORIGIN, ''.join(
                       'X-H%d: %s\r\n' % (i, 'b' * 1000) for i in range(40))), 431, cors=cors)
        self.check('bad Host', 'GET /api/health/ HTTP/1.1\r\nOrigin: %s\r\nHost: a b\r\n\r\n'
                   % ORIGIN, 400)
        self.check('bad Content-Length', 'POST /api/login/ HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\nContent-Length: ten\r\n\r\n' % ORIGIN, 400)
        self.check('HTTP/1.0 with Transfer-Encoding', 'POST /api/login/ HTTP/1.0\r\nHost: x\r\n'
                   'Origin: %s\r\nTransfer-Encoding: chunked\r\n\r\n' % ORIGIN, 400)
        self.check('unknown Transfer-Encoding', 'POST /api/login/ HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n'
                   % ORIGIN, 501)
        if self.WEB == 'lighttpd':
            # nginx passes a POST without a body on (the application answers 400).
            self.check('POST without Content-Length', 'POST /api/login/ HTTP/1.1\r\nHost: x\r\n'
                       'Origin: %s\r\nConnection: close\r\n\r\n' % ORIGIN, 411)

    def test_body_too_large(self):
        # Refused from the Content-Length alone, before any body byte is sent.
        self.check('body over the upload limit', 'POST /api/login/ HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n'
                   % (ORIGIN, UPLOAD_MAX + 1), 413)

    def test_trace(self):
        # nginx refuses TRACE itself; lighttpd passes it to the application: 405 either way.
        _, headers, body = self.check('TRACE', 'TRACE /api/health/ HTTP/1.1\r\nHost: x\r\n'
                                      'Origin: %s\r\n\r\n' % ORIGIN, 405)
        self.assertEqual(json.loads(body)['detail'], 'Method "TRACE" not allowed.')
        self.assertTrue(headers.get('allow'), headers)

    # -- files the web server serves itself ------------------------------------------------

    def test_file_errors(self):
        thumb = '/media/thumbnails/%d.jpg' % VID
        _, headers, _ = self.check('thumbnail, unsatisfiable range',
                                   'GET %s HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n'
                                   'Range: bytes=5000-\r\n\r\n' % (thumb, ORIGIN), 416)
        self.assertEqual(headers.get('content-range'), ['bytes */100'], headers)
        self.check('thumbnail missing', 'GET /media/thumbnails/999.jpg HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\n\r\n' % ORIGIN, 404)
        _, headers, _ = self.check('signed segment, unsatisfiable range',
                                   'GET %s HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n'
                                   'Range: bytes=1880-1900\r\n\r\n'
                                   % (self.segment('000.ts'), ORIGIN), 416)
        self.assertEqual(headers.get('content-range'), ['bytes */1880'], headers)
        self.check('signed segment that is a symlink', 'GET %s HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\n\r\n' % (self.segment('001.ts'), ORIGIN), 403)
        self.check('signed segment missing', 'GET %s HTTP/1.1\r\nHost: x\r\n'
                   'Origin: %s\r\n\r\n' % (self.segment('002.ts'), ORIGIN), 404)

    def test_signed_segment_still_served_and_ranges_work(self):
        # The error handling leaves the files alone.
        status, headers, body = raw(self.port, 'GET %s HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n'
                                    'Range: bytes=10-19\r\n\r\n'
                                    % (self.segment('000.ts'), ORIGIN))
        self.assertEqual(status, 206, headers)
        self.assertEqual(body, b'\x47' * 10)
        self.assertEqual(headers.get('access-control-allow-origin'), [ORIGIN], headers)
        status, headers, body = raw(self.port, 'GET /media/thumbnails/%d.jpg HTTP/1.1\r\n'
                                    'Host: x\r\nRange: bytes=-4\r\n\r\n' % VID)
        self.assertEqual((status, body), (206, b'\0' * 4), headers)

    def test_other_methods_on_a_signed_segment_are_the_applications(self):
        # A preflight gets the application's 200 (CONTRACT.md: on any path), a POST its
        # JSON 405 with Allow -- not the web server's static-file answer.
        status, headers, body = raw(self.port, 'OPTIONS %s HTTP/1.1\r\nHost: x\r\n'
                                    'Origin: %s\r\nAccess-Control-Request-Method: GET\r\n\r\n'
                                    % (self.segment('000.ts'), ORIGIN))
        self.assertEqual(status, 200, headers)
        self.assertEqual(body, b'')
        self.assertEqual(headers.get('access-control-allow-origin'), [ORIGIN], headers)
        self.assertIn('x-csrftoken', ', '.join(headers.get('access-control-allow-headers', [])))
        self.assertEqual(headers.get('access-control-max-age'), ['86400'], headers)
        _, headers, _ = self.check('POST to a signed segment', 'POST %s HTTP/1.1\r\nHost: x\r\n'
                                   'Origin: %s\r\nContent-Length: 0\r\n\r\n'
                                   % (self.segment('000.ts'), ORIGIN), 405)
        self.assertTrue(headers.get('allow'), headers)

    # -- limits -------------------------------------------------------------------------

    def test_too_many_requests_from_one_address(self):
        if self.WEB != 'nginx':
            self.skipTest(harness.not_applicable(
                'lighttpd 1.4.69 has no per-address limit (mod_evasive is gone)'))
        # 128 requests in progress at once (POSTs whose body never comes) hold the
        # address's share; the next one gets a JSON 429 straight away.
        held = []
        try:
            for _ in range(128):
                s = socket.create_connection(('127.0.0.1', self.port), timeout=10)
                s.sendall(b'POST /api/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: '
                          b'application/json\r\nContent-Length: 100\r\n\r\n{')
                held.append(s)
            time.sleep(0.5)
            _, headers, _ = self.check('request 129', 'GET /api/health/ HTTP/1.1\r\nHost: x\r\n'
                                       'Origin: %s\r\n\r\n' % ORIGIN, 429)
            self.assertTrue(headers.get('retry-after', [''])[0].isdigit(), headers)
        finally:
            for s in held:
                s.close()
        harness.wait_healthy(self.st.request, 'nginx after the limit', 10)

    # -- the access log ---------------------------------------------------------------------

    def access_log(self):
        try:
            return (self.st.tmpdir / ('%s-access.log' % self.WEB)).read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def test_access_log_holds_no_tokens(self):
        tokens = {}
        for name in ('activate', 'confirm', 'absolute', 'query', 'too-large', 'huge-header',
                     'referer', 'preflight'):
            tokens[name] = 'tok%s-%s' % (name.replace('-', ''), secrets.token_urlsafe(18))
        uid = 'Mw'
        p = self.port
        t = tokens
        requests = [
            ('activate', 'GET /api/activate/%s/%s/ HTTP/1.1\r\nHost: x\r\n\r\n' % (uid, t['activate'])),
            ('confirm', 'POST /api/password_confirm/%s/%s/ HTTP/1.1\r\nHost: x\r\n'
             'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' % (uid, t['confirm'])),
            ('absolute', 'GET http://127.0.0.1:%d/api/activate/%s/%s/ HTTP/1.1\r\nHost: x\r\n\r\n'
             % (p, uid, t['absolute'])),
            ('query', 'GET /api/activate/%s/%s/?again=%s HTTP/1.1\r\nHost: x\r\n\r\n'
             % (uid, t['query'], t['query'])),
            # refused by the web server itself: 413, 431
            ('too-large', 'POST /api/password_confirm/%s/%s/ HTTP/1.1\r\nHost: x\r\n'
             'Content-Length: %d\r\n\r\n' % (uid, t['too-large'], UPLOAD_MAX + 1)),
            ('huge-header', 'GET /api/activate/%s/%s/ HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n'
             % (uid, t['huge-header'], 'a' * 9000)),
            ('referer', 'GET /api/video/ HTTP/1.1\r\nHost: x\r\nReferer: http://127.0.0.1:5500/'
             'pages/auth/activate.html?uid=%s&token=%s\r\n\r\n' % (uid, t['referer'])),
            ('preflight', 'OPTIONS /api/activate/%s/%s/ HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n'
             'Access-Control-Request-Method: GET\r\n\r\n' % (uid, t['preflight'], ORIGIN)),
        ]
        statuses = {}
        for name, req in requests:
            statuses[name] = raw(p, req)[0]
        self.assertEqual(statuses['too-large'], 413, statuses)
        self.assertEqual(statuses['huge-header'], 431, statuses)
        # Every request is logged (lighttpd flushes its log every few seconds), the
        # token routes with [redacted] in place of the token.
        want = {'activate': '"GET /api/activate/Mw/[redacted] HTTP/1.1"',
                'confirm': '"POST /api/password_confirm/Mw/[redacted] HTTP/1.1"',
                'absolute': '/api/activate/Mw/[redacted] HTTP/1.1"',
                'too-large': 'password_confirm/Mw/[redacted] HTTP/1.1" 413 ',
                'preflight': '"OPTIONS /api/activate/Mw/[redacted] HTTP/1.1" 200 '}
        self.st.wait_for(lambda: self.access_log().count('"GET /api/video/ HTTP/1.1"') >= 1
                         and all(w in self.access_log() for w in want.values()),
                         timeout=15, what='the requests in %s' % self.access_log()[-3000:])
        log = self.access_log()
        for name, token in tokens.items():
            self.assertNotIn(token, log, name)
        self.assertGreaterEqual(log.count('/api/activate/Mw/[redacted] HTTP/1.1'), 3, log)
        self.assertIn('"[redacted]"', log)      # the Referer naming a token
        self.assertIn('"-" "-"', log)           # no Referer, no User-Agent: as combined
        # The 431: nginx read the request line (redacted); lighttpd could not.
        self.assertIn('" 431 ', log)

    # -- the application down ---------------------------------------------------------------

    def test_application_down(self):
        self.st._terminate('fcgi', timeout=20)
        try:
            for path in ('/api/health/', '/api/video/', '/api/activate/Mw/x-y/'):
                _, headers, _ = self.check('%s with the application stopped' % path,
                                           'GET %s HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n\r\n'
                                           % (path, ORIGIN), 503)
                self.assertTrue(headers.get('retry-after', [''])[0].isdigit(), headers)
                self.assertEqual(headers.get('cache-control'), ['no-store'], headers)
        finally:
            self.st._start_fcgi()
            self.st._wait_healthy()


for _web, _db in webs():
    _name = 'WebServerErrors_%s_%s' % (_web, _db)
    globals()[_name] = type(_name, (_WebServerErrorTests,), {'WEB': _web, 'DB': _db})
del _WebServerErrorTests


if __name__ == '__main__':
    unittest.main()
