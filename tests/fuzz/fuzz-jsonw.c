/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the JSON writer on hostile strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonw.h"

/*
 * The input is cut at its NULs into strings, written as an array of
 * one-member objects [{s0:s1},{s2:s3},...] and, from the first 8 bytes,
 * an integer. The writer must fail exactly when jansson refuses one of
 * the strings, and otherwise write the very bytes json_dumps writes for
 * the same document, which must parse back to the same strings. A broken
 * promise aborts, which libFuzzer reports like a crash.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *text = NULL, *want = NULL;
    const char *s, *end, *key;
    json_t *doc = NULL, *back = NULL, *o;
    long long n = 0;
    struct jw w;
    int refused = 0, rc;
    size_t i;

    if (buf == NULL || (doc = json_array()) == NULL)
        goto out;
    memcpy(buf, data, size);
    buf[size] = '\0';
    memcpy(&n, data, size < sizeof(n) ? size : sizeof(n));
    end = buf + size;

    jw_init(&w, 16);
    jw_arr_begin(&w, NULL);
    jw_int(&w, NULL, n);
    if (json_array_append_new(doc, json_integer(n)) < 0)
        abort();
    for (s = buf; s <= end;) {
        json_t *jk, *jv;

        key = s;
        s += strlen(s) + 1;
        if (s > end)
            break; /* a key without a value is not written */
        jk = json_string(key);
        jv = json_string(s);
        if (jk == NULL || jv == NULL)
            refused = 1;
        jw_obj_begin(&w, NULL);
        jw_str(&w, key, s);
        jw_obj_end(&w);
        if (!refused) {
            if ((o = json_object()) == NULL ||
                json_object_set_new(o, key, jv) < 0 ||
                json_array_append_new(doc, o) < 0)
                abort();
        } else {
            json_decref(jv);
        }
        json_decref(jk);
        s += strlen(s) + 1;
    }
    jw_arr_end(&w);
    rc = jw_finish(&w, &text, NULL);
    if (refused) {
        if (rc != GH_EINVAL && rc != GH_ENOMEM)
            abort();
        goto out;
    }
    if (rc == GH_ENOMEM)
        goto out;
    if (rc != 0)
        abort();
    if ((want = json_dumps(doc, JSON_COMPACT)) == NULL)
        goto out;
    if (strcmp(text, want) != 0)
        abort();
    if ((back = json_loads(text, 0, NULL)) == NULL ||
        !json_equal(back, doc))
        abort();
    for (i = 1; i < json_array_size(back); i++)
        if (json_object_size(json_array_get(back, i)) != 1)
            abort();
out:
    json_decref(back);
    json_decref(doc);
    free(want);
    free(text);
    free(buf);
    return 0;
}
