## lib/core.mk -- the core library (config, logging, HTTP model, routing) that
## every program and test links, and the handler library of the FastCGI app.

noinst_LIBRARIES += lib/libvideoflix.a fcgi/libvfhandlers.a
lib_libvideoflix_a_SOURCES = \
	lib/error.c lib/error.h \
	lib/config.c lib/config.h \
	lib/log.c lib/log.h \
	lib/clock.c lib/clock.h \
	lib/stmt.c lib/stmt.h lib/sql/core.def lib/sql/accounts.def lib/sql/jobs.def \
	lib/sql/catalogue.def lib/sql/admin.def \
	lib/http.c lib/http.h \
	lib/json.c lib/json.h \
	lib/route.c lib/route.h \
	lib/utf8.c lib/utf8.h \
	lib/strbuf.c lib/strbuf.h \
	lib/app.h

# Handlers: one file per resource; each area appends its own in its fragment.
fcgi_libvfhandlers_a_SOURCES = fcgi/routes.c fcgi/health.c fcgi/accounts.c fcgi/catalogue.c \
	fcgi/admin.c

lint_sources += lib/error.c lib/config.c lib/log.c lib/clock.c lib/stmt.c lib/http.c \
	lib/json.c lib/route.c lib/utf8.c lib/strbuf.c fcgi/routes.c

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_config tests/unit/test_http tests/unit/test_route
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_http_LDADD = $(UNIT_LDADD)
tests_unit_test_route_SOURCES = tests/unit/test_route.c
tests_unit_test_route_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_route_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_config.c tests/unit/test_http.c tests/unit/test_route.c
check_PROGRAMS += tests/unit/test_strbuf
tests_unit_test_strbuf_SOURCES = tests/unit/test_strbuf.c
tests_unit_test_strbuf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_strbuf_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_strbuf.c
endif

# videoflixctl: command tables per area (ctl/<area>.c), dispatch in ctl/main.c.
sbin_PROGRAMS += ctl/videoflixctl
ctl_videoflixctl_SOURCES = ctl/main.c ctl/ctl.h ctl/core.c ctl/accounts.c ctl/jobs.c ctl/video.c \
	ctl/transcode.c
lint_sources += ctl/main.c ctl/core.c ctl/accounts.c ctl/jobs.c ctl/video.c ctl/transcode.c
