"""test_failclosed.py -- real installs: fail-closed start-up and the media permission model.

Each case runs the real binaries the way a sysadmin does: an operator-written env file
that names only what it must, a database file that may be missing, a data directory that
may be incomplete, and a web server whose workers run as another user (nobody) than the
app.  RELIABILITY.md items 23 and 24.
"""

import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness
from test_admin import clip_path


def run(argv, env, cwd, timeout=60):
    return subprocess.run([str(a) for a in argv], env=env, cwd=str(cwd), capture_output=True,
                          text=True, timeout=timeout)


class OperatorEnvTest(unittest.TestCase):
    """The build tree's programs with an operator-written env file: no VIDEOFLIX_DATA_DIR."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix='vf-failclosed-'))
        self.db = self.tmp / 'videoflix.sqlite3'
        self.envfile = self.tmp / 'operator.env'
        text = ('# written by an operator\nSECRET_KEY=%s\nDB_NAME=%s\nMEDIA_ROOT=%s\n'
                % (secrets.token_urlsafe(48), self.db, self.tmp / 'media'))
        if harness.INSTALLED:
            # Installed into a DESTDIR, the data is not where the programs were built to look
            # (test_installed_programs_without_their_data_refuse_to_start): say where it is,
            # as the installed sample env file does.
            text += 'VIDEOFLIX_DATA_DIR=%s\n' % harness.DATA_DIR
        self.envfile.write_text(text)
        self.env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'LANG': 'C.UTF-8',
                    'VIDEOFLIX_ENV': str(self.envfile)}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ctl(self, *args, env=None, input=None):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([str(harness.CTL_BIN)] + [str(a) for a in args], env=e,
                              cwd=str(self.tmp), capture_output=True, text=True, timeout=120,
                              input=input)

    def test_createsuperuser_refuses_a_common_password_without_a_data_dir_setting(self):
        r = self.ctl('migrate')
        self.assertEqual(r.returncode, 0, r.stderr)
        for weak in ('password', 'qwerty123'):
            with self.subTest(password=weak):
                r = self.ctl('createsuperuser', env={
                    'VIDEOFLIX_SUPERUSER_EMAIL': 'root@example.com',
                    'VIDEOFLIX_SUPERUSER_PASSWORD': weak})
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn('too common', r.stderr)
                self.assertNotIn('warning', r.stderr)
        users = self.ctl('users', 'list')
        self.assertNotIn('root@example.com', users.stdout)

    def test_superuser_settings_are_read_from_the_env_file(self):
        self.assertEqual(self.ctl('migrate').returncode, 0)
        with self.envfile.open('a') as f:
            f.write('VIDEOFLIX_SUPERUSER_EMAIL=boss@example.com\n'
                    'VIDEOFLIX_SUPERUSER_PASSWORD=Str0ng-and-long-enough\n')
        r = self.ctl('createsuperuser', input='')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('boss@example.com', self.ctl('users', 'list').stdout)

    def test_a_missing_password_list_stops_the_program_with_one_line(self):
        empty = self.tmp / 'emptydata'
        shutil.copytree(harness.REPO / 'schema', empty / 'schema')
        env = {'VIDEOFLIX_DATA_DIR': str(empty)}
        self.assertEqual(self.ctl('migrate', env=env).returncode, 0)
        r = self.ctl('createsuperuser', env=dict(env, VIDEOFLIX_SUPERUSER_EMAIL='a@example.com',
                                                  VIDEOFLIX_SUPERUSER_PASSWORD='Str0ng-long-pw'))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('common-passwords.txt', r.stderr)
        self.assertIn('VIDEOFLIX_DATA_DIR=%s' % empty, r.stderr)
        self.assertNotIn('a@example.com', self.ctl('users', 'list', env=env).stdout)
        # The FastCGI app refuses to start at all, naming the file.
        r = run([harness.FCGI_BIN, '--socket', self.tmp / 'fcgi.sock'], dict(self.env, **env),
                self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('common-passwords.txt', r.stderr)
        self.assertFalse((self.tmp / 'fcgi.sock').exists())

    def test_a_password_hash_cost_below_owasps_minimum_stops_the_programs(self):
        self.assertEqual(self.ctl('migrate').returncode, 0)
        weak = {'PASSWORD_HASH_MEMORY_KIB': '12287', 'PASSWORD_HASH_TIME': '3'}
        r = run([harness.FCGI_BIN, '--socket', self.tmp / 'fcgi.sock'], dict(self.env, **weak),
                self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('PASSWORD_HASH_MEMORY_KIB=12287 with PASSWORD_HASH_TIME=3', r.stderr)
        self.assertIn('12288', r.stderr)
        self.assertFalse((self.tmp / 'fcgi.sock').exists())
        r = self.ctl('createsuperuser', env=dict(weak, VIDEOFLIX_SUPERUSER_EMAIL='a@example.com',
                                                 VIDEOFLIX_SUPERUSER_PASSWORD='Str0ng-long-pw'))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('below OWASP', r.stderr)
        self.assertNotIn('a@example.com', self.ctl('users', 'list').stdout)
        # One of OWASP's own pairs (12 MiB, 3 passes) is accepted, and hashes with it.
        ok = dict(weak, PASSWORD_HASH_MEMORY_KIB='12288')
        r = self.ctl('createsuperuser', env=dict(ok, VIDEOFLIX_SUPERUSER_EMAIL='a@example.com',
                                                 VIDEOFLIX_SUPERUSER_PASSWORD='Str0ng-long-pw'))
        self.assertEqual(r.returncode, 0, r.stderr)
        con = sqlite3.connect(str(self.db))
        try:
            stored = con.execute("SELECT password FROM users WHERE email = 'a@example.com'"
                                 ).fetchone()[0]
        finally:
            con.close()
        self.assertIn('$m=12288,t=3,p=1$', stored)

    def test_missing_templates_stop_sendtestmail_and_the_worker(self):
        data = self.tmp / 'data'
        shutil.copytree(harness.REPO / 'schema', data / 'schema')
        env = {'VIDEOFLIX_DATA_DIR': str(data)}
        self.assertEqual(self.ctl('migrate', env=env).returncode, 0)
        r = self.ctl('sendtestmail', 'x@example.com', env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn('templates', r.stderr)
        r = run([harness.WORKER_BIN], dict(self.env, **env), self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('templates', r.stderr)

    def test_installed_programs_without_their_data_refuse_to_start(self):
        if not harness.INSTALLED:
            self.skipTest(harness.not_applicable(
                'the installed layout only (VF_INSTALLED=1): build-tree programs find their '
                'source tree'))
        self.envfile.write_text(self.envfile.read_text().replace('VIDEOFLIX_DATA_DIR=', '#'))
        for argv in ([harness.FCGI_BIN, '--socket', self.tmp / 'fcgi.sock'],
                     [harness.WORKER_BIN], [harness.CTL_BIN, 'migrate']):
            with self.subTest(program=Path(argv[0]).name):
                r = run(argv, self.env, self.tmp)
                self.assertEqual(r.returncode, 2 if 'ctl' not in str(argv[0]) else 1, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn('VIDEOFLIX_DATA_DIR=', r.stderr)
        self.assertFalse(self.db.exists())

    def test_only_migrate_creates_the_sqlite_database(self):
        for argv in ([harness.FCGI_BIN, '--socket', self.tmp / 'fcgi.sock'],
                     [harness.WORKER_BIN], [harness.CTL_BIN, 'users', 'list']):
            with self.subTest(program=Path(argv[0]).name):
                r = run(argv, self.env, self.tmp)
                self.assertIn(r.returncode, (1, 2), r.stderr)
                self.assertIn('DB_NAME=%s' % self.db, r.stderr)
                self.assertFalse(self.db.exists(), 'the database was created')
        self.assertEqual(self.ctl('migrate').returncode, 0)
        self.assertTrue(self.db.exists())


class SchemaHealthTest(unittest.TestCase):
    """/api/health/ compares the schema with the installed migrations."""

    def test_health_is_503_for_an_unmigrated_or_vanished_database(self):
        web, db = harness.matrix()[0]
        with harness.Stack(web=web, db=db) as st:
            self.assertEqual(st.request('GET', '/api/health/').status, 200)
            latest = st.sql('SELECT max(version) FROM schema_migrations')[0][0]
            row = st.sql('SELECT * FROM schema_migrations WHERE version = ?', (latest,))[0]
            st.sql('DELETE FROM schema_migrations WHERE version = ?', (latest,))
            r = st.request('GET', '/api/health/')
            self.assertEqual(r.status, 503, r.body)
            self.assertEqual(r.json()['database'], 'unmigrated')
            self.assertIsNotNone(r.headers.get('Retry-After'))
            st.sql('INSERT INTO schema_migrations VALUES (%s)' % ', '.join('?' * len(row)), row)
            self.assertEqual(st.request('GET', '/api/health/').status, 200)
            if db != 'sqlite':
                return
            # Moved away and reloaded: the workers must not create an empty database.
            path = Path(st.env['DB_NAME'])
            path.rename(path.with_suffix('.moved'))
            for suffix in ('-wal', '-shm'):
                Path(str(path) + suffix).unlink(missing_ok=True)
            os.kill(st.fcgi_master_pid, 1)
            st.wait_for(lambda: st.request('GET', '/api/health/').status == 503, timeout=10,
                        what='health 503 after the database vanished')
            time.sleep(1)
            self.assertFalse(path.exists(), 'a worker re-created the database')


class PermissionModelTest(unittest.TestCase):
    """What the app publishes is readable by the web server's group and nothing else is:
    nginx's workers (nobody:nogroup) serve a transcoded video's segments through
    X-Accel-Redirect and its thumbnail, while uploads and staging stay private."""

    @classmethod
    def setUpClass(cls):
        if os.getuid() != 0:
            raise unittest.SkipTest('needs root to run nginx workers as another user')
        cls.st = harness.Stack(web='nginx', db='sqlite', worker=True,
                               env={'SENDFILE_MODE': 'x-accel-redirect'})
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_a_transcoded_video_is_served_by_a_web_server_of_another_user(self):
        st = self.st
        r = st.ctl('video', 'add', clip_path(), '--title', 'Perm', '--category', 'Test')
        self.assertEqual(r.returncode, 0, r.stderr)
        vid = int(st.sql('SELECT max(id) FROM videos')[0][0])
        st.wait_for(lambda: st.sql('SELECT state FROM videos WHERE id = ?', (vid,))[0][0]
                    in ('ready', 'failed'), timeout=180, interval=0.3, what='transcode')
        self.assertEqual(st.sql('SELECT state, error FROM videos WHERE id = ?', (vid,))[0][0],
                         'ready')
        root = st.media_root
        hls = root / 'hls' / str(vid)
        for p in [hls] + list(hls.rglob('*')):
            m = p.stat().st_mode
            with self.subTest(path=str(p.relative_to(root))):
                self.assertEqual(p.stat().st_gid, root.stat().st_gid)
                if p.is_dir():
                    self.assertEqual(stat.S_IMODE(m) & 0o777, 0o750)
                else:
                    self.assertEqual(stat.S_IMODE(m), 0o640)
        for private in ('uploads', 'staging'):
            self.assertEqual(stat.S_IMODE((root / private).stat().st_mode) & 0o077, 0, private)
        thumb = root / 'thumbnails' / ('%d.jpg' % vid)
        self.assertEqual(stat.S_IMODE(thumb.stat().st_mode), 0o640)

        c = st.client()
        st.add_user('viewer@example.com', 'Viewer-pass-123')
        self.assertEqual(c.post('/api/login/', json={'email': 'viewer@example.com',
                                                      'password': 'Viewer-pass-123'}).status, 200)
        pl = c.get('/api/video/%d/480p/index.m3u8' % vid)
        self.assertEqual(pl.status, 200, pl.body)
        seg = next(l for l in pl.text.splitlines() if l and not l.startswith('#'))
        r = c.get('/api/video/%d/480p/%s' % (vid, seg.split('?')[0]))
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.body[:1], b'\x47')  # an MPEG-TS sync byte, served by nginx
        r = st.request('GET', '/media/thumbnails/%d.jpg' % vid)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.body[:3], b'\xff\xd8\xff')

    def test_check_config_reports_a_media_tree_the_web_server_cannot_read(self):
        st = self.st
        r = st.ctl('check-config', '--web-user', harness.WEB_USER)
        self.assertIn('media permissions: ok', r.stdout, r.stdout + r.stderr)
        gid = st.media_root.stat().st_gid
        os.chown(st.media_root, -1, 0)
        try:
            r = st.ctl('check-config', '--web-user', harness.WEB_USER)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('media permissions: FAILED', r.stdout)
            self.assertIn(harness.WEB_USER, r.stdout)
        finally:
            os.chown(st.media_root, -1, gid)


if __name__ == '__main__':
    unittest.main()
