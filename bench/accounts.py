#!/usr/bin/python3
"""accounts.py -- login and refresh throughput with wrk on loopback (run on demand, not in CI).

Starts a real stack (web server + videoflix-fcgi + database) with tests/integration/harness.py,
creates one active user, then runs wrk against
  1. POST /api/login/          (argon2id verify per request: CPU-bound by design)
  2. POST /api/token/refresh/  (JWT verify + user lookup + new tokens; ROTATE_REFRESH_TOKENS
                                is turned off so one cookie can be replayed)
and prints wrk's summary of each.  Any non-2xx answer is reported as a failure.

usage: bench/accounts.py [--web nginx|lighttpd] [--db sqlite|postgres] [--duration 10]
                         [--connections 8] [--login-connections N] [--threads 2] [--workers 2]

Login is deliberately slow (argon2id at libsodium's interactive limits, 64 MiB): it runs
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


def run_wrk(url, script, args, connections):
    with tempfile.NamedTemporaryFile('w', suffix='.lua', delete=False) as f:
        f.write(script)
        path = f.name
    try:
        threads = min(args.threads, connections)
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
    print('%-8s %10s req/s   p99 %-9s non-2xx %s%s' % (
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
    ap.add_argument('-v', '--verbose', action='store_true', help='print the full wrk output')
    args = ap.parse_args()

    env = {'ROTATE_REFRESH_TOKENS': 'false', 'RATELIMIT_LOGIN': '1000000',
           'LOG_LEVEL': 'warn'}
    with harness.Stack(web=args.web, db=args.db, env=env, workers=args.workers) as st:
        r = st.ctl('createsuperuser', env={'VIDEOFLIX_SUPERUSER_EMAIL': EMAIL,
                                           'VIDEOFLIX_SUPERUSER_PASSWORD': PASSWORD})
        if r.returncode != 0:
            sys.exit('createsuperuser failed: ' + r.stderr)
        c = st.client()
        r = c.post('/api/login/', json={'email': EMAIL, 'password': PASSWORD})
        if r.status != 200:
            sys.exit('login failed: %r' % r)
        print('stack: %s + %s, %d FastCGI workers; wrk -t%d -c%d -d%ds on %s' % (
            args.web, args.db, args.workers, args.threads, args.connections, args.duration,
            st.base_url))
        rc = 0
        for name, path, script, conns in (
                ('login', '/api/login/', LOGIN_LUA, args.login_connections or args.workers),
                ('refresh', '/api/token/refresh/', REFRESH_LUA % c.cookies['refresh_token'],
                 args.connections)):
            out = run_wrk(st.base_url + path, script, args, conns)
            if args.verbose:
                print(out)
            rc |= summary(name, out)
        return rc


if __name__ == '__main__':
    sys.exit(main())
