/* SPDX-License-Identifier: MIT */
/* Signing keys on disk, parsed once: load, sign, verify, JWKS, generate. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/core/util.h"

/*
 * A key directory holds, per key, <kid>.pem (PKCS#8, 0600) and <kid>.json
 * ({"kid","alg","created","retired"}). The kid is the RFC 7638 thumbprint,
 * so a file name can be checked against the key inside it. Everything else
 * in the directory (README, editor backups, our own ".name.XXXXXX" temp
 * files) is ignored.
 */

#define ES256_SIG_LEN 64  /* RFC 7518 §3.4: R || S, 32 bytes each */
#define ECDSA_DER_MAX 80  /* SEQUENCE of two 33-byte INTEGERs, rounded */
#define RSA_MIN_BITS 2048 /* RFC 7518 §3.3 */
#define RSA_MAX_BITS 4096 /* 512-byte signature: 683 base64url chars */
#define RSA_GEN_BITS 2048
#define PEM_MAX (64 * 1024) /* a 4096-bit PKCS#8 PEM is about 3.3 KiB */
#define POOL_MAX 64         /* idle contexts kept per key and operation */

/*
 * EVP_PKEY_CTX set up for one key and operation. Setting one up per call
 * (method fetch under OpenSSL's global store lock, provider context) costs
 * about 3 µs, a seventh of an ES256 signature, so each key keeps idle ones
 * here and a thread takes one for the length of a call: the EVP_PKEY is
 * shared read-only, a context never is.
 */
struct ctx_pool {
    pthread_mutex_t lock;
    EVP_PKEY_CTX *idle[POOL_MAX];
    size_t n;
};

struct key {
    struct key_info info;
    EVP_PKEY *pkey;
    int is_ec;      /* ES256 on P-256, else RS256 */
    size_t sig_len; /* raw JWS signature length */
    struct ctx_pool sign_pool;
    struct ctx_pool verify_pool;
    json_t *jwk; /* the public key, for the keyring's JWKS */
};

/* The algorithms a key may be for; a keyring has at most one active key
 * of each (SPEC §3), found by a scan of this tiny table. */
static const char *const alg_names[] = {"RS256", "ES256"};
#define NALGS (sizeof(alg_names) / sizeof(alg_names[0]))

struct keyring {
    struct key **keys; /* newest first */
    size_t n;
    struct key *active;         /* signing_alg's: access and logout tokens */
    struct key *by_alg[NALGS];  /* the active key of each alg, or NULL */
    const char *algs[NALGS + 1]; /* algs with an active key, NULL-ended */
    char *jwks;
};

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static int
errno_rc(int e)
{
    switch (e) {
    case ENOENT:
        return GH_ENOTFOUND;
    case EACCES:
    case EPERM:
        return GH_EDENIED;
    case ENOMEM:
        return GH_ENOMEM;
    case ENOTDIR:
        return GH_EINVAL;
    default:
        return GH_EIO;
    }
}

/* alg's index in alg_names, or -1. */
static int
alg_index(const char *alg)
{
    size_t i;

    for (i = 0; alg != NULL && i < NALGS; i++)
        if (strcmp(alg, alg_names[i]) == 0)
            return (int)i;
    return -1;
}

static int
alg_valid(const char *alg)
{
    return alg_index(alg) >= 0;
}

static int
is_kid(const char *s, size_t len)
{
    return len == KEYS_KID_LEN && b64url_valid(s, len);
}

/* dir/kid + ext into buf; GH_EINVAL if it does not fit. */
static int
key_path(char *buf, size_t len, const char *dir, const char *kid,
         const char *ext)
{
    int n = snprintf(buf, len, "%s/%s%s", dir, kid, ext);

    return n < 0 || (size_t)n >= len ? GH_EINVAL : 0;
}

/* ---- context pools ---------------------------------------------------- */

