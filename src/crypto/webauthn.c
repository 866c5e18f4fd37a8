/* SPDX-License-Identifier: MIT */
/* WebAuthn verification: the two parsers of browser input are ours (a
 * JSON object through jansson, a CBOR map through libcbor); COSE keys,
 * attestation statements and signatures are libfido2's. */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/crypto/webauthn.h"

/* WebAuthn §6.1 authenticator data flags. */
#define AD_FLAG_UP 0x01
#define AD_FLAG_UV 0x04
/* rpIdHash (32), flags (1), signCount (4). */
#define AD_MIN_LEN 37

static pthread_once_t fido_once = PTHREAD_ONCE_INIT;

static void
fido_start(void)
{
    fido_init(0);
}

static char *
json_str_dup(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    if (!json_is_string(v))
        return NULL;
    /* A NUL inside would cut the C string short; such text is not ours. */
    if (strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return xstrdup(json_string_value(v));
}

void
webauthn_client_data_clear(struct webauthn_client_data *cd)
{
    if (cd == NULL)
        return;
    free(cd->type);
    free(cd->challenge);
    free(cd->origin);
    memset(cd, 0, sizeof(*cd));
}

int
webauthn_client_data_parse(const void *json, size_t len,
                           struct webauthn_client_data *ret)
{
    struct webauthn_client_data cd = {0};
    json_t *root = NULL;
    int rc = GH_EINVAL;

    if (json == NULL || len == 0 || len > WEBAUTHN_CLIENT_DATA_MAX)
        goto out;
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root))
        goto out;
    cd.type = json_str_dup(root, "type");
    cd.challenge = json_str_dup(root, "challenge");
    cd.origin = json_str_dup(root, "origin");
    if (cd.type == NULL || cd.challenge == NULL || cd.origin == NULL)
        goto out;
    if (!b64url_valid(cd.challenge, strlen(cd.challenge)))
        goto out;
    *ret = cd;
    memset(&cd, 0, sizeof(cd));
    rc = 0;
out:
    json_decref(root);
    webauthn_client_data_clear(&cd);
    return rc;
}

void
webauthn_attobj_clear(struct webauthn_attobj *ao)
{
    if (ao == NULL)
        return;
    free(ao->fmt);
    free(ao->auth_data);
    free(ao->att_stmt);
    memset(ao, 0, sizeof(*ao));
}

/* libcbor's cbor_load allocates a definite array or map for the size its
 * header declares before reading a single item, so a few bytes can ask
 * for gigabytes. A first pass with libcbor's streaming decoder refuses
 * any collection that declares more items than the input has bytes. */
struct size_check {
    size_t limit;
    int bad;
};

static void
collection_start(void *ctx, size_t n)
{
    struct size_check *c = ctx;

    if (n > c->limit)
        c->bad = 1;
}

static int
sizes_bounded(const unsigned char *buf, size_t len)
{
    struct cbor_callbacks cb = cbor_empty_callbacks;
    struct cbor_decoder_result r;
    struct size_check c = {len, 0};
    size_t off = 0;

    cb.array_start = collection_start;
    cb.map_start = collection_start;
    while (off < len && !c.bad) {
        r = cbor_stream_decode(buf + off, len - off, &cb, &c);
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
            return 0;
        off += r.read;
    }
    return !c.bad;
}

