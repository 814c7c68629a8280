## tests/tests.mk -- unit tests (criterion, tests/unit), fuzz targets (libFuzzer, tests/fuzz) and
## the integration runner (tests/integration/run, `make check-integration`; script/test runs
## the whole suite).  Tests sit above every layer: AM_CPPFLAGS gives them every header.

# Unit tests: one criterion program per module, tests/unit/test_<module>.c unless listed
# below with more sources.  Adding one is adding its name here.
unit_tests = tests/unit/test_accountmail tests/unit/test_auth tests/unit/test_build \
	tests/unit/test_catalogue tests/unit/test_cgienv tests/unit/test_compress tests/unit/test_config \
	tests/unit/test_db tests/unit/test_form tests/unit/test_hlsmaster tests/unit/test_http \
	tests/unit/test_job tests/unit/test_ladder tests/unit/test_linktoken tests/unit/test_mail \
	tests/unit/test_mediafile tests/unit/test_multipart tests/unit/test_password \
	tests/unit/test_playlist tests/unit/test_policy tests/unit/test_procgate tests/unit/test_metrics \
	tests/unit/test_ratelimit tests/unit/test_route tests/unit/test_strbuf tests/unit/test_token \
	tests/unit/test_transcode_payload tests/unit/test_tsindex tests/unit/test_tsrebase \
	tests/unit/test_upload tests/unit/test_utf8 tests/unit/test_urlsig
if HAVE_CRITERION
check_PROGRAMS += $(unit_tests)
endif
# tests/unit/dbfixture.{c,h}: a throwaway SQLite/PostgreSQL database per case.
tests_unit_test_db_SOURCES = tests/unit/test_db.c tests/unit/dbfixture.c tests/unit/dbfixture.h
tests_unit_test_job_SOURCES = tests/unit/test_job.c tests/unit/dbfixture.c tests/unit/dbfixture.h
tests_unit_test_catalogue_SOURCES = tests/unit/test_catalogue.c tests/unit/dbfixture.c \
	tests/unit/dbfixture.h
tests_unit_test_ratelimit_SOURCES = tests/unit/test_ratelimit.c tests/unit/dbfixture.c \
	tests/unit/dbfixture.h
tests_unit_test_accountmail_SOURCES = tests/unit/test_accountmail.c tests/unit/dbfixture.c \
	tests/unit/dbfixture.h
# Program modules under test, compiled in.
# test_build: the real route list (fcgi/routes.c) over the health table and, in a test build,
# the debug routes; it also reads the built programs (VF_BUILDDIR).
tests_unit_test_build_SOURCES = tests/unit/test_build.c fcgi/routes.c fcgi/health.c
if ENABLE_TEST_HOOKS
tests_unit_test_build_SOURCES += fcgi/testroutes.c
endif
tests_unit_test_build_CPPFLAGS = $(AM_CPPFLAGS) -DVF_BUILDDIR=\"$(abs_top_builddir)\"
tests_unit_test_cgienv_SOURCES = tests/unit/test_cgienv.c fcgi/cgienv.c fcgi/cgienv.h
tests_unit_test_upload_SOURCES = tests/unit/test_upload.c fcgi/uploadform.c fcgi/uploadform.h
tests_unit_test_ladder_SOURCES = tests/unit/test_ladder.c gst-pipelines/ladder.c
tests_unit_test_playlist_SOURCES = tests/unit/test_playlist.c gst-pipelines/playlist.c
tests_unit_test_tsrebase_SOURCES = tests/unit/test_tsrebase.c gst-pipelines/tsrebase.c
tests_unit_test_tsindex_SOURCES = tests/unit/test_tsindex.c gst-pipelines/tsindex.c
lint_sources += $(unit_tests:=.c) tests/unit/dbfixture.c
EXTRA_DIST += tests/unit/criterion.cfg tests/unit/fixtures tests/fixtures/schema

# Fuzz targets: tests/fuzz/fuzz_<name>.c, built with `CC=clang ./configure --enable-fuzzing
# [--enable-sanitizers]`; script/test runs every tests/fuzz/fuzz_* binary with
# tests/fuzz/corpus/fuzz_<name>/ as its seed corpus.
FUZZ_FLAGS = -fsanitize=fuzzer
fuzz_targets = tests/fuzz/fuzz_request tests/fuzz/fuzz_token tests/fuzz/fuzz_mail \
	tests/fuzz/fuzz_mediapath tests/fuzz/fuzz_multipart
if ENABLE_FUZZING
noinst_PROGRAMS += $(fuzz_targets)
endif
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c fcgi/cgienv.c fcgi/cgienv.h
tests_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_request_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_token_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_token_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_mail_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_mail_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_mediapath_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_mediapath_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_multipart_CPPFLAGS = $(AM_CPPFLAGS) -DVF_LIBFUZZER
tests_fuzz_fuzz_multipart_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_multipart_LDFLAGS = $(FUZZ_FLAGS)
# make check replays the multipart seed corpus with a plain driver (no libFuzzer needed).
check_PROGRAMS += tests/fuzz/replay_multipart
tests_fuzz_replay_multipart_SOURCES = tests/fuzz/fuzz_multipart.c
lint_sources += $(fuzz_targets:=.c)
EXTRA_DIST += tests/fuzz/corpus

# Integration tests: tests/integration/test_*.py against a build tree; the browser scripts
# (tests/browser, playwright-core from the committed lock file) are run by them.
EXTRA_DIST += tests/integration tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/admin_panel.mjs tests/browser/frontend_cors.mjs tests/browser/api_docs.mjs
check-integration: all
	VF_BUILD_DIR=$(abs_top_builddir) $(srcdir)/tests/integration/run
.PHONY: check-integration
