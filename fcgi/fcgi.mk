## fcgi/fcgi.mk -- the FastCGI responder (prefork master + workers) and its health handler.
## The web server templates (etc/lighttpd, etc/nginx) are distributed and installed by
## etc/deploy.mk.

sbin_PROGRAMS += fcgi/videoflix-fcgi
fcgi_videoflix_fcgi_SOURCES = fcgi/main.c fcgi/master.c fcgi/master.h fcgi/responder.c \
	fcgi/cgienv.c fcgi/cgienv.h \
	fcgi/responder.h
# VF_TRANSCODE_LIBS (gst-pipelines/gst.mk): uploads are probed (lib/admin.mk).
fcgi_videoflix_fcgi_LDADD = fcgi/libvfhandlers.a $(VF_TRANSCODE_LIBS) $(FCGI_LIBS)

lint_sources += fcgi/main.c fcgi/master.c fcgi/responder.c fcgi/cgienv.c fcgi/health.c \
	tests/unit/test_cgienv.c

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_cgienv
tests_unit_test_cgienv_SOURCES = tests/unit/test_cgienv.c fcgi/cgienv.c fcgi/cgienv.h
tests_unit_test_cgienv_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fcgi
tests_unit_test_cgienv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cgienv_LDADD = $(UNIT_LDADD)
endif
