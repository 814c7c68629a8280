#!/usr/bin/python3
"""accounts.py -- login and refresh throughput with wrk on loopback (run on demand, not in CI).

Starts a real stack (web server + videoflix-fcgi + database) with tests/integration/harness.py,
creates one active user, then runs wrk against
  1. POST /api/login/          (argon2id verify per request: CPU-bound by design)
  2. POST /api/token/refresh/  (JWT verify + user lookup + new access token)
     - rotation off (ROTATE_REFRESH_TOKENS=false): one refresh cookie replayed, a revocation
       lookup per request;
     - with --rotate (ROTATE_REFRESH_TOKENS=true): every refresh revokes its token (one INSERT,
       a write transaction per request) and sets a new refresh cookie, which the next request
       of that connection sends.  wrk keeps one Lua state per thread, so this phase runs one
       connection per thread, each with its own login.
and prints wrk's summary of each.  Any non-2xx answer is reported as a failure.

usage: bench/accounts.py [--web nginx|lighttpd] [--db sqlite|postgres] [--duration 10]
                         [--connections 8] [--login-connections N] [--threads 2] [--workers 2]
                         [--rotate] [--no-login] [--env KEY=VALUE ...]

Login is deliberately slow (argon2id at PASSWORD_HASH_MEMORY_KIB, 19 MiB by default): it runs
with as many connections as FastCGI workers by default, so that requests queue in wrk and
not in the FastCGI socket's backlog (a backlog outlives wrk's run and would stall the
refresh phase after it).
Environment: VF_BUILD_DIR (default build/), VF_TEST_PG_* for --db postgres.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
import harness  # noqa: E402

EMAIL = 'bench@example.com'
PASSWORD = 'Bench-password-42'

LOGIN_LUA = '''
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"%s","password":"%s"}'
''' % (EMAIL, PASSWORD)

# wrk sends no Content-Length for a body-less POST and lighttpd answers that with 411
# (browsers send "Content-Length: 0"), so the refresh carries an empty JSON object.
REFRESH_LUA = '''
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "{}"
wrk.headers["Cookie"] = "refresh_token=%s"
'''

# Rotation: each thread (= one connection) starts from its own refresh token and follows the
# Set-Cookie of every answer (wrk keeps the last Set-Cookie header: the refresh cookie is set
# after the access cookie).
ROTATE_LUA = '''
local tokens = {%s}
local next_token = 1
function setup(thread)
  thread:set("token", tokens[next_token])
  next_token = next_token + 1
end
function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Cookie"] = "refresh_token=" .. token}, "{}")
end
function response(status, headers, body)
  local c = headers["Set-Cookie"]
  if c then
    local t = string.match(c, "^refresh_token=([^;]+)")
    if t then token = t end
  end
end
'''


def run_wrk(url, script, args, connections, threads=None):
    with tempfile.NamedTemporaryFile('w', suffix='.lua', delete=False) as f:
        f.write(script)
        path = f.name
    try:
        threads = threads or min(args.threads, connections)
        out = subprocess.run(['wrk', '-t', str(threads), '-c', str(connections),
                              '-d', '%ds' % args.duration, '--timeout', '30s', '--latency',
                              '-s', path, url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(path)
    return out


def summary(name, out):
    rps = re.search(r'Requests/sec:\s+([\d.]+)', out)
    bad = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', out)
    errors = re.search(r'Socket errors: (.*)', out)
    p99 = re.search(r'99%\s+(\S+)', out)
    print('%-30s %10s req/s   p99 %-9s non-2xx %s%s' % (
        name, rps.group(1) if rps else '?', p99.group(1) if p99 else '?',
        bad.group(1) if bad else '0', ('   socket errors: ' + errors.group(1)) if errors else ''))
    return 0 if not bad and not errors else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--web', default='nginx')
    ap.add_argument('--db', default='sqlite')
    ap.add_argument('--duration', type=int, default=10)
    ap.add_argument('--connections', type=int, default=8)
    ap.add_argument('--login-connections', type=int, default=0,
                    help='connections for the login phase (default: --workers)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--rotate', action='store_true',
                    help='ROTATE_REFRESH_TOKENS=true: each request uses the token the previous '
                         'answer set (one connection per wrk thread)')
    ap.add_argument('--no-login', action='store_true', help='skip the login phase')
    ap.add_argument('-v', '--verbose', action='store_true', help='print the full wrk output')
    ap.add_argument('--env', action='append', default=[], metavar='KEY=VALUE',
                    help='a setting of the stack, e.g. PASSWORD_HASH_MEMORY_KIB=65536 (the '
                         'former cost); repeatable')
    args = ap.parse_args()

    env = {'ROTATE_REFRESH_TOKENS': 'true' if args.rotate else 'false',
           'RATELIMIT_LOGIN': '1000000', 'LOG_LEVEL': 'warn'}
    env.update(kv.split('=', 1) for kv in args.env)
    with harness.Stack(web=args.web, db=args.db, env=env, workers=args.workers) as st:
        r = st.ctl('createsuperuser', env={'VIDEOFLIX_SUPERUSER_EMAIL': EMAIL,
                                           'VIDEOFLIX_SUPERUSER_PASSWORD': PASSWORD})
        if r.returncode != 0:
            sys.exit('createsuperuser failed: ' + r.stderr)
        c = st.client()
        r = c.post('/api/login/', json={'email': EMAIL, 'password': PASSWORD})
        if r.status != 200:
            sys.exit('login failed: %r' % r)
        print('stack: %s + %s, %d FastCGI workers, refresh rotation %s; wrk -d%ds on %s%s'
              % (args.web, args.db, args.workers, 'on' if args.rotate else 'off', args.duration,
                 st.base_url, ''.join(' ' + kv for kv in args.env)))
        if args.rotate:
            tokens = [c.cookies['refresh_token']]
            while len(tokens) < args.connections:
                ci = st.client()
                r = ci.post('/api/login/', json={'email': EMAIL, 'password': PASSWORD})
                if r.status != 200:
                    sys.exit('login failed: %r' % r)
                tokens.append(ci.cookies['refresh_token'])
            refresh = ('refresh (rotating)', '/api/token/refresh/',
                       ROTATE_LUA % ', '.join('"%s"' % t for t in tokens), args.connections,
                       args.connections)
        else:
            refresh = ('refresh', '/api/token/refresh/', REFRESH_LUA % c.cookies['refresh_token'],
                       args.connections, None)
        phases = [refresh]
        if not args.no_login:
            phases.insert(0, ('login', '/api/login/', LOGIN_LUA,
                              args.login_connections or args.workers, None))
        rc = 0
        for name, path, script, conns, threads in phases:
            out = run_wrk(st.base_url + path, script, args, conns, threads)
            if args.verbose:
                print(out)
            rc |= summary('%s -t%d -c%d' % (name, threads or min(args.threads, conns), conns), out)
            if name == 'login':  # (before the refreshes: FCGI_MAX_REQUESTS recycles workers)
                print('  FastCGI workers after the logins: peak RSS (VmHWM) %s kB' % ', '.join(
                    str(status_kb(p, 'VmHWM')) for p in st.fcgi_worker_pids()))
        return rc


def status_kb(pid, key):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
