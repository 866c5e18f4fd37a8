/* SPDX-License-Identifier: MIT */
/* The second-factor key file, AES-256-GCM for TOTP secrets and HMAC for
 * recovery codes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/factor_secret.h"

#define NONCE_LEN 12 /* NIST SP 800-38D §8.2: 96-bit nonces */
#define TAG_LEN 16
#define PREFIX "v1."

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static int
say(char *why, size_t whylen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int
read_key(const char *path, unsigned char key[FACTOR_KEY_LEN], char *why,
         size_t whylen)
{
    unsigned char buf[FACTOR_KEY_LEN + 1];
    struct stat sb;
    ssize_t n;
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return say(why, whylen, GH_ENOTFOUND,
                       "%s: no second-factor key; run \"gatehouse keys "
                       "generate\" or start the server once",
                       path);
        return say(why, whylen, GH_EIO, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &sb) < 0) {
        rc = say(why, whylen, GH_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    /* As ssh does for a private key: a secret others can read is not
     * used, so the mistake is seen rather than kept. */
    if ((sb.st_mode & 077) != 0) {
        rc = say(why, whylen, GH_EDENIED,
                 "%s: readable by others (mode %03o): chmod 600 it", path,
                 (unsigned)(sb.st_mode & 0777));
        goto out;
    }
    do
        n = read(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n != FACTOR_KEY_LEN) {
        rc = say(why, whylen, n < 0 ? GH_EIO : GH_EINVAL,
                 "%s: not a second-factor key (%d bytes, not %d)", path, (int)n,
                 FACTOR_KEY_LEN);
        goto out;
    }
    memcpy(key, buf, FACTOR_KEY_LEN);
    rc = 0;
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    close(fd);
    return rc;
}

/* A new key written to a temp file, then linked to its name only if no
 * file has it: a second process making one at the same time loses the
 * race and reads the winner's. 0 or GH_EIO. */
static int
create_key(const char *dir, const char *path, char *why, size_t whylen)
{
    unsigned char key[FACTOR_KEY_LEN];
    char tmp[PATH_MAX];
    int fd = -1, dfd, rc = GH_EIO, n;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return say(why, whylen, GH_EIO, "%s: %s", dir, strerror(errno));
    n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, FACTOR_KEY_FILE);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return say(why, whylen, GH_EINVAL, "%s: path too long", dir);
    if (RAND_bytes(key, sizeof(key)) != 1)
        return say(why, whylen, GH_ECRYPTO, "no randomness for a key");
    /* mkostemp makes the file 0600. */
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        rc = say(why, whylen, GH_EIO, "%s: %s", dir, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) < 0) {
        rc = say(why, whylen, GH_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (link(tmp, path) < 0 && errno != EEXIST) {
        rc = say(why, whylen, GH_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    /* The new name must survive a crash, as the key it names will be
     * needed to open what is sealed under it. */
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof(key));
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        unlink(tmp);
    return rc;
}

int
factor_key_load(const char *dir, int create, unsigned char key[FACTOR_KEY_LEN],
                char *why, size_t whylen)
{
    char path[PATH_MAX];
    int n, rc;

    n = snprintf(path, sizeof(path), "%s/%s", dir, FACTOR_KEY_FILE);
    if (n < 0 || (size_t)n >= sizeof(path))
        return say(why, whylen, GH_EINVAL, "%s: path too long", dir);
    rc = read_key(path, key, why, whylen);
    if (rc != GH_ENOTFOUND || !create)
        return rc;
    if ((rc = create_key(dir, path, why, whylen)) < 0)
        return rc;
    return read_key(path, key, why, whylen);
}

int
factor_secret_seal(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                   const void *plain, size_t len, char **ret)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    char *text = NULL;
    size_t blen = NONCE_LEN + len + TAG_LEN;
    int outl = 0, fin = 0, rc = GH_ECRYPTO;

    if (len > 1024)
        return GH_ETOOBIG;
    if ((buf = malloc(blen)) == NULL ||
        (text = malloc(sizeof(PREFIX) + B64URL_LEN(blen))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if (RAND_bytes(buf, NONCE_LEN) != 1 ||
        (ctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)sub,
                          (int)strlen(sub)) != 1 ||
        EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &outl, plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + outl, &fin) != 1 ||
        (size_t)(outl + fin) != len ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                            buf + NONCE_LEN + len) != 1)
        goto out;
    memcpy(text, PREFIX, sizeof(PREFIX) - 1);
    b64url_encode(buf, blen, text + sizeof(PREFIX) - 1);
    *ret = text;
    text = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(buf);
    free(text);
    return rc;
}

int
factor_secret_open(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                   const char *text, void *out, size_t cap, size_t *len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL, *plain = NULL;
    size_t blen = 0, plen;
    int outl = 0, fin = 0, rc = GH_EBADTOKEN;

    if (text == NULL || strncmp(text, PREFIX, sizeof(PREFIX) - 1) != 0)
        return GH_EBADTOKEN;
    text += sizeof(PREFIX) - 1;
    if (b64url_decode(text, strlen(text), &buf, &blen) < 0 ||
        blen < NONCE_LEN + TAG_LEN || blen > NONCE_LEN + TAG_LEN + 1024)
        goto out;
    plen = blen - NONCE_LEN - TAG_LEN;
    if (plen > cap) {
        rc = GH_ETOOBIG;
        goto out;
    }
    if ((plain = malloc(plen + 1)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)sub,
                          (int)strlen(sub)) != 1 ||
        EVP_DecryptUpdate(ctx, plain, &outl, buf + NONCE_LEN, (int)plen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                            buf + NONCE_LEN + plen) != 1 ||
        /* The tag is checked here: a changed byte, another sub or another
         * key all fail alike. */
        EVP_DecryptFinal_ex(ctx, plain + outl, &fin) != 1 ||
        (size_t)(outl + fin) != plen)
        goto out;
    memcpy(out, plain, plen);
    *len = plen;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (plain != NULL) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
    free(buf);
    return rc;
}

