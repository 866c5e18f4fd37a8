/* SPDX-License-Identifier: MIT */
/* libFuzzer target: i18n_negotiate on any Accept-Language header and any
 * lang query parameter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/i18n.h"

/*
 * The input is the lang parameter, a NUL, then the header (no NUL: the
 * whole input is the header). Besides not crashing or reading past
 * either, the answer must keep its promises: a language we speak; the
 * same for the same input; a parameter that names a language wins; and a
 * header that names no language of ours, or only with q=0, gives English.
 * A broken promise aborts, which libFuzzer reports like a crash.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *param = NULL, *header;
    const char *nul;
    enum lang l;
    int p;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    header = buf;
    if ((nul = memchr(buf, '\0', size)) != NULL) {
        param = buf;
        header = buf + (nul - buf) + 1;
    }
    l = i18n_negotiate(param, header);
    if ((unsigned)l >= LANG_COUNT)
        abort();
    if (i18n_negotiate(param, header) != l)
        abort();
    if ((p = i18n_parse(param)) >= 0 && (enum lang)p != l)
        abort();
    /* Chinese only if a range could have named it: "zh" or "*" */
    if (p < 0 && l == LANG_ZH_CN && strcasestr(header, "zh") == NULL &&
        strchr(header, '*') == NULL)
        abort();
    if (i18n_tag(l) == NULL || (strcmp(i18n_tag(l), "en") != 0 &&
                                strcmp(i18n_tag(l), "zh-CN") != 0))
        abort();
    free(buf);
    return 0;
}
