#!/usr/bin/python3
"""openapi.py -- schema/openapi.json for the tests: the route tables of fcgi/*.c, the statuses
their handlers can answer, and a checker of real responses against the document.

Uses Debian's python3-jsonschema (Draft 2020-12, the dialect of OpenAPI 3.1) for the
response bodies; everything else is the standard library.

    doc = openapi.load()
    problems = openapi.Checker(doc).check('GET', '/api/video/', 200, headers, body)

Recording: with VF_OPENAPI_LOG=FILE set, harness.http_request appends every response of
the suite to FILE (one JSON object a line); `tests/integration/openapi.py FILE`
checks them all against the document afterwards.
"""

import base64
import json
import os
import re
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC_PATH = REPO / 'schema' / 'openapi.json'
FCGI_DIR = REPO / 'fcgi'
METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')

# Test-only routes (RELIABILITY.md 32): they answer 404 unless DEBUG is on and are not part
# of the API, so the document leaves them out.  RouteTablesTest checks each still says so.
DEBUG_ONLY = re.compile(r'/debug/')


def load(path=DOC_PATH):
    return json.loads(Path(path).read_text(encoding='utf-8'))


# -------------------------------------------------------------------- route tables

_TABLE_RE = re.compile(r'const struct route (\w+)\[\] = \{(.*?)\n\};', re.S)
_ENTRY_RE = re.compile(r'\{\s*((?:HTTP_[A-Z]+\s*\|?\s*)+),\s*"([^"]+)",\s*(\w+),\s*([^,}]*?),'
                       r'\s*(ROUTE_AUTH_\w+)\s*\}', re.S)
_FUNC_RE = re.compile(r'^(?:static\s+)?[a-z_][\w \*]*\n(\w+)\(([^)]*)\)\n\{\n(.*?)^\}', re.S | re.M)


def route_tables(fcgi_dir=FCGI_DIR):
    """Every route of fcgi/*.c: dicts with file, table, methods (lower-case), pattern,
    handler, flags (set of ROUTE_* names), auth (ROUTE_AUTH_NONE/USER/STAFF)."""
    routes = []
    for f in sorted(Path(fcgi_dir).glob('*.c')):
        text = f.read_text(encoding='utf-8')
        for table, body in _TABLE_RE.findall(text):
            for methods, pattern, handler, flags, auth in _ENTRY_RE.findall(body):
                routes.append({
                    'file': f.name, 'table': table, 'pattern': pattern, 'handler': handler,
                    'auth': auth,
                    'methods': sorted(m.strip()[5:].lower() for m in methods.split('|') if m.strip()),
                    'flags': {x.strip() for x in flags.split('|') if x.strip() not in ('', '0')},
                })
    return routes


def pattern_paths(pattern):
    """The document paths of a route pattern, captures as "{}" (typed ones such as "{id}"
    too): "/a/{}/?" is two paths."""
    pattern = normalise(pattern)
    if pattern.endswith('/?'):
        return [pattern[:-2], pattern[:-1]]
    return [pattern]


def normalise(path):
    """A document path with its parameter names dropped: /api/x/{id}/ -> /api/x/{}/."""
    return re.sub(r'\{[^}/]+\}', '{}', path)


def functions(text):
    """name -> body of every function defined in a C file (the style of this project:
    return type on its own line, name at column 0, braces at column 0)."""
    return {name: body for name, _args, body in _FUNC_RE.findall(text)}


