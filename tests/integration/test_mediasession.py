"""test_mediasession.py -- who may keep fetching a video's HLS files, and for how long.

RELIABILITY 30 and issue 14 item 11, on every web server of the matrix with the web
server's native file mode and signed segment URLs:
  - a player paused longer than its access cookie lives resumes on its refresh cookie
    (the HLS routes take the refresh cookie of a live session when the access one lapsed);
  - a logout ends that at once on the application's route, and a signed segment URL, which
    the web server checks by its signature alone, stops working when its short TTL runs
    out: the same URL then goes to the application's cookie check, which refuses it;
  - a live session whose signed URL has expired keeps playing through that cookie check.
"""

import os
import shutil
import time
import unittest

import harness
import test_catalogue
from test_catalogue import KEY, NATIVE

EMAIL = 'viewer@mediasession.test'
PASSWORD = 'Media-session-passw0rd'
ACCESS_TTL = 2   # seconds: the access cookie lapses during a "pause"
SIGNED_TTL = 2   # seconds: SEGMENT_URL_TTL


def setUpModule():
    test_catalogue.setUpModule()  # the tiny ffmpeg-made ladder (test_catalogue.FIXTURES)


def tearDownModule():
    test_catalogue.tearDownModule()


class MediaSessionMixin:
    WEB = 'nginx'
    DB = 'sqlite'

    @classmethod
    def setUpClass(cls):
        env = {'SENDFILE_MODE': NATIVE[cls.WEB], 'MEDIA_SIGNING_KEY': KEY,
               'SEGMENT_URL_TTL': str(SIGNED_TTL), 'ACCESS_TOKEN_LIFETIME': str(ACCESS_TTL)}
        harness.class_stack(cls, cls._populate, web=cls.WEB, db=cls.DB, env=env)

    @classmethod
    def _populate(cls):
        st = cls.st
        st.add_user(EMAIL, PASSWORD)
        now = int(time.time() * 1e6)
        st.sql('INSERT INTO videos (title, description, category, created_at, updated_at,'
               ' source_path, has_thumbnail, state, duration_ms, width, height)'
               " VALUES ('Paused', '', 'Drama', ?, ?, 'uploads/x.mp4', 0, 'ready', 3000, 640,"
               ' 360)', (now, now))
        cls.vid = st.sql("SELECT id FROM videos WHERE title = 'Paused'")[0][0]
        for h, w in ((480, 320), (720, 640)):
            st.sql('INSERT INTO video_renditions (video_id, height, width, bandwidth,'
                   ' avg_bandwidth, codecs) VALUES (?, ?, ?, ?, ?, ?)',
                   (cls.vid, h, w, h * 3000, h * 2500, 'avc1.64001e'))
        dest = st.media_root / 'hls' / str(cls.vid)
        shutil.copytree(test_catalogue.FIXTURES, dest)
        # published modes (lib/domain/media.h): the web server's group reads them
        for p in [dest] + list(dest.rglob('*')):
            os.chmod(p, 0o750 if p.is_dir() else 0o640)
            if harness.INSTALLED:
                os.chown(p, st.app_uid, -1)

    def login(self):
        c = self.st.client()
        r = c.post('/api/login/', json={'email': EMAIL, 'password': PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        return c

    def playlist(self, c):
        r = c.get('/api/video/%d/480p/index.m3u8' % self.vid)
        self.assertEqual(r.status, 200, r.body)
        return [l for l in r.text.splitlines() if l and not l.startswith('#')]

    def segment(self, c, uri):
        return c.get('/api/video/%d/480p/%s' % (self.vid, uri))

    def test_a_paused_player_resumes_on_its_refresh_cookie_until_logout(self):
        c = self.login()
        uris = self.playlist(c)
        time.sleep(max(ACCESS_TTL, SIGNED_TTL) + 1.5)  # the "pause": both have lapsed
        # Only the lapsed access cookie: refused.
        only_access = {'Cookie': 'access_token=%s' % c.cookies['access_token']}
        r = self.st.request('GET', '/api/video/%d/480p/%s' % (self.vid, uris[0].split('?')[0]),
                            headers=only_access)
        self.assertEqual(r.status, 401, r.body)
        # The player (both cookies): the expired signature goes to the application, which
        # takes the live session's refresh cookie.
        r = self.segment(c, uris[0])
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.body[:1], b'\x47')
        self.assertEqual(self.playlist(c)[0].split('?')[0], uris[0].split('?')[0])
        saved = dict(c.cookies)
        self.assertEqual(c.post('/api/logout/').status, 200)
        # Logged out: the browser deleted the cookies, and a copy of them is dead too.
        stolen = self.st.client()
        stolen.cookies = saved
        self.assertEqual(self.segment(stolen, uris[0].split('?')[0]).status, 401)
        self.assertEqual(self.segment(stolen, uris[0]).status, 401)

    def test_a_signed_url_outlives_a_logout_only_until_its_short_ttl(self):
        c = self.login()
        uris = self.playlist(c)
        self.assertIn('s=', uris[0], 'the playlist is not signed')
        refresh = c.cookies['refresh_token']
        self.assertEqual(c.post('/api/logout/').status, 200)
        anon = self.st.client()
        # Within the TTL the web server serves it on its signature alone ...
        r = self.segment(anon, uris[0])
        self.assertEqual(r.status, 200, r.body[:200])
        time.sleep(SIGNED_TTL + 1.5)
        # ... after it, the same URL is the application's, and nothing lets it through: not
        # the signature, not the revoked session's refresh cookie.
        r = self.segment(anon, uris[0])
        self.assertEqual(r.status, 401, r.body[:200])
        r = self.st.request('GET', '/api/video/%d/480p/%s' % (self.vid, uris[0]),
                            headers={'Cookie': 'refresh_token=%s' % refresh})
        self.assertEqual(r.status, 401, r.body[:200])

    def test_an_expired_signature_plays_on_through_the_cookie_check(self):
        c = self.login()
        uris = self.playlist(c)
        time.sleep(SIGNED_TTL + 1.5)
        c2 = self.login()  # fresh cookies, as the frontend's refresh gives
        for uri in uris[:2]:
            r = self.segment(c2, uri)
            self.assertEqual(r.status, 200, r.body[:200])


for _web, _db in harness.matrix():
    _name = 'MediaSession_%s_%s' % (_web, _db)
    globals()[_name] = type(_name, (MediaSessionMixin, unittest.TestCase),
                            {'WEB': _web, 'DB': _db})
del MediaSessionMixin