int
webauthn_attobj_parse(const void *buf, size_t len, struct webauthn_attobj *ret)
{
    struct webauthn_attobj ao = {0};
    struct cbor_load_result res;
    struct cbor_pair *pairs;
    cbor_item_t *root = NULL;
    size_t i, n, sz;
    int rc = GH_EINVAL;

    if (buf == NULL || len == 0 || len > WEBAUTHN_ATTOBJ_MAX)
        goto out;
    if (!sizes_bounded(buf, len))
        goto out;
    root = cbor_load(buf, len, &res);
    if (root == NULL || res.error.code != CBOR_ERR_NONE || res.read != len)
        goto out;
    if (!cbor_isa_map(root) || !cbor_map_is_definite(root))
        goto out;
    pairs = cbor_map_handle(root);
    n = cbor_map_size(root);
    for (i = 0; i < n; i++) {
        cbor_item_t *k = pairs[i].key, *v = pairs[i].value;
        const char *name;
        size_t klen;

        if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
            goto out;
        name = (const char *)cbor_string_handle(k);
        klen = cbor_string_length(k);
        if (klen == 3 && memcmp(name, "fmt", 3) == 0) {
            size_t vlen;

            if (ao.fmt != NULL || !cbor_isa_string(v) ||
                !cbor_string_is_definite(v))
                goto out;
            vlen = cbor_string_length(v);
            if (vlen == 0 || vlen > 32 ||
                memchr(cbor_string_handle(v), '\0', vlen) != NULL)
                goto out;
            ao.fmt = xmalloc(vlen + 1);
            memcpy(ao.fmt, cbor_string_handle(v), vlen);
            ao.fmt[vlen] = '\0';
        } else if (klen == 8 && memcmp(name, "authData", 8) == 0) {
            if (ao.auth_data != NULL || !cbor_isa_bytestring(v) ||
                !cbor_bytestring_is_definite(v))
                goto out;
            ao.auth_data_len = cbor_bytestring_length(v);
            if (ao.auth_data_len < AD_MIN_LEN)
                goto out;
            ao.auth_data = xmalloc(ao.auth_data_len);
            memcpy(ao.auth_data, cbor_bytestring_handle(v), ao.auth_data_len);
        } else if (klen == 7 && memcmp(name, "attStmt", 7) == 0) {
            if (ao.att_stmt != NULL || !cbor_isa_map(v) ||
                !cbor_map_is_definite(v))
                goto out;
            sz = 0;
            ao.att_stmt_len = cbor_serialize_alloc(v, &ao.att_stmt, &sz);
            if (ao.att_stmt_len == 0) {
                rc = GH_ENOMEM;
                goto out;
            }
        } else {
            goto out;
        }
    }
    if (ao.fmt == NULL || ao.auth_data == NULL || ao.att_stmt == NULL)
        goto out;
    *ret = ao;
    memset(&ao, 0, sizeof(ao));
    rc = 0;
out:
    if (root != NULL)
        cbor_decref(&root);
    webauthn_attobj_clear(&ao);
    return rc;
}

int
webauthn_rp_from_issuer(const char *issuer, char *origin, size_t olen,
                        char *id, size_t idlen)
{
    const char *host, *end, *colon;
    unsigned char ip[16];
    size_t hlen, i;
    char h[256];

    if (strncmp(issuer, "https://", 8) == 0)
        host = issuer + 8;
    else if (strncmp(issuer, "http://", 7) == 0)
        host = issuer + 7;
    else
        return GH_EINVAL;
    end = host + strcspn(host, "/?#");
    if (host[0] == '[' || memchr(host, '@', (size_t)(end - host)) != NULL)
        return GH_EINVAL;
    colon = memchr(host, ':', (size_t)(end - host));
    hlen = (size_t)((colon != NULL ? colon : end) - host);
    if (hlen == 0 || hlen >= sizeof(h) || hlen >= idlen ||
        (size_t)(end - issuer) >= olen)
        return GH_EINVAL;
    for (i = 0; i < hlen; i++)
        h[i] = (char)tolower((unsigned char)host[i]);
    h[hlen] = '\0';
    if (inet_pton(AF_INET, h, ip) == 1)
        return GH_EINVAL;
    memcpy(origin, issuer, (size_t)(end - issuer));
    origin[end - issuer] = '\0';
    /* RFC 6454 §6.2: a browser's origin leaves the scheme's default port
     * out; an issuer may spell it. */
    if (colon != NULL &&
        ((host == issuer + 8 && end - colon == 4 &&
          memcmp(colon, ":443", 4) == 0) ||
         (host == issuer + 7 && end - colon == 3 &&
          memcmp(colon, ":80", 3) == 0)))
        origin[colon - issuer] = '\0';
    memcpy(id, h, hlen + 1);
    return 0;
}

void
webauthn_credential_clear(struct webauthn_credential *c)
{
    if (c == NULL)
        return;
    free(c->id);
    free(c->pubkey);
    memset(c, 0, sizeof(*c));
}

