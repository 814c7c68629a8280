## lib/jobs.mk -- the jobs area: library modules, handlers and tests.
