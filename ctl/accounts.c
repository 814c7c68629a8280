/* accounts.c -- videoflixctl commands of the accounts area: createsuperuser, users. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "accountmail.h"
#include "clock.h"
#include "ctl.h"
#include "datadir.h"
#include "password.h"
#include "user.h"

/* Read one line from stdin into buf (without the newline); with echo off on a terminal.
 * Returns false at end of input. */
static bool
read_line(const char *prompt, char *buf, size_t len, bool secret)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
    }
    bool hide = tty && secret && tcgetattr(STDIN_FILENO, &old) == 0;
    if (hide) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)len, stdin);
    if (hide) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (got == NULL)
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

/* Load the common-password list or say why not: a missing list refuses every password. */
static bool
policy_ready(const struct config *cfg)
{
    char err[600];
    if (datadir_require(cfg, DATADIR_PASSWORDS, err, sizeof(err)) == VF_OK)
        return true;
    ctl_fail("%s", err);
    return false;
}

/* Policy check with the messages on stderr; true when acceptable. */
static bool
password_acceptable(const char *pw, const char *email)
{
    const char *msgs[PASSWORD_MAX_ERRORS];
    size_t n = password_validate(pw, email, msgs, PASSWORD_MAX_ERRORS);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "videoflixctl: %s\n", msgs[i]);
    return n == 0;
}

/* A new password: `given` (VIDEOFLIX_SUPERUSER_PASSWORD) if not NULL or empty, else prompted
 * twice (or one line of piped stdin).  Returns false after printing why. */
static bool
new_password(const char *given, const char *email, char *pw, size_t len)
{
    if (given != NULL && *given != '\0') {
        snprintf(pw, len, "%s", given);
    } else {
        char again[PASSWORD_MAX_LEN * 4 + 2];
        if (!read_line("Password: ", pw, len, true)) {
            fprintf(stderr, "videoflixctl: no password given\n");
            return false;
        }
        if (isatty(STDIN_FILENO)) {
            if (!read_line("Password (again): ", again, sizeof(again), true) ||
                strcmp(pw, again) != 0) {
                sodium_memzero(again, sizeof(again));
                fprintf(stderr, "videoflixctl: the passwords do not match\n");
                return false;
            }
            sodium_memzero(again, sizeof(again));
        }
    }
    return password_acceptable(pw, email);
}

/* Find a user by id (digits) or email. */
static enum vf_err
lookup(struct ctl_ctx *ctx, const char *who, struct user *u)
{
    char email[USER_EMAIL_MAX + 1];
    char *end = NULL;
    long long id = strtoll(who, &end, 10);
    if (end != who && *end == '\0' && id > 0)
        return user_get(ctx->app.db, id, u, NULL);
    if (!user_email_normalise(who, email))
        return VF_ERR_NOTFOUND;
    return user_get_by_email(ctx->app.db, email, u, NULL);
}

/* videoflixctl createsuperuser [EMAIL]: an active staff superuser.  Non-interactive when
 * VIDEOFLIX_SUPERUSER_EMAIL and VIDEOFLIX_SUPERUSER_PASSWORD are set (an existing
 * account is then left alone, so deploy scripts may run it every time). */
static int
cmd_createsuperuser(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: videoflixctl createsuperuser [EMAIL]\n");
        return 2;
    }
    /* The environment or the env file (struct config), like every other setting. */
    const char *env_email = ctx->app.cfg->superuser_email;
    const char *env_pw = ctx->app.cfg->superuser_password;
    bool noninteractive = env_email && *env_email && env_pw && *env_pw && argc == 1;
    char raw[USER_EMAIL_MAX + 2], email[USER_EMAIL_MAX + 1];
    if (argc == 2)
        snprintf(raw, sizeof(raw), "%s", argv[1]);
    else if (env_email != NULL && *env_email != '\0')
        snprintf(raw, sizeof(raw), "%s", env_email);
    else if (!read_line("Email: ", raw, sizeof(raw), false))
        raw[0] = '\0';
    if (!user_email_normalise(raw, email)) {
        return ctl_fail("enter a valid email address");
    }
    struct user u;
    enum vf_err err = user_get_by_email(ctx->app.db, email, &u, NULL);
    if (err == VF_OK) {
        if (noninteractive) {
            printf("superuser %s already exists (id %" PRId64 "), left unchanged\n", email, u.id);
            return 0;
        }
        return ctl_fail("%s is already registered", email);
    }
    if (err != VF_ERR_NOTFOUND) {
        return ctl_fail("database error: %s", vf_strerror(err));
    }
    if (!policy_ready(ctx->app.cfg))
        return 1;
    char pw[PASSWORD_MAX_LEN * 4 + 2], hash[PASSWORD_HASH_MAX];
    bool ok = new_password(noninteractive ? env_pw : NULL, email, pw, sizeof(pw));
    if (ok && (err = password_hash(pw, hash, sizeof(hash))) != VF_OK) {
        fprintf(stderr, "videoflixctl: cannot hash the password: %s\n", vf_strerror(err));
        ok = false;
    }
    sodium_memzero(pw, sizeof(pw));
    if (!ok)
        return 1;
    int64_t id = 0;
    err = user_create(ctx->app.db, email, hash, true, true, true, &id);
    if (err != VF_OK) {
        return ctl_fail("cannot create %s: %s", email, vf_strerror(err));
    }
    printf("superuser %s created (id %" PRId64 ")\n", email, id);
    return 0;
}

