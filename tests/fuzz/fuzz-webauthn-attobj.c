/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parser of a WebAuthn attestation object
 * (webauthn_attobj_parse), and the registration check behind it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/crypto/webauthn.h"

/* What is accepted has a fmt, authData of at least 37 bytes and a CBOR
 * attStmt; what is refused leaves the output untouched. The same bytes
 * as a registration must be refused (no client data of ours signs
 * them) without a crash. A broken promise aborts. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct webauthn_rp rp = {"http://localhost", "localhost"};
    static const char cd[] = "{\"type\":\"webauthn.create\","
                             "\"challenge\":\"Y2hhbA\","
                             "\"origin\":\"http://localhost\"}";
    struct webauthn_attobj ao;
    struct webauthn_credential c;

    memset(&ao, 0, sizeof(ao));
    if (webauthn_attobj_parse(data, size, &ao) == 0) {
        if (ao.fmt == NULL || ao.auth_data == NULL || ao.auth_data_len < 37 ||
            ao.att_stmt == NULL || ao.att_stmt_len == 0)
            abort();
        webauthn_attobj_clear(&ao);
    } else if (ao.fmt != NULL || ao.auth_data != NULL || ao.att_stmt != NULL) {
        abort();
    }
    /* Attestation "none" needs no signature: bytes shaped right do pass,
     * and then the credential must be whole. */
    memset(&c, 0, sizeof(c));
    if (webauthn_register_verify(&rp, "Y2hhbA", cd, sizeof(cd) - 1, data, size,
                                 &c) == 0) {
        if (c.id == NULL || c.id_len == 0 || c.pubkey == NULL)
            abort();
        webauthn_credential_clear(&c);
    }
    return 0;
}
