## lib/catalogue.mk -- the catalogue area: library modules, handlers and tests.
lib_libvideoflix_a_SOURCES += lib/video.c lib/video.h
lint_sources += lib/video.c
