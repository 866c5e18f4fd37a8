/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parser of a browser's WebAuthn clientDataJSON
 * (webauthn_client_data_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/util.h"
#include "gatehouse/crypto/webauthn.h"

/* What is accepted has its three strings, the challenge base64url; what
 * is refused leaves the output untouched. A broken promise aborts. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct webauthn_client_data cd;

    memset(&cd, 0, sizeof(cd));
    if (webauthn_client_data_parse(data, size, &cd) == 0) {
        if (cd.type == NULL || cd.origin == NULL || cd.challenge == NULL ||
            !b64url_valid(cd.challenge, strlen(cd.challenge)))
            abort();
        webauthn_client_data_clear(&cd);
    } else if (cd.type != NULL || cd.origin != NULL || cd.challenge != NULL) {
        abort();
    }
    return 0;
}
