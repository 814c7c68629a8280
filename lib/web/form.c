/* form.c -- validate a JSON body against a table of declared fields. */
#include "autoconf.h"

#include "form.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "user.h"
#include "utf8.h"

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

bool
form_parse(const cJSON *body, const struct form_field *fields, size_t n, const char **values,
           char (*emails)[FORM_VALUE_MAX], cJSON **errs)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
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
        if (v == NULL || cJSON_IsNull(v)) {
            if (f->required) {
                json_errors_add(errs, f->name,
                                v == NULL ? "This field is required."
                                          : "This field may not be null.");
                ok = false;
            }
            continue;
        }
        if (!cJSON_IsString(v)) {
            json_errors_add(errs, f->name, "Not a valid string.");
            ok = false;
            continue;
        }
        const char *s = v->valuestring;
        if (*s == '\0') {
            json_errors_add(errs, f->name, "This field may not be blank.");
            ok = false;
            continue;
        }
        if (f->maxlen > 0 && utf8_len(s) > f->maxlen) {
            char msg[80];
            snprintf(msg, sizeof(msg), "Ensure this field has no more than %zu characters.",
                     f->maxlen);
            json_errors_add(errs, f->name, msg);
            ok = false;
            continue;
        }
        if (f->kind == FORM_EMAIL) {
            if (emails == NULL || !user_email_normalise(s, emails[i])) {
                json_errors_add(errs, f->name, "Enter a valid email address.");
                ok = false;
                continue;
            }
            s = emails[i];
        }
        values[i] = s;
    }
    return ok;
}
