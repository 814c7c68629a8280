## lib/domain/domain.mk -- layer 3: what Videoflix is about: users and tokens, videos and the
## catalogue, the job queue and its kinds' interface, mail, uploads and the media layout.
## Knows nothing of HTTP, FastCGI or GStreamer.
noinst_LIBRARIES += lib/domain/libvfdomain.a
lib_domain_libvfdomain_a_SOURCES = \
	lib/domain/app.h \
	lib/domain/user.c lib/domain/user.h \
	lib/domain/password.c lib/domain/password.h \
	lib/domain/token.c lib/domain/token.h \
	lib/domain/linktoken.c lib/domain/linktoken.h \
	lib/domain/ratelimit.c lib/domain/ratelimit.h \
	lib/domain/video.c lib/domain/video.h \
	lib/domain/hlsmaster.c lib/domain/hlsmaster.h \
	lib/domain/catalogue.c lib/domain/catalogue.h \
	lib/domain/media.c lib/domain/media.h \
	lib/domain/datadir.c lib/domain/datadir.h \
	lib/domain/urlsig.c lib/domain/urlsig.h \
	lib/domain/job.c lib/domain/job.h \
	lib/domain/jobkind.c lib/domain/jobkind.h \
	lib/domain/transcode_payload.c lib/domain/transcode_payload.h \
	lib/domain/videoadmin.c lib/domain/videoadmin.h \
	lib/domain/upload.c lib/domain/upload.h \
	lib/domain/mail.c lib/domain/mail.h \
	lib/domain/mailtls.c lib/domain/mailtls.h \
	lib/domain/accountmail.c lib/domain/accountmail.h
lib_domain_libvfdomain_a_CPPFLAGS = $(VF_DEFS) $(DOMAIN_CPPFLAGS)
lint_sources += $(filter %.c,$(lib_domain_libvfdomain_a_SOURCES))
