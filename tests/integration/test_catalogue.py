"""test_catalogue.py -- the video list and authenticated HLS delivery behind real web
servers: list format and order, 401s, ETag/304, playlists and segments byte-identical to
the files (both URL forms, Range, HEAD), the traversal corpus, CORS on file responses,
every SENDFILE_MODE, signed segments served without the application, the master
playlist and resolutions above the source."""

import base64
import gzip
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness

ORIGIN = 'http://127.0.0.1:5500'
EMAIL = 'viewer@example.com'
PASSWORD = 'correct horse battery staple'
KEY = 'k' * 8 + base64.urlsafe_b64encode(os.urandom(30)).decode().rstrip('=')
FIXTURES = None  # Path of the generated HLS output: {480p,720p}/{index.m3u8,000.ts..}
ISO_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
SIG_RE = re.compile(r'^(\.\./(?:480p|720p|1080p)/)?(\d+\.ts)\?e=(\d+)&s=([A-Za-z0-9_-]+)$')

NATIVE = {'nginx': 'x-accel-redirect', 'lighttpd': 'x-sendfile'}


def setUpModule():
    """A tiny HLS ladder made with ffmpeg: 480p (320x240) and 720p (640x360), 3 x 1 s."""
    global FIXTURES
    FIXTURES = Path(tempfile.mkdtemp(prefix='vf-hls-fixture-'))
    for res, size in (('480p', '320x240'), ('720p', '640x360')):
        d = FIXTURES / res
        d.mkdir()
        subprocess.run(['ffmpeg', '-loglevel', 'error', '-f', 'lavfi',
                        '-i', 'testsrc=size=%s:rate=10' % size, '-t', '3', '-c:v', 'libx264',
                        '-preset', 'ultrafast', '-g', '10', '-f', 'hls', '-hls_time', '1',
                        '-hls_playlist_type', 'vod', '-hls_segment_filename',
                        str(d / '%03d.ts'), str(d / 'index.m3u8')], check=True, timeout=60)
        # more than 999 segments must work: a segment named 1000.ts
        shutil.copy(d / '002.ts', d / '1000.ts')
        # the I-frame playlist the transcoder writes beside it (byte ranges of the segments)
        (d / 'iframes.m3u8').write_text(
            '#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n'
            '#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n' +
            ''.join('#EXTINF:1.000000,\n#EXT-X-BYTERANGE:1880@0\n%03d.ts\n' % i for i in range(3)) +
            '#EXT-X-ENDLIST\n')


def tearDownModule():
    if FIXTURES:
        shutil.rmtree(FIXTURES, ignore_errors=True)


