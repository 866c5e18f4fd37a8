/* SPDX-License-Identifier: MIT */
/* libFuzzer target: seal_open, the parser of what the browser carries back
 * (the sealed authorization request and the forms' CSRF tokens). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/seal.h"
#include "gatehouse/core/util.h"

/*
 * An input is opened twice: as it is (a forged value, which must never
 * open), and with a good MAC computed here over it as the payload text, so
 * the fuzzer also reaches the base64url and JSON parsing behind the MAC.
 * Promises (a broken one aborts, which libFuzzer reports like a crash):
 * - only GH_EBADTOKEN, GH_EEXPIRED or GH_ENOMEM on failure, and *claims
 *   untouched then;
 * - what opens is an object with an integer exp not before now, and
 *   sealed again it opens to an equal object.
 */
static const unsigned char key[SEAL_KEY_LEN] = "fuzz-key-fuzz-key-fuzz-key-fuzz";
static const int64_t now = 1700000000;

static void
check(const char *text, size_t len, int forged)
{
    json_t *c = NULL, *again = NULL;
    char *resealed = NULL;
    int rc = seal_open(key, "areq", "", text, len, now, &c);

    if (rc < 0) {
        if (c != NULL ||
            (rc != GH_EBADTOKEN && rc != GH_EEXPIRED && rc != GH_ENOMEM))
            abort();
        return;
    }
    if (forged || !json_is_object(c) ||
        !json_is_integer(json_object_get(c, "exp")) ||
        json_integer_value(json_object_get(c, "exp")) < now)
        abort();
    if (seal_make(key, "areq", "", c,
                  json_integer_value(json_object_get(c, "exp")),
                  &resealed) == 0) {
        if (seal_open(key, "areq", "", resealed, strlen(resealed), now,
                      &again) != 0 ||
            !json_equal(c, again))
            abort();
    }
    json_decref(again);
    free(resealed);
    json_decref(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char prefix[] = "areq\0\0";
    unsigned char md[32], *msg;
    unsigned int mdlen = 0;
    char *payload, *text;
    size_t plen;

    check((const char *)data, size, 1);
    /* The input as the payload's JSON, sealed the way seal.c does. */
    if ((payload = b64url_encode_alloc(data, size)) == NULL)
        return 0;
    plen = strlen(payload);
    msg = malloc(sizeof(prefix) - 1 + plen);
    text = malloc(plen + 1 + B64URL_LEN(32) + 1);
    if (msg == NULL || text == NULL)
        abort();
    memcpy(msg, prefix, sizeof(prefix) - 1);
    memcpy(msg + sizeof(prefix) - 1, payload, plen);
    if (HMAC(EVP_sha256(), key, SEAL_KEY_LEN, msg,
             sizeof(prefix) - 1 + plen, md, &mdlen) == NULL)
        abort();
    memcpy(text, payload, plen);
    text[plen] = '.';
    b64url_encode(md, sizeof(md), text + plen + 1);
    check(text, strlen(text), 0);
    free(text);
    free(msg);
    free(payload);
    return 0;
}
