"""test_admin.py -- the staff admin API through the real web servers: upload a generated clip
(multipart, streamed to disk) -> transcode job queued -> the worker and the transcoder make it
ready -> it plays over HLS; oversize -> 413, a text file named .mp4 -> 415, non-staff -> 403,
no cookie -> 401, delete removes every file and row; videoflixctl video add/list/transcode/
delete.  One stack (with the worker) per web server x database pair."""

import json
import os
import secrets
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness

STAFF_EMAIL = 'staff@videoflix.test'
MEMBER_EMAIL = 'member@videoflix.test'
PASSWORD = 'Corr3ct-Horse-Battery'
UPLOAD_MAX = 4 * 1024 * 1024
TRANSCODE_TIMEOUT = 400 if harness.SANITIZED else 180

_clip_dir = None


def clip_path():
    """A tiny real video, generated once per run with GStreamer (2 s, 320x240, H.264 +
    AAC in MP4)."""
    global _clip_dir
    if _clip_dir is None:
        _clip_dir = tempfile.mkdtemp(prefix='vf-admin-clip-')
        os.chmod(_clip_dir, 0o755)  # videoflixctl may run as the app's own user
    path = Path(_clip_dir) / 'clip.mp4'
    if not path.exists():
        subprocess.run(
            ['gst-launch-1.0', '-q', 'videotestsrc', 'num-buffers=48', 'pattern=smpte', '!',
             'video/x-raw,width=320,height=240,framerate=24/1', '!', 'x264enc',
             'speed-preset=ultrafast', '!', 'h264parse', '!', 'mp4mux', 'name=mux', '!',
             'filesink', 'location=%s' % path,
             'audiotestsrc', 'num-buffers=94', '!', 'audioconvert', '!', 'avenc_aac', '!',
             'mux.'],
            check=True, timeout=120, capture_output=True)
    return path


def multipart(fields, files=(), boundary=None):
    """(body, content_type) for text fields {name: value} and files [(name, filename,
    bytes, content_type)]."""
    boundary = boundary or '----vftest' + secrets.token_hex(12)
    out = []
    for name, value in fields.items():
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n'
                    % (boundary, name)).encode() + value.encode('utf-8') + b'\r\n')
    for name, filename, data, ctype in files:
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                    'Content-Type: %s\r\n\r\n' % (boundary, name, filename, ctype)).encode()
                   + data + b'\r\n')
    out.append(('--%s--\r\n' % boundary).encode())
    return b''.join(out), 'multipart/form-data; boundary=%s' % boundary


def make_user(st, email, staff):
    """An active account made by createsuperuser (then demoted unless staff), signed in."""
    r = st.ctl('createsuperuser', env={'VIDEOFLIX_SUPERUSER_EMAIL': email,
                                       'VIDEOFLIX_SUPERUSER_PASSWORD': PASSWORD})
    assert r.returncode == 0, r.stdout + r.stderr
    if not staff:
        st.sql('UPDATE users SET is_staff = 0, is_superuser = 0 WHERE email = ?', (email,))
    c = st.client()
    r = c.post('/api/login/', json={'email': email, 'password': PASSWORD})
    assert r.status == 200, r.body
    return c


