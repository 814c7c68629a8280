## fcgi/fcgi.mk -- the FastCGI responder (prefork master + workers) and its health handler.
## The web server templates (etc/lighttpd, etc/nginx) are distributed and installed by
## etc/deploy.mk.

sbin_PROGRAMS += fcgi/videoflix-fcgi
fcgi_videoflix_fcgi_SOURCES = fcgi/main.c fcgi/master.c fcgi/master.h fcgi/responder.c \
	fcgi/responder.h
fcgi_videoflix_fcgi_LDADD = fcgi/libvfhandlers.a $(VF_LIBS) $(FCGI_LIBS)

lint_sources += fcgi/main.c fcgi/master.c fcgi/responder.c fcgi/health.c
