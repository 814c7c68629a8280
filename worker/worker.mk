## worker/worker.mk -- videoflix-worker: claims jobs, runs each in a forked child, owns their
## state.  Every job kind lives here, one file each, referenced from worker/kinds.c.
sbin_PROGRAMS += worker/videoflix-worker
worker_videoflix_worker_SOURCES = worker/main.c worker/worker.h worker/slot.c worker/kinds.c \
	worker/mailjob.c worker/accountmailjob.c worker/transcodejob.c worker/prune.c
# Test builds only (configure --enable-test-hooks): the noop and fail kinds.
if ENABLE_TEST_HOOKS
worker_videoflix_worker_SOURCES += worker/testkinds.c
endif
worker_videoflix_worker_CPPFLAGS = $(VF_DEFS) $(DOMAIN_CPPFLAGS) $(GST_CPPFLAGS) \
	-I$(top_srcdir)/worker
worker_videoflix_worker_LDADD = $(VF_TRANSCODE_LIBS) $(VF_DOMAIN_LIBS) $(EXT_LIBS) $(GST_LIBS)
lint_sources += $(filter %.c,$(worker_videoflix_worker_SOURCES)) worker/testkinds.c
