## gst-pipelines/gst.mk -- the transcoder: GStreamer pipelines, run in forked children.  A
## library above the domain layer; the programs that run pipelines link it with $(GST_LIBS):
## videoflix-worker (its "transcode" job kind), videoflixctl (transcode-file, video add) and
## videoflix-fcgi (the probe of an upload).
noinst_LIBRARIES += gst-pipelines/libvftranscode.a
gst_pipelines_libvftranscode_a_SOURCES = \
	gst-pipelines/ladder.c gst-pipelines/ladder.h \
	gst-pipelines/playlist.c gst-pipelines/playlist.h \
	gst-pipelines/probe.c gst-pipelines/probe.h \
	gst-pipelines/pipeline.c gst-pipelines/pipeline.h \
	gst-pipelines/transcode.c gst-pipelines/transcode.h \
	gst-pipelines/tsrebase.c gst-pipelines/tsrebase.h \
	gst-pipelines/tsindex.c gst-pipelines/tsindex.h
gst_pipelines_libvftranscode_a_CPPFLAGS = $(VF_DEFS) $(DOMAIN_CPPFLAGS) $(GST_CPPFLAGS)
gst_pipelines_libvftranscode_a_CFLAGS = $(AM_CFLAGS) $(GST_CFLAGS)
VF_TRANSCODE_LIBS = gst-pipelines/libvftranscode.a
lint_sources += $(filter %.c,$(gst_pipelines_libvftranscode_a_SOURCES))
