/* jobs_claim.c -- benchmark: claim + complete throughput of the job queue (jobs/s); not a test. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "job.h"
#include "log.h"

/* Seconds on the monotonic clock. */
static double
now_s(void)
{
    return (double)clock_mono_us() / 1e6;
}

/* Claim and complete "bench" jobs until none is left; returns how many. */
static long
drain(const struct config *cfg)
{
    struct db *db = NULL;
    if (db_open_create(cfg, &db) != VF_OK)
        return -1;
    char owner[JOB_OWNER_MAX];
    job_owner_name(owner, sizeof(owner));
    long n = 0;
    int misses = 0;
    while (misses < 3) {
        struct job *job = NULL;
        enum vf_err err = job_claim(db, owner, "bench", 60, &job);
        if (err == VF_ERR_NOTFOUND) {
            misses++;
            continue;
        }
        if (err != VF_OK) {
            usleep(1000);
            continue;
        }
        misses = 0;
        if (job_complete(db, job, NULL) == VF_OK)
            n++;
        job_free(job);
    }
    db_close(db);
    return n;
}

/* argv[i] as a number, `def` when absent, -1 when it is not a whole decimal number. */
static long
arg_long(int argc, char **argv, int i, long def)
{
    if (argc <= i)
        return def;
    char *end = NULL;
    long v = strtol(argv[i], &end, 10);
    return end != argv[i] && *end == '\0' ? v : -1;
}

int
main(int argc, char **argv)
{
    long jobs = arg_long(argc, argv, 1, 2000);
    long procs = arg_long(argc, argv, 2, 1);
    char err[512];
    struct config *cfg = NULL;
    if (jobs < 1 || procs < 1 || procs > 64) {
        fprintf(stderr, "usage: jobs-claim-bench [JOBS] [PROCESSES]\n");
        return 2;
    }
    if (config_load(NULL, &cfg, err, sizeof(err)) != VF_OK) {
        fprintf(stderr, "jobs-claim-bench: %s\n", err);
        return 1;
    }
    log_init("jobs-claim-bench", CONFIG_LOG_WARN);
    struct db *db = NULL;
    if (db_open_create(cfg, &db) != VF_OK)
        return 1;
    double t0 = now_s();
    enum vf_err e = db_begin(db);
    for (long i = 0; e == VF_OK && i < jobs; i++)
        e = job_enqueue(db, "bench", "{}", 0, 1, NULL);
    if (e == VF_OK)
        e = db_commit(db);
    if (e != VF_OK) {
        fprintf(stderr, "jobs-claim-bench: enqueue: %s\n", vf_strerror(e));
        return 1;
    }
    double t1 = now_s();
    db_close(db);

    int fds[64][2];
    for (int p = 0; p < procs; p++) {
        if (pipe(fds[p]) != 0)
            return 1;
        if (fork() == 0) {
            long n = drain(cfg);
            ssize_t w = write(fds[p][1], &n, sizeof(n));
            _exit(w == (ssize_t)sizeof(n) ? 0 : 1);
        }
        close(fds[p][1]);
    }
    long total = 0;
    for (int p = 0; p < procs; p++) {
        long n = 0;
        if (read(fds[p][0], &n, sizeof(n)) == (ssize_t)sizeof(n) && n > 0)
            total += n;
        close(fds[p][0]);
    }
    while (wait(NULL) > 0)
        ;
    double t2 = now_s();
    printf("%s: enqueue %ld jobs in one transaction: %.0f jobs/s; claim+complete with %ld "
           "process(es): %ld jobs in %.2f s = %.0f jobs/s\n",
           cfg->db_engine == CONFIG_DB_POSTGRES ? "postgresql" : "sqlite", jobs,
           (double)jobs / (t1 - t0), procs, total, t2 - t1, (double)total / (t2 - t1));
    config_free(cfg);
    return total == jobs ? 0 : 1;
}
