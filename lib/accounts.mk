## lib/accounts.mk -- the accounts area: library modules, handlers and tests.
