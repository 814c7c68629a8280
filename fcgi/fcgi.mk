## fcgi/fcgi.mk -- the FastCGI responder (prefork master + workers) and its health handler.

# The version string the health check and --version report (lib/config.h shadows
# autoconf's config.h, so it is passed on the command line).
AM_CPPFLAGS += -DVF_VERSION=\"$(PACKAGE_VERSION)\"

sbin_PROGRAMS += fcgi/videoflix-fcgi
fcgi_videoflix_fcgi_SOURCES = fcgi/main.c fcgi/master.c fcgi/master.h fcgi/responder.c \
	fcgi/responder.h
fcgi_videoflix_fcgi_LDADD = fcgi/libvfhandlers.a $(VF_LIBS) $(FCGI_LIBS)

lint_sources += fcgi/main.c fcgi/master.c fcgi/responder.c fcgi/health.c

# Web server configuration templates (@PLACEHOLDERS@ rendered by script/server and the
# integration harness; pasteable for sysadmins).
vfconfdir = $(pkgdatadir)/etc
nobase_dist_vfconf_DATA = etc/lighttpd/videoflix.conf etc/nginx/videoflix.conf
