/* pipeline.c -- decode once, tee, encode the HLS ladder with x264 into hlssink2, grab a thumbnail.
 */
#include "autoconf.h"

#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/video/video.h>

/*
 * The pipeline, as data.  Each template is a fixed gst-launch description filled only with numbers
 * (and constants of ladder.c); file names are set as properties, never spliced into a description.
 *
 *   filesrc ! decodebin ─ video ─> VIDEO_HEAD ─> tee ─┬─> RENDITION_BRANCH ─> hlssink2.video (480p)
 *                      │                               ├─> RENDITION_BRANCH ─> hlssink2.video
 * (720p) │                               └─> RENDITION_BRANCH ─> hlssink2.video (1080p) └ audio ─>
 * AUDIO_HEAD ─> tee ───┬─> queue ─> hlssink2.audio (each rendition)
 *
 * The thumbnail is copied from the decoded stream by a pad probe on VIDEO_HEAD's output.
 */

/*
 * Decoded video made into pictures as they are meant to be shown, once, before the tee: every
 * rendition and the thumbnail start from there.  %d: converter threads.
 * - deinterlace: fields woven into frames by YADIF (Apple's authoring spec: MUST deinterlace),
 *   one frame per frame (fields=top: 1080i25 gives 25p, the GOP math and the CPU cost stay as
 *   they are).  mode=auto passes progressive video through untouched and follows the caps and
 *   buffer flags of a mixed one.
 * - videoflip video-direction=auto: the source's orientation (a phone's display matrix, the
 *   image-orientation tag) applied before scaling, so a portrait phone clip comes out portrait;
 *   probe.c swaps the planned size for 90/270 degrees.
 */
static const char VIDEO_HEAD[] = "queue max-size-buffers=4 max-size-bytes=0 max-size-time=0"
                                 " ! deinterlace mode=auto method=yadif fields=top"
                                 " ! videoflip video-direction=auto"
                                 " ! videoconvert n-threads=%d"
                                 " ! capsfilter caps=video/x-raw,format=I420";

/*
 * One rung.  %d in order: scaler threads, width, height; %s: colorimetry (see
 * ladder_colorimetry); %d: speed-preset (enum value), CRF, max bit rate (kbit/s), VBV buffer
 * (ms), GOP (frames), x264 threads; %s: profile from ladder.c.
 * Lanczos, not the default bilinear: on noisy 1080p sources bilinear aliases visibly when scaling
 * by 2.25 (480p), costing about 0.07 SSIM against a properly filtered scale (bench/README.md).
 * Keyframes come only from the fixed GOP (no scene-cut IDRs, no keyframe requests from hlssink2),
 * so every rendition cuts its segments on the same frames and players can switch between them.
 * The video queue is short (raw frames are big); audio is unbounded (it is tiny), so no branch
 * can block the others while a muxer waits for the other stream.
 */
static const char RENDITION_BRANCH[] =
    "queue max-size-buffers=8 max-size-bytes=0 max-size-time=0"
    " ! videoscale method=lanczos n-threads=%d"
    " ! video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1,colorimetry=%s"
    " ! x264enc name=enc speed-preset=%d pass=qual quantizer=%d bitrate=%d vbv-buf-capacity=%d"
    " key-int-max=%d threads=%d option-string=\"scenecut=0\""
    " ! video/x-h264,profile=%s"
    " ! h264parse name=parse";

/* Decoded audio encoded once.  %d: AAC bit rate in bit/s.  ADTS, so that frames can be packed
 * together into one PES packet (see struct packer). */
static const char AUDIO_HEAD[] = "queue"
                                 " ! audioconvert ! audioresample"
                                 " ! audio/x-raw,channels=2,rate=48000"
                                 " ! avenc_aac bitrate=%d ! aacparse"
                                 " ! capsfilter caps=audio/mpeg,stream-format=adts";

