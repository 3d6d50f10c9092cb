/* check_json.h: JSON helpers shared by the unit tests that compare jansson
 * values as text. Include after check.h. */
#ifndef USERSVC_CHECK_JSON_H
#define USERSVC_CHECK_JSON_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

/* Compact, key-sorted text of v (any JSON value) in a static buffer, so
 * expected strings can be written out literally; "(null)" for NULL. */
static inline const char *dump(const json_t *v)
{
    static char text[16384];
    char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    snprintf(text, sizeof text, "%s", s != NULL ? s : "(null)");
    free(s);
    return text;
}

/* Parses test JSON; a typo in a test fails a check instead of crashing. New reference. */
static inline json_t *parse(const char *text)
{
    json_error_t error;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &error);
    if (v == NULL)
        fprintf(stderr, "bad test JSON %s: %s\n", text, error.text);
    CHECK(v != NULL);
    return v;
}

#endif