static EVP_PKEY_CTX *
ctx_new(EVP_PKEY *pkey, int is_ec, int sign)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = 0;

    if (ctx == NULL)
        goto out;
    if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) <= 0)
        goto out;
    /* RS256 is RSASSA-PKCS1-v1_5 (RFC 7518 §3.3), not PSS. */
    if (!is_ec && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
        goto out;
    /* For RSA this selects the DigestInfo; for ECDSA it bounds the input. */
    if (EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0)
        goto out;
    ok = 1;
out:
    if (!ok) {
        EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
        ERR_clear_error();
    }
    return ctx;
}

static EVP_PKEY_CTX *
pool_take(struct ctx_pool *p, const struct key *k, int sign)
{
    EVP_PKEY_CTX *ctx = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->n > 0)
        ctx = p->idle[--p->n];
    pthread_mutex_unlock(&p->lock);
    if (ctx == NULL)
        ctx = ctx_new(k->pkey, k->is_ec, sign);
    return ctx;
}

static void
pool_give(struct ctx_pool *p, EVP_PKEY_CTX *ctx)
{
    pthread_mutex_lock(&p->lock);
    if (p->n < POOL_MAX) {
        p->idle[p->n++] = ctx;
        ctx = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    EVP_PKEY_CTX_free(ctx);
}

static void
pool_drain(struct ctx_pool *p)
{
    while (p->n > 0)
        EVP_PKEY_CTX_free(p->idle[--p->n]);
    pthread_mutex_destroy(&p->lock);
}

static void
key_free(struct key *k)
{
    if (k == NULL)
        return;
    pool_drain(&k->sign_pool);
    pool_drain(&k->verify_pool);
    EVP_PKEY_free(k->pkey);
    json_decref(k->jwk);
    free(k);
}

/* ---- public JWK and thumbprint ---------------------------------------- */

int
keys_jwk_thumbprint(const json_t *jwk, char out[KEYS_KID_LEN + 1])
{
    /* RFC 7638 §3.2: only the required members, in lexicographic order. */
    static const char *const rsa[] = {"e", "kty", "n", NULL};
    static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
    const char *const *names;
    const char *kty;
    json_t *canon = NULL;
    char *text = NULL;
    int rc = GH_EINVAL;
    size_t i;

    kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty == NULL)
        goto out;
    if (strcmp(kty, "RSA") == 0)
        names = rsa;
    else if (strcmp(kty, "EC") == 0)
        names = ec;
    else
        goto out;
    if ((canon = json_object()) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; names[i] != NULL; i++) {
        json_t *v = json_object_get(jwk, names[i]);
        if (!json_is_string(v))
            goto out;
        if (json_object_set(canon, names[i], v) < 0) {
            rc = GH_ENOMEM;
            goto out;
        }
    }
    /* §3.3: no whitespace; jansson writes strings as UTF-8 unescaped. */
    if ((text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    util_sha256_b64url(text, strlen(text), 0, out);
    rc = 0;
out:
    free(text);
    json_decref(canon);
    return rc;
}

/* base64url of a big-endian unsigned integer, padded to pad bytes if pad is
 * not 0 (EC coordinates, RFC 7518 §6.2.1.2) or minimal (RSA, §6.3.1). */
static char *
bn_b64url(const BIGNUM *bn, int pad)
{
    unsigned char buf[RSA_MAX_BITS / 8];
    int n = pad ? pad : BN_num_bytes(bn);

    if (n <= 0 || (size_t)n > sizeof(buf) || BN_bn2binpad(bn, buf, n) != n)
        return NULL;
    return b64url_encode_alloc(buf, (size_t)n);
}

/*
 * The public JWK of pkey as the JWKS lists it, and its kid. Members of the
 * key itself come from the EVP_PKEY, never from metadata, so the kid always
 * names the key it is computed from.
 */
static int
key_jwk(EVP_PKEY *pkey, int is_ec, const char *alg, char kid[KEYS_KID_LEN + 1],
        json_t **ret)
{
    BIGNUM *a = NULL, *b = NULL;
    char *sa = NULL, *sb = NULL;
    json_t *core = NULL, *jwk = NULL;
    char thumb[KEYS_KID_LEN + 1];
    int rc = GH_ECRYPTO;

    if (is_ec) {
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
            !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b))
            goto out;
        sa = bn_b64url(a, 32);
        sb = bn_b64url(b, 32);
    } else {
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) ||
            !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b))
            goto out;
        sa = bn_b64url(a, 0);
        sb = bn_b64url(b, 0);
    }
    if (sa == NULL || sb == NULL)
        goto out;
    rc = GH_ENOMEM;
    if (is_ec)
        core = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
                         "x", sa, "y", sb);
    else
        core = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", sa, "e", sb);
    if (core == NULL)
        goto out;
    if ((rc = keys_jwk_thumbprint(core, thumb)) < 0)
        goto out;
    rc = GH_ENOMEM;
    if (is_ec)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC",
                        "crv", "P-256", "x", sa, "y", sb, "use", "sig", "alg",
                        alg, "kid", thumb);
    else
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use",
                        "sig", "alg", alg, "kid", thumb, "n", sa, "e", sb);
    if (jwk == NULL)
        goto out;
    memcpy(kid, thumb, sizeof(thumb));
    *ret = jwk;
    jwk = NULL;
    rc = 0;
