## bench/bench.mk -- benchmarks, run on demand (bench/README.md), never by the test suite.
# Latency of the database layer (bench/db_bench [N]).
noinst_PROGRAMS += bench/db_bench
bench_db_bench_LDADD = $(VF_DB_LIBS) $(EXT_LIBS)
# Claim throughput of the job queue (bench/jobs-claim).
noinst_PROGRAMS += bench/jobs-claim-bench
bench_jobs_claim_bench_SOURCES = bench/jobs_claim.c
bench_jobs_claim_bench_LDADD = $(VF_DOMAIN_LIBS) $(EXT_LIBS)
# bench/hls compiles bench/hello_fcgi.c itself (the hello-world FastCGI baseline).
lint_sources += bench/db_bench.c bench/jobs_claim.c bench/hello_fcgi.c
