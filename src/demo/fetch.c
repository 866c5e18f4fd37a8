/* SPDX-License-Identifier: MIT */
/* The demo app's HTTP client call (see fetch.h). */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "fetch.h"

struct body {
    char *s;
    size_t len, max;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    char *s;

    if (b->len + size * n > b->max ||
        (s = realloc(b->s, b->len + size * n + 1)) == NULL)
        return 0; /* curl aborts the transfer */
    memcpy(s + b->len, p, size * n);
    b->s = s;
    b->len += size * n;
    b->s[b->len] = '\0';
    return size * n;
}

long
fetch(const char *url, const char *form, const char *user, const char *pass,
      size_t max, long timeout_ms, char **body)
{
    CURL *c = curl_easy_init();
    struct body b = {NULL, 0, max};
    char *u = NULL, *p = NULL;
    long status = -1;

    *body = NULL;
    if (c == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (form != NULL) {
        u = curl_easy_escape(c, user, 0);
        p = curl_easy_escape(c, pass, 0);
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, u);
        curl_easy_setopt(c, CURLOPT_PASSWORD, p);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    }
    if (curl_easy_perform(c) == CURLE_OK &&
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK) {
        *body = b.s;
        b.s = NULL;
    } else {
        status = -1;
    }
    curl_free(u);
    if (p != NULL)
        OPENSSL_cleanse(p, strlen(p));
    curl_free(p);
    curl_easy_cleanup(c);
    free(b.s);
    return status;
}
