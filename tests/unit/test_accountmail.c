/* test_accountmail.c -- activation and reset mails with fresh link tokens, and their requests, on
 * SQLite and PostgreSQL: a request is the same one job whether or not the account exists; the
 * worker's resolution queues a mail only where one applies (a reset: the account exists; an
 * activation: it awaits activation, never for an active or a deactivated one). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "accountmail.h"
#include "clock.h"
#include "db.h"
#include "dbfixture.h"
#include "job.h"
#include "linktoken.h"
#include "user.h"

#define SCHEMA VF_SRCDIR "/schema"
#define T0     1800000000000000LL
#define KEY    "test-secret-key-0123456789abcdef-0123456789"

static const struct dbfixture_setup fixture = { "accountmail", SCHEMA, T0 };

#define AM_CASE(name) DBFIXTURE_CASE(fixture, sqlite, postgres, name)

/* How many queued jobs of `kind` there are. */
static size_t
queued(struct db *db, const char *kind)
{
    struct job_info *v = NULL;
    size_t n = 0, k = 0;
    cr_assert_eq(job_list(db, JOB_QUEUED, 1000, &v, &n), VF_OK);
    for (size_t i = 0; i < n; i++)
        k += strcmp(v[i].kind, kind) == 0;
    job_info_free(v, n);
    return k;
}

/* Claim the next job of `kind` and return its payload (caller frees), or NULL. */
static char *
take(struct db *db, const char *kind)
{
    struct job *job = NULL;
    if (job_claim(db, "test", kind, 30, &job) != VF_OK)
        return NULL;
    char *p = strdup(job->payload);
    cr_assert_eq(job_complete(db, job, NULL), VF_OK);
    job_free(job);
    return p;
}

static int64_t
new_user(struct db *db, const char *email, bool active)
{
    int64_t id = 0;
    cr_assert_eq(user_create(db, email, "$argon2id$placeholder", active, false, false, &id), VF_OK);
    return id;
}

/* Resolve the next request; returns whether a mail was queued. */
static bool
resolve_next(struct db *db)
{
    char *p = take(db, ACCOUNTMAIL_JOB_KIND);
    cr_assert_not_null(p, "a request was queued");
    bool q = true;
    cr_assert_eq(accountmail_resolve(db, KEY, p, &q), VF_OK, "%s", p);
    free(p);
    return q;
}

AM_CASE(a_reset_request_is_the_same_job_for_a_known_and_an_unknown_email)
{
    new_user(fx->db, "known@example.com", true);
    cr_assert_eq(accountmail_request(fx->db, ACCOUNTMAIL_RESET, "known@example.com"), VF_OK);
    cr_assert_eq(accountmail_request(fx->db, ACCOUNTMAIL_RESET, "unknown@example.com"), VF_OK);
    cr_expect_eq(queued(fx->db, ACCOUNTMAIL_JOB_KIND), 2, "one request each");
    cr_expect_eq(queued(fx->db, "mail"), 0, "no mail is queued by the request itself");
    char *a = take(fx->db, ACCOUNTMAIL_JOB_KIND), *b = take(fx->db, ACCOUNTMAIL_JOB_KIND);
    cr_assert(a != NULL && b != NULL);
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    cr_expect_str_eq(cJSON_GetObjectItem(ja, "mail")->valuestring, "password_reset");
    cr_expect_str_eq(cJSON_GetObjectItem(jb, "mail")->valuestring, "password_reset");
    cr_expect_eq(cJSON_GetArraySize(ja), cJSON_GetArraySize(jb), "the same shape");
    cJSON_Delete(ja);
    cJSON_Delete(jb);

    /* the worker resolves them: a mail for the account, nothing for the unknown address */
    bool q = false;
    cr_assert_eq(accountmail_resolve(fx->db, KEY, a, &q), VF_OK);
    cr_expect(q);
    cr_assert_eq(accountmail_resolve(fx->db, KEY, b, &q), VF_OK);
    cr_expect_not(q);
    free(a);
    free(b);
    char *mail = take(fx->db, "mail");
    cr_assert_not_null(mail);
    cr_expect_null(take(fx->db, "mail"), "exactly one mail");

    /* it carries a working reset link for that account */
    struct user u;
    char hash[USER_HASH_MAX];
    cr_assert_eq(user_get_by_email(fx->db, "known@example.com", &u, hash), VF_OK);
    cJSON *m = cJSON_Parse(mail);
    cr_expect_str_eq(cJSON_GetObjectItem(m, "template")->valuestring, "password_reset");
    cr_expect_str_eq(cJSON_GetObjectItem(m, "to")->valuestring, "known@example.com");
    int64_t uid = 0;
    cr_assert(linktoken_uid_decode(cJSON_GetObjectItem(m, "uid")->valuestring, &uid));
    cr_expect_eq(uid, u.id);
    struct linktoken_subject s = { u.id, hash, u.is_active, u.email, u.token_version };
    cr_expect(linktoken_check(KEY, strlen(KEY), LINKTOKEN_RESET, &s,
                              cJSON_GetObjectItem(m, "token")->valuestring, clock_now(), 3600));
    cJSON_Delete(m);
    free(mail);
}

