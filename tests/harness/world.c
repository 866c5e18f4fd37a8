/* SPDX-License-Identifier: MIT */
/* A test's world (world.h): the harness, failing the test on error. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "world.h"

#define WORLD_FAIL(...)                                                        \
    do {                                                                       \
        fprintf(stderr, "world: " __VA_ARGS__);                                \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

/* A JSON object from text, or an empty one for NULL. */
static json_t *
object_of(const char *text)
{
    json_error_t je;
    json_t *o;

    if (text == NULL)
        return json_object();
    if ((o = json_loads(text, 0, &je)) == NULL || !json_is_object(o))
        WORLD_FAIL("not a JSON object: %s", text);
    return o;
}

struct harness *
world_start(struct harness_opts *opts, const char *defaults, const char *extra)
{
    json_t *cfg = object_of(defaults), *x = object_of(extra);
    struct harness *h = NULL;
    char *text;

    json_object_update_recursive(cfg, x);
    json_decref(x);
    if ((text = json_dumps(cfg, JSON_COMPACT)) == NULL)
        WORLD_FAIL("cannot write the config");
    json_decref(cfg);
    opts->config_json = text;
    if (harness_up(opts, &h) < 0)
        WORLD_FAIL("did not start");
    opts->config_json = NULL;
    free(text);
    return h;
}

void
world_stop(struct harness **h)
{
    harness_down(*h);
    *h = NULL;
}

json_t *
world_sign_in(struct harness *h, struct browser *b, int app,
              const char *username, const char *password)
{
    json_t *t = harness_sign_in(h, b, app, username, password);

    if (t == NULL)
        WORLD_FAIL("%s could not sign in to app %d", username, app);
    return t;
}

const char *
world_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}