class AdminBase:
    WEB = 'lighttpd'
    DB = 'sqlite'

    @classmethod
    def setUpClass(cls):
        def users():
            cls.staff = make_user(cls.st, STAFF_EMAIL, staff=True)
            cls.member = make_user(cls.st, MEMBER_EMAIL, staff=False)
            cls.clip = clip_path().read_bytes()
        harness.class_stack(cls, users, web=cls.WEB, db=cls.DB, worker=True, env={
            'UPLOAD_MAX_BYTES': str(UPLOAD_MAX),
            'JOB_MAX_ATTEMPTS': '2',
            'JOB_RETRY_DELAY': '1',
            'TRANSCODE_CONCURRENCY': '1',
        })

    # -- helpers -----------------------------------------------------------------

    def upload(self, client, fields=None, files=None, headers=None):
        f = {'title': 'Test clip', 'category': 'Demo', 'description': 'A generated clip.'}
        f.update(fields or {})
        if files is None:
            files = [('file', 'clip.mp4', self.clip, 'video/mp4')]
        body, ctype = multipart({k: v for k, v in f.items() if v is not None}, files)
        h = {'Content-Type': ctype}
        h.update(headers or {})
        return client.post('/api/admin/videos/', body=body, headers=h, timeout=120)

    def uploads(self):
        return sorted(p.name for p in (self.st.media_root / 'uploads').iterdir())

    def wait_state(self, vid, states, timeout=TRANSCODE_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            r = self.staff.get('/api/admin/videos/%d/' % vid)
            self.assertEqual(r.status, 200, r.body)
            last = r.json()
            if last['state'] in states:
                return last
            time.sleep(0.5)
        self.fail('video %d did not reach %s in %ds: %r' % (vid, states, timeout, last))

    def assertJsonError(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertTrue(r.headers.get('Content-Type', '').startswith('application/json'),
                        r.headers.get('Content-Type'))
        return r.json()

    # -- access ------------------------------------------------------------------

    ROUTES = [
        ('GET', '/api/admin/me/'), ('GET', '/api/admin/videos/'),
        ('POST', '/api/admin/videos/'), ('GET', '/api/admin/videos/1/'),
        ('PATCH', '/api/admin/videos/1/'), ('DELETE', '/api/admin/videos/1/'),
        ('POST', '/api/admin/videos/1/transcode/'), ('GET', '/api/admin/jobs/'),
        ('POST', '/api/admin/jobs/1/retry/'), ('GET', '/api/admin/users/'),
        ('PATCH', '/api/admin/users/1/'), ('POST', '/api/admin/users/1/activation/'),
    ]

    def test_without_cookie_every_admin_route_is_401(self):
        for method, path in self.ROUTES:
            r = self.st.request(method, path, json={} if method == 'PATCH' else None)
            body = self.assertJsonError(r, 401)
            self.assertIn('detail', body, (method, path))

    def test_non_staff_gets_403_on_every_admin_route(self):
        for method, path in self.ROUTES:
            r = self.member.request(method, path, json={} if method == 'PATCH' else None)
            body = self.assertJsonError(r, 403)
            self.assertEqual(body['detail'], 'You do not have permission to perform this action.')

    def test_non_staff_upload_is_refused_before_anything_is_stored(self):
        r = self.upload(self.member)
        self.assertJsonError(r, 403)
        self.assertEqual([n for n in self.uploads() if n.endswith('.part')], [])

    def test_me_describes_the_staff_user_and_the_upload_limit(self):
        r = self.staff.get('/api/admin/me/')
        self.assertEqual(r.status, 200, r.body)
        me = r.json()
        self.assertEqual(me['email'], STAFF_EMAIL)
        self.assertTrue(me['is_staff'])
        self.assertEqual(me['upload_max_bytes'], UPLOAD_MAX)
        self.assertEqual(r.headers.get('Cache-Control'), 'no-store')

    # -- refused uploads leave nothing behind ----------------------------------------

    def test_text_file_named_mp4_is_415_and_leaves_nothing(self):
        before = self.uploads()
        nvideos = len(self.st.sql('SELECT id FROM videos'))
        r = self.upload(self.staff, files=[('file', 'evil.mp4', b'just some text\n' * 100,
                                            'video/mp4')])
        self.assertJsonError(r, 415)
        self.assertEqual(self.uploads(), before)
        self.assertEqual(len(self.st.sql('SELECT id FROM videos')), nvideos)
        # A large one is refused as soon as its first bytes are in, without reading the rest;
        # the connection stays usable.
        r = self.upload(self.staff, files=[('file', 'big.mp4', b'lorem ipsum ' * 250000,
                                            'video/mp4')])
        self.assertJsonError(r, 415)
        self.assertEqual(self.uploads(), before)
        self.assertEqual(self.staff.get('/api/admin/me/').status, 200)

    def test_container_that_is_not_a_video_is_415_after_the_probe(self):
        # Right magic bytes (an MP4 ftyp box), nothing playable behind them.
        junk = b'\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2' + os.urandom(4096)
        before = self.uploads()
        r = self.upload(self.staff, files=[('file', 'junk.mp4', junk, 'video/mp4')])
        body = self.assertJsonError(r, 415)
        self.assertIn('not a usable video', body['detail'])
        self.assertNotIn(str(self.st.media_root), body['detail'])  # never a path
        self.assertNotIn('.part', body['detail'])
        self.assertEqual(self.uploads(), before)

    def test_the_upload_reaches_the_application_while_it_is_still_being_sent(self):
        # Both web servers stream the upload location: the application has its .part file
        # open while the client is still sending, not only once the web server has received
        # (and spooled) the whole body; a client that goes away then leaves nothing behind.
        data = self.clip + b'\0' * (3 * 1024 * 1024)
        body, ctype = multipart({'title': 'Streamed', 'category': 'Demo'},
                                [('file', 'clip.mp4', data, 'video/mp4')])
        cut = body.index(data) + 1024 * 1024  # more than the application reads at once
        cookie = '; '.join('%s=%s' % kv for kv in self.staff.cookies.items())
        before = self.uploads()

        def parts():
            return [n for n in self.uploads() if n.endswith('.part') and n not in before]
        with socket.create_connection(('127.0.0.1', self.st.http_port), timeout=60) as s:
            s.sendall(('POST /api/admin/videos/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n'
                       'Content-Type: %s\r\nContent-Length: %d\r\n\r\n'
                       % (cookie, ctype, len(body))).encode() + body[:cut])
            deadline = time.monotonic() + 15
            while not parts():
                if time.monotonic() > deadline:
                    self.fail('the application saw nothing of a body that is not complete')
                time.sleep(0.05)
        deadline = time.monotonic() + 15
        while parts() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(parts(), [], 'the abandoned upload left its .part behind')
        self.assertEqual(self.staff.get('/api/admin/me/').status, 200)

    def test_oversize_upload_is_413_json(self):
        big = b'\x00\x00\x00\x18ftypisom' + b'\0' * (UPLOAD_MAX + 1024)
        r = self.upload(self.staff, files=[('file', 'big.mp4', big, 'video/mp4')])
        self.assertJsonError(r, 413)
        self.assertEqual([n for n in self.uploads() if n.endswith('.part')], [])

    def test_field_errors_are_400_per_field(self):
        cases = [
            ({'title': None}, None, 'title'),
            ({'title': '   '}, None, 'title'),
            ({'category': None}, None, 'category'),
            ({'title': 'x' * 256}, None, 'title'),
            ({}, [], 'file'),
            ({}, [('file', 'empty.mp4', b'', 'video/mp4')], 'file'),
            ({'file': 'not a file'}, [], 'file'),
        ]
        before = self.uploads()
        for fields, files, field in cases:
            r = self.upload(self.staff, fields=fields, files=files)
            body = self.assertJsonError(r, 400)
            self.assertIn(field, body, (fields, body))
            self.assertIsInstance(body[field], list)
        self.assertEqual(self.uploads(), before)

    def test_malformed_multipart_is_400_and_wrong_type_415(self):
        body, ctype = multipart({'title': 'x'}, [('file', 'a.mp4', self.clip[:1000], 'video/mp4')])
        r = self.staff.post('/api/admin/videos/', body=body[:-20], headers={'Content-Type': ctype})
        self.assertJsonError(r, 400)
        r = self.staff.post('/api/admin/videos/', json={'title': 'x'})
        self.assertJsonError(r, 415)
        r = self.staff.post('/api/admin/videos/', body=b'x',
                            headers={'Content-Type': 'multipart/form-data'})
        self.assertJsonError(r, 400)
        self.assertEqual([n for n in self.uploads() if n.endswith('.part')], [])

    def test_upload_from_a_foreign_origin_is_403_but_the_public_url_is_allowed(self):
        r = self.upload(self.staff, headers={'Origin': 'http://evil.example'})
        self.assertJsonError(r, 403)
        r = self.staff.patch('/api/admin/videos/999999/', json={'title': 'x'},
                             headers={'Origin': self.st.base_url})
        self.assertJsonError(r, 404)

    # -- the whole life of a video -----------------------------------------------

    def test_upload_transcode_play_edit_retranscode_delete(self):
        st = self.st
        r = self.upload(self.staff, fields={'title': 'Ocean Drift', 'category': 'Nature'},
                        headers={'Origin': st.base_url})
        self.assertEqual(r.status, 201, r.body)
        v = r.json()
        vid = v['id']
        self.assertEqual((v['title'], v['category']), ('Ocean Drift', 'Nature'))
        self.assertIn(v['state'], ('uploaded', 'processing', 'ready'))
        self.assertIsNotNone(v['job'])
        # Stored under a generated name with the sniffed extension; row and job exist.
        (src,) = st.sql('SELECT source_path FROM videos WHERE id = ?', (vid,))[0:1]
        self.assertRegex(src[0], r'^uploads/[0-9a-f]{32}\.mp4$')
        self.assertTrue((st.media_root / src[0]).is_file())
        self.assertEqual((st.media_root / src[0]).stat().st_size, len(self.clip))
        payloads = [json.loads(p) for (p,) in
                    st.sql("SELECT payload FROM jobs WHERE kind = 'transcode'")]
        mine = [p for p in payloads if p.get('video_id') == vid]
        self.assertEqual(len(mine), 1, payloads)
        # The probed length travels with the job: its limits grow with it (issue 14).
        duration = mine[0].pop('duration', None)
        self.assertEqual(mine[0], {'video_id': vid, 'source': src[0], 'overwrite': False})
        self.assertIsNotNone(duration)
        self.assertAlmostEqual(duration, 2.0, delta=0.3)  # 2 s of video, a little more audio

        # The worker and the transcoder make it ready.
        v = self.wait_state(vid, ('ready', 'failed'))
        self.assertEqual(v['state'], 'ready', v)
        self.assertGreater(v['duration'], 1.0)
        self.assertTrue(v['renditions'], v)
        self.assertEqual(v['job']['state'], 'done')
        self.assertEqual(v['job']['progress'], 100)

        # It plays: master playlist -> a rendition playlist -> a segment.
        r = self.staff.get('/api/video/%d/master.m3u8' % vid)
        self.assertEqual(r.status, 200, r.body)
        variants = [ln for ln in r.text.splitlines() if ln and not ln.startswith('#')]
        self.assertTrue(variants, r.text)
        r = self.staff.get('/api/video/%d/480p/index.m3u8' % vid)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn('#EXT-X-ENDLIST', r.text)
        seg = [ln for ln in r.text.splitlines() if ln and not ln.startswith('#')][0]
        r = self.staff.get('/api/video/%d/480p/%s' % (vid, seg))
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.body[:1], b'\x47')  # MPEG-TS sync byte
        # ... and it is in the public list.
        r = self.staff.get('/api/video/')
        self.assertIn(vid, [x['id'] for x in r.json()])

        # Edit.
        r = self.staff.patch('/api/admin/videos/%d/' % vid,
                             json={'title': 'Ocean Drift (HD)', 'description': 'Waves.'})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()['title'], r.json()['description'], r.json()['category']),
                         ('Ocean Drift (HD)', 'Waves.', 'Nature'))
        r = self.staff.patch('/api/admin/videos/%d/' % vid, json={'category': ''})
        self.assertIn('category', self.assertJsonError(r, 400))
        r = self.staff.patch('/api/admin/videos/%d/' % vid, json={'title': 7})
        self.assertIn('title', self.assertJsonError(r, 400))

        # Re-transcode: queued once, a second request while it is pending is 409.
        r = self.staff.post('/api/admin/videos/%d/transcode/' % vid)
        self.assertEqual(r.status, 202, r.body)
        r2 = self.staff.post('/api/admin/videos/%d/transcode/' % vid)
        if r2.status != 202:  # the first may already be done on a fast machine
            self.assertJsonError(r2, 409)
        v = self.wait_state(vid, ('ready', 'failed'))
        deadline = time.monotonic() + TRANSCODE_TIMEOUT
        while v['job'] and v['job']['state'] in ('queued', 'running') and time.monotonic() < deadline:
            time.sleep(0.5)
            v = self.staff.get('/api/admin/videos/%d/' % vid).json()
        self.assertEqual(v['state'], 'ready', v)

        # Jobs list shows the transcodes with their video; a done job cannot be retried.
        r = self.staff.get('/api/admin/jobs/?state=done')
        self.assertEqual(r.status, 200, r.body)
        mine = [j for j in r.json() if j['video_id'] == vid]
        self.assertTrue(mine)
        self.assertTrue(all(j['kind'] == 'transcode' and 'payload' not in j for j in mine))
        self.assertJsonError(self.staff.post('/api/admin/jobs/%d/retry/' % mine[0]['id']), 409)
        self.assertJsonError(self.staff.get('/api/admin/jobs/?state=bogus'), 400)

        # Delete removes every file and row.
        self.assertTrue((st.media_root / 'hls' / str(vid)).is_dir())
        r = self.staff.delete('/api/admin/videos/%d/' % vid)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn('detail', r.json())
        self.assertFalse((st.media_root / src[0]).exists())
        self.assertFalse((st.media_root / 'hls' / str(vid)).exists())
        self.assertFalse((st.media_root / 'thumbnails' / ('%d.jpg' % vid)).exists())
        self.assertEqual(st.sql('SELECT id FROM videos WHERE id = ?', (vid,)), [])
        self.assertEqual([p for _, p in st.sql("SELECT id, payload FROM jobs WHERE kind = 'transcode'")
                          if json.loads(p).get('video_id') == vid], [])
        self.assertJsonError(self.staff.get('/api/admin/videos/%d/' % vid), 404)
        self.assertJsonError(self.staff.delete('/api/admin/videos/%d/' % vid), 404)
        self.assertEqual(self.staff.get('/api/video/%d/master.m3u8' % vid).status, 404)

    def test_staff_resend_an_activation_mail_for_an_account_that_never_activated(self):
        email = 'awaiting@example.com'
        r = self.st.request('POST', '/api/register/', json={
            'email': email, 'password': PASSWORD, 'confirmed_password': PASSWORD})
        self.assertEqual(r.status, 201, r.body)
        uid = r.json()['user']['id']
        users = {u['email']: u for u in self.staff.get('/api/admin/users/').json()}
        self.assertEqual((users[email]['is_active'], users[email]['activation_pending']),
                         (False, True))
        self.assertFalse(users[MEMBER_EMAIL]['activation_pending'])
        self.st.wait_for(lambda: len([m for m in self.st.mails() if m['To'] == email]) == 1,
                         timeout=30, what='the first activation mail')
        r = self.staff.post('/api/admin/users/%d/activation/' % uid, json={})
        self.assertEqual(r.status, 202, r.body)
        self.assertEqual(r.json(), {'detail': 'Activation email queued.'})
        self.st.wait_for(lambda: len([m for m in self.st.mails() if m['To'] == email]) == 2,
                         timeout=30, what='the resent activation mail')
        member_id = self.st.sql('SELECT id FROM users WHERE email = ?', (MEMBER_EMAIL,))[0][0]
        r = self.staff.post('/api/admin/users/%d/activation/' % member_id, json={})
        self.assertEqual(self.assertJsonError(r, 409),
                         {'detail': 'This account is not awaiting activation.'})
        self.assertJsonError(self.staff.post('/api/admin/users/999999/activation/', json={}), 404)
        self.assertJsonError(self.member.post('/api/admin/users/%d/activation/' % uid, json={}),
                             403)
        js = (harness.WWW_DIR / 'admin' / 'admin.js').read_text()
        self.assertIn('/activation/', js, 'the panel has the button')

    def test_health_shows_the_version_to_staff_only(self):
        # DEBUG is off in this stack: the version is for staff (and DEBUG), not for anyone.
        r = self.st.request('GET', '/api/health/')
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn('version', r.json())
        self.assertNotIn('version', self.member.get('/api/health/').json())
        r = self.st.request('GET', '/api/health/', headers={'Cookie': 'access_token=forged.a.b'})
        self.assertEqual((r.status, 'version' in r.json()), (200, False))
        r = self.staff.get('/api/health/')
        self.assertEqual(r.status, 200, r.body)
        self.assertRegex(r.json()['version'], r'^\d+\.\d+')
        self.assertEqual(r.headers.get('Cache-Control'), 'no-store')

    def test_patch_bodies_with_nul_are_400_and_change_nothing(self):
        uid = self.st.sql('SELECT id FROM users WHERE email = ?', (MEMBER_EMAIL,))[0][0]
        r = self.staff.patch('/api/admin/videos/999999/', json={'title': 'Ocean\x00Drift'})
        self.assertEqual(self.assertJsonError(r, 400), {'title': ['Null characters are not '
                                                                  'allowed.']})
        r = self.staff.patch('/api/admin/users/%d/' % uid,
                             json={'is_active': False, 'note': 'x\x00'})
        self.assertEqual(self.assertJsonError(r, 400), {'note': ['Null characters are not '
                                                                 'allowed.']})
        self.assertEqual(int(self.st.sql('SELECT is_active FROM users WHERE id = ?',
                                         (uid,))[0][0]), 1)

    # -- users ---------------------------------------------------------------------

    def test_users_list_and_deactivate_reactivate_make_staff(self):
        r = self.staff.get('/api/admin/users/')
        self.assertEqual(r.status, 200, r.body)
        users = {u['email']: u for u in r.json()}
        self.assertTrue(users[STAFF_EMAIL]['is_staff'])
        member = users[MEMBER_EMAIL]
        self.assertFalse(member['is_staff'])
        self.assertNotIn('password', member)
        uid = member['id']
        try:
            r = self.staff.patch('/api/admin/users/%d/' % uid, json={'is_active': False})
            self.assertEqual(r.status, 200, r.body)
            self.assertFalse(r.json()['is_active'])
            # The deactivated member's session is over.
            self.assertEqual(self.member.get('/api/admin/me/').status, 401)
            r = self.staff.patch('/api/admin/users/%d/' % uid,
                                 json={'is_active': True, 'is_staff': True})
            self.assertEqual(r.status, 200, r.body)
            self.assertTrue(r.json()['is_active'] and r.json()['is_staff'])
            self.assertJsonError(self.staff.patch('/api/admin/users/%d/' % uid,
                                                  json={'is_staff': 'yes'}), 400)
            me = self.staff.get('/api/admin/me/').json()
            self.assertJsonError(self.staff.patch('/api/admin/users/%d/' % me['id'],
                                                  json={'is_active': False}), 403)
        finally:
            self.st.sql('UPDATE users SET is_active = 1, is_staff = 0, is_superuser = 0 '
                        'WHERE id = ?', (uid,))
            r = self.member.post('/api/login/', json={'email': MEMBER_EMAIL, 'password': PASSWORD})
            self.assertEqual(r.status, 200, r.body)

    # -- videoflixctl ------------------------------------------------------------------

    def test_ctl_video_add_list_transcode_delete(self):
        st = self.st
        path = clip_path()
        r = st.ctl('video', 'add', path, '--title', 'From the CLI', '--category', 'Ops',
                   '--description', 'added by a sysadmin')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        vid = int(r.stdout.split()[1])
        rows = st.sql('SELECT title, category, state FROM videos WHERE id = ?', (vid,))
        self.assertEqual(rows[0][:2], ('From the CLI', 'Ops'))
        r = st.ctl('video', 'list')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('From the CLI', r.stdout)
        r = st.ctl('video', 'transcode', vid)
        self.assertEqual(r.returncode, 1, r.stdout)  # one is already queued (or it is ready)
        r = st.ctl('video', 'transcode', vid, '--overwrite')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Refusals: not a video, low disk, bad arguments; nothing left behind.
        before = self.uploads()
        txt = st.tmpdir / 'notes.mp4'
        txt.write_text('not a video\n' * 50)
        r = st.ctl('video', 'add', txt, '--title', 'x', '--category', 'y')
        self.assertEqual(r.returncode, 1)
        self.assertIn('not a supported video', r.stderr)
        r = st.ctl('video', 'add', path, '--title', 'x', '--category', 'y',
                   env={'MIN_FREE_DISK_BYTES': str(1 << 40)})
        self.assertEqual(r.returncode, 1)
        self.assertIn('disk', r.stderr)
        self.assertEqual(st.ctl('video', 'add', path, '--title', 'x').returncode, 2)
        self.assertEqual(self.uploads(), before)
        r = st.ctl('video', 'delete', vid)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(st.sql('SELECT id FROM videos WHERE id = ?', (vid,)), [])
        self.assertEqual(st.ctl('video', 'delete', vid).returncode, 1)

    # -- the panel is served ---------------------------------------------------------

    def test_panel_is_served_with_a_strict_csp(self):
        r = self.st.request('GET', '/admin/')
        self.assertEqual(r.status, 200)
        self.assertIn(b'Videoflix Studio', r.body)
        csp = r.headers.get('Content-Security-Policy', '')
        self.assertIn("script-src 'self'", csp)
        self.assertEqual(r.headers.get('X-Frame-Options'), 'DENY')
        r = self.st.request('GET', '/admin')
        self.assertIn(r.status, (301, 302, 308))
        self.assertTrue(r.headers.get('Location', '').endswith('/admin/'), r.headers.get('Location'))
        for asset in ('admin.js', 'admin.css', 'vendor/hls.js/hls.light.min.js'):
            r = self.st.request('GET', '/admin/' + asset)
            self.assertEqual(r.status, 200, asset)


