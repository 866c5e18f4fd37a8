/* SPDX-License-Identifier: MIT */
/* A WebAuthn authenticator for tests: OpenSSL keys and libcbor encoding,
 * the authenticator's side of the protocol (what a security key or a
 * browser's platform authenticator does), never a stand-in for ours. */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "authn.h"
#include "gatehouse/core/util.h"
#include "test.h"

void
authn_new(struct authn *a, int eddsa)
{
    memset(a, 0, sizeof(*a));
    a->eddsa = eddsa;
    a->key = eddsa ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                   : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ASSERT(a->key != NULL);
    ASSERT_EQ(util_random(a->id, sizeof(a->id)), 0);
}

void
authn_free(struct authn *a)
{
    EVP_PKEY_free(a->key);
}

static void
map_add(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
    ASSERT(cbor_map_add(map, (struct cbor_pair){.key = cbor_move(k),
                                                .value = cbor_move(v)}));
}

/* The credential public key as a COSE_Key (RFC 8152 §13), CBOR. */
static size_t
cose_key(const struct authn *a, unsigned char **out)
{
    cbor_item_t *m = cbor_new_definite_map(5);
    unsigned char pub[65];
    size_t len = sizeof(pub), sz = 0, n;

    if (a->eddsa) {
        ASSERT_EQ(EVP_PKEY_get_raw_public_key(a->key, pub, &len), 1);
        map_add(m, cbor_build_uint8(1), cbor_build_uint8(1));   /* OKP */
        map_add(m, cbor_build_uint8(3), cbor_build_negint8(7)); /* -8 */
        map_add(m, cbor_build_negint8(0), cbor_build_uint8(6)); /* Ed25519 */
        map_add(m, cbor_build_negint8(1), cbor_build_bytestring(pub, 32));
    } else {
        ASSERT_EQ(EVP_PKEY_get_octet_string_param(
                      a->key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len),
                  1);
        ASSERT_EQ(len, 65);
        map_add(m, cbor_build_uint8(1), cbor_build_uint8(2));   /* EC2 */
        map_add(m, cbor_build_uint8(3), cbor_build_negint8(6)); /* -7 */
        map_add(m, cbor_build_negint8(0), cbor_build_uint8(1)); /* P-256 */
        map_add(m, cbor_build_negint8(1), cbor_build_bytestring(pub + 1, 32));
        map_add(m, cbor_build_negint8(2), cbor_build_bytestring(pub + 33, 32));
    }
    n = cbor_serialize_alloc(m, out, &sz);
    ASSERT(n > 0);
    cbor_decref(&m);
    return n;
}

/* authData (WebAuthn §6.1): rpIdHash, flags, counter, and with at the
 * attested credential data. */
size_t
authn_auth_data(struct authn *a, const char *rpid, unsigned char flags, int at,
          unsigned char *out)
{
    unsigned char *ck = NULL;
    size_t n = 0, cklen;

    util_sha256(rpid, strlen(rpid), out);
    n = 32;
    out[n++] = flags | (at ? 0x40 : 0);
    out[n++] = (unsigned char)(a->counter >> 24);
    out[n++] = (unsigned char)(a->counter >> 16);
    out[n++] = (unsigned char)(a->counter >> 8);
    out[n++] = (unsigned char)a->counter;
    if (at) {
        memset(out + n, 0, 16); /* AAGUID */
        n += 16;
        out[n++] = 0;
        out[n++] = sizeof(a->id);
        memcpy(out + n, a->id, sizeof(a->id));
        n += sizeof(a->id);
        cklen = cose_key(a, &ck);
        memcpy(out + n, ck, cklen);
        n += cklen;
        free(ck);
    }
    return n;
}

/* The signature over authData || SHA-256(clientDataJSON). */
size_t
authn_sign(const struct authn *a, const unsigned char *ad, size_t adlen,
     const char *cd, unsigned char *sig)
{
    unsigned char msg[1024];
    size_t siglen = 256;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    memcpy(msg, ad, adlen);
    util_sha256(cd, strlen(cd), msg + adlen);
    ASSERT_EQ(EVP_DigestSignInit(ctx, NULL, a->eddsa ? NULL : EVP_sha256(),
                                 NULL, a->key),
              1);
    ASSERT_EQ(EVP_DigestSign(ctx, sig, &siglen, msg, adlen + 32), 1);
    EVP_MD_CTX_free(ctx);
    return siglen;
}