out:
    if (rc == GH_ECRYPTO)
        ERR_clear_error();
    BN_free(a);
    BN_free(b);
    free(sa);
    free(sb);
    json_decref(core);
    json_decref(jwk);
    return rc;
}

/* Whether pkey is a key alg may use: P-256 for ES256 (RFC 7518 §3.4), RSA
 * of 2048 bits or more for RS256 (§3.3). */
static int
key_fits_alg(EVP_PKEY *pkey, const char *alg)
{
    char group[32];

    if (strcmp(alg, "ES256") == 0) {
        if (!EVP_PKEY_is_a(pkey, "EC") ||
            !EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL))
            return 0;
        return strcmp(group, SN_X9_62_prime256v1) == 0 ||
               strcmp(group, "P-256") == 0;
    }
    return EVP_PKEY_is_a(pkey, "RSA") &&
           EVP_PKEY_get_bits(pkey) >= RSA_MIN_BITS &&
           EVP_PKEY_get_bits(pkey) <= RSA_MAX_BITS;
}

/* ---- metadata --------------------------------------------------------- */

static int
meta_read(const char *dir, const char *kid, struct key_info *ki, char *why,
          size_t whylen)
{
    char path[PATH_MAX];
    json_error_t jerr;
    json_t *m = NULL, *created, *retired;
    const char *mkid, *alg;
    int rc;

    if ((rc = key_path(path, sizeof(path), dir, kid, ".json")) < 0) {
        say(why, whylen, "%s: path too long", dir);
        return rc;
    }
    rc = GH_ECONFIG;
    if ((m = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        say(why, whylen, "%s: line %d: %s", path, jerr.line, jerr.text);
        goto out;
    }
    mkid = json_string_value(json_object_get(m, "kid"));
    alg = json_string_value(json_object_get(m, "alg"));
    created = json_object_get(m, "created");
    retired = json_object_get(m, "retired");
    if (mkid == NULL || strcmp(mkid, kid) != 0) {
        say(why, whylen, "%s: \"kid\" must be the file name, %s", path, kid);
        goto out;
    }
    if (!alg_valid(alg)) {
        say(why, whylen, "%s: \"alg\" must be \"RS256\" or \"ES256\"", path);
        goto out;
    }
    if (!json_is_integer(created) || json_integer_value(created) <= 0 ||
        !json_is_integer(retired) || json_integer_value(retired) < 0) {
        say(why, whylen,
            "%s: \"created\" and \"retired\" must be unix seconds "
            "(retired 0 while active)",
            path);
        goto out;
    }
    memset(ki, 0, sizeof(*ki));
    memcpy(ki->kid, kid, KEYS_KID_LEN + 1);
    snprintf(ki->alg, sizeof(ki->alg), "%s", alg);
    ki->created = json_integer_value(created);
    ki->retired = json_integer_value(retired);
    rc = 0;
out:
    json_decref(m);
    return rc;
}

/*
 * Writes len bytes as dir/name through a temp file and rename(2), so a
 * reader (a server starting while "keys generate" runs) sees the old file
 * or the new one, never half of one. mkostemp creates the file 0600, so a
 * private key is never readable by others, not even for a moment.
 */
static int
write_atomic(const char *dir, const char *name, const void *data, size_t len,
             mode_t mode)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    const char *p = data;
    int fd = -1, dfd = -1, rc = GH_EINVAL, n;

    n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        goto out;
    n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        goto out;
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        rc = errno_rc(errno);
        tmp[0] = '\0';
        goto out;
    }
    if (mode != 0600 && fchmod(fd, mode) < 0) {
        rc = errno_rc(errno);
        goto out;
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = errno_rc(errno);
            goto out;
        }
        p += w;
        len -= (size_t)w;
    }
    /* The data must be on disk before the name points at it. */
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        rc = errno_rc(errno);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = errno_rc(errno);
        goto out;
    }
    tmp[0] = '\0';
    /* And the rename itself must survive a crash. */
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        fsync(dfd);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0 && tmp[0] != '\0')
        unlink(tmp);
    return rc;
}