/*
 * AAC frames per PES packet.  mpegtsmux (1.22) writes one PES per buffer, and an AAC frame is
 * ~350 bytes: a PES header and a part-filled last TS packet for every 21 ms cost ~28 kbit/s per
 * rendition.  Six ADTS frames (128 ms, ~2 KB, like ffmpeg's packing) in one buffer make one PES
 * whose PTS is the first frame's; players read ADTS frame by frame.
 */
#define AAC_FRAMES_PER_PES 6

#define VBV_MS 2000

/*
 * Added to the running time of everything that enters a muxer.  x264's B-frames give the first
 * frames a decoding time before the segment start (negative running time), which mpegtsmux
 * cannot order against audio: it wrote the audio of the first frames before the video whose DTS
 * is earlier, and ffmpeg's HLS demuxer (mpv too), which takes the first packet it reads as the
 * start, then dropped the keyframe that starts each segment and seeked a whole segment late.
 * With every running time positive the muxer interleaves by DTS, video first.  The transcoder
 * moves the timeline back to zero afterwards (tsrebase.h), so the value only has to exceed the
 * longest reordering delay (a few frames).
 */
#define MUX_OFFSET (10 * GST_SECOND)

/*
 * PAT and PMT, in 90 kHz ticks.  mpegtsmux writes both at the start of every segment anyway
 * (hlssink2's splitmuxsink sends the caps again for each fragment), so the periodic copies
 * (ten a second by default, ~30 kbit/s per rendition) only cost bits: an HLS client starts
 * decoding at a segment start.  An hour is "never" for a segment.
 */
#define MUX_TABLE_INTERVAL (90000u * 3600u)

/* Packs the encoded audio, AAC_FRAMES_PER_PES frames to a buffer, on the sink pad of the audio
 * tee, so every rendition gets the same packets (one streaming thread runs it). */
struct packer {
    GstPad *pad;
    const _Atomic int64_t *video0; /* PTS of the first video frame (ns), -1 before it */
    double gop_ns;                 /* keyframe (segment cut) interval, 0: unknown */
    int64_t prev_gop;              /* which GOP the previous frame fell in (-2: none yet) */
    GstBuffer *stash;              /* frames so far (NULL: none) */
    GstClockTime last;             /* PTS of the last frame in stash */
    GstClockTime spacing;          /* between the last two frames (aacparse gives no durations) */
    int frames;
    bool chaining; /* our own chain of the stash is passing the probe */
};

struct run {
    const struct pipeline_opts *o;
    struct packer pack;
    GstElement *pipe;
    GstElement *vhead, *ahead;
    GstElement *branch[LADDER_MAX];
    GMutex lock;            /* guards the thumbnail fields and `segment` */
    GstSegment segment;     /* of the decoded video stream */
    GstSample *thumb;       /* deep copy of the chosen frame */
    bool thumb_final;       /* the frame at or after thumb_at was taken */
    GstClockTime thumb_at;  /* stream time */
    _Atomic int64_t pos_ns; /* stream time of the latest decoded frame */
    _Atomic int64_t frames; /* decoded frames so far */
    _Atomic int64_t video0; /* PTS of the first decoded frame, -1 before it */
    _Atomic int link_error; /* a decoded stream could not be linked */
};

static GstElement *
parse_bin(const char *fmt, char *reason, size_t len, ...)
{
    char desc[1024];
    va_list ap;
    va_start(ap, len);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    GError *gerr = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &gerr);
    if (bin == NULL || gerr != NULL) {
        vf_reason(reason, len, "cannot build pipeline: %s", gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        if (bin != NULL)
            gst_object_unref(bin);
        return NULL;
    }
    return bin;
}

static GstElement *
make(GstElement *pipe, const char *factory, char *reason, size_t len)
{
    GstElement *e = gst_element_factory_make(factory, NULL);
    if (e == NULL) {
        vf_reason(reason, len, "missing GStreamer element %s (install the GStreamer plugins)",
                  factory);
        return NULL;
    }
    gst_bin_add(GST_BIN(pipe), e);
    return e;
}

