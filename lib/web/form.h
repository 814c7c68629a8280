/* form.h -- declared JSON body fields and their validators (kcgi style), DRF-shaped errors. */
#ifndef VF_FORM_H
#define VF_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum form_kind {
    FORM_STRING, /* a non-blank string of at most maxlen characters */
    FORM_EMAIL,  /* a well-formed email, normalised (lower-cased) by user_email_normalise */
    FORM_TEXT,   /* any string, blank included (maxlen applies); its content is the caller's */
    FORM_BOOL,   /* a JSON true or false */
    FORM_INT,    /* a JSON number with an integral value in [-2^53, 2^53] (exact in a double) */
};

/* One declared input: name, kind, required, most characters of a string (0: no limit). */
struct form_field {
    const char *name;
    enum form_kind kind;
    bool required;
    size_t maxlen;
};

/* The validated value of one field; which member holds it follows the field's kind. */
struct form_value {
    bool present;  /* sent and valid (false when absent or refused) */
    const char *s; /* FORM_STRING/FORM_TEXT: borrowed from the body; FORM_EMAIL: emails[i] */
    int64_t i;     /* FORM_INT */
    bool b;        /* FORM_BOOL */
};

/* Room for a normalised email value. */
#define FORM_VALUE_MAX 256

/*
 * Validate `body` (the parsed JSON body; NULL for an empty one) against `n` declared
 * `fields`; unknown members are ignored.  values[i] gets the value of fields[i] (strings
 * borrowed from `body`, for FORM_EMAIL the normalised copy in emails[i][FORM_VALUE_MAX];
 * emails may be NULL without FORM_EMAIL fields), or present = false when absent.  On errors
 * *errs (created on demand, caller frees or replies with it) gets DRF messages per field:
 *   "This field is required.", "This field may not be null." (a required field sent as
 *   null; an optional one gets its kind's type error instead), "Not a valid string.",
 *   "This field may not be blank.", "Enter a valid email address.",
 *   "Ensure this field has no more than N characters.", "Must be a valid boolean.",
 *   "A valid integer is required.",
 *   and {"non_field_errors":["Invalid data. Expected a dictionary, but got X."]}.
 * Returns true when every field is valid.
 */
bool form_parse(const cJSON *body, const struct form_field *fields, size_t n,
                struct form_value *values, char (*emails)[FORM_VALUE_MAX], cJSON **errs);

#endif
