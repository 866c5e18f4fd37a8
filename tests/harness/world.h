/* SPDX-License-Identifier: MIT */
/*
 * A test's world, on the harness: Redis, Gatehouse and the apps a test
 * names (harness_opts), with the test's config merged over its file's
 * defaults. Unlike the harness, which reports, these fail the calling test
 * (exit 1 with a message), so a test reads as its steps.
 */
#ifndef GATEHOUSE_WORLD_H
#define GATEHOUSE_WORLD_H

#include "harness.h"

/*
 * harness_up with opts->config_json set to defaults (a JSON object text,
 * or NULL) with extra (the same, or NULL) merged over it. Returns the
 * harness; stop it with world_stop.
 */
struct harness *world_start(struct harness_opts *opts, const char *defaults,
                            const char *extra);
/* harness_down, and *h = NULL. */
void world_stop(struct harness **h);
/* harness_sign_in as username (the browser signs in unless it already has
 * a session): the app's token response (new reference). */
json_t *world_sign_in(struct harness *h, struct browser *b, int app,
                      const char *username, const char *password);
/* The string member k of o, or NULL. */
const char *world_str(const json_t *o, const char *k);

#endif
