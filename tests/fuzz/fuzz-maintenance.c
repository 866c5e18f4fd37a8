/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the demo app's reading of Gatehouse's GET /maintenance
 * (src/demo/maintenance.c), fed any body, and the banner made of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maintenance.h"

/*
 * Promises checked: a refusal leaves the output as it was; an accepted
 * answer has a known state and NUL-terminated strings that fit; its banner
 * is there exactly when the state is not "none", and nothing it read comes
 * out as markup (the only '<' are the banner's own tags).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct maintenance m, before;
    char *html, *p;

    memset(&m, 0x5a, sizeof(m));
    before = m;
    if (maintenance_parse((const char *)data, size, &m) < 0) {
        if (memcmp(&m, &before, sizeof(m)) != 0)
            abort();
        return 0;
    }
    if (m.state != MAINTENANCE_NONE && m.state != MAINTENANCE_ANNOUNCED &&
        m.state != MAINTENANCE_ACTIVE)
        abort();
    if (memchr(m.message, '\0', sizeof(m.message)) == NULL ||
        memchr(m.at, '\0', sizeof(m.at)) == NULL)
        abort();
    html = maintenance_banner_html(&m);
    if ((html != NULL) != (m.state != MAINTENANCE_NONE))
        abort();
    for (p = html; p != NULL && (p = strchr(p, '<')) != NULL; p++)
        if (strncmp(p, "<div ", 5) != 0 && strncmp(p, "</div>", 6) != 0 &&
            strncmp(p, "<strong>", 8) != 0 && strncmp(p, "</strong>", 9) != 0)
            abort();
    free(html);
    return 0;
}