/* Buffer/event probe on the decoded video: position for progress, the thumbnail frame. */
static GstPadProbeReturn
on_video(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    struct run *r = data;
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) {
            const GstSegment *seg = NULL;
            gst_event_parse_segment(ev, &seg);
            g_mutex_lock(&r->lock);
            gst_segment_copy_into(seg, &r->segment);
            g_mutex_unlock(&r->lock);
        }
        return GST_PAD_PROBE_OK;
    }
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (buf == NULL || !GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    g_mutex_lock(&r->lock);
    guint64 st = gst_segment_to_stream_time(&r->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    if (st == GST_CLOCK_TIME_NONE)
        st = GST_BUFFER_PTS(buf);
    atomic_store(&r->pos_ns, (int64_t)st);
    if (atomic_fetch_add(&r->frames, 1) == 0)
        atomic_store(&r->video0, (int64_t)GST_BUFFER_PTS(buf));
    if (!r->thumb_final && (r->thumb == NULL || st >= r->thumb_at)) {
        GstCaps *caps = gst_pad_get_current_caps(pad);
        if (caps != NULL) {
            GstBuffer *copy = gst_buffer_copy_deep(buf);
            if (r->thumb != NULL)
                gst_sample_unref(r->thumb);
            r->thumb = gst_sample_new(copy, caps, NULL, NULL);
            gst_buffer_unref(copy);
            gst_caps_unref(caps);
            r->thumb_final = st >= r->thumb_at;
        }
    }
    g_mutex_unlock(&r->lock);
    return GST_PAD_PROBE_OK;
}

/* decodebin exposes a decoded stream: the first video and (if planned) the first audio are
 * encoded, anything else goes to a fakesink so the demuxer never sees not-linked. */
static void
on_pad_added(GstElement *dec, GstPad *pad, gpointer data)
{
    struct run *r = data;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (caps == NULL)
        caps = gst_pad_query_caps(pad, NULL);
    const GstStructure *st =
        caps != NULL && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : NULL;
    const char *name = st != NULL ? gst_structure_get_name(st) : "";
    GstElement *target = NULL;
    if (g_str_has_prefix(name, "video/"))
        target = r->vhead;
    else if (g_str_has_prefix(name, "audio/"))
        target = r->ahead;
    if (caps != NULL)
        gst_caps_unref(caps);

    GstPad *sink = target ? gst_element_get_static_pad(target, "sink") : NULL;
    if (sink != NULL && !gst_pad_is_linked(sink)) {
        if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
            atomic_store(&r->link_error, 1);
        gst_object_unref(sink);
        return;
    }
    if (sink != NULL)
        gst_object_unref(sink);
    GstElement *fs = gst_element_factory_make("fakesink", NULL);
    if (fs == NULL)
        return;
    g_object_set(fs, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add(GST_BIN(r->pipe), fs);
    gst_element_sync_state_with_parent(fs);
    GstPad *fpad = gst_element_get_static_pad(fs, "sink");
    gst_pad_link(pad, fpad);
    gst_object_unref(fpad);
}

/* Every planned stream must have been linked once decodebin has exposed them all. */
static void
on_no_more_pads(GstElement *dec, gpointer data)
{
    struct run *r = data;
    GstElement *heads[2] = { r->vhead, r->ahead };
    for (size_t i = 0; i < 2; i++) {
        if (heads[i] == NULL)
            continue;
        GstPad *sink = gst_element_get_static_pad(heads[i], "sink");
        if (!gst_pad_is_linked(sink))
            atomic_store(&r->link_error, i == 0 ? 2 : 3);
        gst_object_unref(sink);
    }
}

/* The stash as one buffer (caller owns it), or NULL; the packer starts empty. */
static GstBuffer *
packer_take(struct packer *pk)
{
    GstBuffer *b = pk->stash;
    pk->stash = NULL;
    pk->frames = 0;
    return b;
}

static GstPadProbeReturn
on_audio(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    struct packer *pk = data;
    if (pk->chaining)
        return GST_PAD_PROBE_OK;
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS) {
            /* The last frames go in ahead of the EOS (this pad is not EOS until it is
             * through; the stream lock is recursive). */
            GstBuffer *rest = packer_take(pk);
            if (rest != NULL) {
                pk->chaining = true;
                gst_pad_chain(pad, rest);
                pk->chaining = false;
            }
        } else if (GST_EVENT_TYPE(ev) == GST_EVENT_FLUSH_STOP) {
            gst_clear_buffer(&pk->stash);
            pk->frames = 0;
        }
        return GST_PAD_PROBE_OK;
    }
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
    if (b == NULL)
        return GST_PAD_PROBE_OK;
    /* Frames in one PES must follow on without a gap (a decoder times them from the first):
     * one that comes late, or without a timestamp, starts a packet of its own. */
    GstClockTime pts = GST_BUFFER_PTS(b);
    bool step = GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(pk->last) && pts > pk->last;
    bool follows = step && (!GST_CLOCK_TIME_IS_VALID(pk->spacing) ||
                            pts - pk->last <= pk->spacing + pk->spacing / 2);
    /* Nor across a segment cut (a keyframe): a packet begun before it would carry the new
     * segment's first audio into the old one. */
    int64_t v0 = atomic_load(pk->video0), gop = -1;
    if (GST_CLOCK_TIME_IS_VALID(pts) && v0 >= 0 && pk->gop_ns > 0 && (int64_t)pts >= v0)
        gop = (int64_t)((double)((int64_t)pts - v0) / pk->gop_ns);
    pk->spacing = step ? pts - pk->last : GST_CLOCK_TIME_NONE;
    pk->last = pts;
    bool cut = gop != pk->prev_gop;
    pk->prev_gop = gop;
    if (pk->stash != NULL && (!follows || cut)) {
        /* What is packed so far goes first.  Then b: alone at a cut, so that it reaches the
         * muxer as early as an unpacked frame would and the segmenter puts it after the cut
         * (held back for a packet, it landed in the old segment); after a gap it starts the
         * next packet. */
        GstBuffer *before = packer_take(pk);
        pk->chaining = true;
        GstFlowReturn ret = gst_pad_chain(pad, before);
        pk->chaining = false;
        if (ret != GST_FLOW_OK) {
            gst_buffer_unref(b);
            GST_PAD_PROBE_INFO_FLOW_RETURN(info) = ret;
            return GST_PAD_PROBE_HANDLED;
        }
    }
    if (cut)
        return GST_PAD_PROBE_OK;
    pk->stash = pk->stash != NULL ? gst_buffer_append(pk->stash, b) : b; /* takes b */
    if (++pk->frames < AAC_FRAMES_PER_PES)
        return GST_PAD_PROBE_HANDLED; /* kept: b is the stash's now */
    /* A whole packet goes on in b's place. */
    GST_PAD_PROBE_INFO_DATA(info) = packer_take(pk);
    return GST_PAD_PROBE_OK;
}

