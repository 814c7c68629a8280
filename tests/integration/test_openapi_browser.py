"""test_openapi_browser.py -- the API reference /api/docs/ (vendored Swagger UI) in real
headless Chromium (Debian's chromium + the pinned playwright-core of tests/browser): it renders
/api/schema/ under the strict CSP with no script error or violation, and lists every
operation of the document.  On each web server of the matrix (the page's location and
headers are web-server configuration).  Screenshots: <build>/test-output/browser/."""

import json
import shutil
import tempfile
import unittest

import harness
import openapi
from test_admin_browser import OUT_DIR, browser_or_skip, run_browser_script


class ApiDocsBrowserTest(unittest.TestCase):

    def test_the_docs_page_renders_and_lists_every_operation_in_chromium(self):
        browser_or_skip(self)
        doc = openapi.load()
        ops = ['%s %s' % (m.upper(), p) for p, item in doc['paths'].items()
               for m in openapi.METHODS if m in item]
        webs = []
        for web, db in harness.matrix():
            if web not in [w for w, _ in webs]:
                webs.append((web, db))
        for web, db in webs:
            with self.subTest(web=web):
                tmp = tempfile.mkdtemp(prefix='vf-browser-')
                try:
                    with harness.Stack(web=web, db=db) as st:
                        out = OUT_DIR / web
                        r = run_browser_script('api_docs.mjs', {
                            'VF_BASE_URL': st.base_url,
                            'VF_OPERATIONS': json.dumps(ops),
                            'VF_OUT_DIR': str(out),
                        }, tmp, 300)
                        self.assertEqual(r.returncode, 0, 'browser test failed (output above)')
                        self.assertIn('operations listed: %d' % len(ops), r.stdout)
                        self.assertTrue((out / 'api-docs.png').is_file())
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    unittest.main()
