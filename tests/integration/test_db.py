"""test_db.py -- the database layer seen by sysadmins: videoflixctl migrate and check-config.

On each engine (SQLite always, PostgreSQL when script/test started a cluster): migrate is
idempotent, several hosts migrating one fresh database at once apply every migration
exactly once, and check-config masks secrets and reports a broken database or media root
with exit status 1.  SQLite with a write lock held elsewhere (RELIABILITY 19): 503 JSON with
Retry-After after the busy timeout, nothing half-written, readers unaffected.
"""

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness


def _migrations(engine):
    """Names (NNN_name) of the migrations shipped for `engine`."""
    d = harness.REPO / 'schema' / engine
    return sorted(p.stem for p in d.glob('*.sql') if re.match(r'\d+_[A-Za-z0-9_-]+$', p.stem))


class CtlBase:
    """One stack per engine; subclasses set DB."""
    DB = None

    @classmethod
    def setUpClass(cls):
        harness.class_stack(cls, web='nginx', db=cls.DB, workers=1)

    def _fresh_database(self):
        """Environment overrides pointing at a new, empty database; and a query function."""
        if self.DB == 'sqlite':
            # in the app's database directory (the app may not write the stack's tmpdir)
            path = str(self.st.tmpdir / 'db' / ('fresh-%s.sqlite3' % secrets.token_hex(4)))

            def query(sql):
                con = sqlite3.connect(path, timeout=10)
                try:
                    rows = con.execute(sql).fetchall()
                    con.commit()
                    return rows
                finally:
                    con.close()
                    if harness.INSTALLED:  # a file this root process created stays the app's
                        for suffix in ('-wal', '-shm'):
                            if os.path.exists(path + suffix):
                                os.chown(path + suffix, self.st.app_uid, self.st.app_gid)
            return {'DB_NAME': path}, query
        name = 'vf_fresh_%s' % secrets.token_hex(5)
        self.st._psql('postgres', 'CREATE DATABASE "%s"' % name)
        self.addCleanup(self.st._psql, 'postgres', 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        return {'DB_NAME': name}, lambda sql: self.st._psql(name, sql, rows=True)

    def test_help_for_a_command_shows_its_usage_and_runs_nothing(self):
        before = self.st.sql('SELECT count(*) FROM users')
        for args in (['createsuperuser', '--help'], ['help', 'createsuperuser'], ['jobs', '-h']):
            r = self.st.ctl(*args, input='')
            self.assertEqual(r.returncode, 0, (args, r.stderr))
            self.assertRegex(r.stdout, r'^usage: videoflixctl .*%s' % args[0 if args[0] != 'help' else 1])
            self.assertEqual(r.stderr, '')
        self.assertEqual(self.st.sql('SELECT count(*) FROM users'), before)
        r = self.st.ctl('help', 'no-such-command')
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'no-such-command'", r.stderr)

    def test_job_video_migration_fills_the_column_of_existing_transcode_jobs(self):
        env, query = self._fresh_database()
        old = Path(tempfile.mkdtemp(prefix='vf-schema-'))
        self.addCleanup(shutil.rmtree, old, True)
        shutil.copytree(harness.DATA_DIR / 'schema', old / 'schema')
        for p in (old / 'schema').glob('*/005_*.sql'):
            p.unlink()
        for p in [old] + list(old.rglob('*')):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        r = self.st.ctl('migrate', env=dict(env, VIDEOFLIX_DATA_DIR=str(old)))
        self.assertEqual(r.returncode, 0, r.stderr)
        now = int(time.time() * 1e6)
        query("INSERT INTO videos (title, description, category, created_at, updated_at, "
              "source_path) VALUES ('Old', '', 'Test', %d, %d, 'uploads/a.mp4')" % (now, now))
        vid = int(query('SELECT max(id) FROM videos')[0][0])
        for kind, payload in (('transcode', '{"video_id":%d,"source":"uploads/a.mp4"}' % vid),
                              ('mail', '{"to":"a@example.com","template":"test"}')):
            query("INSERT INTO jobs (kind, payload, run_after, created_at, updated_at) "
                  "VALUES ('%s', '%s', %d, %d, %d)" % (kind, payload, now, now, now))
        r = self.st.ctl('migrate', env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('applied 005_job_video', r.stdout)
        rows = query('SELECT kind, video_id FROM jobs ORDER BY id')
        self.assertEqual([(k, None if v is None else int(v)) for k, v in rows],
                         [('transcode', vid), ('mail', None)])

    def test_migrate_again_is_up_to_date(self):
        r = self.st.ctl('migrate')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), 'up to date')

    def test_migrate_prints_each_applied_migration_once(self):
        env, query = self._fresh_database()
        r = self.st.ctl('migrate', env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        applied = re.findall(r'^applied (\S+)$', r.stdout, re.M)
        self.assertEqual(applied, _migrations(self.DB))
        self.assertEqual([v for (v,) in query('SELECT version FROM schema_migrations ORDER BY 1')],
                         [int(m.split('_')[0]) for m in _migrations(self.DB)])

    def test_several_hosts_migrating_at_once_apply_each_migration_exactly_once(self):
        env, query = self._fresh_database()
        e = dict(self.st.env)
        e.update(env)
        procs = [subprocess.Popen([str(harness.CTL_BIN), 'migrate'], env=e, cwd=str(self.st.tmpdir),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
        applied = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            applied += re.findall(r'^applied (\S+)$', out, re.M)
        self.assertEqual(sorted(applied), _migrations(self.DB))
        self.assertEqual(query('SELECT count(*) FROM schema_migrations')[0][0],
                         len(_migrations(self.DB)))

    def test_check_config_masks_secrets_and_finds_everything_working(self):
        pw = 'mail-pw-' + secrets.token_hex(8)
        r = self.st.ctl('check-config', '--web-user', harness.WEB_USER,
                        env={'EMAIL_HOST_PASSWORD': pw})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('database: ok', r.stdout)
        self.assertIn('schema: ok', r.stdout)
        self.assertIn('media root: ok', r.stdout)
        self.assertIn('DB_ENGINE=%s' % self.DB, r.stdout)
        for secret in (self.st.env['SECRET_KEY'], pw):
            self.assertNotIn(secret, r.stdout + r.stderr)

    def test_check_config_fails_on_pending_migrations(self):
        env, _ = self._fresh_database()
        if self.DB == 'sqlite':
            sqlite3.connect(env['DB_NAME']).close()  # an empty database (only migrate creates one)
            if harness.INSTALLED:
                os.chown(env['DB_NAME'], self.st.app_uid, self.st.app_gid)
        r = self.st.ctl('check-config', '--web-user', harness.WEB_USER, env=env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        n = len(_migrations(self.DB))
        self.assertIn('schema: FAILED: %d migration%s pending' % (n, '' if n == 1 else 's'),
                      r.stdout)
        self.assertEqual(self.st.ctl('migrate', env=env).returncode, 0)
        r = self.st.ctl('check-config', '--web-user', harness.WEB_USER, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('schema: ok', r.stdout)

    def test_check_config_fails_on_a_missing_media_root(self):
        r = self.st.ctl('check-config', env={'MEDIA_ROOT': str(self.st.tmpdir / 'no-such-dir')})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('media root: FAILED', r.stdout)
        self.assertIn('database: ok', r.stdout)

    def test_check_config_fails_when_the_database_is_unreachable(self):
        if self.DB == 'sqlite':
            env = {'DB_NAME': str(self.st.tmpdir / 'no-such-dir' / 'x.sqlite3')}
        else:
            env = {'DB_PORT': str(harness.free_port())}
        r = self.st.ctl('check-config', env=env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('database: FAILED', r.stdout)
        if self.DB == 'sqlite':
            self.assertIn('no-such-dir', r.stderr, 'the log names the missing directory')

    def test_migrate_fails_with_status_1_when_the_database_is_unreachable(self):
        env = ({'DB_NAME': str(self.st.tmpdir / 'no-such-dir' / 'x.sqlite3')} if self.DB == 'sqlite'
               else {'DB_PORT': str(harness.free_port())})
        r = self.st.ctl('migrate', env=env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)


class SQLiteBusy(unittest.TestCase):
    """Another process holds the SQLite write lock longer than DB_BUSY_TIMEOUT_MS."""

    def test_write_while_the_lock_is_held_elsewhere_is_503_then_succeeds(self):
        body = {'email': 'busy@example.com', 'password': 'Kq9!vRt2#mWx', 'privacy_policy': 'on',
                'confirmed_password': 'Kq9!vRt2#mWx'}
        with harness.Stack(web='nginx', db='sqlite', workers=1) as st:
            c = st.client(origin=harness.FRONTEND_ORIGIN)
            con = sqlite3.connect(st.env['DB_NAME'], timeout=10, isolation_level=None)
            try:
                con.execute('BEGIN IMMEDIATE')
                self.assertEqual(st.request('GET', '/api/health/').status, 200,
                                 'readers are not blocked by a writer (WAL)')
                t0 = time.monotonic()
                r = c.post('/api/register/', json=body)
                waited = time.monotonic() - t0
                self.assertEqual(r.status, 503, r.body)
                self.assertTrue(r.headers.get('Content-Type', '').startswith('application/json'))
                r.json()
                self.assertIn('Retry-After', r.headers)
                self.assertGreaterEqual(waited, 4.0, 'it waited for the busy timeout first')
            finally:
                con.execute('ROLLBACK')
                con.close()
            self.assertEqual(st.sql('SELECT count(*) FROM users'), [(0,)], 'nothing half-written')
            r = c.post('/api/register/', json=body)
            self.assertEqual(r.status, 201, r.body)
            self.assertEqual(st.sql('SELECT count(*) FROM users'), [(1,)])


class CtlSQLite(CtlBase, unittest.TestCase):
    DB = 'sqlite'


@unittest.skipUnless(harness.pg_available(), 'PostgreSQL not available (VF_TEST_PG_HOST unset)')
class CtlPostgreSQL(CtlBase, unittest.TestCase):
    DB = 'postgres'


if __name__ == '__main__':
    unittest.main()
