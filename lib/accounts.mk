## lib/accounts.mk -- the accounts area: library modules, handlers and tests.

lib_libvideoflix_a_SOURCES += \
	lib/password.c lib/password.h \
	lib/token.c lib/token.h \
	lib/linktoken.c lib/linktoken.h \
	lib/user.c lib/user.h \
	lib/ratelimit.c lib/ratelimit.h \
	lib/form.c lib/form.h \
	lib/auth.c lib/auth.h

lint_sources += lib/password.c lib/token.c lib/linktoken.c lib/user.c lib/ratelimit.c \
	lib/form.c lib/auth.c fcgi/accounts.c

EXTRA_DIST += tests/unit/fixtures/django-hashes.txt tests/unit/fixtures/django-hashes.py

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_password tests/unit/test_policy tests/unit/test_token \
	tests/unit/test_linktoken tests/unit/test_form tests/unit/test_auth
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c
tests_unit_test_auth_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_auth_LDADD = $(UNIT_LDADD)
tests_unit_test_form_SOURCES = tests/unit/test_form.c
tests_unit_test_form_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_form_LDADD = $(UNIT_LDADD)
tests_unit_test_password_SOURCES = tests/unit/test_password.c
tests_unit_test_password_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_password_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
tests_unit_test_token_SOURCES = tests/unit/test_token.c
tests_unit_test_token_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_token_LDADD = $(UNIT_LDADD)
tests_unit_test_linktoken_SOURCES = tests/unit/test_linktoken.c
tests_unit_test_linktoken_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_linktoken_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_auth.c tests/unit/test_form.c tests/unit/test_linktoken.c \
	tests/unit/test_password.c tests/unit/test_policy.c tests/unit/test_token.c
endif

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_token
tests_fuzz_fuzz_token_SOURCES = tests/fuzz/fuzz_token.c
tests_fuzz_fuzz_token_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_token_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_token_LDADD = $(VF_LIBS)
endif
lint_sources += tests/fuzz/fuzz_token.c
