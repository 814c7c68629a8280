"""test_transcoder.py -- the GStreamer transcoder: one pipeline into the 480p/720p/1080p HLS ladder,
master playlist and thumbnail (videoflixctl transcode-file), bad inputs that fail fast, and the
"transcode" job kind in videoflix-worker: ready videos, failed videos, kill -9 of the child.

Clips are generated at test time (gst-launch-1.0 videotestsrc/audiotestsrc, 3 s at 10 fps) into
a temporary directory and never committed."""

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import harness

SEGMENT = 1  # HLS_SEGMENT_SECONDS for the tests: several segments from a 3 s clip
FPS = 10
SECONDS = 3


def have(tool):
    return shutil.which(tool) is not None


def make_clip(path, width, height, audio=True, seconds=SECONDS, fps=FPS, faststart=False):
    """An H.264 (+ AAC) MP4 of `seconds` seconds, made with gst-launch-1.0."""
    frames = seconds * fps
    argv = ['gst-launch-1.0', '-q',
            'videotestsrc', 'num-buffers=%d' % frames, 'pattern=ball', '!',
            'video/x-raw,width=%d,height=%d,framerate=%d/1' % (width, height, fps), '!',
            'x264enc', 'speed-preset=ultrafast', 'key-int-max=%d' % fps, '!', 'h264parse', '!',
            'mp4mux', 'name=mux', 'faststart=%s' % ('true' if faststart else 'false'), '!',
            'filesink', 'location=%s' % path]
    if audio:
        # 4800 samples per buffer at 48 kHz: exactly 10 buffers per second.
        argv += ['audiotestsrc', 'num-buffers=%d' % (seconds * 10), 'samplesperbuffer=4800',
                 'wave=ticks', '!', 'audio/x-raw,rate=48000,channels=2', '!',
                 'avenc_aac', '!', 'aacparse', '!', 'mux.']
    subprocess.run(argv, check=True, timeout=120)


def ctl_env(**extra):
    env = dict(os.environ)
    env.update({'SECRET_KEY': 'transcoder-test-secret-key-0123456789abcdef',
                'VIDEOFLIX_ENV': '/dev/null', 'HLS_SEGMENT_SECONDS': str(SEGMENT),
                'TRANSCODE_STALL_TIMEOUT': '30'})
    env.update(extra)
    return env


def transcode_file(src, outdir, timeout=300, **env):
    return subprocess.run([str(harness.CTL_BIN), 'transcode-file', str(src), str(outdir)],
                          env=ctl_env(**env), capture_output=True, text=True, timeout=timeout)


def ffmpeg_clip(path, seconds, size, rate, audio=True, vf=None, extra=(), source='testsrc'):
    """A clip made with ffmpeg from a lavfi source (testsrc: a frame counter and moving
    patterns, every frame differs) with a sine tone; vf filters the picture, extra are output
    options."""
    argv = ['ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi',
            '-i', '%s=size=%s:rate=%s' % (source, size, rate)]
    if audio:
        argv += ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000']
    argv += ['-t', str(seconds)]
    if vf:
        argv += ['-vf', vf]
    argv += ['-c:v', 'libx264', '-preset', 'ultrafast'] + list(extra)
    if audio:
        argv += ['-c:a', 'aac']
    subprocess.run(argv + [str(path)], check=True, timeout=120)


def set_rotation(path, degrees):
    """Give the MP4's video track the display matrix of a phone held upright: shown turned by
    `degrees` clockwise (ffprobe then reports rotation=-degrees)."""
    data = bytearray(Path(path).read_bytes())
    a, b, c, d = {90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}[degrees]

    def walk(off, end):
        while off + 8 <= end:
            size, typ = struct.unpack('>I4s', data[off:off + 8])
            hdr = 8
            if size == 1:
                size, hdr = struct.unpack('>Q', data[off + 8:off + 16])[0], 16
            elif size == 0:
                size = end - off
            if typ in (b'moov', b'trak'):
                walk(off + hdr, off + size)
            elif typ == b'tkhd':
                matrix = off + hdr + 4 + (32 if data[off + hdr] == 1 else 20) + 16
                if struct.unpack('>I', data[matrix + 36:matrix + 40])[0]:  # has a width: video
                    struct.pack_into('>9i', data, matrix, a << 16, b << 16, 0, c << 16, d << 16, 0,
                                     0, 0, 1 << 30)
            off += size

    walk(0, len(data))
    Path(path).write_bytes(bytes(data))


GRAY = (64, 48)  # frames compared as tiny gray pictures


def gray_frames(src, *args, vf=None, ss=None, noautorotate=False):
    """Decoded frames of src as ffmpeg shows them (a client, turned by the display matrix
    unless noautorotate): a list of GRAY-sized gray byte strings.  ss seeks (an input option, as
    a player seeking does); vf selects frames."""
    argv = ['ffmpeg', '-loglevel', 'error'] + (['-noautorotate'] if noautorotate else [])
    if ss is not None:
        argv += ['-ss', str(ss)]
    filters = (vf + ',' if vf else '') + 'scale=%d:%d' % GRAY
    argv += ['-i', str(src)] + list(args) + ['-vf', filters, '-vsync', '0', '-an', '-f',
                                            'rawvideo', '-pix_fmt', 'gray', '-']
    r = subprocess.run(argv, capture_output=True, timeout=120)
    n = GRAY[0] * GRAY[1]
    return [r.stdout[i:i + n] for i in range(0, len(r.stdout) - n + 1, n)]