/* The checks of §7.1 steps 7-9 and §7.2 steps 11-13 on clientDataJSON,
 * and its hash, which the authenticator signed. */
static int
client_data_check(const struct webauthn_rp *rp, const char *type,
                  const char *challenge, const void *cd_buf, size_t cd_len,
                  unsigned char cdh[32])
{
    struct webauthn_client_data cd;
    int rc;

    if ((rc = webauthn_client_data_parse(cd_buf, cd_len, &cd)) < 0)
        return rc;
    if (strcmp(cd.type, type) != 0 ||
        !util_streq_ct(cd.challenge, challenge) ||
        strcmp(cd.origin, rp->origin) != 0)
        rc = GH_EDENIED;
    webauthn_client_data_clear(&cd);
    if (rc == 0)
        util_sha256(cd_buf, cd_len, cdh);
    return rc;
}

/* §7.1 step 13-14, §7.2 step 15-16: for our RP ID, with the user there. */
static int
auth_data_check(const struct webauthn_rp *rp, const unsigned char *ad,
                size_t len)
{
    unsigned char want[32];

    if (ad == NULL || len < AD_MIN_LEN)
        return GH_EINVAL;
    util_sha256(rp->id, strlen(rp->id), want);
    if (CRYPTO_memcmp(ad, want, sizeof(want)) != 0)
        return GH_EDENIED;
    if ((ad[32] & AD_FLAG_UP) == 0)
        return GH_EDENIED;
    return 0;
}

/* A fido_cred holding authData for the COSE type its key has: libfido2
 * refuses authData whose key is not of the type set first. */
static fido_cred_t *
cred_for_auth_data(const unsigned char *ad, size_t len)
{
    static const int types[] = {COSE_ES256, COSE_EDDSA, COSE_RS256};
    fido_cred_t *cred;
    size_t i;

    for (i = 0; i < NELEM(types); i++) {
        if ((cred = fido_cred_new()) == NULL)
            return NULL;
        if (fido_cred_set_type(cred, types[i]) == FIDO_OK &&
            fido_cred_set_authdata_raw(cred, ad, len) == FIDO_OK)
            return cred;
        fido_cred_free(&cred);
    }
    return NULL;
}

int
webauthn_register_verify(const struct webauthn_rp *rp, const char *challenge,
                         const void *client_data, size_t cd_len,
                         const void *attobj, size_t ao_len,
                         struct webauthn_credential *ret)
{
    struct webauthn_attobj ao = {0};
    struct webauthn_credential c = {0};
    fido_cred_t *cred = NULL;
    unsigned char cdh[32];
    int rc, frc;

    pthread_once(&fido_once, fido_start);
    if ((rc = client_data_check(rp, "webauthn.create", challenge,
                                client_data, cd_len, cdh)) < 0)
        goto out;
    if ((rc = webauthn_attobj_parse(attobj, ao_len, &ao)) < 0)
        goto out;
    if ((rc = auth_data_check(rp, ao.auth_data, ao.auth_data_len)) < 0)
        goto out;
    rc = GH_EDENIED;
    if ((cred = cred_for_auth_data(ao.auth_data, ao.auth_data_len)) == NULL)
        goto out;
    if (fido_cred_set_rp(cred, rp->id, NULL) != FIDO_OK ||
        fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) != FIDO_OK)
        goto out;
    if (strcmp(ao.fmt, "none") == 0) {
        /* §8.7: nothing to verify, and nothing may be claimed. */
        if (ao.att_stmt_len != 1)
            goto out;
    } else if (strcmp(ao.fmt, "packed") == 0) {
        if (fido_cred_set_fmt(cred, "packed") != FIDO_OK ||
            fido_cred_set_attstmt(cred, ao.att_stmt, ao.att_stmt_len) !=
                FIDO_OK)
            goto out;
        /* §8.2: with x5c the leaf certificate signed; without, the
         * credential's own key (self attestation). */
        if (fido_cred_x5c_len(cred) > 0)
            frc = fido_cred_verify(cred);
        else
            frc = fido_cred_verify_self(cred);
        if (frc != FIDO_OK)
            goto out;
    } else {
        goto out;
    }
    if (fido_cred_id_len(cred) == 0 ||
        fido_cred_id_len(cred) > WEBAUTHN_CRED_ID_MAX ||
        fido_cred_pubkey_len(cred) == 0)
        goto out;
    c.id_len = fido_cred_id_len(cred);
    c.id = xmalloc(c.id_len);
    memcpy(c.id, fido_cred_id_ptr(cred), c.id_len);
    c.pubkey_len = fido_cred_pubkey_len(cred);
    c.pubkey = xmalloc(c.pubkey_len);
    memcpy(c.pubkey, fido_cred_pubkey_ptr(cred), c.pubkey_len);
    c.cose_alg = fido_cred_type(cred);
    c.counter = fido_cred_sigcount(cred);
    *ret = c;
    memset(&c, 0, sizeof(c));
    rc = 0;