static void
print_time(int64_t us, bool null)
{
    char buf[32];
    if (null)
        printf(" %-20s", "-");
    else
        printf(" %-20.19s", clock_format_iso(us, buf));
}

static int
users_list(struct ctl_ctx *ctx)
{
    struct user_summary *users = NULL;
    size_t n = 0;
    enum vf_err err = user_list(ctx->app.db, &users, &n);
    if (err != VF_OK) {
        return ctl_fail("database error: %s", vf_strerror(err));
    }
    printf("%6s %-40s %-6s %-5s %-5s %-20s %-20s\n", "ID", "EMAIL", "ACTIVE", "STAFF", "SUPER",
           "LAST LOGIN", "CREATED");
    for (size_t i = 0; i < n; i++) {
        const struct user_summary *u = &users[i];
        printf("%6" PRId64 " %-40s %-6s %-5s %-5s", u->id, u->email, u->is_active ? "yes" : "no",
               u->is_staff ? "yes" : "no", u->is_superuser ? "yes" : "no");
        print_time(u->last_login, u->last_login == 0);
        print_time(u->created_at, false);
        putchar('\n');
    }
    printf("%zu user%s\n", n, n == 1 ? "" : "s");
    free(users);
    return 0;
}

/* videoflixctl users [list | activate | deactivate | set-password | make-staff] ... */
static int
cmd_users(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "usage: videoflixctl users [list]\n"
        "       videoflixctl users activate|deactivate|set-password EMAIL|ID\n"
        "       videoflixctl users make-staff EMAIL|ID [--superuser | --remove]\n"
        "       videoflixctl users resend-activation EMAIL|ID\n";
    if (argc == 1 || (argc == 2 && strcmp(argv[1], "list") == 0))
        return users_list(ctx);
    const char *sub = argv[1];
    bool staff_cmd = strcmp(sub, "make-staff") == 0;
    if (argc < 3 || argc > (staff_cmd ? 4 : 3)) {
        fputs(usage, stderr);
        return 2;
    }
    struct user u;
    enum vf_err err = lookup(ctx, argv[2], &u);
    if (err == VF_ERR_NOTFOUND) {
        return ctl_fail("no such user: %s", argv[2]);
    }
    if (err == VF_OK && strcmp(sub, "activate") == 0) {
        err = user_set_active(ctx->app.db, u.id, true);
    } else if (err == VF_OK && strcmp(sub, "deactivate") == 0) {
        err = user_set_active(ctx->app.db, u.id, false);
    } else if (err == VF_OK && staff_cmd) {
        const char *opt = argc == 4 ? argv[3] : "";
        if (*opt && strcmp(opt, "--superuser") != 0 && strcmp(opt, "--remove") != 0) {
            fputs(usage, stderr);
            return 2;
        }
        bool remove = strcmp(opt, "--remove") == 0;
        bool super = remove ? false : (strcmp(opt, "--superuser") == 0 || u.is_superuser);
        err = user_set_staff(ctx->app.db, u.id, !remove, super);
    } else if (err == VF_OK && strcmp(sub, "resend-activation") == 0) {
        /* A fresh link for an account that registered and was never activated (its first mail
         * may have been lost); the worker sends it. */
        char hash[USER_HASH_MAX];
        err = user_get(ctx->app.db, u.id, &u, hash);
        if (err == VF_OK)
            err = accountmail_queue(ctx->app.db, ctx->app.cfg->secret_key, ACCOUNTMAIL_ACTIVATION,
                                    &u, hash, NULL);
        if (err == VF_ERR_CONFLICT)
            return ctl_fail("%s is not awaiting activation (%s); use users activate", u.email,
                            u.is_active ? "active" : "deactivated");
    } else if (err == VF_OK && strcmp(sub, "set-password") == 0) {
        char pw[PASSWORD_MAX_LEN * 4 + 2], hash[PASSWORD_HASH_MAX];
        if (!policy_ready(ctx->app.cfg))
            return 1;
        bool ok = new_password(NULL, u.email, pw, sizeof(pw));
        if (ok)
            err = password_hash(pw, hash, sizeof(hash));
        sodium_memzero(pw, sizeof(pw));
        if (!ok)
            return 1;
        if (err == VF_OK)
            err = user_set_password(ctx->app.db, u.id, hash, NULL);
    } else if (err == VF_OK) {
        fputs(usage, stderr);
        return 2;
    }
    if (err != VF_OK) {
        return ctl_fail("users %s failed: %s", sub, vf_strerror(err));
    }
    printf("%s: %s done\n", u.email, sub);
    return 0;
}

const struct ctl_cmd ctl_account_cmds[] = {
    { "createsuperuser", "createsuperuser [EMAIL]",
      "create an active staff superuser (prompts, or VIDEOFLIX_SUPERUSER_EMAIL/_PASSWORD)", 1,
      cmd_createsuperuser, 0 },
    { "users",
      "users [list|activate|deactivate|set-password|make-staff|resend-activation] [EMAIL|ID]",
      "list users or change one (deactivate and set-password end its sessions; resend-activation "
      "queues a fresh activation mail)",
      1, cmd_users, 0 },
    { NULL, NULL, NULL, 0, NULL, 0 },
};
