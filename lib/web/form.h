/* form.h -- declared JSON body fields and their validators (kcgi style), DRF-shaped errors. */
#ifndef VF_FORM_H
#define VF_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

enum form_kind {
    FORM_STRING, /* any string up to maxlen characters */
    FORM_EMAIL,  /* a well-formed email, normalised (lower-cased) by user_email_normalise */
};

/* One declared input: name, kind, required, most characters (0: no limit). */
struct form_field {
    const char *name;
    enum form_kind kind;
    bool required;
    size_t maxlen;
};

/* Room for a normalised email value. */
#define FORM_VALUE_MAX 256

/*
 * Validate `body` (the parsed JSON body; NULL for an empty one) against `n` declared
 * `fields`; unknown members are ignored.  values[i] gets a pointer to the value of
 * fields[i] (borrowed from `body`; for FORM_EMAIL the normalised copy in
 * emails[i][FORM_VALUE_MAX]), or NULL when absent.  On errors *errs (created on
 * demand, caller frees or replies with it) gets DRF messages per field:
 *   "This field is required.", "This field may not be blank.", "Not a valid string.",
 *   "Enter a valid email address.", "Ensure this field has no more than N characters.",
 *   and {"non_field_errors":["Invalid data. Expected a dictionary, but got X."]}.
 * Returns true when every field is valid.
 */
bool form_parse(const cJSON *body, const struct form_field *fields, size_t n, const char **values,
                char (*emails)[FORM_VALUE_MAX], cJSON **errs);

#endif