/* Shifts the running time of what leaves element e's "src" pad by `offset`. */
static void
set_offset(GstElement *e, gint64 offset)
{
    GstPad *pad = gst_element_get_static_pad(e, "src");
    if (pad != NULL) {
        gst_pad_set_offset(pad, offset);
        gst_object_unref(pad);
    }
}

/* The mpegtsmux inside an hlssink2 (its splitmuxsink's "muxer"): PAT/PMT only where a segment
 * starts (MUX_TABLE_INTERVAL).  Must run before the sink's pads are linked (mpegtsmux 1.22
 * warns when the PMT interval changes on pads without a program yet).  false when hlssink2 is
 * not built as expected. */
static bool
tune_muxer(GstElement *hlssink)
{
    bool ok = false;
    GstIterator *it = gst_bin_iterate_elements(GST_BIN(hlssink));
    GValue v = G_VALUE_INIT;
    while (!ok && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
        GObject *child = g_value_get_object(&v);
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(child), "muxer") != NULL) {
            GstElement *mux = NULL;
            g_object_get(child, "muxer", &mux, NULL);
            if (mux != NULL &&
                g_object_class_find_property(G_OBJECT_GET_CLASS(mux), "pmt-interval") != NULL) {
                g_object_set(mux, "pat-interval", MUX_TABLE_INTERVAL, "pmt-interval",
                             MUX_TABLE_INTERVAL, NULL);
                ok = true;
            }
            if (mux != NULL)
                gst_object_unref(mux);
        }
        g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
    return ok;
}

