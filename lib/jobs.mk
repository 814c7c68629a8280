## lib/jobs.mk -- the jobs area: the queue, the mail outbox, videoflix-worker, tests, bench.

lib_libvideoflix_a_SOURCES += lib/job.c lib/job.h lib/jobkind.c lib/jobkind.h \
	lib/mail.c lib/mail.h lib/mailtls.c lib/mailtls.h
lint_sources += lib/job.c lib/jobkind.c lib/mail.c lib/mailtls.c
# mail.c (STARTTLS context) and mailtls.c (SMTPS relay) use libssl directly.
AM_CFLAGS += $(SSL_CFLAGS)
VF_LIBS += $(SSL_LIBS)

# videoflix-worker.  The transcoder appends its job kind (gst-pipelines/gst.mk):
#   worker_videoflix_worker_LDADD += <library with job_kind_transcode> $(GST_LIBS)
#   worker_videoflix_worker_LDFLAGS += -Wl,-u,job_kind_transcode
# worker/kinds.c references job_kind_transcode weakly (the worker runs mail without
# it); a weak reference does not pull a member out of a static library, hence -u.
sbin_PROGRAMS += worker/videoflix-worker
worker_videoflix_worker_SOURCES = worker/main.c worker/worker.h worker/child.c worker/kinds.c \
	worker/testkinds.c worker/prune.c
worker_videoflix_worker_LDADD = $(VF_LIBS)
worker_videoflix_worker_LDFLAGS =
lint_sources += worker/main.c worker/child.c worker/kinds.c worker/testkinds.c worker/prune.c

# Claim throughput benchmark (bench/jobs-claim; not a test).
noinst_PROGRAMS += bench/jobs-claim-bench
bench_jobs_claim_bench_SOURCES = bench/jobs_claim.c
lint_sources += bench/jobs_claim.c

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_job tests/unit/test_mail
tests_unit_test_job_SOURCES = tests/unit/test_job.c tests/unit/dbfixture.c tests/unit/dbfixture.h
tests_unit_test_job_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_job_LDADD = $(UNIT_LDADD)
tests_unit_test_mail_SOURCES = tests/unit/test_mail.c
tests_unit_test_mail_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mail_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_job.c tests/unit/test_mail.c
endif

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_mail
tests_fuzz_fuzz_mail_SOURCES = tests/fuzz/fuzz_mail.c
tests_fuzz_fuzz_mail_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_mail_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_mail_LDADD = $(VF_LIBS)
endif
lint_sources += tests/fuzz/fuzz_mail.c
