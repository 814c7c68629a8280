## lib/admin.mk -- the admin area: library modules, handlers and tests.