static enum vf_err
build(struct run *r, char *reason, size_t len)
{
    const struct pipeline_opts *o = r->o;
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    int gop = ladder_gop_frames(o->probe->fps, o->segment_seconds);

    r->pipe = gst_pipeline_new("transcode");
    GstElement *src = make(r->pipe, "filesrc", reason, len);
    GstElement *dec = make(r->pipe, "decodebin", reason, len);
    GstElement *vtee = make(r->pipe, "tee", reason, len);
    if (src == NULL || dec == NULL || vtee == NULL)
        return VF_ERR_INTERNAL;
    g_object_set(src, "location", o->input, NULL);
    if (!gst_element_link(src, dec)) {
        vf_reason(reason, len, "cannot link the source");
        return VF_ERR_INTERNAL;
    }
    g_signal_connect(dec, "pad-added", G_CALLBACK(on_pad_added), r);
    g_signal_connect(dec, "no-more-pads", G_CALLBACK(on_no_more_pads), r);

    if ((r->vhead = parse_bin(VIDEO_HEAD, reason, len, ncpu)) == NULL)
        return VF_ERR_INTERNAL;
    gst_bin_add(GST_BIN(r->pipe), r->vhead);
    if (!gst_element_link(r->vhead, vtee)) {
        vf_reason(reason, len, "cannot link the video head");
        return VF_ERR_INTERNAL;
    }
    GstPad *vsrc = gst_element_get_static_pad(r->vhead, "src");
    gst_pad_add_probe(vsrc, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      on_video, r, NULL);
    gst_object_unref(vsrc);

    GstElement *atee = NULL;
    if (o->probe->has_audio) {
        if ((r->ahead = parse_bin(AUDIO_HEAD, reason, len, LADDER_AUDIO_KBPS * 1000)) == NULL)
            return VF_ERR_INTERNAL;
        gst_bin_add(GST_BIN(r->pipe), r->ahead);
        if ((atee = make(r->pipe, "tee", reason, len)) == NULL)
            return VF_ERR_INTERNAL;
        if (!gst_element_link(r->ahead, atee)) {
            vf_reason(reason, len, "cannot link the audio head");
            return VF_ERR_INTERNAL;
        }
        r->pack.pad = gst_element_get_static_pad(atee, "sink");
        r->pack.last = r->pack.spacing = GST_CLOCK_TIME_NONE;
        r->pack.prev_gop = -2;
        r->pack.video0 = &r->video0;
        r->pack.gop_ns = o->probe->fps > 0 ? gop * 1e9 / o->probe->fps : 0;
        gst_pad_add_probe(r->pack.pad,
                          GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_audio,
                          &r->pack, NULL);
    }

    for (size_t i = 0; i < o->nr; i++) {
        const struct rendition *rd = &o->r[i];
        GstElement *b =
            parse_bin(RENDITION_BRANCH, reason, len, ncpu > 1 ? 2 : 1, rd->width, rd->height,
                      ladder_colorimetry(o->probe->height), (int)o->preset, rd->rung->crf,
                      rd->rung->maxrate_kbps, VBV_MS, gop, o->x264_threads, rd->rung->profile);
        if (b == NULL)
            return VF_ERR_INTERNAL;
        gst_bin_add(GST_BIN(r->pipe), b);
        r->branch[i] = b;
        GstElement *sink = make(r->pipe, "hlssink2", reason, len);
        if (sink == NULL)
            return VF_ERR_INTERNAL;
        if (!tune_muxer(sink)) {
            vf_reason(reason, len, "hlssink2 without its muxer (unsupported GStreamer version)");
            return VF_ERR_INTERNAL;
        }
        char loc[4096], pl[4096];
        snprintf(loc, sizeof(loc), "%s/%s/%%03d.ts", o->outdir, rd->name);
        snprintf(pl, sizeof(pl), "%s/%s/index.m3u8", o->outdir, rd->name);
        g_object_set(sink, "location", loc, "playlist-location", pl, "max-files", 0,
                     "playlist-length", 0, "target-duration", (guint)o->segment_seconds,
                     "send-keyframe-requests", FALSE, NULL);
        if (!gst_element_link(vtee, b) || !gst_element_link_pads(b, "src", sink, "video")) {
            vf_reason(reason, len, "cannot link rendition %s", rd->name);
            return VF_ERR_INTERNAL;
        }
        set_offset(b, MUX_OFFSET);
        if (atee != NULL) {
            GstElement *q = make(r->pipe, "queue", reason, len);
            if (q == NULL)
                return VF_ERR_INTERNAL;
            g_object_set(q, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time", (guint64)0,
                         NULL);
            if (!gst_element_link(atee, q) || !gst_element_link_pads(q, "src", sink, "audio")) {
                vf_reason(reason, len, "cannot link audio of rendition %s", rd->name);
                return VF_ERR_INTERNAL;
            }
            set_offset(q, MUX_OFFSET);
        }
    }
    return VF_OK;
}

