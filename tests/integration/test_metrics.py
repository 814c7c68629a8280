"""test_metrics.py -- GET /metrics through the real web servers: the Prometheus text format
(parsed with prometheus_client's parser), every family present, counters of all FastCGI
workers moving after requests (logins ok and failed, a catalogue request under its route
template, 404s as 'unmatched'), jobs read from the database at scrape time, and the 404 of an
unknown path for a client outside METRICS_ALLOW and on /api/ paths."""

import os
import signal
import subprocess
import time
import unittest

from prometheus_client.parser import text_string_to_metric_families

import harness

EMAIL = 'metrics@example.com'
PASSWORD = 'Xk9#mq2!Lw-video'
FAMILIES = {
    'videoflix_http_requests': 'counter',
    'videoflix_http_request_duration_seconds': 'histogram',
    'videoflix_fcgi_workers': 'gauge',
    'videoflix_fcgi_worker_respawns': 'counter',
    'videoflix_fcgi_worker_recycled': 'counter',
    'videoflix_db_errors': 'counter',
    'videoflix_logins': 'counter',
    'videoflix_refresh_rotations': 'counter',
    'videoflix_session_revocations': 'counter',
    'videoflix_upload_bytes': 'counter',
    'videoflix_jobs': 'gauge',
    'videoflix_jobs_queued_oldest_age_seconds': 'gauge',
    'videoflix_db_up': 'gauge',
    'videoflix_media_disk_free_bytes': 'gauge',
}


