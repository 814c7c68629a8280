/* accountmail.c -- activation and reset mails with fresh link tokens, and their requests. */
#include "autoconf.h"

#include "accountmail.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "clock.h"
#include "job.h"
#include "mail.h"

static const char *const kind_names[] = {
    [ACCOUNTMAIL_ACTIVATION] = "activation",
    [ACCOUNTMAIL_RESET] = "password_reset",
};

enum vf_err
accountmail_queue(struct db *db, const char *key, enum accountmail_kind kind, const struct user *u,
                  const char *hash, char *token)
{
    if ((unsigned)kind > ACCOUNTMAIL_RESET || key == NULL)
        return VF_ERR_INVALID;
    if (kind == ACCOUNTMAIL_ACTIVATION && (u->is_active || !u->activation_pending))
        return VF_ERR_CONFLICT;
    /* Activation links are made for the inactive account (opened again after activation they
     * still check: "already activated"); reset links bind the current active flag. */
    struct linktoken_subject s = { .user_id = u->id,
                                   .password_hash = hash,
                                   .is_active =
                                       kind == ACCOUNTMAIL_ACTIVATION ? false : u->is_active,
                                   .email = u->email,
                                   .version = u->token_version };
    char t[LINKTOKEN_MAX], uid[LINKTOKEN_UID_MAX];
    enum vf_err err = linktoken_make(
        key, strlen(key), kind == ACCOUNTMAIL_ACTIVATION ? LINKTOKEN_ACTIVATE : LINKTOKEN_RESET, &s,
        clock_now(), t);
    if (err == VF_OK) {
        linktoken_uid_encode(u->id, uid);
        err =
            mail_enqueue(db, kind == ACCOUNTMAIL_ACTIVATION ? MAIL_ACTIVATION : MAIL_PASSWORD_RESET,
                         u->email, uid, t);
    }
    if (err == VF_OK && token != NULL)
        memcpy(token, t, sizeof(t));
    sodium_memzero(t, sizeof(t));
    return err;
}

enum vf_err
accountmail_request(struct db *db, enum accountmail_kind kind, const char *email)
{
    if ((unsigned)kind > ACCOUNTMAIL_RESET || email == NULL)
        return VF_ERR_INVALID;
    cJSON *j = cJSON_CreateObject();
    char *payload = NULL;
    if (j != NULL && cJSON_AddStringToObject(j, "mail", kind_names[kind]) != NULL &&
        cJSON_AddStringToObject(j, "email", email) != NULL)
        payload = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (payload == NULL)
        return VF_ERR_NOMEM;
    enum vf_err err = job_enqueue(db, ACCOUNTMAIL_JOB_KIND, payload, 0, 0, NULL);
    free(payload);
    return err;
}

enum vf_err
accountmail_resolve(struct db *db, const char *key, const char *payload, bool *queued)
{
    if (queued != NULL)
        *queued = false;
    cJSON *j = cJSON_Parse(payload != NULL ? payload : "");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mail");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "email");
    int kind = -1;
    for (int k = 0; cJSON_IsString(m) && k <= ACCOUNTMAIL_RESET; k++)
        if (strcmp(m->valuestring, kind_names[k]) == 0)
            kind = k;
    char email[USER_EMAIL_MAX + 1];
    bool ok = kind >= 0 && cJSON_IsString(e) && user_email_normalise(e->valuestring, email);
    cJSON_Delete(j);
    if (!ok)
        return VF_ERR_INVALID;

    struct user u;
    char hash[USER_HASH_MAX];
    enum vf_err err = user_get_by_email(db, email, &u, hash);
    if (err == VF_ERR_NOTFOUND)
        return VF_OK; /* no such account: nothing to send, and the requester cannot tell */
    if (err == VF_OK)
        err = accountmail_queue(db, key, (enum accountmail_kind)kind, &u, hash, NULL);
    sodium_memzero(hash, sizeof(hash));
    if (err == VF_ERR_CONFLICT)
        return VF_OK; /* active (or deactivated by staff): no activation mail */
    if (err == VF_OK && queued != NULL)
        *queued = true;
    return err;
}