/* An attestation object: fmt "none", or "packed" self attestation signed
 * by the credential key (with sig_flip, a signature that is wrong). */
size_t
authn_attobj(struct authn *a, const char *fmt, const char *rpid, unsigned char flags,
       const char *cd, int sig_flip, unsigned char **out)
{
    cbor_item_t *m = cbor_new_definite_map(3), *st;
    unsigned char ad[512], sig[256];
    size_t adlen, siglen, sz = 0, n;

    adlen = authn_auth_data(a, rpid, flags, 1, ad);
    if (strcmp(fmt, "packed") == 0) {
        siglen = authn_sign(a, ad, adlen, cd, sig);
        if (sig_flip)
            sig[siglen - 1] ^= 1;
        st = cbor_new_definite_map(2);
        map_add(st, cbor_build_string("alg"),
                cbor_build_negint8(a->eddsa ? 7 : 6));
        map_add(st, cbor_build_string("sig"), cbor_build_bytestring(sig, siglen));
    } else {
        st = cbor_new_definite_map(0);
    }
    map_add(m, cbor_build_string("fmt"), cbor_build_string(fmt));
    map_add(m, cbor_build_string("attStmt"), st);
    map_add(m, cbor_build_string("authData"), cbor_build_bytestring(ad, adlen));
    n = cbor_serialize_alloc(m, out, &sz);
    ASSERT(n > 0);
    cbor_decref(&m);
    return n;
}


/* A self-signed attestation certificate for key (DER into *der). */
static size_t
attestation_cert(EVP_PKEY *key, unsigned char **der)
{
    X509 *x = X509_new();
    X509_NAME *n;
    int len;

    ASSERT(x != NULL);
    ASSERT_EQ(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    ASSERT_EQ(X509_set_pubkey(x, key), 1);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *)"Test Attestation", -1,
                               -1, 0);
    X509_set_issuer_name(x, n);
    ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
    *der = NULL;
    len = i2d_X509(x, der);
    ASSERT(len > 0);
    X509_free(x);
    return (size_t)len;
}

size_t
authn_attobj_x5c(struct authn *a, const char *rpid, const char *cd,
                 int sig_flip, unsigned char **out)
{
    cbor_item_t *m = cbor_new_definite_map(3), *st, *chain;
    unsigned char ad[512], sig[256], *der = NULL;
    EVP_PKEY *att = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    struct authn signer = {0};
    size_t adlen, siglen, derlen, sz = 0, n;

    ASSERT(att != NULL);
    adlen = authn_auth_data(a, rpid, 0x05, 1, ad);
    /* Signed by the attestation key, not the credential's (§8.2). */
    signer.key = att;
    siglen = authn_sign(&signer, ad, adlen, cd, sig);
    if (sig_flip)
        sig[siglen - 1] ^= 1;
    derlen = attestation_cert(att, &der);
    chain = cbor_new_definite_array(1);
    ASSERT(cbor_array_push(chain, cbor_move(cbor_build_bytestring(der,
                                                                  derlen))));
    st = cbor_new_definite_map(3);
    map_add(st, cbor_build_string("alg"), cbor_build_negint8(6));
    map_add(st, cbor_build_string("sig"), cbor_build_bytestring(sig, siglen));
    map_add(st, cbor_build_string("x5c"), chain);
    map_add(m, cbor_build_string("fmt"), cbor_build_string("packed"));
    map_add(m, cbor_build_string("attStmt"), st);
    map_add(m, cbor_build_string("authData"), cbor_build_bytestring(ad, adlen));
    n = cbor_serialize_alloc(m, out, &sz);
    ASSERT(n > 0);
    cbor_decref(&m);
    OPENSSL_free(der);
    EVP_PKEY_free(att);
    return n;
}
