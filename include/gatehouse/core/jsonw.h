/* SPDX-License-Identifier: MIT */
/* One escaping JSON writer for the JSON written by hand on hot paths. */
#ifndef GATEHOUSE_JSONW_H
#define GATEHOUSE_JSONW_H

#include <stddef.h>

/*
 * Typed calls, as Redis's addReply*, append to one growing buffer: no call
 * site formats or escapes by itself, and nothing is allocated per field.
 * The bytes are those of jansson's json_dumps(JSON_COMPACT) for the same
 * members in the same order: strings escaped as jansson does (\uXXXX in
 * upper case for other control characters, '/' and UTF-8 as they are),
 * and a string that is not UTF-8 refused as json_string() refuses it.
 *
 * key is the member's name inside an object; NULL for an array element or
 * the top-level value. The first failure (GH_EINVAL: a string that is not
 * UTF-8 or NULL, an unbalanced end; GH_ENOMEM) sticks: later calls do
 * nothing and jw_finish reports it. The struct is public only so that a
 * writer lives on the stack; its fields are private.
 */
struct jw {
    char *buf;
    size_t len, cap;
    int err;
    int depth;
    int comma; /* the next value at this level follows another */
};

/* Starts a writer with room for about size bytes (it grows past that). */
void jw_init(struct jw *w, size_t size);
/*
 * Ends the writer. On success *ret is the NUL-terminated text (malloc'd;
 * the caller frees it) and *len, if len is not NULL, its length. On
 * failure returns the first error, frees the buffer and leaves *ret as it
 * was. Every jw_init is matched by exactly one jw_finish.
 */
int jw_finish(struct jw *w, char **ret, size_t *len);

void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
/* A string member; value NULL is GH_EINVAL, as json_pack's "s". */
void jw_str(struct jw *w, const char *key, const char *value);
/* A string member whose value is a then b, each UTF-8 on its own, without
 * building it first: an endpoint URL from the issuer. */
void jw_strcat(struct jw *w, const char *key, const char *a, const char *b);
/* As jw_str, but a key or value that is not UTF-8 (or NULL) leaves the
 * member out rather than failing the document, as json_object_set_new(o,
 * key, json_string(value)) does: for text that may quote a client. */
void jw_str_if_utf8(struct jw *w, const char *key, const char *value);
void jw_int(struct jw *w, const char *key, long long value);
void jw_bool(struct jw *w, const char *key, int value);
/*
 * Appends the members of obj, the text of a JSON object from jansson
 * ("{...}", as json_dumps writes it), to the object being written: how
 * claims built elsewhere join ours. "{}" adds nothing.
 */
void jw_members(struct jw *w, const char *obj);

#endif