/* Maps a bus error to our codes: undecodable input is permanent, a write failure is not. */
static enum vf_err
bus_error(GstMessage *m, char *reason, size_t len)
{
    GError *gerr = NULL;
    char *dbg = NULL;
    gst_message_parse_error(m, &gerr, &dbg);
    const char *who = GST_OBJECT_NAME(GST_MESSAGE_SRC(m));
    enum vf_err err = VF_ERR_MEDIATYPE;
    if (gerr->domain == GST_RESOURCE_ERROR) {
        switch (gerr->code) {
        case GST_RESOURCE_ERROR_NO_SPACE_LEFT:
        case GST_RESOURCE_ERROR_WRITE:
        case GST_RESOURCE_ERROR_OPEN_WRITE:
        case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
        case GST_RESOURCE_ERROR_CLOSE:
        case GST_RESOURCE_ERROR_SYNC:
            err = VF_ERR_IO;
            break;
        default:
            break;
        }
    } else if (gerr->domain == GST_CORE_ERROR || gerr->domain == GST_LIBRARY_ERROR) {
        err = gerr->domain == GST_CORE_ERROR && gerr->code == GST_CORE_ERROR_MISSING_PLUGIN
                  ? VF_ERR_MEDIATYPE
                  : VF_ERR_INTERNAL;
    }
    vf_reason(reason, len, "%s: %s", who ? who : "pipeline", gerr->message);
    g_clear_error(&gerr);
    g_free(dbg);
    return err;
}

/*
 * What rendition `branch` really is, from the caps h264parse negotiated: "avc1.PPCCLL" (plus
 * AAC-LC when there is audio) into buf, and the frame rate into *fps -- the caps' when it is
 * fixed, else (a variable-rate source) `fallback`.
 */