int
recovery_code_new(char out[RECOVERY_CODE_TEXT_LEN + 1])
{
    unsigned char r[RECOVERY_CODE_CHARS];
    size_t i, j = 0;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return GH_ECRYPTO;
    for (i = 0; i < RECOVERY_CODE_CHARS; i++) {
        if (i == RECOVERY_CODE_CHARS / 2)
            out[j++] = '-';
        /* 256 is a multiple of 32: every character equally likely. */
        out[j++] = b32[r[i] & 31];
    }
    out[j] = '\0';
    OPENSSL_cleanse(r, sizeof(r));
    return 0;
}

int
recovery_code_parse(const char *in, size_t len,
                    char out[RECOVERY_CODE_CHARS + 1])
{
    char code[RECOVERY_CODE_CHARS + 1];
    size_t i, n = 0;

    if (in == NULL)
        return GH_EINVAL;
    for (i = 0; i < len; i++) {
        char c = in[i];

        if (c == ' ' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == '\0' || strchr(b32, c) == NULL || n == RECOVERY_CODE_CHARS)
            return GH_EINVAL;
        code[n++] = c;
    }
    if (n != RECOVERY_CODE_CHARS)
        return GH_EINVAL;
    code[n] = '\0';
    memcpy(out, code, sizeof(code));
    return 0;
}

/*
 * Not scrypt, as for passwords: a code has 50 random bits, not a human's
 * few, so a fast hash costs an online guesser nothing they could use (the
 * lockout counts their tries). HMAC rather than a bare SHA-256, under the
 * key kept in keys_dir, so a copy of Redis alone cannot be searched
 * offline for the 2^50 codes; the sub in the message makes equal codes of
 * two users hash apart.
 */
int
recovery_code_hash(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                   const char *normalised, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char msg[64 + RECOVERY_CODE_CHARS + 1], md[32];
    unsigned int mdlen = 0;
    size_t a = strlen(sub) + 1, b = strlen(normalised), i;
    int rc = 0;

    if (a > 64 || b > RECOVERY_CODE_CHARS + 1)
        return GH_EINVAL;
    memcpy(msg, sub, a);
    memcpy(msg + a, normalised, b);
    if (HMAC(EVP_sha256(), key, FACTOR_KEY_LEN, msg, a + b, md, &mdlen) ==
            NULL ||
        mdlen != sizeof(md))
        rc = GH_ECRYPTO;
    OPENSSL_cleanse(msg, sizeof(msg));
    if (rc < 0)
        return rc;
    for (i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}
