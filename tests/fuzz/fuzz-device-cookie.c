/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the device cookie's parser (device_cookie_open), which
 * reads a cookie any browser may send, checked against what the lockout
 * relies on, not only for crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/auth/device.h"
#include "gatehouse/core/error.h"

/*
 * Promises checked on every input (a broken one aborts, which libFuzzer
 * reports like a crash):
 * - a value Gatehouse did not make is refused (GH_EDENIED), and a refusal
 *   leaves id untouched;
 * - what device_cookie_seal makes for the input's first line (when it is
 *   a plain id) opens again for that sub only, with the same id, and
 *   changing any one byte of it makes it refused.
 */
static const unsigned char key[DEVICE_KEY_LEN] = "fuzz key, fuzz key, fuzz key!!!";
#define NOW 1800000000

static void
check_foreign(const char *value, const char *sub)
{
    char id[DEVICE_ID_LEN + 1] = "untouched";
    int rc = device_cookie_open(key, value, sub, NOW, id);

    /* A random value carrying the right HMAC is out of reach. */
    if (rc != GH_EDENIED || strcmp(id, "untouched") != 0)
        abort();
    /* Nor for anyone at all. */
    if (device_cookie_open(key, value, NULL, NOW, id) != GH_EDENIED ||
        strcmp(id, "untouched") != 0)
        abort();
}

static void
check_round_trip(const char *sub)
{
    char value[DEVICE_VALUE_MAX], id[DEVICE_ID_LEN + 1], id2[DEVICE_ID_LEN + 1];
    size_t i, n;

    if (device_cookie_seal(key, sub, NOW + 60, value) != 0)
        return; /* not a plain id: refused, as it should be */
    if (device_cookie_open(key, value, sub, NOW, id) != 0 ||
        strlen(id) != DEVICE_ID_LEN || strstr(value, id) == NULL)
        abort();
    /* For anyone: the same id. */
    if (device_cookie_open(key, value, NULL, NOW, id2) != 0 ||
        strcmp(id, id2) != 0)
        abort();
    /* Expired, or for another user: refused. */
    if (device_cookie_open(key, value, sub, NOW + 60, id2) != GH_EDENIED ||
        device_cookie_open(key, value, "someone-else", NOW, id2) !=
            GH_EDENIED)
        abort();
    n = strlen(value);
    for (i = 0; i < n; i++) {
        char saved = value[i];
        value[i] = saved == 'A' ? 'B' : 'A';
        if (device_cookie_open(key, value, sub, NOW, id2) != GH_EDENIED)
            abort();
        value[i] = saved;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *nl;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* "sub\nvalue": a claimed user and the cookie sent with it. */
    if ((nl = strchr(s, '\n')) != NULL) {
        *nl = '\0';
        check_foreign(nl + 1, s);
        check_round_trip(s);
    } else {
        check_foreign(s, "0b7e3f2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
    }
    free(s);
    return 0;
}
