## ctl/ctl.mk -- videoflixctl: the sysadmin's tool; command tables per area (ctl/<area>.c),
## dispatch in ctl/main.c.
sbin_PROGRAMS += ctl/videoflixctl
ctl_videoflixctl_SOURCES = ctl/main.c ctl/ctl.h ctl/core.c ctl/accounts.c ctl/jobs.c ctl/video.c \
	ctl/transcode.c
ctl_videoflixctl_CPPFLAGS = $(VF_DEFS) $(DOMAIN_CPPFLAGS) $(GST_CPPFLAGS) -I$(top_srcdir)/ctl
ctl_videoflixctl_LDADD = $(VF_TRANSCODE_LIBS) $(VF_DOMAIN_LIBS) $(EXT_LIBS) $(GST_LIBS)
lint_sources += $(filter %.c,$(ctl_videoflixctl_SOURCES))