out:
    fido_cred_free(&cred);
    webauthn_attobj_clear(&ao);
    webauthn_credential_clear(&c);
    return rc;
}

/* Verifies the assertion with cred's key through libfido2's pk types. */
static int
assert_verify_key(fido_assert_t *a, const struct webauthn_credential *cred)
{
    int frc = FIDO_ERR_INVALID_ARGUMENT;

    switch (cred->cose_alg) {
    case COSE_ES256: {
        es256_pk_t *pk = es256_pk_new();

        if (pk != NULL &&
            es256_pk_from_ptr(pk, cred->pubkey, cred->pubkey_len) == FIDO_OK)
            frc = fido_assert_verify(a, 0, COSE_ES256, pk);
        es256_pk_free(&pk);
        break;
    }
    case COSE_EDDSA: {
        eddsa_pk_t *pk = eddsa_pk_new();

        if (pk != NULL &&
            eddsa_pk_from_ptr(pk, cred->pubkey, cred->pubkey_len) == FIDO_OK)
            frc = fido_assert_verify(a, 0, COSE_EDDSA, pk);
        eddsa_pk_free(&pk);
        break;
    }
    case COSE_RS256: {
        rs256_pk_t *pk = rs256_pk_new();

        if (pk != NULL &&
            rs256_pk_from_ptr(pk, cred->pubkey, cred->pubkey_len) == FIDO_OK)
            frc = fido_assert_verify(a, 0, COSE_RS256, pk);
        rs256_pk_free(&pk);
        break;
    }
    default:
        break;
    }
    return frc == FIDO_OK ? 0 : GH_EDENIED;
}

int
webauthn_assert_verify(const struct webauthn_rp *rp, const char *challenge,
                       const struct webauthn_credential *cred,
                       const void *client_data, size_t cd_len,
                       const void *auth_data, size_t ad_len, const void *sig,
                       size_t sig_len, uint32_t *counter, int *uv)
{
    fido_assert_t *a = NULL;
    unsigned char cdh[32];
    uint32_t count;
    int rc;

    pthread_once(&fido_once, fido_start);
    if ((rc = client_data_check(rp, "webauthn.get", challenge, client_data,
                                cd_len, cdh)) < 0)
        goto out;
    if (sig == NULL || sig_len == 0 || sig_len > 1024) {
        rc = GH_EINVAL;
        goto out;
    }
    if ((rc = auth_data_check(rp, auth_data, ad_len)) < 0)
        goto out;
    rc = GH_EDENIED;
    if ((a = fido_assert_new()) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if (fido_assert_set_count(a, 1) != FIDO_OK ||
        fido_assert_set_rp(a, rp->id) != FIDO_OK ||
        fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
        fido_assert_set_authdata_raw(a, 0, auth_data, ad_len) != FIDO_OK ||
        fido_assert_set_sig(a, 0, sig, sig_len) != FIDO_OK ||
        fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK)
        goto out;
    if ((rc = assert_verify_key(a, cred)) < 0)
        goto out;
    count = fido_assert_sigcount(a, 0);
    /* §6.1.1: an authenticator without a counter sends 0 always. */
    if (!(count == 0 && cred->counter == 0) && count <= cred->counter) {
        rc = GH_EDENIED;
        goto out;
    }
    *counter = count;
    *uv = (fido_assert_flags(a, 0) & AD_FLAG_UV) != 0;
    rc = 0;
out:
    fido_assert_free(&a);
    return rc;
}
