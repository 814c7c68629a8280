/* form.c -- validate a JSON body against a table of declared fields. */
#include "autoconf.h"

#include "form.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "user.h"
#include "utf8.h"

#define FORM_INT_LIMIT 9007199254740992.0 /* 2^53: every integer up to it is exact */

static const char *
type_name(const cJSON *v)
{
    if (cJSON_IsArray(v))
        return "list";
    if (cJSON_IsString(v))
        return "str";
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsNumber(v))
        return v->valuedouble == (double)(long long)v->valuedouble ? "int" : "float";
    return "NoneType";
}

/* The message for a value of the wrong JSON type. */
static const char *
type_error(enum form_kind kind)
{
    switch (kind) {
    case FORM_BOOL:
        return "Must be a valid boolean.";
    case FORM_INT:
        return "A valid integer is required.";
    case FORM_STRING:
    case FORM_EMAIL:
    case FORM_TEXT:
        break;
    }
    return "Not a valid string.";
}

/* Check one present, non-null value of field f into *out; NULL or the error message (msg
 * is room for a formatted one). */
static const char *
check(const struct form_field *f, const cJSON *v, char *email, struct form_value *out, char *msg,
      size_t len)
{
    if (f->kind == FORM_BOOL) {
        if (!cJSON_IsBool(v))
            return type_error(f->kind);
        out->b = cJSON_IsTrue(v) != 0;
        return NULL;
    }
    if (f->kind == FORM_INT) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!isfinite(d) || d != floor(d) || fabs(d) > FORM_INT_LIMIT)
            return type_error(f->kind);
        out->i = (int64_t)d;
        return NULL;
    }
    if (!cJSON_IsString(v))
        return type_error(f->kind);
    const char *s = v->valuestring;
    if (*s == '\0' && f->kind != FORM_TEXT)
        return "This field may not be blank.";
    if (f->maxlen > 0 && utf8_len(s) > f->maxlen) {
        snprintf(msg, len, "Ensure this field has no more than %zu characters.", f->maxlen);
        return msg;
    }
    if (f->kind == FORM_EMAIL) {
        if (email == NULL || !user_email_normalise(s, email))
            return "Enter a valid email address.";
        s = email;
    }
    out->s = s;
    return NULL;
}

bool
form_parse(const cJSON *body, const struct form_field *fields, size_t n, struct form_value *values,
           char (*emails)[FORM_VALUE_MAX], cJSON **errs)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        values[i] = (struct form_value){ .present = false };
    if (body != NULL && !cJSON_IsObject(body)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Invalid data. Expected a dictionary, but got %s.",
                 type_name(body));
        json_errors_add(errs, "non_field_errors", msg);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct form_field *f = &fields[i];
        const cJSON *v = body ? cJSON_GetObjectItemCaseSensitive(body, f->name) : NULL;
        const char *err = NULL;
        char msg[80];
        if (v == NULL && !f->required)
            continue;
        if (v == NULL)
            err = "This field is required.";
        else if (cJSON_IsNull(v))
            err = f->required ? "This field may not be null." : type_error(f->kind);
        else
            err = check(f, v, emails != NULL ? emails[i] : NULL, &values[i], msg, sizeof(msg));
        if (err != NULL) {
            json_errors_add(errs, f->name, err);
            ok = false;
            values[i] = (struct form_value){ .present = false };
            continue;
        }
        values[i].present = true;
    }
    return ok;
}
