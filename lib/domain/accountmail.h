/* accountmail.h -- an account's mails with fresh link tokens (activation, password reset), and the
 * requests for them that the worker resolves, so that asking for a known and an unknown address
 * costs a request the same work. */
#ifndef VF_ACCOUNTMAIL_H
#define VF_ACCOUNTMAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"
#include "linktoken.h"
#include "user.h"

/* The job kind of a request (videoflix-worker resolves it: worker/accountmailjob.c). */
#define ACCOUNTMAIL_JOB_KIND "account_mail"

enum accountmail_kind {
    ACCOUNTMAIL_ACTIVATION, /* "Confirm your email": only for an account awaiting activation */
    ACCOUNTMAIL_RESET,      /* "Reset your Password": any existing account */
};

/*
 * Queue the mail of `kind` for user *u (hash: its stored password hash) with a link token made
 * now with `key` (SECRET_KEY), in the caller's transaction (an outbox row: mail_enqueue()).
 * `token` (may be NULL, else LINKTOKEN_MAX bytes) gets the token.  VF_ERR_CONFLICT for an
 * activation of an account that does not await one (active, or deactivated by staff).
 */
enum vf_err accountmail_queue(struct db *db, const char *key, enum accountmail_kind kind,
                              const struct user *u, const char *hash, char *token);

/*
 * Queue a request for the mail of `kind` to the account of (normalised) `email`, whether or not
 * there is one: one job of kind ACCOUNTMAIL_JOB_KIND, the same statement either way, so a
 * request's time says nothing about the account.  The worker resolves it with
 * accountmail_resolve().  Joins the caller's transaction when there is one.
 */
enum vf_err accountmail_request(struct db *db, enum accountmail_kind kind, const char *email);

/*
 * Resolve a request's `payload` (the worker's finish hook, inside its transaction): look the
 * account up and queue its mail when one applies (a reset: the account exists; an activation:
 * it awaits activation); otherwise nothing.  *queued (may be NULL) tells which.  VF_ERR_INVALID
 * for a malformed payload (the job fails for good).
 */
enum vf_err accountmail_resolve(struct db *db, const char *key, const char *payload, bool *queued);

#endif