class AdminLowDiskTest(unittest.TestCase):
    """MIN_FREE_DISK_BYTES above the free space: uploads get 507 JSON and store nothing."""

    def test_upload_is_507_when_the_disk_is_nearly_full(self):
        # On each web server of the matrix: both stream the upload to the application, which
        # answers before it reads the body.
        firsts = {}
        for web, db in harness.matrix():
            firsts.setdefault(web, db)
        for web, db in firsts.items():
            with self.subTest(web=web), \
                    harness.Stack(web=web, db=db, env={'UPLOAD_MAX_BYTES': str(UPLOAD_MAX),
                                                       'MIN_FREE_DISK_BYTES': str(1 << 40)}) as st:
                staff = make_user(st, STAFF_EMAIL, staff=True)
                body, ctype = multipart({'title': 'T', 'category': 'C'},
                                        [('file', 'clip.mp4', clip_path().read_bytes(),
                                          'video/mp4')])
                r = staff.post('/api/admin/videos/', body=body, headers={'Content-Type': ctype})
                self.assertEqual(r.status, 507, r.body)
                self.assertIn('disk', r.json()['detail'])
                self.assertEqual(list((st.media_root / 'uploads').iterdir()), [])
                self.assertEqual(st.sql('SELECT id FROM videos'), [])


def _make_classes():
    for web, db in harness.matrix():
        name = 'Admin_%s_%s' % (web, db)
        globals()[name] = type(name, (AdminBase, unittest.TestCase), {'WEB': web, 'DB': db})


_make_classes()

if __name__ == '__main__':
    unittest.main()