static int
meta_write(const char *dir, const struct key_info *ki)
{
    char name[KEYS_KID_LEN + 8];
    json_t *m;
    char *text = NULL, *line;
    size_t len;
    int rc = GH_ENOMEM;

    m = json_pack("{s:s, s:s, s:I, s:I}", "kid", ki->kid, "alg", ki->alg,
                  "created", (json_int_t)ki->created, "retired",
                  (json_int_t)ki->retired);
    if (m == NULL || (text = json_dumps(m, JSON_COMPACT)) == NULL)
        goto out;
    len = strlen(text);
    if ((line = realloc(text, len + 2)) == NULL)
        goto out;
    text = line;
    memcpy(text + len, "\n", 2);
    snprintf(name, sizeof(name), "%s.json", ki->kid);
    rc = write_atomic(dir, name, text, len + 1, 0644);
out:
    free(text);
    json_decref(m);
    return rc;
}

/* Newest first; for keys made in the same second the active one, then by
 * kid, so every reader agrees on the order. */
static int
newest_first(const void *a, const void *b)
{
    const struct key_info *x = a, *y = b;

    if (x->created != y->created)
        return x->created > y->created ? -1 : 1;
    if ((x->retired == 0) != (y->retired == 0))
        return x->retired == 0 ? -1 : 1;
    return strcmp(x->kid, y->kid);
}

/*
 * Reads the metadata of every key in dir, newest first. With orphans_fail,
 * a <kid>.pem without its <kid>.json is an error: a key the server cannot
 * account for (a copy that lost its metadata, or a "keys generate" that
 * died half-way) should be looked at, not silently left out.
 */
