## lib/catalogue.mk -- the catalogue area: library modules, handlers and tests.
lib_libvideoflix_a_SOURCES += lib/video.c lib/video.h
lint_sources += lib/video.c
lib_libvideoflix_a_SOURCES += lib/mediafile.c lib/mediafile.h lib/urlsig.c lib/urlsig.h
lint_sources += lib/mediafile.c lib/urlsig.c

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_mediafile tests/unit/test_urlsig
tests_unit_test_mediafile_SOURCES = tests/unit/test_mediafile.c
tests_unit_test_mediafile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mediafile_LDADD = $(UNIT_LDADD)
tests_unit_test_urlsig_SOURCES = tests/unit/test_urlsig.c
tests_unit_test_urlsig_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_urlsig_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_mediafile.c tests/unit/test_urlsig.c
endif
lib_libvideoflix_a_SOURCES += lib/catalogue.c lib/catalogue.h
lint_sources += lib/catalogue.c fcgi/catalogue.c

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_catalogue
tests_unit_test_catalogue_SOURCES = tests/unit/test_catalogue.c tests/unit/dbfixture.c \
	tests/unit/dbfixture.h
tests_unit_test_catalogue_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_catalogue_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_catalogue.c
endif
lint_sources += bench/hello_fcgi.c

# Fuzz target (CC=clang ./configure --enable-fuzzing): path allow-list, signed queries, ETags.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_mediapath
tests_fuzz_fuzz_mediapath_SOURCES = tests/fuzz/fuzz_mediapath.c
tests_fuzz_fuzz_mediapath_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_mediapath_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_mediapath_LDADD = $(VF_LIBS)
endif
lint_sources += tests/fuzz/fuzz_mediapath.c