class MetricsMixin:
    WEB = 'nginx'
    DB = 'sqlite'

    @classmethod
    def setUpClass(cls):
        # 127.0.0.2 is another client, outside the list; 127.0.0.3 is inside a CIDR block.
        env = {'METRICS_ALLOW': '127.0.0.1, ::1, 127.0.0.3/32', 'RATELIMIT_LOGIN': '1000'}
        harness.class_stack(cls, cls._populate, web=cls.WEB, db=cls.DB, env=env, workers=3)

    @classmethod
    def _populate(cls):
        cls.st.add_user(EMAIL, PASSWORD)

    def scrape(self, source=None):
        r = self.st.request('GET', '/metrics', source=source)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers['Content-Type'].startswith('text/plain; version=0.0.4'), r)
        fams = {f.name: f for f in text_string_to_metric_families(r.text)}
        return fams

    @staticmethod
    def value(fams, family, sample, **labels):
        for s in fams[family].samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        return 0.0

    def test_every_family_with_its_type(self):
        fams = self.scrape()
        for name, kind in FAMILIES.items():
            with self.subTest(family=name):
                self.assertIn(name, fams)
                self.assertEqual(fams[name].type, kind)
        self.assertEqual(self.value(fams, 'videoflix_db_up', 'videoflix_db_up'), 1)
        self.assertGreater(self.value(fams, 'videoflix_media_disk_free_bytes',
                                      'videoflix_media_disk_free_bytes'), 0)
        workers = fams['videoflix_fcgi_workers'].samples
        self.assertEqual(sum(s.value for s in workers), 3)

    def test_counters_move_across_workers(self):
        req = 'videoflix_http_requests_total'
        before = self.scrape()
        c = self.st.client()
        self.assertEqual(c.post('/api/login/', json={'email': EMAIL, 'password': 'wrong'}).status,
                         401)
        self.assertEqual(c.post('/api/login/', json={'email': EMAIL,
                                                     'password': PASSWORD}).status, 200)
        n = 6  # several connections: more than one worker answers them
        for _ in range(n):
            self.assertEqual(c.get('/api/video/').status, 200)
        self.assertEqual(self.st.request('GET', '/api/no-such-thing/').status, 404)
        self.assertEqual(c.post('/api/token/refresh/').status, 200)
        self.assertEqual(c.post('/api/logout/').status, 200)
        after = self.scrape()
        for fam in ('videoflix_refresh_rotations', 'videoflix_session_revocations'):
            with self.subTest(family=fam):
                self.assertEqual(self.value(after, fam, fam + '_total') -
                                 self.value(before, fam, fam + '_total'), 1)
        logins = 'videoflix_logins'
        for outcome in ('ok', 'failed'):
            with self.subTest(outcome=outcome):
                self.assertEqual(
                    self.value(after, logins, 'videoflix_logins_total', outcome=outcome) -
                    self.value(before, logins, 'videoflix_logins_total', outcome=outcome), 1)
        fam = 'videoflix_http_requests'
        self.assertEqual(self.value(after, fam, req, route='/api/video/', code='2xx') -
                         self.value(before, fam, req, route='/api/video/', code='2xx'), n)
        self.assertGreaterEqual(self.value(after, fam, req, route='unmatched', code='4xx') -
                                self.value(before, fam, req, route='unmatched', code='4xx'), 1)
        # never the raw path as a label
        routes = {s.labels.get('route') for s in after[fam].samples}
        self.assertNotIn('/api/no-such-thing/', routes)
        hist = 'videoflix_http_request_duration_seconds'
        self.assertGreaterEqual(
            self.value(after, hist, hist + '_count', route='/api/video/') -
            self.value(before, hist, hist + '_count', route='/api/video/'), n)
        inf = self.value(after, hist, hist + '_bucket', route='/api/video/', le='+Inf')
        self.assertEqual(inf, self.value(after, hist, hist + '_count', route='/api/video/'))

    def test_jobs_read_at_scrape_time(self):
        now = int(time.time() * 1e6)
        self.st.sql("INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_after,"
                    " progress, created_at, updated_at) VALUES ('mail', '{}', 'queued', 0, 5, ?,"
                    " 0, ?, ?)", (now - 120 * 10**6, now - 120 * 10**6, now))
        self.st.sql("INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_after,"
                    " progress, created_at, updated_at, last_error) VALUES ('transcode', '{}',"
                    " 'failed', 5, 5, ?, 0, ?, ?, 'boom')", (now, now, now))
        fams = self.scrape()
        self.assertGreaterEqual(self.value(fams, 'videoflix_jobs', 'videoflix_jobs',
                                           kind='mail', state='queued'), 1)
        self.assertGreaterEqual(self.value(fams, 'videoflix_jobs', 'videoflix_jobs',
                                           kind='transcode', state='failed'), 1)
        age = self.value(fams, 'videoflix_jobs_queued_oldest_age_seconds',
                         'videoflix_jobs_queued_oldest_age_seconds', kind='mail')
        self.assertGreaterEqual(age, 119)
        r = self.st.ctl('status')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('mail', r.stdout)
        self.assertIn('boom', r.stdout)

    def test_other_addresses_get_404(self):
        for source in ('127.0.0.2',):
            r = self.st.request('GET', '/metrics', source=source)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json(), self.st.request('GET', '/api/no-such-thing/').json())
            self.assertNotIn(b'videoflix_', r.body)
        self.scrape(source='127.0.0.3')  # inside the CIDR block

    def test_a_killed_worker_counts_as_respawned(self):
        name = 'videoflix_fcgi_worker_respawns'
        before = self.value(self.scrape(), name, name + '_total')
        kids = subprocess.run(['pgrep', '-P', str(self.st.fcgi_master_pid)],
                              capture_output=True, text=True).stdout.split()
        self.assertTrue(kids)
        os.kill(int(kids[0]), signal.SIGKILL)
        harness.wait_for(lambda: self.value(self.scrape(), name, name + '_total') > before,
                         what='the respawn counted')
        harness.wait_for(lambda: sum(s.value for s in
                                     self.scrape()['videoflix_fcgi_workers'].samples) == 3,
                         what='three workers again')

    def test_not_under_api(self):
        for path in ('/api/metrics', '/api/metrics/', '/api/health/../../metrics'):
            with self.subTest(path=path):
                r = self.st.request('GET', path)
                self.assertNotEqual(r.status, 200, r)
                self.assertNotIn(b'videoflix_http', r.body)


for _web, _db in harness.matrix():
    _name = 'Metrics_%s_%s' % (_web, _db)
    globals()[_name] = type(_name, (MetricsMixin, unittest.TestCase), {'WEB': _web, 'DB': _db})
del _web, _db, _name

if __name__ == '__main__':
    unittest.main()
