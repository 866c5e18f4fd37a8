/* SPDX-License-Identifier: MIT */
/* The client keys: client:{client_id}, the DCR metadata of a client
 * registered at run time, as JSON text, and corig, the origins those
 * clients allow. Config-file clients never get here. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "store/store_internal.h"

int
store_client_put(struct store *st, const char *client_id, const char *json)
{
    char key[STORE_KEY_MAX], okey[STORE_KEY_MAX];
    const char *argv[] = {key, okey, json};
    int rc;

    if ((rc = store_key_name(st, KEY_CLIENT, client_id, key, sizeof(key))) <
            0 ||
        (rc = store_key_name(st, KEY_CLIENT_ORIGINS, NULL, okey,
                             sizeof(okey))) < 0)
        return rc;
    return store_script(st, SCRIPT_CLIENT_PUT, 2, NELEM(argv), argv, NULL);
}

int
store_client_get(struct store *st, const char *client_id, char **json)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    char *s;
    int rc;

    /* An id too long for a key was never registered. */
    if ((rc = store_key_name(st, KEY_CLIENT, client_id, key, sizeof(key))) < 0)
        return rc == GH_ETOOBIG ? GH_ENOTFOUND : rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "GET %s", key)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_STRING) {
        rc = GH_ENOTFOUND;
        goto out;
    }
    if ((s = strndup(r->str, r->len)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *json = s;
    rc = 0;
out:
    freeReplyObject(r);
    return rc;
}

int
store_client_origin_known(struct store *st, const char *origin)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_CLIENT_ORIGINS, NULL, key,
                             sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "SISMEMBER %s %s", key,
                            origin)) < 0)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return rc;
}