static void
describe(GstElement *branch, bool audio, double fallback, char *buf, size_t len, double *fps)
{
    *fps = fallback;
    const char *profile = "high", *level = "4";
    GstElement *parse = gst_bin_get_by_name(GST_BIN(branch), "parse");
    GstCaps *caps = NULL;
    if (parse != NULL) {
        GstPad *pad = gst_element_get_static_pad(parse, "src");
        caps = gst_pad_get_current_caps(pad);
        gst_object_unref(pad);
        gst_object_unref(parse);
    }
    if (caps != NULL) {
        const GstStructure *s = gst_caps_get_structure(caps, 0);
        if (gst_structure_get_string(s, "profile"))
            profile = gst_structure_get_string(s, "profile");
        if (gst_structure_get_string(s, "level"))
            level = gst_structure_get_string(s, "level");
        int fn = 0, fd = 0;
        if (gst_structure_get_fraction(s, "framerate", &fn, &fd) && fn > 0 && fd > 0)
            *fps = (double)fn / fd;
    }
    const char *pc = "6400";
    if (strcmp(profile, "main") == 0)
        pc = "4d40";
    else if (strcmp(profile, "constrained-baseline") == 0 || strcmp(profile, "baseline") == 0)
        pc = "42e0";
    /* "3.1" -> 31, "4" -> 40, "1b" -> 11 */
    char *end = NULL;
    long major = strtol(level, &end, 10), minor = 0;
    if (end != NULL && *end == '.')
        minor = strtol(end + 1, NULL, 10);
    else if (end != NULL && *end == 'b')
        minor = 1;
    if (major < 1 || major > 6 || minor < 0 || minor > 9) {
        major = 4;
        minor = 0;
    }
    snprintf(buf, len, "avc1.%s%02lx%s", pc, (unsigned long)(major * 10 + minor),
             audio ? ",mp4a.40.2" : "");
    if (caps != NULL)
        gst_caps_unref(caps);
}

