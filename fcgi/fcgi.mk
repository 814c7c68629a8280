## fcgi/fcgi.mk -- videoflix-fcgi: the prefork master, the responder loop and the handlers
## (one file per resource, their route tables in fcgi/routes.c).  The web server templates
## (etc/lighttpd, etc/nginx) are distributed and installed by etc/deploy.mk.
sbin_PROGRAMS += fcgi/videoflix-fcgi
fcgi_videoflix_fcgi_SOURCES = \
	fcgi/main.c fcgi/master.c fcgi/master.h fcgi/responder.c fcgi/responder.h \
	fcgi/cgienv.c fcgi/cgienv.h \
	fcgi/routes.c fcgi/routes.h fcgi/health.c fcgi/accounts.c fcgi/catalogue.c fcgi/admin.c \
	fcgi/schema.c fcgi/metrics.c \
	fcgi/uploadform.c fcgi/uploadform.h
# Test builds only (configure --enable-test-hooks): the /api/health/debug/ routes.
if ENABLE_TEST_HOOKS
fcgi_videoflix_fcgi_SOURCES += fcgi/testroutes.c
endif
fcgi_videoflix_fcgi_CPPFLAGS = $(VF_DEFS) $(WEB_CPPFLAGS) $(GST_CPPFLAGS) -I$(top_srcdir)/fcgi
fcgi_videoflix_fcgi_LDADD = $(VF_TRANSCODE_LIBS) $(VF_WEB_LIBS) $(EXT_LIBS) $(FCGI_LIBS) \
	$(GST_LIBS)
lint_sources += $(filter %.c,$(fcgi_videoflix_fcgi_SOURCES)) fcgi/testroutes.c
