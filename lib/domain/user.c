/* user.c -- the users table and refresh-token revocations. */
#include "autoconf.h"

#include "user.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

bool
user_email_normalise(const char *in, char out[USER_EMAIL_MAX + 1])
{
    if (in == NULL)
        return false;
    while (*in == ' ' || *in == '\t')
        in++;
    size_t len = strlen(in);
    while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
        len--;
    if (len == 0 || len > USER_EMAIL_MAX)
        return false;
    const char *at = NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '@') {
            if (at != NULL)
                return false;
            at = in + i;
        }
        if (c <= 0x20 || c >= 0x7f)
            return false;
        out[i] = (char)tolower(c);
    }
    out[len] = '\0';
    if (at == NULL)
        return false;
    size_t local = (size_t)(at - in);
    const char *dom = out + local + 1;
    size_t domlen = len - local - 1;
    if (local == 0 || local > 64 || domlen == 0)
        return false;
    /* local part: dot-atom of the usual characters */
    static const char atext[] = "!#$%&'*+/=?^_`{|}~-";
    for (size_t i = 0; i < local; i++) {
        char c = out[i];
        if (c == '.') {
            if (i == 0 || i == local - 1 || out[i - 1] == '.')
                return false;
        } else if (!isalnum((unsigned char)c) && strchr(atext, c) == NULL) {
            return false;
        }
    }
    /* domain: labels of [a-z0-9-], no leading/trailing hyphen, at least two, alphabetic TLD */
    size_t labels = 0, lablen = 0;
    bool tld_alpha = true;
    for (size_t i = 0; i <= domlen; i++) {
        char c = i < domlen ? dom[i] : '.';
        if (c == '.') {
            if (lablen == 0 || lablen > 63 || dom[i - 1] == '-')
                return false;
            labels++;
            lablen = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-')
            return false;
        if (lablen == 0) {
            if (c == '-')
                return false;
            tld_alpha = true;
        }
        if (!isalpha((unsigned char)c))
            tld_alpha = false;
        lablen++;
    }
    return labels >= 2 && tld_alpha;
}

/* One user row (the column list of accounts.def) into *u and hash (may be NULL); `extra`
 * (may be NULL) gets the integer of the column after it. */
static enum vf_err
fetch_extra(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, struct user *u,
            char *hash, int64_t *extra)
{
    struct db_rows *rows = NULL;
    enum vf_err err = db_query_row(db, id, p, np, &rows);
    if (err != VF_OK)
        return err;
    memset(u, 0, sizeof(*u));
    u->id = db_rows_int(rows, 0, 0);
    const char *email = db_rows_text(rows, 0, 1);
    snprintf(u->email, sizeof(u->email), "%s", email != NULL ? email : "");
    u->is_active = db_rows_int(rows, 0, 2) != 0;
    u->is_staff = db_rows_int(rows, 0, 3) != 0;
    u->is_superuser = db_rows_int(rows, 0, 4) != 0;
    u->token_version = db_rows_int(rows, 0, 5);
    u->activation_pending = db_rows_int(rows, 0, 7) != 0;
    if (hash != NULL) {
        const char *h = db_rows_text(rows, 0, 6);
        snprintf(hash, USER_HASH_MAX, "%s", h != NULL ? h : "");
    }
    if (extra != NULL)
        *extra = db_rows_int(rows, 0, 8);
    db_rows_free(rows);
    return VF_OK;
}

static enum vf_err
fetch(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, struct user *u,
      char *hash)
{
    return fetch_extra(db, id, p, np, u, hash, NULL);
}

enum vf_err
user_get(struct db *db, int64_t id, struct user *u, char *hash)
{
    return fetch(db, STMT_USER_BY_ID, DB_ARGS(DB_INT(id)), u, hash);
}

enum vf_err
user_get_by_email(struct db *db, const char *email, struct user *u, char *hash)
{
    return fetch(db, STMT_USER_BY_EMAIL, DB_ARGS(DB_TEXT(email)), u, hash);
}

enum vf_err
user_get_session(struct db *db, int64_t id, const char *sid, struct user *u, bool *ended)
{
    int64_t flag = 1;
    enum vf_err err =
        fetch_extra(db, STMT_USER_BY_ID_SESSION, DB_ARGS(DB_INT(id), DB_TEXT(sid)), u, NULL, &flag);
    *ended = flag != 0;
    return err;
}

enum vf_err
user_create(struct db *db, const char *email, const char *hash, bool active, bool staff,
            bool superuser, int64_t *id)
{
    return db_query_int(db, STMT_USER_INSERT,
                        DB_ARGS(DB_TEXT(email), DB_TEXT(hash), DB_INT(active), DB_INT(staff),
                                DB_INT(superuser), DB_INT(clock_now_us()), DB_INT(!active)),
                        id);
}

/* One-row update: VF_ERR_NOTFOUND/`none` when nothing changed. */
static enum vf_err
update_one(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, enum vf_err none)
{
    int64_t changes = 0;
    enum vf_err err = db_exec(db, id, p, np, &changes);
    if (err != VF_OK)
        return err;
    return changes == 1 ? VF_OK : none;
}

enum vf_err
user_set_password(struct db *db, int64_t id, const char *hash, const char *old_hash)
{
    if (old_hash != NULL)
        return update_one(db, STMT_USER_SET_PASSWORD_CAS,
                          DB_ARGS(DB_INT(id), DB_TEXT(hash), DB_TEXT(old_hash)), VF_ERR_STALE);
    return update_one(db, STMT_USER_SET_PASSWORD, DB_ARGS(DB_INT(id), DB_TEXT(hash)),
                      VF_ERR_NOTFOUND);
}

