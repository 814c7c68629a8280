## lib/catalogue.mk -- the catalogue area: library modules, handlers and tests.