AM_CASE(an_activation_is_queued_only_for_an_account_awaiting_one)
{
    int64_t pending = new_user(fx->db, "pending@example.com", false);
    new_user(fx->db, "active@example.com", true);
    int64_t banned = new_user(fx->db, "banned@example.com", false);
    cr_assert_eq(user_set_active(fx->db, banned, false), VF_OK, "staff deactivated it");
    struct user u;
    char hash[USER_HASH_MAX];
    cr_assert_eq(user_get(fx->db, pending, &u, hash), VF_OK);
    cr_expect(u.activation_pending);
    cr_assert_eq(user_get(fx->db, banned, &u, hash), VF_OK);
    cr_expect_not(u.activation_pending, "a staff decision is no pending activation");

    const char *emails[] = { "pending@example.com", "active@example.com", "banned@example.com",
                             "nobody@example.com" };
    const bool want[] = { true, false, false, false };
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(accountmail_request(fx->db, ACCOUNTMAIL_ACTIVATION, emails[i]), VF_OK);
        cr_expect_eq(resolve_next(fx->db), want[i], "%s", emails[i]);
    }
    char *mail = take(fx->db, "mail");
    cr_assert_not_null(mail);
    cr_expect_null(take(fx->db, "mail"));
    cJSON *m = cJSON_Parse(mail);
    cr_expect_str_eq(cJSON_GetObjectItem(m, "template")->valuestring, "activation");
    cr_expect_str_eq(cJSON_GetObjectItem(m, "to")->valuestring, "pending@example.com");
    cr_assert_eq(user_get(fx->db, pending, &u, hash), VF_OK);
    struct linktoken_subject s = { u.id, hash, false, u.email, u.token_version };
    cr_expect(linktoken_check(KEY, strlen(KEY), LINKTOKEN_ACTIVATE, &s,
                              cJSON_GetObjectItem(m, "token")->valuestring, clock_now(), 3600));
    cJSON_Delete(m);
    free(mail);

    /* staff's direct queueing says why it will not */
    cr_assert_eq(user_get_by_email(fx->db, "active@example.com", &u, hash), VF_OK);
    cr_expect_eq(accountmail_queue(fx->db, KEY, ACCOUNTMAIL_ACTIVATION, &u, hash, NULL),
                 VF_ERR_CONFLICT);
    /* activation ends the pending state */
    bool changed = false;
    cr_assert_eq(user_activate(fx->db, pending, &changed), VF_OK);
    cr_assert_eq(user_get(fx->db, pending, &u, hash), VF_OK);
    cr_expect(u.is_active && !u.activation_pending);
    cr_expect_eq(accountmail_queue(fx->db, KEY, ACCOUNTMAIL_ACTIVATION, &u, hash, NULL),
                 VF_ERR_CONFLICT);
}

AM_CASE(a_malformed_request_is_invalid)
{
    bool q = true;
    cr_expect_eq(accountmail_resolve(fx->db, KEY, "{}", &q), VF_ERR_INVALID);
    cr_expect_not(q);
    cr_expect_eq(accountmail_resolve(fx->db, KEY, "{\"mail\":\"spam\",\"email\":\"a@b.cc\"}", &q),
                 VF_ERR_INVALID);
    cr_expect_eq(accountmail_resolve(fx->db, KEY, "{\"mail\":\"activation\",\"email\":\"x\"}", &q),
                 VF_ERR_INVALID);
    cr_expect_eq(accountmail_resolve(fx->db, KEY, "not json", &q), VF_ERR_INVALID);
}
