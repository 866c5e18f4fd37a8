/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parsers of a typed second-factor code, a TOTP code
 * (totp_parse_code) and a recovery code (recovery_code_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/crypto/factor_secret.h"
#include "gatehouse/crypto/totp.h"

/*
 * Besides not crashing, what is accepted must keep its shape: six digits,
 * or ten lower-case base32 characters, each NUL-terminated; and what is
 * refused leaves the output untouched. A broken promise aborts.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char totp[TOTP_DIGITS + 1], rec[RECOVERY_CODE_CHARS + 1];
    size_t i;

    memset(totp, 'x', sizeof(totp));
    if (totp_parse_code((const char *)data, size, totp) == 0) {
        if (strlen(totp) != TOTP_DIGITS ||
            strspn(totp, "0123456789") != TOTP_DIGITS)
            abort();
    } else {
        for (i = 0; i < sizeof(totp); i++)
            if (totp[i] != 'x')
                abort();
    }
    memset(rec, 'x', sizeof(rec));
    if (recovery_code_parse((const char *)data, size, rec) == 0) {
        if (strlen(rec) != RECOVERY_CODE_CHARS ||
            strspn(rec, "abcdefghijklmnopqrstuvwxyz234567") !=
                RECOVERY_CODE_CHARS)
            abort();
    } else {
        for (i = 0; i < sizeof(rec); i++)
            if (rec[i] != 'x')
                abort();
    }
    return 0;
}