# What a library call can answer, for the status derivation below (lib/web/*.c).
LIBRARY_STATUSES = {
    # The one error path (lib/web/json.c): an error's status from lib/base/error.c's table.
    # With a variable error, what the handler's domain calls can return (below) counts, and
    # database trouble: 500, or 503 busy with Retry-After.
    'json_error_reply': {500, 503},
    'json_error_reply_detail': {500, 503},
    # Domain calls whose errors a handler hands to json_error_reply as they are.
    'videoadmin_retranscode': {404, 409},
    'videoadmin_delete': {404},
    'uploadform_receive': {400, 413, 415, 503, 507},
    'json_internal_error': {500},
    'json_errors_reply': {400},
    'json_field_error': {400},
    'json_object_or_reply': {400},
    # The errors a handler hands over: database trouble (500, or 503 busy with Retry-After).
    # (A lookup's VF_ERR_NOTFOUND answers 404 through it as well: the handlers of routes with
    # an id answer 404 themselves too, so that is counted there.)
    'json_error_for': {500, 503},
    'auth_reply_token_invalid': {401},
    'auth_require_or_reply': {401, 500, 503},
    'auth_require_staff_or_reply': {401, 403, 500, 503},
    # A file response: Range (206) and unsatisfiable ranges (416) are handled there.
    'http_serve_fd': {200, 206, 416},
    # h_upload: the upload's own error, one of those uploadform_receive() returns.
    'vf_err_status': {400, 413, 415, 503, 507},
}
# A status argument after `res` (json_reply(res, ok ? 200 : 503, o) counts both) or an
# assignment to res->status.
_STATUS_RE = re.compile(r'\bres,\s*([^,;()]+)|res->status\s*=\s*([^;]+);')
_NUMBER_RE = re.compile(r'\b([1-5]\d\d)\b')
_CALL_RE = re.compile(r'\b([a-z_]\w*)\s*\(')
_ERR_ARG_RE = re.compile(r'json_error_reply(?:_detail)?\(\s*req,\s*res,\s*(VF_ERR_\w+)')
_ERR_ROW_RE = re.compile(r'\[(VF_\w+)\]\s*=\s*\{\s*"[^"]*",\s*(\d{3})')


def error_statuses():
    """VF_ERR_* -> HTTP status, from the error table of lib/base/error.c."""
    text = (REPO / 'lib' / 'base' / 'error.c').read_text(encoding='utf-8')
    return {name: int(status) for name, status in _ERR_ROW_RE.findall(text)}


def handler_statuses(route, fcgi_dir=FCGI_DIR):
    """The statuses a route's handler can answer: literals passed with `res` or assigned to
    res->status in its body and in the functions of the same file it calls (transitively),
    plus LIBRARY_STATUSES of the library calls among them."""
    funcs = functions((Path(fcgi_dir) / route['file']).read_text(encoding='utf-8'))
    seen, todo, statuses = set(), [route['handler']], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        body = funcs.get(name)
        if body is None:
            statuses |= LIBRARY_STATUSES.get(name, set())
            continue
        for a, b in _STATUS_RE.findall(body):
            statuses.update(int(n) for n in _NUMBER_RE.findall(a or b))
        # json_error_reply(req, res, VF_ERR_X[, ...]): that error's status
        for name in _ERR_ARG_RE.findall(body):
            statuses.add(error_statuses()[name])
        todo.extend(c for c in _CALL_RE.findall(body) if c not in seen)
    return statuses


def dispatcher_statuses(route, method):
    """What lib/web/route.c answers for a route before or around its handler."""
    s = {405, 500}
    if method in ('post', 'put', 'patch', 'delete'):
        s.add(403)                      # Origin not allowed
    if route.get('auth') == 'ROUTE_AUTH_USER':
        s |= {401, 503}                 # no or a bad access cookie; the user lookup busy
    elif route.get('auth') == 'ROUTE_AUTH_MEDIA':
        s |= {401, 503}                 # neither a valid access cookie nor a live refresh one
    elif route.get('auth') == 'ROUTE_AUTH_STAFF':
        s |= {401, 403, 503}            # and not staff
    if '{id}' in route['pattern']:
        s.add(404)                      # a malformed id
    if 'ROUTE_JSON' in route['flags']:
        s |= {400, 413, 415}            # malformed JSON / too large / not application/json
    return s


# The statuses a web server adds in front of every route: 503 while the application is down
# (nginx's 502-504 and lighttpd's 503 answer the JSON 503), 413 for a body over its limit.
WEB_SERVER_STATUSES = {503}


# ------------------------------------------------------------------ response checks

def _template_re(path):
    return re.compile('^' + re.sub(r'\\\{[^}/]+\\\}', '[^/]+', re.escape(path)) + '$')


