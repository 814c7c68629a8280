/* test_ratelimit.c -- the rate-limit counters on SQLite and PostgreSQL: a take checks and counts
 * in one statement (no overshoot however many processes take at once), refunds, windows, and
 * the login sources that exempt an account's known addresses from its looser limit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "db.h"
#include "dbfixture.h"
#include "ratelimit.h"
#include "user.h"

#define SCHEMA VF_SRCDIR "/schema"
#define T0     1800000000000000LL /* microseconds */
#define SEC    1000000LL

static const struct dbfixture_setup fixture = { "ratelimit", SCHEMA, T0 };

#define RL_CASE(name) DBFIXTURE_CASE(fixture, sqlite, postgres, name)

RL_CASE(take_counts_up_to_the_limit_then_refuses_with_the_wait)
{
    int64_t retry = -1, ticket = 0;
    for (int i = 0; i < 3; i++)
        cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, &ticket), VF_OK);
    cr_expect_eq(ticket, T0, "the ticket is the window's start");
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_ERR_RATELIMIT);
    cr_expect_eq(retry, 60);
    cr_expect_eq(ratelimit_take(fx->db, "other", 3, 60, &retry, NULL), VF_OK, "independent");
    clock_set_us(T0 + 45 * SEC);
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_ERR_RATELIMIT);
    cr_expect_eq(retry, 15);
    /* a refund makes room once, in the same window only */
    cr_expect_eq(ratelimit_refund(fx->db, "b", ticket), VF_OK);
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_OK, "refunded");
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_ERR_RATELIMIT);
    clock_set_us(T0 + 60 * SEC);
    int64_t fresh = 0;
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, &fresh), VF_OK, "a new window");
    cr_expect_eq(fresh, T0 + 60 * SEC);
    cr_expect_eq(ratelimit_refund(fx->db, "b", ticket), VF_OK, "an old ticket");
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_OK);
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_OK);
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_ERR_RATELIMIT,
                 "an old window's ticket gives nothing back");
    cr_expect_eq(ratelimit_reset(fx->db, "b"), VF_OK);
    cr_expect_eq(ratelimit_take(fx->db, "b", 3, 60, &retry, NULL), VF_OK, "reset");
    cr_expect_eq(ratelimit_take(fx->db, "x", 0, 60, &retry, &ticket), VF_OK, "limit 0: none");
    cr_expect_eq(ticket, 0);
    int64_t n = 0;
    clock_set_us(T0 + 200 * SEC);
    cr_expect_eq(ratelimit_prune(fx->db, 60, &n), VF_OK);
    cr_expect_eq(n, 2, "closed windows are deleted");
}

/* The old check-then-count let every process that checked before the others counted through:
 * 13 evaluated against a limit of 10 with 4 workers.  Now exactly `limit` takes succeed. */
RL_CASE(concurrent_takes_never_overshoot_the_limit)
{
    enum { PROCS = 8, TRIES = 25, LIMIT = 37 };
    int pipes[PROCS][2];
    clock_set_us(0); /* real time in the children too */
    for (int p = 0; p < PROCS; p++) {
        cr_assert_eq(pipe(pipes[p]), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            struct db *db = NULL;
            int won = 0;
            if (db_open_create(&fx->cfg, &db) != VF_OK)
                _exit(3);
            for (int t = 0; t < TRIES; t++) {
                int64_t retry = 0;
                enum vf_err e;
                while ((e = ratelimit_take(db, "login:pair:a@b.cc|1.2.3.4", LIMIT, 600, &retry,
                                           NULL)) == VF_ERR_BUSY)
                    ; /* SQLite's busy timeout ran out: the take did nothing, try again */
                if (e == VF_OK)
                    won++;
                else if (e != VF_ERR_RATELIMIT)
                    _exit(4);
            }
            if (write(pipes[p][1], &won, sizeof(won)) != (ssize_t)sizeof(won))
                _exit(5);
            db_close(db);
            _exit(0);
        }
        close(pipes[p][1]);
    }
    int total = 0;
    for (int p = 0; p < PROCS; p++) {
        int won = 0;
        cr_assert_eq(read(pipes[p][0], &won, sizeof(won)), (ssize_t)sizeof(won), "child %d", p);
        close(pipes[p][0]);
        total += won;
    }
    for (int p = 0; p < PROCS; p++) {
        int st = 0;
        cr_assert_gt(wait(&st), 0);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cr_expect_eq(total, LIMIT, "%d of %d takes succeeded", total, PROCS * TRIES);
}

RL_CASE(login_sources_know_an_account_s_addresses_and_are_pruned)
{
    int64_t id = 0;
    bool known = true;
    cr_assert_eq(user_create(fx->db, "o@example.com", "!", true, false, false, &id), VF_OK);
    cr_expect_eq(user_login_source_known(fx->db, "o@example.com", "10.0.0.1", &known), VF_OK);
    cr_expect_not(known);
    cr_expect_eq(user_login_source_known(fx->db, "nobody@example.com", "10.0.0.1", &known), VF_OK);
    cr_expect_not(known, "an unknown account: the same statement, nothing known");
    cr_assert_eq(user_login_source_record(fx->db, id, "10.0.0.1"), VF_OK);
    cr_expect_eq(user_login_source_known(fx->db, "o@example.com", "10.0.0.1", &known), VF_OK);
    cr_expect(known);
    cr_expect_eq(user_login_source_known(fx->db, "o@example.com", "10.0.0.2", &known), VF_OK);
    cr_expect_not(known, "another address");
    clock_set_us(T0 + 10 * SEC);
    cr_assert_eq(user_login_source_record(fx->db, id, "10.0.0.1"), VF_OK, "again: refreshed");
    int64_t n = -1;
    cr_assert_eq(user_prune_login_sources(fx->db, T0 + 5 * SEC, &n), VF_OK);
    cr_expect_eq(n, 0, "the refreshed one stays");
    cr_assert_eq(user_prune_login_sources(fx->db, T0 + 11 * SEC, &n), VF_OK);
    cr_expect_eq(n, 1);
}
