/* SPDX-License-Identifier: MIT */
/* libFuzzer target: client metadata, as POST /register bodies (Dynamic
 * Client Registration) and the config file's "clients" bring it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/core/error.h"

/*
 * Promises checked: a refusal names a field and a problem; an accepted
 * client obeys the URI policy it was checked against, and what
 * client_to_json gives back is accepted again unchanged (so what DCR
 * stores in Redis reloads as the same client).
 */
static void
check_client(const struct client *c)
{
    size_t i;

    if (c->client_id == NULL || c->client_id[0] == '\0' || c->name == NULL)
        abort();
    if ((c->auth_method == AUTH_NONE) != (c->client_secret == NULL))
        abort();
    for (i = 0; i < c->redirect_uris.n; i++)
        if (uri_check_redirect(c->redirect_uris.v[i], NULL) != 0)
            abort();
    for (i = 0; i < c->post_logout_redirect_uris.n; i++)
        if (uri_check_redirect(c->post_logout_redirect_uris.v[i], NULL) != 0)
            abort();
    /* Given or made from redirect_uris, every origin is one a browser
     * could send (and so survives the round trip below). */
    for (i = 0; i < c->allowed_origins.n; i++)
        if (uri_check_origin(c->allowed_origins.v[i], NULL) != 0)
            abort();
    if (c->backchannel_logout_uri != NULL &&
        uri_check_backchannel(c->backchannel_logout_uri, NULL) != 0)
        abort();
    if ((c->grant_types & GRANT_AUTHORIZATION_CODE) && c->redirect_uris.n == 0)
        abort();
    if (c->scopes.n == 0)
        abort();
}

static void
check_json(const json_t *obj)
{
    struct client *c = NULL, *c2 = NULL;
    struct field_error err;
    json_t *j1, *j2;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = client_from_json(obj, "clients[0].", &c, &err);
    if (rc != 0) {
        if (c != NULL || (rc != GH_EINVAL && rc != GH_ENOMEM))
            abort();
        if (rc == GH_EINVAL && (err.field[0] == '\0' || err.problem[0] == '\0'))
            abort();
        return;
    }
    check_client(c);
    if ((j1 = client_to_json(c, true)) == NULL)
        abort();
    memset(&err, 0, sizeof(err));
    if (client_from_json(j1, NULL, &c2, &err) != 0) {
        fprintf(stderr, "round trip refused: %s: %s\n", err.field, err.problem);
        abort();
    }
    if ((j2 = client_to_json(c2, true)) == NULL || !json_equal(j1, j2))
        abort();
    json_decref(j1);
    json_decref(j2);
    client_free(c);
    client_free(c2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, 0, NULL);

    if (obj == NULL)
        return 0;
    check_json(obj);
    json_decref(obj);
    return 0;
}