class Checker:
    """Check real responses against the document."""

    def __init__(self, doc):
        import jsonschema  # python3-jsonschema (Debian), a test dependency only
        self.doc = doc
        self.jsonschema = jsonschema
        with warnings.catch_warnings():  # deprecated by newer releases than Debian 12's
            warnings.simplefilter('ignore', DeprecationWarning)
            self.resolver = jsonschema.RefResolver.from_schema(doc)
        self.templates = [(p, _template_re(p), p.count('{')) for p in doc['paths']]

    def path_item(self, path):
        """(template, item) of the document for a request path (query dropped), the one
        with the fewest parameters when several match; (None, None) when none does."""
        path = path.split('?', 1)[0]
        hits = sorted((n, p) for p, rx, n in self.templates if rx.match(path))
        if not hits:
            return None, None
        return hits[0][1], self.doc['paths'][hits[0][1]]

    def deref(self, obj):
        while isinstance(obj, dict) and '$ref' in obj:
            _url, obj = self.resolver.resolve(obj['$ref'])
        return obj

    def validate(self, schema, instance):
        """The messages of every error of instance against schema ([] when valid)."""
        cls = self.jsonschema.Draft202012Validator
        v = cls(schema, resolver=self.resolver, format_checker=cls.FORMAT_CHECKER)
        return ['%s at %s' % (e.message, '/'.join(str(x) for x in e.absolute_path) or '(root)')
                for e in v.iter_errors(instance)]

    def check(self, method, path, status, headers, body):
        """Problems of one response ([] when it matches the document, or when the document
        does not describe the request: an unknown path, a CORS preflight)."""
        method = method.lower()
        template, item = self.path_item(path)
        if item is None or method == 'options':
            return []
        where = '%s %s -> %d' % (method.upper(), path, status)
        op = item.get('get' if method == 'head' else method)
        if op is None:
            if status in (405, 503) or (status == 403 and method != 'get'):
                op = {'responses': {str(status): {'$ref': '#/components/responses/%s' % (
                    'MethodNotAllowed' if status == 405 else
                    'ServiceUnavailable' if status == 503 else 'OriginForbidden')}}}
            else:
                return ['%s: %s has no %s operation' % (where, template, method.upper())]
        responses = op.get('responses', {})
        resp = responses.get(str(status)) or responses.get('%dXX' % (status // 100)) \
            or responses.get('default')
        if resp is None:
            return ['%s: status not documented for %s %s (has %s)'
                    % (where, method.upper(), template, ', '.join(sorted(responses)))]
        resp = self.deref(resp)
        content = resp.get('content')
        if not content or method == 'head' or status == 304:
            return []
        ctype = (headers.get('Content-Type') or '').split(';', 1)[0].strip().lower()
        media = {k.lower(): v for k, v in content.items()}
        if ctype not in media:
            return ['%s: Content-Type %r is not one of %s' % (where, ctype, sorted(media))]
        if ctype != 'application/json':
            return []
        try:
            data = json.loads(body.decode('utf-8'))
        except ValueError as e:
            return ['%s: body is not JSON: %s' % (where, e)]
        return ['%s: %s' % (where, m) for m in self.validate(media[ctype].get('schema', {}), data)]


# -------------------------------------------------------------------- recording

def record(method, path, status, headers, body):
    """Append one response to $VF_OPENAPI_LOG (harness.http_request calls this)."""
    log = os.environ.get('VF_OPENAPI_LOG')
    if not log:
        return
    ctype = headers.get('Content-Type') or ''
    keep = ctype.startswith('application/json') and len(body) <= (1 << 20)
    line = json.dumps({'method': method, 'path': path, 'status': status, 'content_type': ctype,
                       'body': base64.b64encode(body).decode() if keep else None})
    with open(log, 'a', encoding='utf-8') as f:
        f.write(line + '\n')


def check_log(log, doc=None):
    """(number of responses checked, problems) of a VF_OPENAPI_LOG file."""
    checker = Checker(doc or load())
    n, problems = 0, []
    for line in Path(log).read_text(encoding='utf-8').splitlines():
        r = json.loads(line)
        body = base64.b64decode(r['body']) if r['body'] is not None else b''
        headers = {'Content-Type': r['content_type']}
        if r['body'] is None and r['content_type'].startswith('application/json'):
            continue  # a JSON body too large to keep (a test's deliberate blob)
        n += 1
        problems.extend(checker.check(r['method'], r['path'], r['status'], headers, body))
    return n, problems


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: openapi.py VF_OPENAPI_LOG-file')
    count, found = check_log(sys.argv[1])
    for p in sorted(set(found)):
        print(p)
    print('%d responses checked, %d problems (%d distinct)' % (count, len(found), len(set(found))))
    sys.exit(1 if found else 0)
