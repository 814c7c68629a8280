## lib/base/base.mk -- layer 1: errors, logging, clocks, configuration, strings.  Depends on
## nothing of ours; compiled with its own headers only.
noinst_LIBRARIES += lib/base/libvfbase.a
lib_base_libvfbase_a_SOURCES = \
	lib/base/error.c lib/base/error.h \
	lib/base/log.c lib/base/log.h \
	lib/base/clock.c lib/base/clock.h \
	lib/base/config.c lib/base/config.h \
	lib/base/strbuf.c lib/base/strbuf.h \
	lib/base/utf8.c lib/base/utf8.h \
	lib/base/jsonobj.c lib/base/jsonobj.h \
	lib/base/fstree.c lib/base/fstree.h \
	lib/base/child.c lib/base/child.h \
	lib/base/procgate.c lib/base/procgate.h \
	lib/base/metrics.c lib/base/metrics.h
lib_base_libvfbase_a_CPPFLAGS = $(VF_DEFS) $(BASE_CPPFLAGS)
lint_sources += $(filter %.c,$(lib_base_libvfbase_a_SOURCES))
