## lib/web/web.mk -- layer 4: the HTTP model independent of libfcgi, routing with the
## contract's CORS/Origin/error rules, JSON replies, declared input, multipart, cookie auth,
## the HLS path allow-list.
noinst_LIBRARIES += lib/web/libvfweb.a
lib_web_libvfweb_a_SOURCES = \
	lib/web/http.c lib/web/http.h \
	lib/web/json.c lib/web/json.h \
	lib/web/route.c lib/web/route.h \
	lib/web/form.c lib/web/form.h \
	lib/web/multipart.c lib/web/multipart.h \
	lib/web/auth.c lib/web/auth.h \
	lib/web/mediafile.c lib/web/mediafile.h \
	lib/web/compress.c lib/web/compress.h
lib_web_libvfweb_a_CPPFLAGS = $(VF_DEFS) $(WEB_CPPFLAGS)
lint_sources += $(filter %.c,$(lib_web_libvfweb_a_SOURCES))
