#!/usr/bin/python3
"""upload.py -- a multi-GB upload through the real web server to the admin API (on demand, not in CI).

Issue 7 asks that uploads of several GB work.  This makes a valid MP4 of that size without
encoding gigabytes: a short generated clip (GStreamer, faststart) followed by one top-level
`free` box with a 64-bit size whose body is sparse zeros (demuxers skip `free` boxes, so the
probe and the transcoder see a 5 s 720p video).  Then, per web server: a real stack (SQLite,
one FastCGI worker, the job worker), a staff login, `curl -F file=@...` to POST
/api/admin/videos/, and it reports the status, the bytes sent, the wall time, the FastCGI
worker's peak RSS (VmHWM) and the video's final state after the transcode.

usage: bench/upload.py [--size-gib 3] [--web nginx,lighttpd] [--random] [--keep-file]

Needs free disk of about 3 x the size (the file, the web server's request buffer, the stored
upload).  Environment: VF_BUILD_DIR (default build/).
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
import harness  # noqa: E402

EMAIL = 'bench-upload@example.com'
PASSWORD = 'Bench-upload-pass-42'


def make_file(path, size, fill='zeros'):
    """A 5 s 720p MP4 padded with a `free` box to `size` bytes in all: sparse zeros, or with
    fill='random' a random MiB repeated (data like a video's, with a CR byte every 256 bytes
    on average where the multipart parser has to look for the boundary)."""
    clip = path + '.clip.mp4'
    subprocess.run(['gst-launch-1.0', '-q', 'videotestsrc', 'num-buffers=150', '!',
                    'video/x-raw,width=1280,height=720,framerate=30/1', '!', 'x264enc', '!',
                    'h264parse', '!', 'mp4mux', 'faststart=true', '!', 'filesink',
                    'location=' + clip], check=True)
    with open(clip, 'rb') as f:
        data = f.read()
    os.unlink(clip)
    pad = max(size - len(data), 16)
    with open(path, 'wb') as f:
        f.write(data)
        f.write(struct.pack('>I4sQ', 1, b'free', pad))  # size 1: a 64-bit size follows
        if fill == 'random':
            block = os.urandom(1 << 20)
            left = pad - 16
            while left > 0:
                left -= f.write(block[:min(left, len(block))])
        f.truncate(len(data) + pad)


def vm_hwm_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return -1


def run(web, path):
    st = harness.Stack(web=web, db='sqlite', workers=1, worker=True,
                       env={'UPLOAD_MAX_BYTES': '64G', 'MIN_FREE_DISK_BYTES': '256M'})
    st.start()
    try:
        r = st.ctl('createsuperuser', env={'VIDEOFLIX_SUPERUSER_EMAIL': EMAIL,
                                           'VIDEOFLIX_SUPERUSER_PASSWORD': PASSWORD})
        if r.returncode != 0:
            sys.exit('createsuperuser: ' + r.stderr)
        r = st.request('POST', '/api/login/', json={'email': EMAIL, 'password': PASSWORD})
        if r.status != 200:
            sys.exit('login: %d %s' % (r.status, r.body[:200]))
        cookie = '; '.join(h.split(';')[0] for h in r.headers.get_all('Set-Cookie'))
        workers = [int(p) for p in subprocess.run(['pgrep', '-P', str(st.fcgi_master_pid)],
                                                  capture_output=True, text=True).stdout.split()]
        before = {p: vm_hwm_kb(p) for p in workers}
        t0 = time.monotonic()
        out = subprocess.run(['curl', '-s', '-w', '\n%{http_code} %{size_upload}',
                              '-H', 'Cookie: ' + cookie, '-H', 'Expect:',
                              '-F', 'title=Big upload', '-F', 'category=Bench',
                              '-F', 'file=@%s;type=video/mp4' % path,
                              st.base_url + '/api/admin/videos/'],
                             capture_output=True, text=True, timeout=3600)
        secs = time.monotonic() - t0
        body, _, tail = out.stdout.rpartition('\n')
        status, sent = tail.split()
        after = {p: vm_hwm_kb(p) for p in workers}
        state = None
        if status == '201':
            vid = json.loads(body)['id']
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                rows = st.sql('SELECT state, error FROM videos WHERE id = ?', (vid,))
                if rows and rows[0][0] in ('ready', 'failed'):
                    break
                time.sleep(1)
            state = st.sql('SELECT state, error, width, height FROM videos WHERE id = ?', (vid,))
        print('%-8s status %s, %s bytes in %.1f s (%.0f MB/s); FastCGI worker VmHWM %s kB '
              '(before %s); video: %s' % (web, status, sent, secs, int(sent) / secs / 1e6,
                                          list(after.values()), list(before.values()), state))
        return status == '201' and state and state[0][0] == 'ready'
    finally:
        st.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size-gib', type=float, default=3)
    ap.add_argument('--web', default='nginx,lighttpd')
    ap.add_argument('--random', action='store_true',
                    help='fill the padding with random bytes (as a real video) instead of '
                         'sparse zeros')
    ap.add_argument('--keep-file', action='store_true')
    args = ap.parse_args()
    fd, path = tempfile.mkstemp(suffix='.mp4', prefix='vf-bench-upload-')
    os.close(fd)
    ok = True
    try:
        make_file(path, int(args.size_gib * 1024 ** 3), 'random' if args.random else 'zeros')
        print('source: %s, %d bytes (a 5 s 720p clip + a free box of %s)'
              % (path, os.path.getsize(path), 'random bytes' if args.random else 'sparse zeros'))
        for web in args.web.split(','):
            ok = run(web, path) and ok
    finally:
        if not args.keep_file:
            os.unlink(path)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