/* Encodes the kept frame as JPEG at the lowest rendition's size into outdir/thumbnail.jpg. */
static bool
write_thumbnail(struct run *r)
{
    if (r->thumb == NULL)
        return false;
    const struct rendition *rd = &r->o->r[0];
    GstCaps *jpeg =
        gst_caps_new_simple("image/jpeg", "width", G_TYPE_INT, rd->width, "height", G_TYPE_INT,
                            rd->height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
    GError *gerr = NULL;
    GstSample *out = gst_video_convert_sample(r->thumb, jpeg, 10 * GST_SECOND, &gerr);
    gst_caps_unref(jpeg);
    g_clear_error(&gerr);
    if (out == NULL)
        return false;
    GstBuffer *buf = gst_sample_get_buffer(out);
    GstMapInfo map;
    bool ok = false;
    if (buf != NULL && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        char path[4096], tmp[4200];
        snprintf(path, sizeof(path), "%s/thumbnail.jpg", r->o->outdir);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ok = write(fd, map.data, map.size) == (ssize_t)map.size;
            ok = close(fd) == 0 && ok;
            ok = ok && rename(tmp, path) == 0;
            if (!ok)
                unlink(tmp);
        }
        gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(out);
    return ok;
}

enum vf_err
pipeline_run(const struct pipeline_opts *o, struct pipeline_output *out, char *reason, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (reason != NULL && len > 0)
        reason[0] = '\0';
    if (o->nr == 0 || o->nr > LADDER_MAX || strchr(o->outdir, '%') != NULL) {
        vf_reason(reason, len, "bad transcode request");
        return VF_ERR_INTERNAL;
    }
    for (size_t i = 0; i < o->nr; i++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", o->outdir, o->r[i].name);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            vf_reason(reason, len, "cannot create %s: %s", o->r[i].name, strerror(errno));
            return VF_ERR_IO;
        }
    }

    struct run r;
    memset(&r, 0, sizeof(r));
    r.o = o;
    g_mutex_init(&r.lock);
    gst_segment_init(&r.segment, GST_FORMAT_TIME);
    r.thumb_at = (GstClockTime)(ladder_thumbnail_time(o->probe->duration) * GST_SECOND);
    atomic_store(&r.pos_ns, 0);
    atomic_store(&r.frames, 0);
    atomic_store(&r.video0, -1);
    atomic_store(&r.link_error, 0);

    enum vf_err err = build(&r, reason, len);
    GstBus *bus = NULL;
    if (err == VF_OK) {
        bus = gst_element_get_bus(r.pipe);
        if (gst_element_set_state(r.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
            GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
            if (m != NULL) {
                err = bus_error(m, reason, len);
                gst_message_unref(m);
            } else {
                vf_reason(reason, len, "the pipeline failed to start");
                err = VF_ERR_INTERNAL;
            }
        }
    }

    gint64 start = g_get_monotonic_time(), last_move = start, last_report = start;
    int64_t last_pos = -1;
    int last_pct = -1;
    double dur_ns = o->probe->duration * 1e9;
    while (err == VF_OK) {
        GstMessage *m =
            gst_bus_timed_pop_filtered(bus, 200 * GST_MSECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
        if (m != NULL) {
            bool eos = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
            if (!eos)
                err = bus_error(m, reason, len);
            gst_message_unref(m);
            if (eos)
                break;
            continue;
        }
        gint64 now = g_get_monotonic_time();
        int64_t pos = atomic_load(&r.pos_ns);
        int le = atomic_load(&r.link_error);
        if (le != 0) {
            vf_reason(reason, len, "%s",
                      le == 2   ? "not a usable video: the video stream cannot be decoded"
                      : le == 3 ? "the audio stream cannot be decoded"
                                : "cannot link a decoded stream");
            err = VF_ERR_MEDIATYPE;
        } else if (o->stop != NULL && *o->stop) {
            vf_reason(reason, len, "stopped by a signal");
            err = VF_ERR_TEMPFAIL;
        } else if (o->timeout_s > 0 && now - start > (gint64)o->timeout_s * G_USEC_PER_SEC) {
            vf_reason(reason, len,
                      "transcode took longer than %d s (TRANSCODE_TIMEOUT + "
                      "TRANSCODE_TIMEOUT_PER_SECOND x duration)",
                      o->timeout_s);
            err = VF_ERR_TIMEOUT;
        } else if (pos != last_pos) {
            last_pos = pos;
            last_move = now;
        } else if (o->stall_timeout_s > 0 &&
                   now - last_move > (gint64)o->stall_timeout_s * G_USEC_PER_SEC) {
            vf_reason(reason, len, "no progress for %d s (TRANSCODE_STALL_TIMEOUT)",
                      o->stall_timeout_s);
            err = VF_ERR_TIMEOUT;
        }
        int pct = dur_ns > 0 ? (int)((double)pos * 100.0 / dur_ns) : 0;
        pct = pct < 0 ? 0 : pct > 99 ? 99 : pct;
        /* A heartbeat every 5 s while frames move, so a watcher that counts lines sees life
         * even when a long video takes minutes per percent. */
        if (err == VF_OK && o->progress != NULL &&
            (pct != last_pct || (last_move == now && now - last_report > 5 * G_USEC_PER_SEC))) {
            o->progress(o->ctx, pct);
            last_pct = pct;
            last_report = now;
        }
    }

    if (err == VF_OK) {
        /* A variable frame rate has no fixed caps: the container's average, else the count. */
        double fps = o->probe->fps;
        if (!(fps > 0.0) && o->probe->duration > 0.0)
            fps = (double)atomic_load(&r.frames) / o->probe->duration;
        for (size_t i = 0; i < o->nr; i++)
            describe(r.branch[i], o->probe->has_audio, fps, out->codecs[i], sizeof(out->codecs[i]),
                     &out->frame_rate[i]);
    }
    if (bus != NULL)
        gst_object_unref(bus);
    if (r.pipe != NULL) {
        gst_element_set_state(r.pipe, GST_STATE_NULL);
        gst_object_unref(r.pipe);
    }
    gst_clear_buffer(&r.pack.stash);
    if (r.pack.pad != NULL)
        gst_object_unref(r.pack.pad);
    if (err == VF_OK)
        out->has_thumbnail = write_thumbnail(&r);
    if (r.thumb != NULL)
        gst_sample_unref(r.thumb);
    g_mutex_clear(&r.lock);
    return err;
}
