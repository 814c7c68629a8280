## tests/tests.mk -- test drivers shared by all areas (integration runner, fuzz targets).
##
## Unit tests: each area registers criterion programs in its own fragment.
## Integration tests: tests/integration/test_*.py, run by tests/integration/run against a
## build tree (`make check-integration` here, or script/test for the whole suite).
## Fuzz targets: tests/fuzz/fuzz_<name>.c, libFuzzer, built with
## `CC=clang ./configure --enable-fuzzing [--enable-sanitizers]`; script/test runs every
## tests/fuzz/fuzz_* binary with tests/fuzz/corpus/fuzz_<name>/ as its seed corpus.
## Another area adds a target the same way (in its own fragment, inside ENABLE_FUZZING):
##   noinst_PROGRAMS += tests/fuzz/fuzz_x
##   tests_fuzz_fuzz_x_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
##   tests_fuzz_fuzz_x_LDFLAGS = $(FUZZ_FLAGS)

FUZZ_FLAGS = -fsanitize=fuzzer

EXTRA_DIST += tests/integration tests/fuzz/corpus

check-integration: all
	VF_BUILD_DIR=$(abs_top_builddir) $(srcdir)/tests/integration/run
.PHONY: check-integration

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_request
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c fcgi/cgienv.c fcgi/cgienv.h
tests_fuzz_fuzz_request_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fcgi
tests_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_request_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_request_LDADD = $(VF_LIBS)
endif

lint_sources += tests/fuzz/fuzz_request.c

# tests/integration/test_contract.py drives the frontend's cross-origin use of the API in
# headless Chromium with this script (playwright-core from tests/browser/package.json).
EXTRA_DIST += tests/browser/frontend_cors.mjs
