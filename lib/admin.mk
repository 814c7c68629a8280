## lib/admin.mk -- the admin area: library modules, handlers and tests.

# Streaming multipart/form-data parser, the upload pipeline, staff operations on videos.
lib_libvideoflix_a_SOURCES += lib/multipart.c lib/multipart.h lib/upload.c lib/upload.h \
	lib/videoadmin.c lib/videoadmin.h
lint_sources += lib/multipart.c lib/upload.c lib/videoadmin.c fcgi/admin.c ctl/video.c

# lib/upload.c probes uploads with the transcoder's probe_file() (gst-pipelines), which it
# references weakly so that programs without uploads need not link GStreamer.  The two
# programs that take uploads link libvftranscode.a ($(VF_TRANSCODE_LIBS)) and force the
# symbol in: a weak reference alone does not pull a member out of a static library.
fcgi_videoflix_fcgi_LDFLAGS = -Wl,-u,probe_file
ctl_videoflixctl_LDFLAGS = -Wl,-u,probe_file

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_multipart tests/unit/test_upload
tests_unit_test_multipart_SOURCES = tests/unit/test_multipart.c
tests_unit_test_multipart_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_multipart_LDADD = $(UNIT_LDADD)
tests_unit_test_upload_SOURCES = tests/unit/test_upload.c
tests_unit_test_upload_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_upload_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_multipart tests/unit/test_upload
lint_sources += tests/unit/test_multipart.c tests/unit/test_upload.c
endif

# The multipart fuzz target.  make check replays its seed corpus with a plain
# driver (no arguments: the corpus in the source tree); ./configure
# --enable-fuzzing CC=clang builds the libFuzzer binary (script/test runs it):
#   tests/fuzz/fuzz_multipart -max_total_time=300 $(srcdir)/tests/fuzz/corpus/fuzz_multipart
check_PROGRAMS += tests/fuzz/replay_multipart
tests_fuzz_replay_multipart_SOURCES = tests/fuzz/fuzz_multipart.c
tests_fuzz_replay_multipart_LDADD = $(VF_LIBS)
TESTS += tests/fuzz/replay_multipart
lint_sources += tests/fuzz/fuzz_multipart.c
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_multipart
tests_fuzz_fuzz_multipart_SOURCES = tests/fuzz/fuzz_multipart.c
tests_fuzz_fuzz_multipart_CPPFLAGS = $(AM_CPPFLAGS) -DVF_LIBFUZZER
tests_fuzz_fuzz_multipart_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_multipart_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_multipart_LDADD = $(VF_LIBS)
endif

# The browser test (tests/integration/test_admin_browser.py runs it); node_modules is
# installed there by `npm ci` from the committed lock file on first use.
EXTRA_DIST += tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/admin_panel.mjs