static int
scan_dir(const char *dir, int orphans_fail, struct key_info **ret, size_t *nret,
         char *why, size_t whylen)
{
    DIR *d = NULL;
    struct dirent *de;
    struct key_info *keys = NULL, *grown;
    size_t n = 0, cap = 0;
    int rc;

    if ((d = opendir(dir)) == NULL) {
        rc = errno_rc(errno);
        say(why, whylen, "%s: %s", dir, strerror(errno));
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char kid[KEYS_KID_LEN + 1], json[PATH_MAX];
        struct stat st;

        if (len < KEYS_KID_LEN || !is_kid(de->d_name, KEYS_KID_LEN))
            continue;
        memcpy(kid, de->d_name, KEYS_KID_LEN);
        kid[KEYS_KID_LEN] = '\0';
        if (orphans_fail && strcmp(de->d_name + KEYS_KID_LEN, ".pem") == 0) {
            if ((rc = key_path(json, sizeof(json), dir, kid, ".json")) < 0)
                goto out;
            if (stat(json, &st) < 0) {
                rc = GH_ECONFIG;
                say(why, whylen,
                    "%s/%s has no metadata file %s.json: restore it, or "
                    "remove the key",
                    dir, de->d_name, kid);
                goto out;
            }
            continue;
        }
        if (strcmp(de->d_name + KEYS_KID_LEN, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            if ((grown = realloc(keys, cap * sizeof(*keys))) == NULL) {
                rc = GH_ENOMEM;
                goto out;
            }
            keys = grown;
        }
        if ((rc = meta_read(dir, kid, &keys[n], why, whylen)) < 0)
            goto out;
        n++;
    }
    if (n > 0)
        qsort(keys, n, sizeof(*keys), newest_first);
    *ret = keys;
    *nret = n;
    keys = NULL;
    rc = 0;
out:
    if (d != NULL)
        closedir(d);
    free(keys);
    return rc;
}

int
keys_list(const char *dir, struct key_info **ret, size_t *n)
{
    return scan_dir(dir, 0, ret, n, NULL, 0);
}

/* ---- loading ---------------------------------------------------------- */

/* PEM passphrase callback: key files are not encrypted, and OpenSSL's
 * default would prompt on the terminal of a server. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

/* Reads a private key file, refusing one others may read: anyone who can
 * read it can sign as this provider. */
static int
pem_read(const char *path, EVP_PKEY **ret, char *why, size_t whylen)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    int fd, rc = GH_ECONFIG;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = errno_rc(errno);
        say(why, whylen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        say(why, whylen, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        rc = GH_EDENIED;
        say(why, whylen,
            "%s: mode %04o lets group or others read the private key: "
            "chmod 600 %s",
            path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    if (st.st_size <= 0 || st.st_size > PEM_MAX) {
        say(why, whylen, "%s: not a PEM private key (size %lld)", path,
            (long long)st.st_size);
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = GH_EIO;
            say(why, whylen, "%s: read failed", path);
            goto out;
        }
        len += (size_t)r;
    }
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (pkey == NULL) {
        ERR_clear_error();
        say(why, whylen, "%s: not a PEM private key (unencrypted PKCS#8)",
            path);
        goto out;
    }
    *ret = pkey;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    BIO_free(bio);
    if (buf != NULL) {
        OPENSSL_cleanse(buf, len);
        free(buf);
    }
    return rc;
}

static int
key_load(const char *dir, const struct key_info *ki, struct key **ret,
         char *why, size_t whylen)
{
    char path[PATH_MAX], kid[KEYS_KID_LEN + 1];
    struct key *k = NULL;
    int rc;

    if ((rc = key_path(path, sizeof(path), dir, ki->kid, ".pem")) < 0) {
        say(why, whylen, "%s: path too long", dir);
        goto out;
    }
    if ((k = calloc(1, sizeof(*k))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    pthread_mutex_init(&k->sign_pool.lock, NULL);
    pthread_mutex_init(&k->verify_pool.lock, NULL);
    k->info = *ki;
    if ((rc = pem_read(path, &k->pkey, why, whylen)) < 0)
        goto out;
    if (!key_fits_alg(k->pkey, ki->alg)) {
        rc = GH_ECONFIG;
        say(why, whylen, "%s: not a%s key, as its metadata says (%s)", path,
            strcmp(ki->alg, "ES256") == 0 ? " P-256" : "n RSA 2048 to 4096-bit",
            ki->alg);
        goto out;
    }
    k->is_ec = strcmp(ki->alg, "ES256") == 0;
    k->sig_len = k->is_ec ? ES256_SIG_LEN : (size_t)EVP_PKEY_get_size(k->pkey);
    if ((rc = key_jwk(k->pkey, k->is_ec, ki->alg, kid, &k->jwk)) < 0) {
        say(why, whylen, "%s: cannot read the public key", path);
        goto out;
    }
    if (strcmp(kid, ki->kid) != 0) {
        rc = GH_ECONFIG;
        say(why, whylen,
            "%s: key does not match its name (its thumbprint is %s)", path,
            kid);
        goto out;
    }
    *ret = k;
    k = NULL;
    rc = 0;
out:
    key_free(k);
    return rc;
}

int
keyring_load(const char *dir, const char *alg, int64_t keep_s,
             struct keyring **ret, char *why, size_t whylen)
{
    struct key_info *infos = NULL;
    struct keyring *kr = NULL;
    json_t *doc = NULL, *arr;
    size_t n = 0, i;
    int64_t now = util_now();
    int a, rc;

    if (!alg_valid(alg)) {
        say(why, whylen, "signing alg %s: must be RS256 or ES256",
            alg ? alg : "(none)");
        return GH_EINVAL;
    }
    if ((rc = scan_dir(dir, 1, &infos, &n, why, whylen)) < 0) {
        if (rc == GH_ENOTFOUND)
            say(why, whylen,
                "%s does not exist: run \"gatehouse keys generate --dir %s "
                "--alg %s\"",
                dir, dir, alg);
        goto out;
    }
    rc = GH_ENOMEM;
    if ((kr = calloc(1, sizeof(*kr))) == NULL ||
        (n > 0 && (kr->keys = calloc(n, sizeof(*kr->keys))) == NULL))
        goto out;
    for (i = 0; i < n; i++) {
        /* Past retired + keep_s nothing it signed is alive: not even its
         * file is read, so an old key cannot stop a start. */
        if (infos[i].retired != 0 && now - infos[i].retired > keep_s)
            continue;
        if ((rc = key_load(dir, &infos[i], &kr->keys[kr->n], why, whylen)) < 0)
            goto out;
        /* Newest first: the first active key of an alg is its signer. */
        a = alg_index(infos[i].alg);
        if (infos[i].retired == 0 && kr->by_alg[a] == NULL)
            kr->by_alg[a] = kr->keys[kr->n];
        if (kr->active == NULL && infos[i].retired == 0 &&
            strcmp(infos[i].alg, alg) == 0)
            kr->active = kr->keys[kr->n];
        kr->n++;
    }
    if (kr->active == NULL) {
        rc = GH_ENOTFOUND;
        say(why, whylen,
            "no active %s key in %s: run \"gatehouse keys generate --dir %s "
            "--alg %s\"",
            alg, dir, dir, alg);
        goto out;
    }
    for (a = 0, i = 0; i < NALGS; i++)
        if (kr->by_alg[i] != NULL)
            kr->algs[a++] = alg_names[i];
    /* The signing key first, then the other active ones: clients that take
     * the first key (or the first of an alg) find a signing one. */
    rc = GH_ENOMEM;
    if ((doc = json_object()) == NULL || (arr = json_array()) == NULL ||
        json_object_set_new(doc, "keys", arr) < 0 ||
        json_array_append(arr, kr->active->jwk) < 0)
        goto out;
    for (i = 0; i < kr->n; i++)
        if (kr->keys[i] != kr->active && kr->keys[i]->info.retired == 0 &&
            json_array_append(arr, kr->keys[i]->jwk) < 0)
            goto out;
    for (i = 0; i < kr->n; i++)
        if (kr->keys[i]->info.retired != 0 &&
            json_array_append(arr, kr->keys[i]->jwk) < 0)
            goto out;
    if ((kr->jwks = json_dumps(doc, JSON_COMPACT)) == NULL)
        goto out;
    *ret = kr;
    kr = NULL;
    rc = 0;
out:
    json_decref(doc);
    free(infos);
    keyring_free(kr);
    return rc;
}

void
keyring_free(struct keyring *kr)
{
    size_t i;

    if (kr == NULL)
        return;
    for (i = 0; i < kr->n; i++)
        key_free(kr->keys[i]);
    free(kr->keys);
    free(kr->jwks);
    free(kr);
}

const char *
keys_active_kid(const struct keyring *kr)
{
    return kr->active->info.kid;
}

const char *
keys_active_alg(const struct keyring *kr)
{
    return kr->active->info.alg;
}

/* The active key of alg, signing_alg's when alg is NULL, or NULL. */
static struct key *
signer(const struct keyring *kr, const char *alg)
{
    int a;

    if (alg == NULL)
        return kr->active;
    return (a = alg_index(alg)) < 0 ? NULL : kr->by_alg[a];
}

const char *
keys_kid(const struct keyring *kr, const char *alg)
{
    struct key *k = signer(kr, alg);

    return k != NULL ? k->info.kid : NULL;
}

const char *const *
keys_algs(const struct keyring *kr)
{
    return kr->algs;
}

const char *
keys_jwks(const struct keyring *kr)
{
    return kr->jwks;
}

/* ---- signing and verifying -------------------------------------------- */

/* OpenSSL speaks ECDSA-Sig-Value (DER); JWS wants R || S, each left-padded
 * to 32 bytes (RFC 7518 §3.4). */
static int
ecdsa_der_to_raw(const unsigned char *der, size_t derlen,
                 unsigned char raw[ES256_SIG_LEN])
{
    const unsigned char *p = der;
    ECDSA_SIG *s;
    const BIGNUM *r, *sv;
    int rc = GH_ECRYPTO;

    if ((s = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
        goto out;
    ECDSA_SIG_get0(s, &r, &sv);
    if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(sv, raw + 32, 32) != 32)
        goto out;
    rc = 0;
out:
    ECDSA_SIG_free(s);
    return rc;
}

static int
ecdsa_raw_to_der(const unsigned char raw[ES256_SIG_LEN],
                 unsigned char der[ECDSA_DER_MAX], size_t *derlen)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL);
    BIGNUM *sv = BN_bin2bn(raw + 32, 32, NULL);
    unsigned char *p = der;
    int n, rc = GH_ECRYPTO;

    if (s == NULL || r == NULL || sv == NULL || !ECDSA_SIG_set0(s, r, sv))
        goto out;
    r = sv = NULL; /* owned by s now */
    n = i2d_ECDSA_SIG(s, NULL);
    if (n <= 0 || n > ECDSA_DER_MAX || i2d_ECDSA_SIG(s, &p) != n)
        goto out;
    *derlen = (size_t)n;
    rc = 0;
out:
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(s);
    return rc;
}

int
keys_sign(const struct keyring *kr, const char *alg, const void *input,
          size_t len, char *sig)
{
    struct key *k = signer(kr, alg);
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned char out[RSA_MAX_BITS / 8], raw[ES256_SIG_LEN];
    size_t outlen = sizeof(out);
    EVP_PKEY_CTX *ctx;
    int rc = GH_ECRYPTO;

    if (k == NULL)
        return GH_ENOTFOUND;
    if ((ctx = pool_take(&k->sign_pool, k, 1)) == NULL)
        goto out;
    util_sha256(input, len, md);
    if (EVP_PKEY_sign(ctx, out, &outlen, md, sizeof(md)) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        goto out;
    }
    pool_give(&k->sign_pool, ctx);
    if (k->is_ec) {
        if ((rc = ecdsa_der_to_raw(out, outlen, raw)) < 0)
            goto out;
        b64url_encode(raw, sizeof(raw), sig);
    } else {
        b64url_encode(out, outlen, sig);
    }
    rc = 0;
out:
    if (rc < 0)
        ERR_clear_error();
    return rc;
}

static struct key *
find_key(const struct keyring *kr, const char *kid)
{
    size_t i;

    if (kid == NULL)
        return NULL;
    for (i = 0; i < kr->n; i++)
        if (strcmp(kr->keys[i]->info.kid, kid) == 0)
            return kr->keys[i];
    return NULL;
}

int
keys_verify(const struct keyring *kr, const char *kid, const char *alg,
            const void *input, size_t len, const unsigned char *sig,
            size_t siglen)
{
    struct key *k = find_key(kr, kid);
    unsigned char md[SHA256_DIGEST_LENGTH], der[ECDSA_DER_MAX];
    size_t derlen = 0;
    EVP_PKEY_CTX *ctx = NULL;
    int rc = GH_EBADTOKEN, v;

    /* The key decides the algorithm, never the token (RFC 8725 §3.1). */
    if (k == NULL || alg == NULL || strcmp(alg, k->info.alg) != 0 ||
        sig == NULL || siglen != k->sig_len)
        goto out;
    if (k->is_ec && ecdsa_raw_to_der(sig, der, &derlen) < 0)
        goto out;
    if ((ctx = pool_take(&k->verify_pool, k, 0)) == NULL) {
        rc = GH_ECRYPTO;
        goto out;
    }
    util_sha256(input, len, md);
    if (k->is_ec)
        v = EVP_PKEY_verify(ctx, der, derlen, md, sizeof(md));
    else
        v = EVP_PKEY_verify(ctx, sig, siglen, md, sizeof(md));
    /* 0 is a bad signature and leaves ctx usable; < 0 is an error in ctx. */
    if (v >= 0)
        pool_give(&k->verify_pool, ctx);
    else
        EVP_PKEY_CTX_free(ctx);
    if (v == 1)
        rc = 0;
out:
    if (rc < 0)
        ERR_clear_error();
    return rc;
}

/* ---- generating ------------------------------------------------------- */

int
keys_generate(const char *dir, const char *alg, char kid_out[KEYS_KID_LEN + 1])
{
    struct key_info *old = NULL, ki;
    size_t n = 0, i;
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    json_t *jwk = NULL;
    char kid[KEYS_KID_LEN + 1], name[KEYS_KID_LEN + 8];
    char *pem;
    long pemlen;
    int is_ec, rc;

    if (!alg_valid(alg))
        return GH_EINVAL;
    is_ec = strcmp(alg, "ES256") == 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return errno_rc(errno);
    if ((rc = keys_list(dir, &old, &n)) < 0)
        goto out;
    rc = GH_ECRYPTO;
    if (is_ec)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_GEN_BITS);
    if (pkey == NULL)
        goto out;
    if ((rc = key_jwk(pkey, is_ec, alg, kid, &jwk)) < 0)
        goto out;
    /* A secure-memory BIO wipes the PEM text when it is freed. */
    rc = GH_ECRYPTO;
    if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
        !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) ||
        (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
        goto out;
    snprintf(name, sizeof(name), "%s.pem", kid);
    if ((rc = write_atomic(dir, name, pem, (size_t)pemlen, 0600)) < 0)
        goto out;
    memset(&ki, 0, sizeof(ki));
    memcpy(ki.kid, kid, sizeof(kid));
    snprintf(ki.alg, sizeof(ki.alg), "%s", alg);
    ki.created = util_now();
    if ((rc = meta_write(dir, &ki)) < 0)
        goto out;
    /* Retire only once the new key is complete on disk: a crash in between
     * leaves two active keys, and the newest one signs. Keys of the other
     * alg stay active: each alg has its own (SPEC §3). */
    for (i = 0; i < n; i++) {
        if (old[i].retired != 0 || strcmp(old[i].kid, kid) == 0 ||
            strcmp(old[i].alg, alg) != 0)
            continue;
        old[i].retired = ki.created;
        if ((rc = meta_write(dir, &old[i])) < 0)
            goto out;
    }
    memcpy(kid_out, kid, sizeof(kid));
    rc = 0;
out:
    if (rc == GH_ECRYPTO)
        ERR_clear_error();
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    json_decref(jwk);
    free(old);
    return rc;
}
