"""test_openapi.py -- schema/openapi.json: a sound OpenAPI 3.1 document, in step with the route
tables of fcgi/*.c and the statuses their handlers answer, served at /api/schema/ (JSON and
YAML), with /api/docs/ served by both web servers under the strict CSP; and real responses
of every route, success and error, validated against the document's schemas
(python3-jsonschema, Draft 2020-12).  The docs page itself is rendered in Chromium by
test_openapi_browser.py."""

import json
import re
import secrets
import shutil
import subprocess
import time
import tempfile
import unittest
from pathlib import Path

import harness
import openapi

try:
    import jsonschema
except ImportError:  # python3-jsonschema (script/packages)
    jsonschema = None
try:
    import yaml
except ImportError:  # python3-yaml (script/packages)
    yaml = None

DOC = openapi.load()
STAFF = 'staff@videoflix.test'
VIEWER = 'viewer@videoflix.test'
PASSWORD = 'Openapi-Test-Passw0rd'


def need(module, name):
    if module is None:
        raise unittest.SkipTest('%s not installed (Debian package in script/packages)' % name)


def walk(node, path=()):
    """(path, dict) of every dict in the document."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def operations(doc=DOC):
    for p, item in doc['paths'].items():
        for m in openapi.METHODS:
            if m in item:
                yield p, m, item[m]


class DocumentTest(unittest.TestCase):
    """The document on its own."""

    def test_is_openapi_3_1_with_the_package_version(self):
        self.assertRegex(DOC['openapi'], r'^3\.1\.\d+$')
        ac = (harness.REPO / 'configure.ac').read_text()
        version = re.search(r'AC_INIT\(\[videoflix\], \[([^\]]+)\]', ac).group(1)
        self.assertEqual(DOC['info']['version'], version)
        for key in ('title', 'description'):
            self.assertTrue(DOC['info'].get(key))
        schemes = DOC['components']['securitySchemes']
        self.assertEqual({(s['type'], s['in'], s['name']) for s in schemes.values()},
                         {('apiKey', 'cookie', 'access_token'), ('apiKey', 'cookie', 'refresh_token')})
        for word in ('CORS', 'Access-Control-Allow-Credentials', 'preflight', 'HttpOnly'):
            self.assertIn(word, DOC['info']['description'])

    def test_every_ref_resolves_and_every_schema_is_valid_draft_2020_12(self):
        need(jsonschema, 'python3-jsonschema')
        checker = openapi.Checker(DOC)
        for path, node in walk(DOC):
            where = '/'.join(map(str, path))
            if '$ref' in node:
                with self.subTest(ref=where):
                    self.assertTrue(node['$ref'].startswith('#/components/'), node['$ref'])
                    checker.deref(node)  # raises when it does not resolve
            if 'schema' in node and isinstance(node['schema'], dict):
                with self.subTest(schema=where):
                    jsonschema.Draft202012Validator.check_schema(node['schema'])
        for name, schema in DOC['components']['schemas'].items():
            with self.subTest(component=name):
                jsonschema.Draft202012Validator.check_schema(schema)

    def test_every_example_matches_its_schema(self):
        need(jsonschema, 'python3-jsonschema')
        checker = openapi.Checker(DOC)
        n = 0
        for path, node in walk(DOC):
            if 'example' in node and isinstance(node.get('schema'), dict):
                n += 1
                with self.subTest(at='/'.join(map(str, path))):
                    self.assertEqual(checker.validate(node['schema'], node['example']), [])
        self.assertGreater(n, 40)

    def test_every_response_has_a_description_and_json_ones_an_example(self):
        checker = openapi.Checker(DOC) if jsonschema else None
        for p, m, op in operations():
            self.assertTrue(op.get('operationId') and op.get('summary'), (p, m))
            self.assertIn('500', op['responses'], (p, m))
            for status, resp in op['responses'].items():
                with self.subTest(op='%s %s %s' % (m, p, status)):
                    self.assertRegex(status, r'^[1-5]\d\d$')
                    resp = checker.deref(resp) if checker else resp
                    self.assertTrue(resp.get('description'))
                    for ctype, media in resp.get('content', {}).items():
                        if ctype == 'application/json':
                            self.assertIn('example', media)

    def test_path_parameters_are_declared(self):
        for p, item in DOC['paths'].items():
            names = re.findall(r'\{([^}]+)\}', p)
            for m in openapi.METHODS:
                if m not in item:
                    continue
                params = item.get('parameters', []) + item[m].get('parameters', [])
                declared = [x['name'] for x in params if x.get('in') == 'path']
                with self.subTest(path=p, method=m):
                    self.assertEqual(sorted(declared), sorted(names))
                    self.assertTrue(all(x.get('required') for x in params if x.get('in') == 'path'))

    def test_hls_routes_name_their_media_types(self):
        types = set()
        for p, m, op in operations():
            if p.startswith('/api/video/') and p != '/api/video/':
                types |= set(op['responses']['200']['content'])
        self.assertEqual(types, {'application/vnd.apple.mpegurl', 'video/MP2T'})

    def test_the_yaml_copy_is_generated_from_the_json_document(self):
        need(yaml, 'python3-yaml')
        r = subprocess.run([harness.PYTHON, str(harness.REPO / 'script' / 'openapi-yaml'), '--check'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(harness.REPO / 'schema' / 'openapi.yaml', encoding='utf-8') as f:
            self.assertEqual(yaml.safe_load(f), DOC)


class RouteTablesTest(unittest.TestCase):
    """The document against the route tables of fcgi/*.c and what their handlers answer."""

    @classmethod
    def setUpClass(cls):
        cls.routes = openapi.route_tables()
        cls.public = [r for r in cls.routes if not openapi.DEBUG_ONLY.search(r['pattern'])]
        cls.doc_ops = {}
        for p, m, op in operations():
            cls.doc_ops[(openapi.normalise(p), m)] = (p, op)

    def test_the_tables_were_parsed(self):
        tables = {r['table'] for r in self.routes}
        self.assertEqual(tables - {'test_routes'}, {'health_routes', 'accounts_routes',
                                                    'catalogue_routes', 'admin_routes',
                                                    'schema_routes'})
        routes_c = (harness.REPO / 'fcgi' / 'routes.c').read_text()
        for t in tables:
            self.assertIn(t, routes_c)
        self.assertGreaterEqual(len(self.public), 23)

    def test_every_route_has_an_operation_and_every_operation_a_route(self):
        from_tables = {(path, m) for r in self.public for path in openapi.pattern_paths(r['pattern'])
                       for m in r['methods']}
        self.assertEqual(sorted(from_tables - set(self.doc_ops)), [],
                         'routes without an operation in schema/openapi.json')
        self.assertEqual(sorted(set(self.doc_ops) - from_tables), [],
                         'operations of schema/openapi.json without a route')

    def test_every_status_a_handler_answers_is_documented(self):
        for r in self.public:
            code = openapi.handler_statuses(r)
            for path in openapi.pattern_paths(r['pattern']):
                for m in r['methods']:
                    doc_path, op = self.doc_ops[(path, m)]
                    documented = {int(s) for s in op['responses']}
                    expected = code | openapi.dispatcher_statuses(r, m)
                    with self.subTest(route='%s %s' % (m.upper(), doc_path)):
                        self.assertEqual(sorted(expected - documented), [],
                                         '%s answers statuses the document does not list' % r['handler'])
                        self.assertEqual(sorted(documented - expected - openapi.WEB_SERVER_STATUSES), [],
                                         'documented statuses that %s never answers' % r['handler'])

    def test_the_routes_left_out_are_debug_only(self):
        # Test builds only (fcgi/testroutes.c, --enable-test-hooks), and even there DEBUG only.
        funcs = openapi.functions((harness.REPO / 'fcgi' / 'testroutes.c').read_text())
        for r in self.routes:
            if openapi.DEBUG_ONLY.search(r['pattern']):
                with self.subTest(route=r['pattern']):
                    self.assertEqual((r['file'], r['table']), ('testroutes.c', 'test_routes'))
                    self.assertIn('if (!app->cfg->debug)', funcs[r['handler']])


class FailClosedTest(unittest.TestCase):
    """RELIABILITY.md 23: videoflix-fcgi refuses to start without the description it serves."""

    def test_a_missing_description_stops_the_fcgi_program_with_one_line(self):
        tmp = Path(tempfile.mkdtemp(prefix='vf-openapi-'))
        try:
            data = tmp / 'data'
            shutil.copytree(harness.REPO / 'schema', data / 'schema')
            shutil.copytree(harness.REPO / 'data', data / 'data')
            env = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'VIDEOFLIX_ENV': str(tmp / 'none.env'),
                   'SECRET_KEY': secrets.token_urlsafe(48), 'DB_NAME': str(tmp / 'db.sqlite3'),
                   'MEDIA_ROOT': str(tmp / 'media'), 'VIDEOFLIX_DATA_DIR': str(data)}
            (tmp / 'none.env').write_text('')
            r = subprocess.run([str(harness.CTL_BIN), 'migrate'], env=env, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            for name in ('openapi.yaml', 'openapi.json'):
                (data / 'schema' / name).unlink()
                r = subprocess.run([str(harness.FCGI_BIN), '--socket', str(tmp / 'fcgi.sock')], env=env,
                                   cwd=str(tmp), capture_output=True, text=True, timeout=60)
                with self.subTest(missing=name):
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn('schema/%s' % name, r.stderr)
                    self.assertIn('VIDEOFLIX_DATA_DIR=%s' % data, r.stderr)
                    self.assertFalse((tmp / 'fcgi.sock').exists())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def make_hls(dest):
    """A ready-made 480p rendition (ffmpeg test pattern, 2 x 1 s segments)."""
    d = dest / '480p'
    d.mkdir(parents=True)
    subprocess.run(['ffmpeg', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10',
                    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-f', 'hls',
                    '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_filename',
                    str(d / '%03d.ts'), str(d / 'index.m3u8')], check=True, timeout=60)
    # An I-frame playlist as the transcoder writes one: each segment's first keyframe as a
    # byte range (here the whole first packet run; the document only checks the media type).
    (d / 'iframes.m3u8').write_text(
        '#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n'
        '#EXT-X-I-FRAMES-ONLY\n#EXTINF:1.0,\n#EXT-X-BYTERANGE:188@0\n000.ts\n#EXT-X-ENDLIST\n')


def make_clip(path):
    """A 1 s 160x120 H.264 MP4 the upload probe accepts."""
    subprocess.run(['ffmpeg', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10',
                    '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
                    str(path)], check=True, timeout=60)


def multipart(fields, file_name, file_bytes):
    boundary = 'vfOpenapiBoundary7d1f'
    out = []
    for k, v in fields.items():
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                    % (boundary, k, v)).encode())
    out.append(('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                'Content-Type: application/octet-stream\r\n\r\n' % (boundary, file_name)).encode())
    out.append(file_bytes + b'\r\n--%s--\r\n' % boundary.encode())
    return b''.join(out), 'multipart/form-data; boundary=%s' % boundary


class LiveTest(unittest.TestCase):
    """A stack per web server: /api/schema/, /api/docs/ and a tour of every route whose
    every response must match the document."""

    def setUp(self):
        need(jsonschema, 'python3-jsonschema')
        self.checker = openapi.Checker(DOC)
        self.seen = set()  # (document path, method, status) checked

    def check(self, r, method, path):
        problems = self.checker.check(method, path, r.status, r.headers, r.body)
        self.assertEqual(problems, [], r)
        template, _ = self.checker.path_item(path)
        if template:
            self.seen.add((template, method.lower(), r.status))
        return r

    def call(self, client, method, path, **kw):
        return self.check(client.request(method, path, **kw), method, path)

    def stacks(self):
        webs = []
        for web, db in harness.matrix():
            if web not in [w for w, _ in webs]:
                webs.append((web, db))
        return webs

    def test_schema_and_docs_are_served_by_both_web_servers(self):
        for web, db in self.stacks():
            with self.subTest(web=web), harness.Stack(web=web, db=db) as st:
                r = st.request('GET', '/api/schema/')
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers['Content-Type'], 'application/json')
                self.assertEqual(r.json(), DOC)
                self.assertEqual(r.headers.get('X-Content-Type-Options'), 'nosniff')
                self.check(r, 'GET', '/api/schema/')
                r = st.request('GET', '/api/schema/?format=yaml')
                self.assertEqual(r.status, 200)
                self.assertTrue(r.headers['Content-Type'].startswith('application/yaml'))
                self.assertEqual(r.body, (harness.REPO / 'schema' / 'openapi.yaml').read_bytes())
                self.check(r, 'GET', '/api/schema/?format=yaml')
                for path, status in (('/api/schema/?format=xml', 400), ('/api/schema/', 405)):
                    method = 'GET' if status == 400 else 'POST'
                    self.check(st.request(method, path, json={} if method == 'POST' else None),
                               method, path)
                # The docs page: static files of www/api/docs/ under the strict CSP.
                r = st.request('GET', '/api/docs/')
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.headers['Content-Type'].startswith('text/html'), r.headers)
                csp = r.headers.get('Content-Security-Policy', '')
                self.assertIn("script-src 'self';", csp)
                self.assertIn("style-src 'self';", csp)
                self.assertNotIn('unsafe', csp)
                self.assertIn(b'swagger-ui-bundle.js', r.body)
                for asset, ctype in (('vendor/swagger-ui/swagger-ui-bundle.js', 'javascript'),
                                     ('vendor/swagger-ui/swagger-ui.css', 'text/css'),
                                     ('docs.js', 'javascript')):
                    r = st.request('GET', '/api/docs/' + asset)
                    self.assertEqual(r.status, 200, asset)
                    # text/javascript (lighttpd) or application/javascript (nginx's mime.types):
                    # executable under nosniff either way
                    self.assertIn(ctype, r.headers['Content-Type'], asset)
                    self.assertIn('Content-Security-Policy', r.headers)
                r = st.request('GET', '/api/docs')
                self.assertEqual((r.status, r.headers.get('Location', '').endswith('/api/docs/')),
                                 (301, True))
                # Under /api/ every error is JSON, the page's included.
                r = st.request('GET', '/api/docs/missing.js')
                self.assertEqual(r.status, 404)
                self.assertEqual(r.headers['Content-Type'].split(';')[0], 'application/json', r)
                r = st.request('OPTIONS', '/api/docs/', headers={
                    'Origin': harness.FRONTEND_ORIGIN, 'Access-Control-Request-Method': 'GET'})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers.get('Access-Control-Allow-Origin'), harness.FRONTEND_ORIGIN)

    def test_real_responses_of_every_route_match_the_document(self):
        web, db = harness.matrix()[0]
        tmp = Path(tempfile.mkdtemp(prefix='vf-openapi-'))
        try:
            clip = tmp / 'clip.mp4'
            make_clip(clip)
            with harness.Stack(web=web, db=db, worker=True,
                               env={'RATELIMIT_REGISTER': '2', 'RATELIMIT_WINDOW': '600'}) as st:
                self.tour(st, clip.read_bytes())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # Every documented success status was seen on a real response.
        for p, m, op in operations():
            ok = [int(s) for s in op['responses'] if s.startswith('2') and s != '206']
            with self.subTest(op='%s %s' % (m.upper(), p)):
                self.assertTrue(any((p, m, s) in self.seen for s in ok), 'no success seen')

    def tour(self, st, clip):
        anon = st.client()
        c = self.call
        # accounts
        c(anon, 'POST', '/api/register/', json={'email': 'new@videoflix.test', 'password': PASSWORD,
                                                'confirmed_password': PASSWORD, 'privacy_policy': 'on'})
        c(anon, 'POST', '/api/register/', json={'email': 'bad', 'password': '1'})
        c(anon, 'POST', '/api/register/', body=b'{"email":', headers={'Content-Type': 'application/json'})
        c(anon, 'POST', '/api/register/', body=b'email=x', headers={'Content-Type': 'text/plain'})
        c(anon, 'POST', '/api/register/', json={'email': 'x' * 70000})
        r = c(anon, 'POST', '/api/register/', json={'email': 'again@videoflix.test', 'password': PASSWORD,
                                                    'confirmed_password': PASSWORD})
        while r.status != 429:
            r = c(anon, 'POST', '/api/register/', json={'email': 'again@videoflix.test', 'password': PASSWORD,
                                                        'confirmed_password': PASSWORD})
        mails = st.wait_mails(1, timeout=30)
        link = re.search(r'uid=([A-Za-z0-9_-]+)&token=([A-Za-z0-9_-]+)',
                         mails[0].get_body(('plain',)).get_content())
        uid, token = link.group(1), link.group(2)
        c(anon, 'GET', '/api/activate/%s/%s/' % (uid, token))
        c(anon, 'GET', '/api/activate/%s/%s/' % (uid, token))
        c(anon, 'GET', '/api/activate/%s/nope/' % uid)
        c(anon, 'PUT', '/api/activate/%s/%s/' % (uid, token))
        c(anon, 'POST', '/api/login/', json={'email': 'new@videoflix.test', 'password': 'wrong-one'})
        c(anon, 'POST', '/api/login/', json={'email': 'new@videoflix.test'})
        c(st.client(origin='http://evil.example'), 'POST', '/api/login/', json={})
        user = st.client()
        c(user, 'POST', '/api/login/', json={'email': 'new@videoflix.test', 'password': PASSWORD})
        c(user, 'POST', '/api/token/refresh/')
        c(anon, 'POST', '/api/token/refresh/')
        c(anon, 'POST', '/api/token/refresh/', headers={'Cookie': 'refresh_token=forged'})
        c(anon, 'POST', '/api/password_reset/', json={'email': 'new@videoflix.test'})
        c(anon, 'POST', '/api/password_reset/', json={'email': 'not-an-email'})
        mails = st.wait_mails(2, timeout=30)
        link = re.search(r'uid=([A-Za-z0-9_-]+)&token=([A-Za-z0-9_-]+)',
                         mails[-1].get_body(('plain',)).get_content())
        confirm = '/api/password_confirm/%s/%s/' % (link.group(1), link.group(2))
        c(anon, 'POST', confirm, json={'new_password': 'x', 'confirm_password': 'y'})
        c(anon, 'POST', confirm, json={'new_password': PASSWORD + '!', 'confirm_password': PASSWORD + '!'})
        c(anon, 'POST', confirm, json={'new_password': PASSWORD + '!', 'confirm_password': PASSWORD + '!'})
        c(user, 'POST', '/api/logout/')   # the reset ended the session: invalid refresh token
        c(anon, 'POST', '/api/logout/')
        viewer = st.client()
        st.add_user(VIEWER, PASSWORD)
        c(viewer, 'POST', '/api/login/', json={'email': VIEWER, 'password': PASSWORD})
        # catalogue: a ready video with a 480p rendition
        st.sql('INSERT INTO videos (title, description, category, created_at, updated_at, source_path,'
               ' has_thumbnail, state, duration_ms, width, height)'
               " VALUES ('Ready', 'A test pattern.', 'Drama', 1751636000000000, 1751636000000000,"
               " 'uploads/none.mp4', 1, 'ready', 2000, 320, 240)")
        vid = st.sql("SELECT id FROM videos WHERE title = 'Ready'")[0][0]
        st.sql('INSERT INTO video_renditions (video_id, height, width, bandwidth, avg_bandwidth, codecs)'
               " VALUES (?, 240, 320, 300000, 250000, 'avc1.64000d')", (vid,))
        make_hls(st.media_root / 'hls' / str(vid))
        for p in (st.media_root / 'hls').rglob('*'):
            p.chmod(0o755 if p.is_dir() else 0o644)
        r = c(viewer, 'GET', '/api/video/')
        self.assertEqual([v['id'] for v in r.json()], [vid])
        c(viewer, 'GET', '/api/video/', headers={'If-None-Match': r.headers['ETag']})
        c(anon, 'GET', '/api/video/')
        c(anon, 'GET', '/api/video/', headers={'Cookie': 'access_token=forged'})
        c(viewer, 'POST', '/api/video/', json={})
        base = '/api/video/%d' % vid
        c(viewer, 'GET', base + '/master.m3u8')
        c(viewer, 'GET', '/api/video/999/master.m3u8')
        c(viewer, 'GET', base + '/480p/index.m3u8')
        c(viewer, 'GET', base + '/480p/index.m3u8', headers={'Range': 'bytes=0-9'})
        c(viewer, 'GET', base + '/480p/iframes.m3u8')
        c(anon, 'GET', base + '/480p/iframes.m3u8')
        c(viewer, 'GET', base + '/1080p/index.m3u8')
        c(anon, 'GET', base + '/480p/index.m3u8')
        for seg in ('/480p/000.ts', '/480p/000.ts/'):
            c(viewer, 'GET', base + seg)
            c(viewer, 'HEAD', base + seg)
            c(viewer, 'GET', base + seg, headers={'Range': 'bytes=0-99'})
            c(viewer, 'GET', base + seg, headers={'Range': 'bytes=99999999-'})
            c(viewer, 'GET', base + seg.replace('000', '999'))
            c(anon, 'GET', base + seg)
        # admin
        st.add_user(STAFF, PASSWORD, staff=True)
        staff = st.client()
        c(staff, 'POST', '/api/login/', json={'email': STAFF, 'password': PASSWORD})
        c(viewer, 'GET', '/api/admin/me/')
        c(anon, 'GET', '/api/admin/me/')
        c(staff, 'GET', '/api/admin/me/')
        body, ctype = multipart({'title': 'Clip', 'category': 'Test', 'description': 'One second.'},
                                'clip.mp4', clip)
        r = c(staff, 'POST', '/api/admin/videos/', body=body, headers={'Content-Type': ctype})
        self.assertEqual(r.status, 201, r)
        new = r.json()['id']
        c(staff, 'POST', '/api/admin/videos/%d/transcode/' % new)   # 409 while queued or 202
        body, ctype = multipart({'title': 'Junk', 'category': 'Test'}, 'junk.mp4', b'not a video' * 100)
        c(staff, 'POST', '/api/admin/videos/', body=body, headers={'Content-Type': ctype})
        body, ctype = multipart({'category': 'Test'}, 'clip.mp4', clip)
        c(staff, 'POST', '/api/admin/videos/', body=body, headers={'Content-Type': ctype})
        c(staff, 'GET', '/api/admin/videos/')
        c(staff, 'GET', '/api/admin/videos/%d/' % vid)
        c(staff, 'GET', '/api/admin/videos/999999/')
        c(staff, 'PATCH', '/api/admin/videos/%d/' % vid, json={'title': 'Ready (edited)'})
        c(staff, 'PATCH', '/api/admin/videos/%d/' % vid, json={'title': 7})
        c(staff, 'PUT', '/api/admin/videos/%d/' % vid, json={})
        c(staff, 'POST', '/api/admin/videos/%d/transcode/' % vid)     # no source file: 400
        jobs = c(staff, 'GET', '/api/admin/jobs/').json()
        c(staff, 'GET', '/api/admin/jobs/?state=failed')
        c(staff, 'GET', '/api/admin/jobs/?state=bogus')
        done = harness.wait_for(lambda: [j for j in c(staff, 'GET', '/api/admin/jobs/?state=done').json()
                                         if j['kind'] != 'transcode'] or None, timeout=30, what='a done mail job')
        c(staff, 'POST', '/api/admin/jobs/%d/retry/' % done[0]['id'])      # done: 409
        st.sql("UPDATE jobs SET state = 'failed' WHERE id = ?", (done[0]['id'],))
        c(staff, 'POST', '/api/admin/jobs/%d/retry/' % done[0]['id'])
        c(staff, 'POST', '/api/admin/jobs/999999/retry/')
        self.assertTrue(jobs)
        users = c(staff, 'GET', '/api/admin/users/').json()
        me = [u['id'] for u in users if u['email'] == STAFF][0]
        other = [u['id'] for u in users if u['email'] == VIEWER][0]
        c(staff, 'PATCH', '/api/admin/users/%d/' % other, json={'is_staff': True})
        c(staff, 'PATCH', '/api/admin/users/%d/' % other, json={'is_active': 'yes'})
        c(staff, 'PATCH', '/api/admin/users/%d/' % me, json={'is_active': False})
        c(staff, 'PATCH', '/api/admin/users/999999/', json={'is_active': False})
        # an account that registered and never activated (register is rate-limited by now)
        st.sql("INSERT INTO users (email, password, is_active, is_staff, created_at, "
               "activation_pending) VALUES ('pending@videoflix.test', ?, 0, 0, ?, 1)",
               (harness.django_hash(PASSWORD), int(time.time() * 1e6)))
        pending = st.sql("SELECT id FROM users WHERE email = 'pending@videoflix.test'")[0][0]
        c(staff, 'POST', '/api/admin/users/%d/activation/' % pending)
        c(staff, 'POST', '/api/admin/users/%d/activation/' % me)          # 409: active
        c(staff, 'POST', '/api/admin/users/999999/activation/')            # 404
        c(staff, 'DELETE', '/api/admin/videos/%d/' % new)
        c(staff, 'DELETE', '/api/admin/videos/%d/' % new)
        c(staff, 'GET', '/api/health/')
        c(staff, 'DELETE', '/api/health/')
        c(anon, 'GET', '/api/schema/')
        c(viewer, 'POST', '/api/logout/')
        c(viewer, 'GET', '/api/video/')


if __name__ == '__main__':
    unittest.main()