def raw_get(port, path, headers=None, source=None, method='GET'):
    """A request with the path sent exactly as given (no client-side normalisation)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30,
                                      source_address=(source, 0) if source else None)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return harness.Response(r.status, r.reason, r.headers, r.read())
    finally:
        conn.close()


class CatalogueMixin:
    """Shared by every stack flavour; subclasses set WEB, DB, MODE, SIGNED."""
    WEB = 'nginx'
    DB = 'sqlite'
    MODE = 'none'
    SIGNED = False

    @classmethod
    def setUpClass(cls):
        env = {'SENDFILE_MODE': cls.MODE, 'SEGMENT_URL_TTL': '600'}
        if cls.SIGNED:
            env['MEDIA_SIGNING_KEY'] = KEY
        harness.class_stack(cls, cls._populate, web=cls.WEB, db=cls.DB, env=env)

    @classmethod
    def _populate(cls):
        st = cls.st
        st.add_user(EMAIL, PASSWORD)
        cls.ids = {}

        def video(name, created, state='ready', thumb=1, renditions=((480, 320), (720, 640)),
                  category='Drama'):
            st.sql('INSERT INTO videos (title, description, category, created_at, updated_at,'
                   ' source_path, has_thumbnail, state, duration_ms, width, height)'
                   ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, 3000, 640, 360)',
                   (name, 'About ' + name, category, created, created, 'uploads/x.mp4', thumb,
                    state))
            vid = st.sql('SELECT id FROM videos WHERE title = ?', (name,))[0][0]
            for h, w in renditions:
                st.sql('INSERT INTO video_renditions (video_id, height, width, bandwidth,'
                       ' avg_bandwidth, codecs) VALUES (?, ?, ?, ?, ?, ?)',
                       (vid, h, w, h * 3000, h * 2500, 'avc1.64001e'))
            cls.ids[name] = vid
            return vid

        base = 1751636000000000
        video('old', base)
        video('tie-a', base + 5000000, thumb=0)
        video('tie-b', base + 5000000, category='Comedy')
        video('newest', base + 9000000)
        video('processing', base + 10000000, state='processing')
        video('failed', base + 11000000, state='failed')
        for name in ('newest', 'tie-b', 'processing'):
            dest = st.media_root / 'hls' / str(cls.ids[name])
            shutil.copytree(FIXTURES, dest)
        # planted: a symlink to /etc/passwd as a segment and a symlinked rendition dir
        r480 = st.media_root / 'hls' / str(cls.ids['newest']) / '480p'
        os.symlink('/etc/passwd', r480 / '005.ts')
        os.symlink('/etc', st.media_root / 'hls' / str(cls.ids['newest']) / '1080p')
        for p in st.media_root.rglob('*'):
            if not p.is_symlink():
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
        cls.client = st.client()
        r = cls.client.post('/api/login/', json={'email': EMAIL, 'password': PASSWORD})
        assert r.status == 200, r

    # -- helpers -------------------------------------------------------------------

    def get(self, path, headers=None, cookie=True, method='GET'):
        h = dict(headers or {})
        if cookie:
            h['Cookie'] = '; '.join('%s=%s' % kv for kv in self.client.cookies.items())
        return raw_get(self.st.http_port, path, h, method=method)

    def fixture(self, res, name):
        return (FIXTURES / res / name).read_bytes()

    def seg_path(self, name, res='480p', seg='000.ts'):
        return '/api/video/%d/%s/%s' % (self.ids[name], res, seg)

    def unsigned(self, text):
        """The playlist with signatures (and mapped rendition prefixes) removed."""
        out = []
        for line in text.split('\n'):
            m = SIG_RE.match(line)
            out.append(m.group(2) if m else line)
        return '\n'.join(out)

    # -- the list --------------------------------------------------------------------

    def test_list_without_cookie_is_401(self):
        r = self.get('/api/video/', cookie=False)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {'detail': 'Authentication credentials were not provided.'})
        r = self.get('/api/video/', headers={'Cookie': 'access_token=forged.jwt.value'},
                     cookie=False)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json().get('code'), 'token_not_valid')

    def test_list_format_and_order(self):
        r = self.get('/api/video/')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers['Content-Type'], 'application/json')
        items = json.loads(r.body, object_pairs_hook=lambda kv: kv)
        ids = [dict(it)['id'] for it in items]
        self.assertEqual(ids, [self.ids['newest'], self.ids['tie-b'], self.ids['tie-a'],
                               self.ids['old']])
        for it in items:
            self.assertEqual([k for k, _ in it], ['id', 'created_at', 'title', 'description',
                                                  'thumbnail_url', 'category'])
            d = dict(it)
            self.assertIsInstance(d['id'], int)
            self.assertRegex(d['created_at'], ISO_RE)
            self.assertIsInstance(d['category'], str)
        byid = {dict(it)['id']: dict(it) for it in items}
        self.assertEqual(byid[self.ids['old']]['created_at'], '2025-07-04T13:33:20.000000Z')
        self.assertEqual(byid[self.ids['newest']]['thumbnail_url'],
                         '%s/media/thumbnails/%d.jpg' % (self.st.base_url, self.ids['newest']))
        self.assertIsNone(byid[self.ids['tie-a']]['thumbnail_url'])
        self.assertEqual(byid[self.ids['tie-b']]['category'], 'Comedy')
        self.assertIn('private', r.headers['Cache-Control'])

    def test_list_etag_304_and_invalidation(self):
        r = self.get('/api/video/')
        etag = r.headers['ETag']
        self.assertTrue(etag)
        r2 = self.get('/api/video/', headers={'If-None-Match': etag})
        self.assertEqual(r2.status, 304)
        self.assertEqual(r2.body, b'')
        self.assertEqual(r2.headers['ETag'], etag)
        # a write by any path (here: direct SQL) changes the version and the list
        vid = self.ids['old']
        self.st.sql("UPDATE videos SET title = 'renamed' WHERE id = ?", (vid,))
        try:
            r3 = self.get('/api/video/', headers={'If-None-Match': etag})
            self.assertEqual(r3.status, 200)
            self.assertNotEqual(r3.headers['ETag'], etag)
            self.assertIn(b'"renamed"', r3.body)
            # every FastCGI worker sees the change (each has its own cache)
            for _ in range(6):
                self.assertIn(b'"renamed"', self.get('/api/video/').body)
        finally:
            self.st.sql("UPDATE videos SET title = 'old' WHERE id = ?", (vid,))

    def test_thumbnail_url_is_public(self):
        vid = self.ids['newest']
        thumb = self.st.media_root / 'thumbnails' / ('%d.jpg' % vid)
        data = b'\xff\xd8\xff\xe0' + os.urandom(2000)
        thumb.write_bytes(data)
        os.chmod(thumb, 0o644)
        items = self.get('/api/video/').json()
        url = [it for it in items if it['id'] == vid][0]['thumbnail_url']
        self.assertTrue(url.startswith(self.st.base_url + '/'))
        r = self.get(url[len(self.st.base_url):], cookie=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, data)
        self.assertEqual(r.headers['Content-Type'], 'image/jpeg')

    # -- playlists and segments -------------------------------------------------------

    def test_playlist_requires_cookie_before_anything(self):
        for path in (self.seg_path('newest', seg='index.m3u8'), self.seg_path('newest'),
                     '/api/video/999999/480p/index.m3u8', self.seg_path('newest', seg='005.ts'),
                     '/api/video/%d/master.m3u8' % self.ids['newest'],
                     self.seg_path('newest', seg='..%2f..%2f..%2fetc%2fpasswd')):
            r = self.get(path, cookie=False)
            self.assertEqual(r.status, 401, path)
            self.assertEqual(r.json(), {'detail': 'Authentication credentials were not provided.'})

    def test_playlist_is_the_file(self):
        r = self.get(self.seg_path('newest', seg='index.m3u8'), headers={'Origin': ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers['Content-Type'], 'application/vnd.apple.mpegurl')
        want = self.fixture('480p', 'index.m3u8').decode()
        body = r.body.decode()
        if self.SIGNED:
            self.assertNotEqual(body, want)
            self.assertEqual(self.unsigned(body), want)
        else:
            self.assertEqual(body, want)
        self.assertIn('#EXT-X-PLAYLIST-TYPE:VOD', body)
        self.assertIn('#EXT-X-ENDLIST', body)
        self.assertEqual(r.headers['Access-Control-Allow-Origin'], ORIGIN)
        self.assertEqual(r.headers['Access-Control-Allow-Credentials'], 'true')

    def test_iframe_playlist_is_served_like_the_media_playlist(self):
        r = self.get(self.seg_path('newest', seg='iframes.m3u8'), headers={'Origin': ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers['Content-Type'], 'application/vnd.apple.mpegurl')
        want = self.fixture('480p', 'iframes.m3u8').decode()
        body = r.body.decode()
        if self.SIGNED:
            self.assertEqual(self.unsigned(body), want)
            self.assertEqual(len([l for l in body.splitlines() if SIG_RE.match(l)]), 3)
        else:
            self.assertEqual(body, want)
        self.assertEqual(r.headers['Access-Control-Allow-Origin'], ORIGIN)
        self.assertEqual(self.get(self.seg_path('newest', seg='iframes.m3u8'),
                                  cookie=False).status, 401)
        self.assertEqual(self.get('/api/video/%d/480p/iframes.m3u8' % self.ids['processing']).status,
                         404)

    def test_playlist_404s(self):
        for path in ('/api/video/%d/480p/index.m3u8' % self.ids['processing'],
                     '/api/video/%d/480p/index.m3u8' % self.ids['failed'],
                     '/api/video/999999/480p/index.m3u8',
                     '/api/video/%d/360p/index.m3u8' % self.ids['newest'],
                     '/api/video/%d/master.m3u8' % self.ids['processing']):
            r = self.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.json(), {'detail': 'Not found.'})

    def test_segment_both_url_forms_are_the_file(self):
        want = self.fixture('480p', '001.ts')
        for path in (self.seg_path('newest', seg='001.ts'), self.seg_path('newest', seg='001.ts/'),
                     self.seg_path('tie-b', seg='001.ts')):
            r = self.get(path, headers={'Origin': ORIGIN})
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.body, want, path)
            self.assertEqual(r.headers['Content-Type'], 'video/MP2T')
            self.assertEqual(int(r.headers['Content-Length']), len(want))
            self.assertIn('private', r.headers['Cache-Control'])
            self.assertIn('max-age=', r.headers['Cache-Control'])
            self.assertEqual(r.headers['Access-Control-Allow-Origin'], ORIGIN)
            self.assertEqual(r.headers['Access-Control-Allow-Credentials'], 'true')
            self.assertEqual(r.headers['X-Content-Type-Options'], 'nosniff')
        r = self.get(self.seg_path('newest', seg='1000.ts'))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.fixture('480p', '1000.ts'))
        r = self.get(self.seg_path('newest', seg='001.ts'), headers={'Origin': 'http://evil.example'})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers['Access-Control-Allow-Origin'])

    def test_segment_head_and_range(self):
        want = self.fixture('480p', '000.ts')
        r = self.get(self.seg_path('newest'), method='HEAD')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b'')
        self.assertEqual(int(r.headers['Content-Length']), len(want))
        r = self.get(self.seg_path('newest'), headers={'Range': 'bytes=100-299'})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, want[100:300])
        self.assertEqual(r.headers['Content-Range'], 'bytes 100-299/%d' % len(want))
        r = self.get(self.seg_path('newest'), headers={'Range': 'bytes=-50'})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, want[-50:])

    def test_traversal_corpus_never_200(self):
        vid = self.ids['newest']
        corpus = [
            '/api/video/%d/480p/../../../../../../etc/passwd',
            '/api/video/%d/480p/..%%2f..%%2f..%%2f..%%2fetc%%2fpasswd',
            '/api/video/%d/480p/%%2e%%2e%%2f%%2e%%2e%%2fetc%%2fpasswd',
            '/api/video/%d/480p/%%2e%%2e/%%2e%%2e/index.m3u8',
            '/api/video/%d/480p/%%252e%%252e%%252f000.ts',
            '/api/video/%d/480p/000.ts%%00',
            '/api/video/%d/480p/000.ts%%00.m3u8',
            '/api/video/%d/480p/..\\..\\..\\etc\\passwd',
            '/api/video/%d/480p%%5c000.ts',
            '/api/video/%d/480p/005.ts',
            '/api/video/%d/480p/005.ts/',
            '/api/video/%d/1080p/passwd',
            '/api/video/%d/480p/index.m3u8%%2f..%%2f..%%2f..%%2fmaster.m3u8',
            '/api/video/%d/480p/000.mp4',
            '/api/video/%d/480p/999.ts',
            '/api/video/%d/480p/.ts',
            '/api/video/%d/480p/000.ts.bak',
        ]
        passwd = Path('/etc/passwd').read_bytes()[:32]
        for tmpl in corpus:
            path = tmpl % vid
            for cookie in (True, False):
                r = self.get(path, cookie=cookie)
                self.assertNotEqual(r.status, 200, path)
                self.assertNotIn(passwd, r.body, path)
                self.assertIn(r.status, (400, 401, 403, 404), path)
        # the planted symlinked rendition directory is not followed, and no fallback
        r = self.get('/api/video/%d/1080p/index.m3u8' % vid)
        self.assertEqual(r.status, 404)

    def test_resolution_above_source_gets_highest_rendition(self):
        vid = self.ids['tie-b']  # renditions 480p and 720p
        r = self.get('/api/video/%d/1080p/index.m3u8' % vid)
        self.assertEqual(r.status, 200, r)
        want = self.fixture('720p', 'index.m3u8').decode()
        if self.SIGNED:
            self.assertEqual(self.unsigned(r.body.decode()), want)
            self.assertIn('../720p/000.ts?e=', r.body.decode())
        else:
            self.assertEqual(r.body.decode(), want)
        r = self.get('/api/video/%d/1080p/000.ts' % vid)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.fixture('720p', '000.ts'))

    def test_master_playlist_lists_real_renditions(self):
        vid = self.ids['tie-b']
        r = self.get('/api/video/%d/master.m3u8' % vid, headers={'Origin': ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers['Content-Type'], 'application/vnd.apple.mpegurl')
        lines = r.body.decode().splitlines()
        self.assertEqual(lines[0], '#EXTM3U')
        inf = [l for l in lines if l.startswith('#EXT-X-STREAM-INF:')]
        uris = [l for l in lines if l and not l.startswith('#')]
        # The default first: 720p averages 1.8 Mbit/s, nearest to Apple's ~2 Mbit/s.
        self.assertEqual(uris, ['720p/index.m3u8', '480p/index.m3u8'])
        self.assertIn('BANDWIDTH=1440000', inf[1])
        self.assertIn('RESOLUTION=320x480', inf[1])
        self.assertIn('CODECS="avc1.64001e"', inf[0])
        self.assertEqual(r.headers['Access-Control-Allow-Origin'], ORIGIN)
        # the URIs resolve against the master URL to working playlists
        r = self.get('/api/video/%d/720p/index.m3u8' % vid)
        self.assertEqual(r.status, 200)

    def test_master_playlist_revalidates_with_its_etag(self):
        vid = self.ids['tie-b']
        path = '/api/video/%d/master.m3u8' % vid
        r = self.get(path)
        self.assertEqual(r.status, 200)
        etag = r.headers['ETag']
        self.assertRegex(etag or '', r'^W/"[0-9a-f]{16}"$')
        self.assertIn('no-cache', r.headers['Cache-Control'])
        r2 = self.get(path, headers={'If-None-Match': etag, 'Origin': ORIGIN})
        self.assertEqual(r2.status, 304)
        self.assertEqual(r2.body, b'')
        self.assertEqual(r2.headers['ETag'], etag)
        self.assertEqual(r2.headers['Access-Control-Allow-Origin'], ORIGIN)
        # a new measurement (a re-transcode) is a new body and a new tag
        self.st.sql('UPDATE video_renditions SET bandwidth = bandwidth + 1 WHERE video_id = ?',
                    (vid,))
        try:
            r3 = self.get(path, headers={'If-None-Match': etag})
            self.assertEqual(r3.status, 200)
            self.assertNotEqual(r3.headers['ETag'], etag)
        finally:
            self.st.sql('UPDATE video_renditions SET bandwidth = bandwidth - 1 WHERE video_id = ?',
                        (vid,))
        # without a cookie: 401 before anything, never a 304
        r4 = self.get(path, headers={'If-None-Match': etag}, cookie=False)
        self.assertEqual(r4.status, 401)


    def test_playlists_are_gzipped_for_clients_that_accept_it(self):
        for path in (self.seg_path('newest', seg='index.m3u8'),
                     '/api/video/%d/master.m3u8' % self.ids['tie-b']):
            plain = self.get(path)
            self.assertEqual(plain.status, 200, path)
            self.assertIsNone(plain.headers['Content-Encoding'])
            r = self.get(path, headers={'Accept-Encoding': 'gzip, deflate, br', 'Origin': ORIGIN})
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.headers['Content-Encoding'], 'gzip', path)
            self.assertEqual(r.headers['Content-Type'], 'application/vnd.apple.mpegurl')
            vary = [v.strip().lower() for v in (r.headers['Vary'] or '').split(',')]
            self.assertIn('accept-encoding', vary, path)
            self.assertIn('origin', vary, path)
            self.assertEqual(r.headers['Access-Control-Allow-Origin'], ORIGIN)
            self.assertEqual(int(r.headers['Content-Length']), len(r.body))
            text = gzip.decompress(r.body).decode()
            if self.SIGNED and 'index.m3u8' in path:
                self.assertEqual(self.unsigned(text), self.unsigned(plain.body.decode()))
            else:
                self.assertEqual(text, plain.body.decode(), path)
            # refused explicitly: identity
            r = self.get(path, headers={'Accept-Encoding': 'gzip;q=0, identity'})
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.headers['Content-Encoding'])
            self.assertTrue(r.body.startswith(b'#EXTM3U'), path)
        if not self.SIGNED:
            # the compressed playlist revalidates too
            path = self.seg_path('newest', seg='index.m3u8')
            r = self.get(path, headers={'Accept-Encoding': 'gzip'})
            etag = r.headers['ETag']
            self.assertTrue(etag)
            r = self.get(path, headers={'Accept-Encoding': 'gzip', 'If-None-Match': etag})
            self.assertEqual(r.status, 304)


class SignedMixin(CatalogueMixin):
    SIGNED = True

    def signed_lines(self, name, res='480p'):
        r = self.get('/api/video/%d/%s/index.m3u8' % (self.ids[name], res))
        self.assertEqual(r.status, 200)
        self.assertIn('no-store', r.headers['Cache-Control'])
        return [l for l in r.body.decode().splitlines() if SIG_RE.match(l)]

    def test_signed_segment_is_served_by_the_web_server_alone(self):
        lines = self.signed_lines('newest')
        self.assertEqual(len(lines), 3)  # 000..002
        base = '/api/video/%d/480p/' % self.ids['newest']
        want = self.fixture('480p', '000.ts')
        # take the application away: signed segments keep working, the app route does not
        sock = self.st.socket_path
        moved = sock.with_name('fcgi.sock.away')
        os.rename(sock, moved)
        try:
            r = raw_get(self.st.http_port, base + lines[0], {'Origin': ORIGIN})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, want)
            self.assertEqual(r.headers['Content-Type'], 'video/MP2T')
            self.assertEqual(r.headers['Access-Control-Allow-Origin'], ORIGIN)
            self.assertIn('private', r.headers['Cache-Control'])
            r = raw_get(self.st.http_port, base + lines[0], {'Range': 'bytes=0-9'})
            self.assertEqual(r.status, 206)
            self.assertEqual(r.body, want[:10])
            r = raw_get(self.st.http_port, base + '000.ts')  # unsigned: needs the app
            self.assertGreaterEqual(r.status, 500)
        finally:
            os.rename(moved, sock)
        self.st.wait_for(lambda: self.get('/api/video/').status == 200, timeout=15,
                         what='application reachable again')

    def test_bad_signatures_fall_through_to_the_cookie_check(self):
        lines = self.signed_lines('newest')
        m = SIG_RE.match(lines[0])
        seg, e, s = m.group(2), int(m.group(3)), m.group(4)
        vid = self.ids['newest']
        uri = '/api/video/%d/480p/%s' % (vid, seg)
        self.assertGreater(e, time.time() + 500)

        def sig(e, uri, addr='127.0.0.1'):
            if self.WEB == 'nginx':
                d = hashlib.md5(('%d%s%s %s' % (e, uri, addr, KEY)).encode()).digest()
                return base64.urlsafe_b64encode(d).decode().rstrip('=')
            return hmac.new(KEY.encode(), ('%d|%s|%s' % (e, uri, addr)).encode(),
                            hashlib.sha256).hexdigest()

        self.assertEqual(sig(e, uri), s, 'the test computes signatures like the app')
        other = '/api/video/%d/480p/%s' % (self.ids['tie-b'], seg)
        past = int(time.time()) - 5
        flipped = ('A' if s[0] != 'A' else 'B') + s[1:]
        cases = {
            'expired': '%s?e=%d&s=%s' % (uri, past, sig(past, uri)),
            'altered signature': '%s?e=%d&s=%s' % (uri, e, flipped),
            'altered expiry': '%s?e=%d&s=%s' % (uri, e + 1, s),
            'other video': '%s?e=%d&s=%s' % (other, e, s),
            'other segment': '/api/video/%d/480p/001.ts?e=%d&s=%s' % (vid, e, s),
            'no signature': uri,
        }
        for what, path in cases.items():
            r = raw_get(self.st.http_port, path)
            self.assertEqual(r.status, 401, what)
            self.assertEqual(r.json(), {'detail': 'Authentication credentials were not provided.'},
                             what)
            # with the cookie the application serves it
            r = self.get(path)
            self.assertEqual(r.status, 200, what)
        # the signature is bound to the client address: 127.0.0.2 may not use it
        r = raw_get(self.st.http_port, '%s?e=%d&s=%s' % (uri, e, s), source='127.0.0.2')
        self.assertEqual(r.status, 401)
        r = raw_get(self.st.http_port, '%s?e=%d&s=%s' % (uri, e, s), source='127.0.0.1')
        self.assertEqual(r.status, 200)

    def test_internal_locations_are_not_reachable(self):
        vid = self.ids['newest']
        for path in ('/protected-hls/%d/480p/000.ts' % vid, '/_vf_signed_hls/%d/480p/000.ts' % vid):
            r = raw_get(self.st.http_port, path)
            self.assertNotEqual(r.status, 200, path)


def _make(web, db, mode, signed):
    base = SignedMixin if signed else CatalogueMixin
    name = 'Test_%s_%s_%s%s' % (web, db, mode.replace('-', '_'), '_signed' if signed else '')
    return name, type(name, (base, unittest.TestCase),
                      {'WEB': web, 'DB': db, 'MODE': mode, 'SIGNED': signed})


# Every web server x database with its native sendfile mode and signed segments; the
# unsigned native mode and SENDFILE_MODE=none on SQLite for each web server.
for _web, _db in harness.matrix():
    _n, _c = _make(_web, _db, NATIVE[_web], True)
    globals()[_n] = _c
for _web in ('lighttpd', 'nginx'):
    for _mode in (NATIVE[_web], 'none'):
        _n, _c = _make(_web, 'sqlite', _mode, False)
        globals()[_n] = _c
del _n, _c

if __name__ == '__main__':
    unittest.main()
