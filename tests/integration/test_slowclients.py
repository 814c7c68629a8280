"""test_slowclients.py -- RELIABILITY 29: 2,500 slow-header connections from one host
(slowloris) do not stop the API from answering, on either web server.

One thread holds VF_SLOW_CONNS (default 2,500) connections to the web server from
127.0.0.1, each sending a request line and then one more header line every few seconds,
never ending the header block.  A connection the server closes (a header timeout, 408) is
opened again at once, as an attacker's tool does, so the pressure stays.  Meanwhile a probe
sends GET /api/health/ once a second on a fresh connection, from the same address; every
probe must answer 200 within PROBE_LIMIT seconds for the whole hold.

Non-blocking sockets and one selector: a few hundred sends a second, little CPU."""

import collections
import os
import resource
import selectors
import socket
import statistics
import sys
import threading
import time
import unittest

import harness

CONNS = int(os.environ.get('VF_SLOW_CONNS', '2500'))
HOLD = float(os.environ.get('VF_SLOW_HOLD', '20'))    # seconds under full load
RAMP = 15.0           # seconds allowed to open the connections
TRICKLE = 4.0         # seconds between two header lines of one connection
PROBE_LIMIT = 2.0     # seconds: the slowest acceptable probe
PROBE_EVERY = 1.0


def raise_nofile(need):
    """Raise this process's RLIMIT_NOFILE soft limit to at least `need` (up to the hard
    limit); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class SlowClients:
    """`n` slowloris connections to 127.0.0.1:port, driven by run() in one thread."""

    def __init__(self, port, n):
        self.port = port
        self.n = n
        self.sel = selectors.DefaultSelector()
        self.conns = {}                   # socket -> state: 'connecting' | 'open'
        self.due = collections.deque()    # (time of the next header line, socket)
        self.opened = 0                   # connect() calls
        self.closed_by_server = 0         # EOF, reset or a response (408) seen
        self.refused = 0                  # connect() failed
        self.n_open = 0                   # connections with their request started
        self.max_open = 0
        self.stop = threading.Event()
        self.lines = 0

    def _open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        self.opened += 1
        err = s.connect_ex(('127.0.0.1', self.port))
        if err not in (0, 115):           # EINPROGRESS
            s.close()
            self.refused += 1
            return
        self.conns[s] = 'connecting'
        self.sel.register(s, selectors.EVENT_WRITE)

    def _drop(self, s):
        try:
            self.sel.unregister(s)
        except (KeyError, ValueError):
            pass
        if self.conns.pop(s, None) == 'open':
            self.n_open -= 1
        s.close()

    def open_count(self):
        # An int read from the other thread: never iterate self.conns there (it changes).
        return self.n_open

    def run(self):
        """Open the connections, keep them trickling, reopen the ones the server
        closes, until stop is set."""
        try:
            while not self.stop.is_set():
                # Open what is missing, paced (n/100 per round: the whole set in about
                # five seconds, and a server that drops connections at once does not
                # turn this into a busy loop).
                missing = min(self.n - len(self.conns), max(1, self.n // 100))
                for _ in range(max(0, missing)):
                    self._open()
                for key, ev in self.sel.select(timeout=0.05):
                    s = key.fileobj
                    state = self.conns.get(s)
                    if state == 'connecting':
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                            self.refused += 1
                            self._drop(s)
                            continue
                        try:
                            s.send(b'GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n')
                        except OSError:
                            self.closed_by_server += 1
                            self._drop(s)
                            continue
                        self.conns[s] = 'open'
                        self.n_open += 1
                        self.sel.modify(s, selectors.EVENT_READ)
                        self.due.append((time.monotonic() + TRICKLE, s))
                    elif state == 'open':
                        # Anything readable is the end: a 408/400 or EOF or a reset.
                        self.closed_by_server += 1
                        self._drop(s)
                now = time.monotonic()
                while self.due and self.due[0][0] <= now:
                    _, s = self.due.popleft()
                    if self.conns.get(s) != 'open':
                        continue
                    try:
                        s.send(b'X-Slow-%d: a\r\n' % self.lines)
                        self.lines += 1
                    except OSError:
                        self.closed_by_server += 1
                        self._drop(s)
                        continue
                    self.due.append((now + TRICKLE, s))
                self.max_open = max(self.max_open, self.open_count())
        finally:
            for s in list(self.conns):
                self._drop(s)
            self.sel.close()


def probe(port, timeout):
    """One GET /api/health/ on a fresh connection: (status or error text, seconds)."""
    t0 = time.monotonic()
    try:
        r = harness.http_request(port, 'GET', '/api/health/', timeout=timeout)
        return r.status, time.monotonic() - t0
    except (OSError, harness.http.client.HTTPException) as e:
        return '%s: %s' % (type(e).__name__, e), time.monotonic() - t0


def webs():
    seen = {}
    for web, db in harness.matrix():
        seen.setdefault(web, db)
    return sorted(seen.items())


class _SlowClientTests(unittest.TestCase):
    WEB, DB = 'nginx', 'sqlite'

    @classmethod
    def setUpClass(cls):
        raise_nofile(CONNS + 1024)
        harness.class_stack(cls, web=cls.WEB, db=cls.DB)

    def test_api_answers_under_slowloris(self):
        soft = raise_nofile(CONNS + 1024)
        if soft < CONNS + 64:
            self.skipTest('RLIMIT_NOFILE hard limit %d is below %d' % (soft, CONNS + 64))
        port = self.st.http_port
        slow = SlowClients(port, CONNS)
        th = threading.Thread(target=slow.run, daemon=True)
        th.start()
        probes = []
        try:
            # Ramp: until every connection is open (or the ramp time is over); probing
            # already, as the API must answer while the attack builds up too.
            deadline = time.monotonic() + RAMP
            while time.monotonic() < deadline and slow.open_count() < CONNS:
                probes.append(('ramp',) + probe(port, PROBE_LIMIT))
                time.sleep(max(0.0, PROBE_EVERY - probes[-1][2]))
            ramped = slow.open_count()
            end = time.monotonic() + HOLD
            while time.monotonic() < end:
                probes.append(('hold',) + probe(port, PROBE_LIMIT))
                time.sleep(max(0.0, PROBE_EVERY - probes[-1][2]))
            held = slow.open_count()
        finally:
            slow.stop.set()
            th.join(30)
        lat = [p[2] for p in probes]
        bad = [p for p in probes if p[1] != 200 or p[2] > PROBE_LIMIT]
        summary = ('%s: %d slow connections (open after ramp %d, at the end %d, max %d, '
                   '%d closed by the server and reopened, %d refused, %d header lines); '
                   '%d probes: median %.3fs, max %.3fs, %d failed'
                   % (self.WEB, CONNS, ramped, held, slow.max_open, slow.closed_by_server,
                      slow.refused, slow.lines, len(probes), statistics.median(lat),
                      max(lat), len(bad)))
        sys.stderr.write('\n      %s\n' % summary)
        self.assertEqual(bad, [], summary)
        # The attack really was on: nearly all connections were held open at once.
        self.assertGreaterEqual(slow.max_open, CONNS * 95 // 100, summary)
        # And the server is still fine afterwards.
        self.assertEqual(probe(port, PROBE_LIMIT)[0], 200)


for _web, _db in webs():
    _name = 'SlowClients_%s_%s' % (_web, _db)
    globals()[_name] = type(_name, (_SlowClientTests,), {'WEB': _web, 'DB': _db})
del _SlowClientTests


if __name__ == '__main__':
    unittest.main()
