## gst-pipelines/gst.mk -- the transcoder: GStreamer pipelines run in forked children.
##
## libvftranscode.a holds everything that touches GStreamer; only the programs that run
## pipelines link it (with $(GST_LIBS)): videoflixctl (transcode-file), videoflix-worker (the
## "transcode" job kind) and the FastCGI app (probe at upload time).  Link order: this library
## first, then $(VF_LIBS) (it uses the core), then GStreamer: use $(VF_TRANSCODE_LIBS).

noinst_LIBRARIES += gst-pipelines/libvftranscode.a
gst_pipelines_libvftranscode_a_SOURCES = \
	gst-pipelines/ladder.c gst-pipelines/ladder.h \
	gst-pipelines/playlist.c gst-pipelines/playlist.h \
	gst-pipelines/probe.c gst-pipelines/probe.h \
	gst-pipelines/pipeline.c gst-pipelines/pipeline.h \
	gst-pipelines/transcode.c gst-pipelines/transcode.h \
	gst-pipelines/transcode_job.c gst-pipelines/transcode_job.h
gst_pipelines_libvftranscode_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/gst-pipelines
gst_pipelines_libvftranscode_a_CFLAGS = $(AM_CFLAGS) $(GST_CFLAGS)

VF_TRANSCODE_LIBS = gst-pipelines/libvftranscode.a $(VF_LIBS) $(GST_LIBS)

# Queueing a transcode needs no GStreamer: the payload helpers live in the core library.
lib_libvideoflix_a_SOURCES += gst-pipelines/transcode_payload.c gst-pipelines/transcode_job.h

# videoflix-worker runs the "transcode" kind (worker/kinds.c references it weakly, hence -u).
worker_videoflix_worker_LDADD += $(VF_TRANSCODE_LIBS)
worker_videoflix_worker_LDFLAGS += -Wl,-u,job_kind_transcode

# videoflixctl transcode-file (ctl/transcode.c) runs the pipeline without the database.
ctl_videoflixctl_LDADD = $(VF_TRANSCODE_LIBS)

lint_sources += gst-pipelines/ladder.c gst-pipelines/playlist.c gst-pipelines/probe.c \
	gst-pipelines/pipeline.c gst-pipelines/transcode.c gst-pipelines/transcode_job.c \
	gst-pipelines/transcode_payload.c

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_ladder tests/unit/test_playlist tests/unit/test_transcode_payload
tests_unit_test_transcode_payload_SOURCES = tests/unit/test_transcode_payload.c
tests_unit_test_transcode_payload_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_transcode_payload_LDADD = $(UNIT_LDADD)
tests_unit_test_ladder_SOURCES = tests/unit/test_ladder.c gst-pipelines/ladder.c
tests_unit_test_ladder_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/gst-pipelines
tests_unit_test_ladder_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ladder_LDADD = $(UNIT_LDADD)
tests_unit_test_playlist_SOURCES = tests/unit/test_playlist.c gst-pipelines/playlist.c
tests_unit_test_playlist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/gst-pipelines
tests_unit_test_playlist_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_playlist_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_ladder.c tests/unit/test_playlist.c \
	tests/unit/test_transcode_payload.c
endif