def frame_distance(a, b):
    """Mean absolute difference of two gray frames (0 = identical)."""
    return sum(abs(x - y) for x, y in zip(a, b)) / max(1, len(a))


def parse_master(text):
    """[(attributes, uri)] of a master playlist's variants, in the order listed."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith('#EXT-X-STREAM-INF:'):
            attrs = re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line[len('#EXT-X-STREAM-INF:'):])
            out.append(({k: v.strip('"') for k, v in attrs}, lines[i + 1]))
    return out


# ffprobe's profile names -> the profile_idc byte of an RFC 6381 avc1 string
AVC_PROFILE = {'Constrained Baseline': '42', 'Baseline': '42', 'Main': '4d', 'High': '64'}


def pes_starts(path):
    """{PES stream id: number of PES packets} of an MPEG-TS file."""
    data = Path(path).read_bytes()
    out = {}
    for i in range(0, len(data) - 187, 188):
        p = data[i:i + 188]
        afc = (p[3] >> 4) & 3
        pos = 5 + p[4] if afc & 2 else 4
        if p[1] & 0x40 and afc & 1 and p[pos:pos + 3] == b'\x00\x00\x01':
            out[p[pos + 3]] = out.get(p[pos + 3], 0) + 1
    return out


def ts_tables(path):
    """[(packet index, 'PAT'|'PMT')] for the PSI tables that start in an MPEG-TS file."""
    data = Path(path).read_bytes()
    out, pmt_pid = [], None
    for i in range(0, len(data) - 187, 188):
        p = data[i:i + 188]
        pid, pusi, afc = ((p[1] & 0x1f) << 8) | p[2], p[1] & 0x40, (p[3] >> 4) & 3
        pos = 5 + p[4] if afc & 2 else 4
        if not pusi or not afc & 1:
            continue
        sec = pos + 1 + p[pos]
        if pid == 0:
            pmt_pid = ((p[sec + 10] & 0x1f) << 8) | p[sec + 11]
            out.append((i // 188, 'PAT'))
        elif pid == pmt_pid:
            out.append((i // 188, 'PMT'))
    return out


def read_playlist(path):
    """[(duration, uri)] of a media playlist, and its tags."""
    lines = Path(path).read_text().splitlines()
    segs, tags, dur = [], set(), None
    for line in lines:
        if line.startswith('#EXTINF:'):
            dur = float(line[8:].split(',')[0])
        elif line.startswith('#'):
            tags.add(line)
        elif line:
            segs.append((dur, line))
            dur = None
    return lines, segs, tags


def keyframe_times(ts_files):
    """Presentation times of the video keyframes across the given segments (in order)."""
    out = []
    for f in ts_files:
        r = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-skip_frame',
                            'nokey', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', str(f)],
                           capture_output=True, text=True, timeout=60)
        for x in r.stdout.split():
            x = x.strip(',')
            if x and x != 'N/A':
                out.append(round(float(x), 3))
    return out


def ffprobe_json(path, *entries):
    r = subprocess.run(['ffprobe', '-v', 'error', '-show_entries', ':'.join(entries), '-of',
                        'json', str(path)], capture_output=True, text=True, timeout=60)
    return r.returncode, json.loads(r.stdout or '{}')


@unittest.skipUnless(have('gst-launch-1.0') and have('ffprobe'), 'needs gst-launch-1.0 and ffprobe')
class TranscodeFileTest(unittest.TestCase):
    """videoflixctl transcode-file on generated clips: the ladder, playlists, master, thumbnail."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix='vf-transcoder-'))
        cls.clips = {
            'landscape': (cls.tmp / 'landscape.mp4', 1920, 1080, True),
            'hd720': (cls.tmp / 'hd720.mp4', 1280, 720, True),
            'portrait': (cls.tmp / 'portrait.mp4', 720, 1280, True),
            'noaudio': (cls.tmp / 'noaudio.mp4', 640, 360, False),
        }
        cls.out, cls.results = {}, {}
        for name, (path, w, h, audio) in cls.clips.items():
            make_clip(path, w, h, audio)
            out = cls.tmp / ('out-' + name)
            r = transcode_file(path, out)
            cls.out[name] = out
            cls.results[name] = r

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def result(self, name):
        r = self.results[name]
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def check_ladder(self, name, want):
        res = self.result(name)
        out = self.out[name]
        got = [(x['name'], x['width'], x['height']) for x in res['renditions']]
        self.assertEqual(got, want)
        self.assertEqual(sorted(p.name for p in out.iterdir() if p.is_dir()),
                         sorted(n for n, _, _ in want), 'no rendition above the source')
        keyframes = {}
        for rname, w, h in want:
            d = out / rname
            lines, segs, tags = read_playlist(d / 'index.m3u8')
            self.assertEqual(lines[0], '#EXTM3U')
            self.assertIn('#EXT-X-PLAYLIST-TYPE:VOD', tags)
            self.assertIn('#EXT-X-ENDLIST', tags)
            self.assertEqual(lines[-1], '#EXT-X-ENDLIST')
            self.assertEqual([u for _, u in segs], ['%03d.ts' % i for i in range(len(segs))])
            self.assertEqual(len(segs), SECONDS // SEGMENT, (rname, segs))
            total = sum(dur for dur, _ in segs)
            self.assertAlmostEqual(total, SECONDS, delta=0.2)
            target = int([t for t in tags if t.startswith('#EXT-X-TARGETDURATION:')][0][22:])
            self.assertTrue(all(round(dur) <= target for dur, _ in segs))
            self.assertEqual(sorted(p.name for p in d.iterdir()),
                             sorted(['index.m3u8', 'iframes.m3u8'] + [u for _, u in segs]))
            # ffprobe parses the playlist and finds the right picture size.
            rc, info = ffprobe_json(d / 'index.m3u8', 'format=duration', 'stream=codec_type,width,height')
            self.assertEqual(rc, 0)
            self.assertAlmostEqual(float(info['format']['duration']), SECONDS, delta=0.5)
            video = [s for s in info['streams'] if s['codec_type'] == 'video'][0]
            self.assertEqual((video['width'], video['height']), (w, h))
            audio = [s for s in info['streams'] if s['codec_type'] == 'audio']
            self.assertEqual(len(audio), 1 if res['has_audio'] else 0)
            # Every segment starts on a keyframe.
            for _, u in segs:
                r = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0',
                                    '-read_intervals', '%+#1', '-show_entries', 'frame=key_frame',
                                    '-of', 'csv=p=0', str(d / u)],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.stdout.split()[0].strip(','), '1',
                                 '%s/%s does not start on a keyframe' % (rname, u))
            keyframes[rname] = keyframe_times([d / u for _, u in segs])
        # Aligned keyframes across renditions: hls.js can switch at any segment boundary.
        first = keyframes[want[0][0]]
        for rname in keyframes:
            self.assertEqual(keyframes[rname], first, 'keyframes of %s differ' % rname)
        # Master playlist: one entry per rendition with measured rates.
        entries = parse_master((out / 'master.m3u8').read_text())
        self.assertEqual(sorted((a['RESOLUTION'], uri) for a, uri in entries),
                         sorted(('%dx%d' % (w, h), '%s/index.m3u8' % n) for n, w, h in want))
        for a, _ in entries:
            self.assertGreaterEqual(int(a['BANDWIDTH']), int(a['AVERAGE-BANDWIDTH']))
            self.assertGreater(int(a['AVERAGE-BANDWIDTH']), 10000)
            self.assertEqual(a['FRAME-RATE'], '%.3f' % FPS)
            self.assertRegex(a['CODECS'], r'^avc1\.[0-9a-f]{6}' +
                             (',mp4a\\.40\\.2$' if res['has_audio'] else '$'))
        self.assertEqual([x['frame_rate'] for x in res['renditions']], [FPS] * len(want))
        # Thumbnail: a JPEG at the lowest rendition's size.
        thumb = out / 'thumbnail.jpg'
        self.assertTrue(res['has_thumbnail'])
        self.assertEqual(thumb.read_bytes()[:3], b'\xff\xd8\xff')
        rc, info = ffprobe_json(thumb, 'stream=width,height')
        self.assertEqual((info['streams'][0]['width'], info['streams'][0]['height']),
                         (want[0][1], want[0][2]))
        self.assertAlmostEqual(res['duration'], SECONDS, delta=0.3)

    def test_landscape_1080p_with_audio_gets_the_full_ladder(self):
        self.check_ladder('landscape', [('480p', 854, 480), ('720p', 1280, 720),
                                        ('1080p', 1920, 1080)])

    def test_720p_source_gets_no_1080p(self):
        self.check_ladder('hd720', [('480p', 854, 480), ('720p', 1280, 720)])

    def test_portrait_scales_by_the_short_side(self):
        self.check_ladder('portrait', [('480p', 480, 854), ('720p', 720, 1280)])

    def test_source_without_audio_and_below_480_is_not_upscaled(self):
        self.check_ladder('noaudio', [('480p', 640, 360)])
        self.assertFalse(self.result('noaudio')['has_audio'])

    def test_progress_is_reported_up_to_100(self):
        r = self.results['landscape']
        pct = [int(x) for x in re.findall(r'^progress (\d+)$', r.stderr, re.M)]
        self.assertGreaterEqual(len(pct), 2)
        self.assertEqual(pct[0], 0)
        self.assertEqual(pct[-1], 100)
        self.assertEqual(pct, sorted(pct))

    def test_bad_inputs_fail_fast_with_a_reason_and_leave_nothing(self):
        src = self.clips['hd720'][0]
        good_faststart = self.tmp / 'faststart.mp4'
        make_clip(good_faststart, 320, 240, True, faststart=True)
        data = good_faststart.read_bytes()
        bad = {
            'empty.mp4': b'',
            'text.mp4': b'this is not a video, just text\n' * 20,
            'truncated.mp4': data[:len(data) * 2 // 5],
            'garbage.mp4': data[:2048] + os.urandom(200000),
            'truncated-tail.mp4': src.read_bytes()[:src.stat().st_size * 3 // 5],
        }
        for name, body in bad.items():
            path = self.tmp / name
            path.write_bytes(body)
            out = self.tmp / ('bad-' + name)
            t0 = time.monotonic()
            r = transcode_file(path, out, timeout=60)
            took = time.monotonic() - t0
            self.assertNotEqual(r.returncode, 0, name)
            self.assertRegex(r.stderr, r'transcode failed \(.+\): \S', name)
            self.assertFalse(out.exists(), '%s left %s behind' % (name, out))
            self.assertLess(took, 30, name)


@unittest.skipUnless(have('ffmpeg') and have('ffprobe'), 'needs ffmpeg and ffprobe')
class ClientViewTest(unittest.TestCase):
    """Transcoded output as players see it (ffmpeg/ffprobe are the client): timeline, seeking,
    container tables."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix='vf-client-view-'))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def transcode(self, name, src, **env):
        out = self.tmp / ('out-' + name)
        r = transcode_file(src, out, **env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out, json.loads(r.stdout)

    def test_timeline_starts_near_zero_and_ffmpeg_seeks_to_the_frame(self):
        # 12 s at 10 fps with audio, 4 s segments: seeking to 10 s lands inside the last one.
        src = self.tmp / 'seek.mp4'
        ffmpeg_clip(src, 12, '320x240', 10)
        out, _ = self.transcode('seek', src, HLS_SEGMENT_SECONDS='4')
        playlist = out / '480p' / 'index.m3u8'
        _, segs, _ = read_playlist(playlist)
        self.assertEqual(len(segs), 3)
        starts = []
        for _, uri in segs:
            _, info = ffprobe_json(playlist.parent / uri, 'format=start_time')
            starts.append(float(info['format']['start_time']))
        self.assertLess(starts[0], 0.5, 'the first segment starts near 0 (was 3600 s)')
        self.assertGreaterEqual(starts[0], 0.0)
        for k in (1, 2):
            self.assertAlmostEqual(starts[k] - starts[0], 4.0 * k, delta=0.05, msg=starts)
        # `ffmpeg -ss 10` gives the frame that is 10 s in (frame 100), within one frame.
        seeked = gray_frames(playlist, '-frames:v', '1', ss=10)
        self.assertEqual(len(seeked), 1, 'ffmpeg -ss 10 decoded nothing')
        ref = gray_frames(playlist, vf=r'select=between(n\,95\,105)')
        self.assertEqual(len(ref), 11)
        dist = [frame_distance(seeked[0], f) for f in ref]
        best = 95 + dist.index(min(dist))
        self.assertLessEqual(abs(best - 100), 1, 'landed on frame %d (distances %s)' % (best, dist))
        self.assertLess(min(dist), 1.0)
        # And from the start: the first frame is the source's first frame.
        first = gray_frames(playlist, '-frames:v', '1', ss=0)
        self.assertLess(frame_distance(first[0], gray_frames(src, '-frames:v', '1')[0]), 3.0)

    def test_container_overhead_tables_once_and_aac_packed(self):
        src = self.tmp / 'tables.mp4'
        ffmpeg_clip(src, 3, '320x240', 25)
        out, _ = self.transcode('tables', src)
        playlist = out / '480p' / 'index.m3u8'
        _, segs, _ = read_playlist(playlist)
        audio_pes = audio_frames = 0
        for dur, uri in segs:
            seg = out / '480p' / uri
            # PAT and PMT open every segment and are not repeated in it (was 10/s).
            self.assertEqual(ts_tables(seg), [(0, 'PAT'), (1, 'PMT')], uri)
            audio_pes += pes_starts(seg).get(0xc0, 0)
            _, info = ffprobe_json(seg, 'stream=codec_type,start_time')
            starts = {x['codec_type']: float(x['start_time']) for x in info['streams']}
            # Each segment's audio starts with its video (within one AAC frame, 21 ms).
            self.assertAlmostEqual(starts['audio'], starts['video'], delta=0.03, msg=uri)
        # Several AAC frames per PES packet (was one per 21 ms frame), none lost.
        r = subprocess.run(['ffprobe', '-v', 'error', '-count_frames', '-select_streams', 'a',
                            '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0',
                            str(src)], capture_output=True, text=True, timeout=60)
        want = int(r.stdout.split()[0])
        for _, uri in segs:
            r = subprocess.run(['ffprobe', '-v', 'error', '-count_frames', '-select_streams', 'a',
                                '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0',
                                str(out / '480p' / uri)], capture_output=True, text=True,
                               timeout=60)
            audio_frames += int(r.stdout.split()[0])
        self.assertLessEqual(abs(audio_frames - want), 1, (audio_frames, want))
        self.assertLess(audio_pes, audio_frames / 4, (audio_pes, audio_frames))


@unittest.skipUnless(have('gst-launch-1.0'), 'needs gst-launch-1.0')
class TranscodeJobTest(unittest.TestCase):
    """The "transcode" kind in videoflix-worker: ready, failed, kill -9 of the child."""

    @classmethod
    def setUpClass(cls):
        if not harness.WORKER_BIN.exists():
            raise unittest.SkipTest('videoflix-worker not built')
        cls.tmp = Path(tempfile.mkdtemp(prefix='vf-transcode-job-'))
        cls.clip = cls.tmp / 'clip.mp4'
        make_clip(cls.clip, 1280, 720, True)
        cls.long_clip = cls.tmp / 'long.mp4'
        make_clip(cls.long_clip, 1920, 1080, True, seconds=8)
        web, db = harness.matrix()[0]
        cls.st = harness.Stack(web=web, db=db, worker=True, env={
            'HLS_SEGMENT_SECONDS': str(SEGMENT), 'JOB_RETRY_DELAY': '1',
            'TRANSCODE_STALL_TIMEOUT': '60'})
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def add_video(self, src, name, duration=None):
        st = self.st
        dst = st.media_root / 'uploads' / name
        shutil.copyfile(src, dst)
        now = int(time.time() * 1e6)
        st.sql("INSERT INTO videos (title, description, category, created_at, updated_at, "
               "source_path) VALUES (?, ?, ?, ?, ?, ?)",
               ('Clip ' + name, 'generated', 'Test', now, now, 'uploads/' + name))
        vid = int(st.sql("SELECT max(id) FROM videos")[0][0])
        payload = {'video_id': vid, 'source': 'uploads/' + name, 'overwrite': False}
        if duration is not None:
            payload['duration'] = duration
        payload = json.dumps(payload)
        st.sql("INSERT INTO jobs (kind, payload, run_after, created_at, updated_at, video_id) "
               "VALUES ('transcode', ?, ?, ?, ?, ?)", (payload, now, now, now, vid))
        job = int(st.sql("SELECT max(id) FROM jobs")[0][0])
        return vid, job

    def running_child(self, vid):
        """The pid of the worker's transcoder child for video vid once its pipeline runs."""
        if self.video_state(vid)[0] != 'processing':
            return None
        kids = []
        for task in Path('/proc/%d/task' % self.st.worker_pid).iterdir():
            try:
                kids += [int(x) for x in (task / 'children').read_text().split()]
            except OSError:
                pass
        # The transcoder child has written into staging once the pipeline runs.
        staged = [p for p in (self.st.media_root / 'staging').glob('%d.*/*' % vid)]
        return kids[0] if kids and staged else None

    def test_limits_grow_with_the_length_of_the_source(self):
        # TRANSCODE_TIMEOUT 7200 + TRANSCODE_TIMEOUT_PER_SECOND 10 per second (the defaults):
        # the child of a job whose upload was probed at 2 hours may use 79,200 s of wall clock
        # and that many CPU-seconds per core -- a long film is never failed for being long.
        cores = os.sysconf('SC_NPROCESSORS_ONLN')
        for duration, wall in ((7200.0, 79200), (None, 7200)):
            vid, _ = self.add_video(self.long_clip, 'limits-%s.mp4' % duration, duration=duration)
            pid = self.st.wait_for(lambda: self.running_child(vid), timeout=60, interval=0.05,
                                   what='transcoder child')
            limits = Path('/proc/%d/limits' % pid).read_text()
            m = re.search(r'^Max cpu time\s+(\d+)\s+(\d+)\s+seconds', limits, re.M)
            self.assertIsNotNone(m, limits)
            self.assertEqual((int(m.group(1)), int(m.group(2))), (wall * cores, wall * cores),
                             'duration %s' % duration)
            state, err = self.wait_state(vid, ('ready', 'failed'), timeout=180)
            self.assertEqual(state, 'ready', err)

    def video_state(self, vid):
        return self.st.sql("SELECT state, error FROM videos WHERE id = ?", (vid,))[0]

    def wait_state(self, vid, states, timeout=120):
        return self.st.wait_for(lambda: self.video_state(vid)[0] in states and self.video_state(vid),
                                timeout=timeout, interval=0.2, what='video %d in %s' % (vid, states))

    def staging_left(self, vid):
        staging = self.st.media_root / 'staging'
        return [p.name for p in staging.iterdir()] if staging.exists() else []

    def test_upload_becomes_ready_with_renditions_master_and_thumbnail(self):
        vid, job = self.add_video(self.clip, 'ready.mp4')
        state, err = self.wait_state(vid, ('ready', 'failed'))
        self.assertEqual(state, 'ready', err)
        hls = self.st.media_root / 'hls' / str(vid)
        self.assertEqual(sorted(p.name for p in hls.iterdir()), ['480p', '720p', 'master.m3u8'])
        for r in ('480p', '720p'):
            _, segs, tags = read_playlist(hls / r / 'index.m3u8')
            self.assertIn('#EXT-X-ENDLIST', tags)
            self.assertEqual(len(segs), SECONDS // SEGMENT)
        thumb = self.st.media_root / 'thumbnails' / ('%d.jpg' % vid)
        self.assertEqual(thumb.read_bytes()[:3], b'\xff\xd8\xff')
        rows = self.st.sql("SELECT height, width, bandwidth, avg_bandwidth, codecs FROM "
                           "video_renditions WHERE video_id = ? ORDER BY height", (vid,))
        self.assertEqual([(int(r[0]), int(r[1])) for r in rows], [(480, 854), (720, 1280)])
        self.assertTrue(all(int(r[2]) >= int(r[3]) > 0 and r[4].startswith('avc1.') for r in rows))
        v = self.st.sql("SELECT duration_ms, width, height, has_thumbnail FROM videos WHERE id = ?",
                        (vid,))[0]
        self.assertAlmostEqual(int(v[0]) / 1000.0, SECONDS, delta=0.3)
        self.assertEqual((int(v[1]), int(v[2]), int(v[3])), (1280, 720, 1))
        jstate, progress = self.st.sql("SELECT state, progress FROM jobs WHERE id = ?", (job,))[0]
        self.assertEqual((jstate, int(progress)), ('done', 100))
        self.assertEqual(self.staging_left(vid), [])

    def client_for(self, email, staff=False):
        """A signed-in client of a new user (staff when asked)."""
        self.st.add_user(email, 'Client-passw0rd-123', staff=staff)
        c = self.st.client()
        r = c.post('/api/login/', json={'email': email, 'password': 'Client-passw0rd-123'})
        self.assertEqual(r.status, 200, r.body)
        return c

    def test_a_ready_video_stays_playable_while_transcoded_again_and_after_that_fails(self):
        """RELIABILITY 26: a re-transcode publishes in one step; a failed one leaves the old
        version listed and playable and says why in the panel."""
        st = self.st
        vid, _ = self.add_video(self.clip, 'again.mp4')
        state, err = self.wait_state(vid, ('ready', 'failed'))
        self.assertEqual(state, 'ready', err)
        viewer = self.client_for('viewer-again@example.com')
        staff = self.client_for('staff-again@example.com', staff=True)

        def playable():
            listed = [v['id'] for v in viewer.get('/api/video/').json()]
            pl = viewer.get('/api/video/%d/480p/index.m3u8' % vid)
            return vid in listed and pl.status == 200

        self.assertTrue(playable())
        # The source is damaged since: the new transcode will fail for good.
        (st.media_root / 'uploads' / 'again.mp4').write_bytes(b'not a video any more\n' * 4096)
        r = st.ctl('video', 'transcode', vid, '--overwrite')
        self.assertEqual(r.returncode, 0, r.stderr)
        job = int(st.sql("SELECT max(id) FROM jobs WHERE video_id = ?", (vid,))[0][0])
        seen = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            jstate = st.sql("SELECT state FROM jobs WHERE id = ?", (job,))[0][0]
            seen.add(jstate)
            self.assertTrue(playable(), 'the ready video vanished while job %d was %s'
                            % (job, jstate))
            if jstate in ('done', 'failed'):
                break
            time.sleep(0.2)
        self.assertEqual(jstate, 'failed')
        state, err = self.video_state(vid)
        self.assertEqual(state, 'ready')
        self.assertTrue(err, 'the video says nothing of the failed re-transcode')
        self.assertTrue(playable())
        seg = viewer.get('/api/video/%d/480p/000.ts' % vid)
        self.assertEqual(seg.status, 200)
        panel = staff.get('/api/admin/videos/%d/' % vid).json()
        self.assertEqual(panel['state'], 'ready')
        self.assertEqual(panel['job']['state'], 'failed')
        self.assertTrue(panel['job']['error'] or panel.get('error'), panel)

    def test_deleting_a_video_mid_transcode_leaves_none_of_its_files(self):
        """RELIABILITY 26: nothing of a deleted video survives, a running job's output
        included (ids are never reused, so a leftover would stay for good)."""
        st = self.st
        vid, _ = self.add_video(self.long_clip, 'deleted.mp4')
        pid = st.wait_for(lambda: self.running_child(vid), timeout=60, interval=0.05,
                          what='transcoder child')
        self.assertTrue(list((st.media_root / 'staging').glob('%d.*' % vid)))
        r = st.ctl('video', 'delete', vid)
        self.assertEqual(r.returncode, 0, r.stderr)
        st.wait_for(lambda: not Path('/proc/%d' % pid).exists() or
                    Path('/proc/%d/stat' % pid).read_text().rsplit(')', 1)[1].split()[0] == 'Z',
                    timeout=60, what='the transcoder child of the deleted video to end')
        time.sleep(1)
        self.assertEqual(list((st.media_root / 'staging').glob('%d.*' % vid)), [])
        self.assertFalse((st.media_root / 'hls' / str(vid)).exists())
        self.assertFalse((st.media_root / 'thumbnails' / ('%d.jpg' % vid)).exists())
        self.assertFalse((st.media_root / 'uploads' / 'deleted.mp4').exists())

    def test_text_file_named_mp4_fails_for_good_with_a_reason(self):
        src = self.tmp / 'text.mp4'
        src.write_text('not a video\n' * 100)
        vid, job = self.add_video(src, 'text.mp4')
        state, err = self.wait_state(vid, ('ready', 'failed'), timeout=60)
        self.assertEqual(state, 'failed')
        self.assertRegex(err, r'\S')
        jstate, attempts = self.st.sql("SELECT state, attempts FROM jobs WHERE id = ?", (job,))[0]
        self.assertEqual((jstate, int(attempts)), ('failed', 1), 'a bad file is not retried')
        self.assertEqual(self.staging_left(vid), [])
        self.assertFalse((self.st.media_root / 'hls' / str(vid)).exists())

    # -- the ladder as a player gets it: master -> media playlists -> segments ----------------

    def client(self):
        if getattr(type(self), 'viewer', None) is None:
            self.st.add_user('viewer@example.com', 'correct horse battery staple')
            c = self.st.client()
            r = c.post('/api/login/', json={'email': 'viewer@example.com',
                                            'password': 'correct horse battery staple'})
            self.assertEqual(r.status, 200, r)
            type(self).viewer = c
        return type(self).viewer

    def publish(self, src, name):
        vid, _ = self.add_video(src, name)
        state, err = self.wait_state(vid, ('ready', 'failed'), timeout=240)
        self.assertEqual(state, 'ready', err)
        return vid

    def served_ladder(self, vid):
        """The served master's variants, each checked against what its URI really serves:
        [(attributes, uri, ffprobe stream of its first segment)]."""
        c = self.client()
        r = c.get('/api/video/%d/master.m3u8' % vid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers['Content-Type'], 'application/vnd.apple.mpegurl')
        variants = parse_master(r.text)
        self.assertTrue(variants, r.text)
        out = []
        for attrs, uri in variants:
            self.assertRegex(uri, r'^(480p|720p|1080p)/index\.m3u8$', 'the contract\'s URLs')
            base = '/api/video/%d/%s/' % (vid, uri.split('/')[0])
            r = c.get(base + 'index.m3u8')
            self.assertEqual(r.status, 200, r)
            segs, dur = [], None
            for line in r.text.splitlines():
                if line.startswith('#EXTINF:'):
                    dur = float(line[8:].split(',')[0])
                elif line and not line.startswith('#'):
                    segs.append((dur, line))
            peak, first = 0, None
            for d, seg in segs:
                body = c.get(base + seg).body
                self.assertEqual(body[:1], b'\x47', seg)
                if first is None:
                    first = body
                if d >= SEGMENT / 2:
                    peak = max(peak, len(body) * 8 / d)
            path = self.tmp / ('served-%d-%s.ts' % (vid, uri.split('/')[0]))
            path.write_bytes(first)
            _, info = ffprobe_json(path, 'stream=codec_type,width,height,r_frame_rate,profile,'
                                         'level,field_order')
            video = [x for x in info['streams'] if x['codec_type'] == 'video'][0]
            # What the master says is what the URI serves.
            self.assertEqual(attrs['RESOLUTION'], '%dx%d' % (video['width'], video['height']),
                             uri)
            n, d = (int(x) for x in video['r_frame_rate'].split('/'))
            self.assertAlmostEqual(float(attrs['FRAME-RATE']), n / d, delta=0.01, msg=uri)
            want = 'avc1.%s%02x%02x' % (AVC_PROFILE[video['profile']],
                                        0x40 if video['profile'] == 'Main' else 0,
                                        int(video['level']))
            self.assertEqual(attrs['CODECS'].split(',')[0], want, uri)
            self.assertGreaterEqual(int(attrs['BANDWIDTH']), int(peak), 'under-declared ' + uri)
            self.assertLess(int(attrs['BANDWIDTH']), peak * 1.5 + 50000, 'over-declared ' + uri)
            out.append((attrs, uri, video))
        return out

    def test_portrait_master_describes_every_rendition_as_served(self):
        src = self.tmp / 'portrait.mp4'
        make_clip(src, 1080, 1920, True)
        vid = self.publish(src, 'portrait.mp4')
        ladder = self.served_ladder(vid)
        # "480p" is 480 on the short side: a portrait 480p is 480 wide.
        self.assertEqual(sorted((uri, a['RESOLUTION']) for a, uri, _ in ladder),
                         [('1080p/index.m3u8', '1080x1920'), ('480p/index.m3u8', '480x854'),
                          ('720p/index.m3u8', '720x1280')])
        # The first listed (where players start) is the one nearest to 2 Mbit/s on average.
        ratio = [max(r, 1 / r) for r in (int(a['AVERAGE-BANDWIDTH']) / 2e6 for a, _, _ in ladder)]
        self.assertEqual(ratio.index(min(ratio)), 0, ladder)
        rows = self.st.sql("SELECT name, width, height, frame_rate_milli FROM video_renditions "
                           "WHERE video_id = ? ORDER BY height", (vid,))
        self.assertEqual([(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows],
                         [('480p', 480, 854, 10000), ('720p', 720, 1280, 10000),
                          ('1080p', 1080, 1920, 10000)])

    def test_iframe_playlists_address_one_keyframe_per_segment(self):
        src = self.tmp / 'iframes.mp4'
        ffmpeg_clip(src, 3, '1280x720', 25)
        vid = self.publish(src, 'iframes.mp4')
        c = self.client()
        r = c.get('/api/video/%d/master.m3u8' % vid)
        lines = r.text.splitlines()
        iframe = [dict((k, v.strip('"')) for k, v in re.findall(
            r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', l[len('#EXT-X-I-FRAME-STREAM-INF:'):]))
            for l in lines if l.startswith('#EXT-X-I-FRAME-STREAM-INF:')]
        variants = {uri.split('/')[0]: a for a, uri in parse_master(r.text)}
        self.assertEqual(sorted(a['URI'] for a in iframe),
                         ['480p/iframes.m3u8', '720p/iframes.m3u8'])
        for a in iframe:
            rung = a['URI'].split('/')[0]
            self.assertEqual(a['RESOLUTION'], variants[rung]['RESOLUTION'])
            self.assertEqual(a['CODECS'], variants[rung]['CODECS'].split(',')[0], 'video only')
            r = c.get('/api/video/%d/%s' % (vid, a['URI']))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.headers['Content-Type'], 'application/vnd.apple.mpegurl')
            self.assertIn('#EXT-X-I-FRAMES-ONLY', r.text)
            self.assertIn('#EXT-X-ENDLIST', r.text)
            entries = re.findall(r'#EXTINF:([0-9.]+),\n#EXT-X-BYTERANGE:(\d+)@(\d+)\n(\d+\.ts)',
                                 r.text)
            self.assertEqual(len(entries), SECONDS // SEGMENT)
            peak = 0
            for dur, length, offset, seg in entries:
                length, offset = int(length), int(offset)
                rr = c.get('/api/video/%d/%s/%s' % (vid, rung, seg),
                           headers={'Range': 'bytes=%d-%d' % (offset, offset + length - 1)})
                self.assertEqual(rr.status, 206, seg)
                self.assertEqual(len(rr.body), length)
                path = self.tmp / ('iframe-%d-%s-%s' % (vid, rung, seg))
                path.write_bytes(rr.body)
                # The range alone decodes to exactly one picture, a keyframe.
                p = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0',
                                    '-show_entries', 'frame=key_frame,pict_type', '-of', 'csv=p=0',
                                    str(path)], capture_output=True, text=True, timeout=60)
                frames = [x.strip(',') for x in p.stdout.split()]
                self.assertEqual(frames, ['1,I'], '%s %s: %s' % (rung, seg, p.stdout))
                if float(dur) >= SEGMENT / 2:
                    peak = max(peak, length * 8 / float(dur))
            self.assertGreaterEqual(int(a['BANDWIDTH']), int(peak))
            self.assertLess(int(a['BANDWIDTH']), peak * 1.5 + 10000)

    def test_60_fps_master_says_60(self):
        src = self.tmp / 'fps60.mp4'
        ffmpeg_clip(src, 2, '640x360', 60)
        vid = self.publish(src, 'fps60.mp4')
        ladder = self.served_ladder(vid)
        self.assertEqual([(uri, a['FRAME-RATE']) for a, uri, _ in ladder],
                         [('480p/index.m3u8', '60.000')])

    def test_rotated_phone_clip_is_upright_in_the_renditions_and_the_thumbnail(self):
        # SMPTE bars (vertical bars, left to right) from a phone held upright: the file is
        # 640x360 with a display matrix saying "turn 90 degrees clockwise" (ffprobe: -90).
        src = self.tmp / 'rotated.mp4'
        ffmpeg_clip(src, 2, '640x360', 25, source='smptebars')
        set_rotation(src, 90)
        vid = self.publish(src, 'rotated.mp4')
        ladder = self.served_ladder(vid)
        self.assertEqual([(uri, a['RESOLUTION']) for a, uri, _ in ladder],
                         [('480p/index.m3u8', '360x640')])
        upright = gray_frames(src, '-frames:v', '1')[0]  # ffmpeg applies the matrix
        sideways = gray_frames(src, '-frames:v', '1', vf='transpose=cclock', noautorotate=True)[0]
        self.assertGreater(frame_distance(upright, sideways), 20, 'the test pattern tells')
        thumb = self.tmp / ('thumb-%d.jpg' % vid)
        r = self.st.request('GET', '/media/thumbnails/%d.jpg' % vid)
        self.assertEqual(r.status, 200)
        thumb.write_bytes(r.body)
        _, info = ffprobe_json(thumb, 'stream=width,height')
        self.assertEqual((info['streams'][0]['width'], info['streams'][0]['height']), (360, 640))
        for what, path in (('segment', self.tmp / ('served-%d-480p.ts' % vid)), ('thumbnail', thumb)):
            got = gray_frames(path, '-frames:v', '1')[0]
            near, far = frame_distance(got, upright), frame_distance(got, sideways)
            self.assertLess(near, 12, what)
            self.assertGreater(far, 3 * near, '%s: %.1f from upright, %.1f from sideways' %
                               (what, near, far))

    def test_interlaced_source_is_served_progressive_without_combing(self):
        # 640x480 25i, top field first: the 480p rung has the source's size, so nothing hides
        # the combing (scaling smears it) and ffmpeg's idet sees fields if any are left.
        src = self.tmp / 'interlaced.mp4'
        ffmpeg_clip(src, 2, '640x480', 50, vf='interlace=scan=tff',
                    extra=['-flags', '+ildct+ilme', '-x264-params', 'tff=1'])
        _, info = ffprobe_json(src, 'stream=field_order')
        self.assertEqual(info['streams'][0]['field_order'], 'tt', 'the source is interlaced')
        vid = self.publish(src, 'interlaced.mp4')
        ladder = self.served_ladder(vid)
        self.assertEqual([(uri, a['RESOLUTION'], a['FRAME-RATE']) for a, uri, _ in ladder],
                         [('480p/index.m3u8', '640x480', '25.000')])
        self.assertEqual(ladder[0][2]['field_order'], 'progressive')
        r = subprocess.run(['ffmpeg', '-hide_banner', '-i', str(self.tmp / ('served-%d-480p.ts' % vid)),
                            '-vf', 'idet', '-an', '-f', 'null', '-'],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r'Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)',
                      r.stderr)
        tff, bff, prog = (int(x) for x in m.groups())
        self.assertGreater(prog, 0)
        self.assertLessEqual(tff + bff, prog // 10, 'combing left: %s' % m.group(0))

    def test_kill_9_of_the_child_mid_transcode_is_retried_to_ready(self):
        vid, job = self.add_video(self.long_clip, 'long.mp4')
        hls = self.st.media_root / 'hls' / str(vid)

        pid = self.st.wait_for(lambda: self.running_child(vid), timeout=60, interval=0.05,
                               what='transcoder child')
        os.kill(pid, signal.SIGKILL)
        self.assertFalse(hls.exists(), 'nothing is published before the job finishes')
        state, err = self.wait_state(vid, ('ready', 'failed'), timeout=180)
        self.assertEqual(state, 'ready', err)
        jstate, attempts = self.st.sql("SELECT state, attempts FROM jobs WHERE id = ?", (job,))[0]
        self.assertEqual(jstate, 'done')
        self.assertGreaterEqual(int(attempts), 2)
        _, segs, tags = read_playlist(hls / '1080p' / 'index.m3u8')
        self.assertIn('#EXT-X-ENDLIST', tags)
        self.assertAlmostEqual(sum(d for d, _ in segs), 8, delta=0.3)
        self.assertEqual(self.staging_left(vid), [], 'the killed attempt left nothing behind')


if __name__ == '__main__':
    unittest.main()