enum vf_err
user_rehash(struct db *db, int64_t id, const char *hash, const char *old_hash)
{
    enum vf_err err = update_one(db, STMT_USER_REHASH,
                                 DB_ARGS(DB_INT(id), DB_TEXT(hash), DB_TEXT(old_hash)), VF_OK);
    return err;
}

enum vf_err
user_activate(struct db *db, int64_t id, bool *changed)
{
    int64_t n = 0;
    enum vf_err err = db_exec(db, STMT_USER_ACTIVATE, DB_ARGS(DB_INT(id)), &n);
    *changed = err == VF_OK && n == 1;
    return err;
}

enum vf_err
user_set_active(struct db *db, int64_t id, bool active)
{
    return update_one(db, STMT_USER_SET_ACTIVE, DB_ARGS(DB_INT(id), DB_INT(active)),
                      VF_ERR_NOTFOUND);
}

enum vf_err
user_set_staff(struct db *db, int64_t id, bool staff, bool superuser)
{
    return update_one(db, STMT_USER_SET_STAFF,
                      DB_ARGS(DB_INT(id), DB_INT(staff), DB_INT(superuser)), VF_ERR_NOTFOUND);
}

enum vf_err
user_touch_login(struct db *db, int64_t id)
{
    return update_one(db, STMT_USER_TOUCH_LOGIN, DB_ARGS(DB_INT(id), DB_INT(clock_now_us())),
                      VF_ERR_NOTFOUND);
}

enum vf_err
user_revoke(struct db *db, const char *jti, int64_t user_id, int64_t exp_s)
{
    return update_one(
        db, STMT_REVOKE_JTI,
        DB_ARGS(DB_TEXT(jti), DB_INT(user_id), DB_INT(exp_s * 1000000), DB_INT(clock_now_us())),
        VF_ERR_STALE);
}

enum vf_err
user_is_revoked(struct db *db, const char *jti, bool *revoked)
{
    int64_t one = 0;
    enum vf_err err = db_query_int(db, STMT_REVOKED_JTI, DB_ARGS(DB_TEXT(jti)), &one);
    *revoked = err == VF_OK;
    return err == VF_ERR_NOTFOUND ? VF_OK : err;
}

enum vf_err
user_revoke_session(struct db *db, const char *sid, int64_t user_id, int64_t until_s)
{
    return db_exec(
        db, STMT_REVOKE_SESSION,
        DB_ARGS(DB_TEXT(sid), DB_INT(user_id), DB_INT(until_s * 1000000), DB_INT(clock_now_us())),
        NULL);
}

enum vf_err
user_prune_revocations(struct db *db, int64_t *n)
{
    int64_t tokens = 0, sessions = 0, now = clock_now_us();
    enum vf_err err = db_exec(db, STMT_REVOKED_PRUNE, DB_ARGS(DB_INT(now)), &tokens);
    if (err == VF_OK)
        err = db_exec(db, STMT_REVOKED_SESSIONS_PRUNE, DB_ARGS(DB_INT(now)), &sessions);
    if (n != NULL)
        *n = tokens + sessions;
    return err;
}

enum vf_err
user_login_source_known(struct db *db, const char *email, const char *addr, bool *known)
{
    int64_t n = 0;
    enum vf_err err = db_query_int(db, STMT_LOGIN_SOURCE_KNOWN,
                                   DB_ARGS(DB_TEXT(email), DB_TEXT(addr != NULL ? addr : "")), &n);
    *known = err == VF_OK && n > 0;
    return err;
}

enum vf_err
user_login_source_record(struct db *db, int64_t user_id, const char *addr)
{
    return db_exec(
        db, STMT_LOGIN_SOURCE_RECORD,
        DB_ARGS(DB_INT(user_id), DB_TEXT(addr != NULL ? addr : ""), DB_INT(clock_now_us())), NULL);
}

enum vf_err
user_prune_login_sources(struct db *db, int64_t before_us, int64_t *n)
{
    return db_exec(db, STMT_LOGIN_SOURCE_PRUNE, DB_ARGS(DB_INT(before_us)), n);
}

/* STMT_USER_LIST / STMT_USER_SUMMARY: id, email, is_active, is_staff, is_superuser,
 * last_login, created_at, activation_pending */
static void
row_to_summary(const struct db_rows *r, size_t i, void *elem)
{
    struct user_summary *s = elem;
    const char *email = db_rows_text(r, i, 1);
    s->id = db_rows_int(r, i, 0);
    snprintf(s->email, sizeof(s->email), "%s", email != NULL ? email : "");
    s->is_active = db_rows_int(r, i, 2) != 0;
    s->is_staff = db_rows_int(r, i, 3) != 0;
    s->is_superuser = db_rows_int(r, i, 4) != 0;
    s->last_login = db_rows_isnull(r, i, 5) ? 0 : db_rows_int(r, i, 5);
    s->created_at = db_rows_int(r, i, 6);
    s->activation_pending = db_rows_int(r, i, 7) != 0;
}

enum vf_err
user_list(struct db *db, struct user_summary **out, size_t *n)
{
    return db_query_list(db, STMT_USER_LIST, DB_NOARGS, sizeof(**out), row_to_summary, (void **)out,
                         n);
}

enum vf_err
user_summary_get(struct db *db, int64_t id, struct user_summary *out)
{
    struct db_rows *r = NULL;
    enum vf_err e = db_query_row(db, STMT_USER_SUMMARY, DB_ARGS(DB_INT(id)), &r);
    if (e == VF_OK)
        row_to_summary(r, 0, out);
    db_rows_free(r);
    return e;
}
