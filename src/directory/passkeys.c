/* SPDX-License-Identifier: MIT */
/* Passkey ceremonies on top of crypto/webauthn.c (the checks) and
 * store_passkeys.c (the records): the sealed challenge, the base64url the
 * browser posts, and the order of things, so nothing is recorded for an
 * answer that does not verify. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/text.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/seal.h"
#include "gatehouse/directory/passkeys.h"

int
passkeys_challenge(struct store *st, const char *purpose, const char *binding,
                   char challenge[PASSKEY_CHALLENGE_TEXT], char **sealed)
{
    unsigned char key[SEAL_KEY_LEN];
    char c[PASSKEY_CHALLENGE_TEXT];
    json_t *claims = NULL;
    int rc;

    if ((rc = util_random_id(c, WEBAUTHN_CHALLENGE_LEN)) < 0)
        return rc;
    if ((rc = store_mac_key(st, key)) < 0)
        return rc;
    claims = json_pack("{s:s}", "c", c);
    if (claims == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = seal_make(key, purpose, binding, claims,
                        util_now() + STORE_PASSKEY_CHALLENGE_TTL_S, sealed)) <
        0)
        goto out;
    memcpy(challenge, c, sizeof(c));
out:
    OPENSSL_cleanse(key, sizeof(key));
    json_decref(claims);
    return rc;
}

/* The challenge sealed for purpose and binding, and its SHA-256 (hex),
 * the name it is recorded as used under. */
static int
challenge_open(struct store *st, const char *purpose, const char *binding,
               const char *sealed, char challenge[PASSKEY_CHALLENGE_TEXT],
               char hash[65])
{
    unsigned char key[SEAL_KEY_LEN];
    json_t *claims = NULL;
    const char *c;
    int rc;

    if (sealed == NULL)
        return GH_EBADTOKEN;
    if ((rc = store_mac_key(st, key)) < 0)
        return rc;
    rc = seal_open(key, purpose, binding, sealed, strlen(sealed), util_now(),
                   &claims);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc == GH_EEXPIRED || rc == GH_EINVAL)
        rc = GH_EBADTOKEN;
    if (rc < 0)
        return rc;
    c = json_string_value(json_object_get(claims, "c"));
    if (c == NULL || strlen(c) != PASSKEY_CHALLENGE_TEXT - 1) {
        rc = GH_EBADTOKEN;
    } else {
        memcpy(challenge, c, PASSKEY_CHALLENGE_TEXT);
        util_sha256_hex(c, strlen(c), hash);
    }
    json_decref(claims);
    return rc;
}

/* Browser base64url into bytes: GH_EINVAL if missing, malformed or over
 * max. */
static int
b64_in(const char *in, size_t max, unsigned char **out, size_t *len)
{
    size_t n;

    if (in == NULL || (n = strlen(in)) == 0 || n > B64URL_LEN(max))
        return GH_EINVAL;
    return b64url_decode(in, n, out, len) < 0 ? GH_EINVAL : 0;
}

static int
name_valid(const char *name)
{
    return text_one_line(name, 1, PASSKEY_NAME_MAX) &&
           util_utf8_valid(name, strlen(name));
}

int
passkeys_register(struct store *st, const struct webauthn_rp *rp,
                  const char *sub, const char *sealed,
                  const char *client_data, const char *attobj,
                  const char *name, int64_t now)
{
    char challenge[PASSKEY_CHALLENGE_TEXT], hash[65];
    unsigned char *cd = NULL, *ao = NULL;
    size_t cd_len = 0, ao_len = 0;
    struct webauthn_credential cred = {0};
    struct passkey_record rec = {0};
    int rc;

    if (name == NULL || name[0] == '\0')
        name = "Passkey";
    if (!name_valid(name))
        return GH_EINVAL;
    if ((rc = challenge_open(st, PASSKEY_PURPOSE_REGISTER, sub, sealed,
                             challenge, hash)) < 0)
        return rc;
    if ((rc = b64_in(client_data, WEBAUTHN_CLIENT_DATA_MAX, &cd, &cd_len)) <
            0 ||
        (rc = b64_in(attobj, WEBAUTHN_ATTOBJ_MAX, &ao, &ao_len)) < 0)
        goto out;
    if ((rc = webauthn_register_verify(rp, challenge, cd, cd_len, ao, ao_len,
                                       &cred)) < 0)
        goto out;
    rec.id = b64url_encode_alloc(cred.id, cred.id_len);
    rec.pubkey = b64url_encode_alloc(cred.pubkey, cred.pubkey_len);
    rec.alg = cred.cose_alg;
    rec.counter = cred.counter;
    rec.created = now;
    rec.name = (char *)name;
    rc = store_passkey_add(st, sub, &rec, hash);
    rec.name = NULL;
out:
    store_passkey_record_clear(&rec);
    webauthn_credential_clear(&cred);
    free(cd);
    free(ao);
    return rc;
}

int
passkeys_sign_in(struct store *st, const struct webauthn_rp *rp,
                 const char *binding, const char *sealed, const char *want_sub,
                 const char *cred_id, const char *client_data,
                 const char *auth_data, const char *sig, char **sub, int *uv)
{
    char challenge[PASSKEY_CHALLENGE_TEXT], hash[65];
    unsigned char *cd = NULL, *ad = NULL, *sg = NULL;
    size_t cd_len = 0, ad_len = 0, sg_len = 0, idlen;
    struct passkey_record rec = {0};
    struct webauthn_credential cred = {0};
    char *owner = NULL;
    uint32_t counter = 0;
    int rc, verified = 0;

    if ((rc = challenge_open(st, PASSKEY_PURPOSE_SIGN_IN, binding, sealed,
                             challenge, hash)) < 0)
        return rc;
    if (cred_id == NULL || (idlen = strlen(cred_id)) == 0 ||
        idlen > B64URL_LEN(WEBAUTHN_CRED_ID_MAX) ||
        !b64url_valid(cred_id, idlen))
        return GH_EINVAL;
    if ((rc = b64_in(client_data, WEBAUTHN_CLIENT_DATA_MAX, &cd, &cd_len)) <
            0 ||
        (rc = b64_in(auth_data, 1024, &ad, &ad_len)) < 0 ||
        (rc = b64_in(sig, 1024, &sg, &sg_len)) < 0)
        goto out;
    if ((rc = store_passkey_owner(st, cred_id, &owner)) < 0)
        goto out;
    if (want_sub != NULL && strcmp(owner, want_sub) != 0) {
        rc = GH_ENOTFOUND;
        goto out;
    }
    if ((rc = store_passkey_get(st, owner, cred_id, &rec)) < 0)
        goto out;
    if (b64url_decode(rec.pubkey, strlen(rec.pubkey), &cred.pubkey,
                      &cred.pubkey_len) < 0) {
        rc = GH_EPROTO;
        goto out;
    }
    cred.cose_alg = rec.alg;
    cred.counter = rec.counter;
    if ((rc = webauthn_assert_verify(rp, challenge, &cred, cd, cd_len, ad,
                                     ad_len, sg, sg_len, &counter,
                                     &verified)) < 0)
        goto out;
    if ((rc = store_passkey_use(st, owner, cred_id, rec.counter, counter, hash,
                                util_now())) < 0)
        goto out;
    *sub = owner;
    owner = NULL;
    *uv = verified;
out:
    free(owner);
    store_passkey_record_clear(&rec);
    webauthn_credential_clear(&cred);
    free(cd);
    free(ad);
    free(sg);
    return rc;
}

int
passkeys_owner(struct store *st, const char *cred_id, char **sub)
{
    size_t idlen;

    if (cred_id == NULL || (idlen = strlen(cred_id)) == 0 ||
        idlen > B64URL_LEN(WEBAUTHN_CRED_ID_MAX) ||
        !b64url_valid(cred_id, idlen))
        return GH_EINVAL;
    return store_passkey_owner(st, cred_id, sub);
}

int
passkeys_list_json(struct store *st, const char *sub, json_t *listing)
{
    struct passkey_record *p = NULL;
    json_t *arr = json_object_get(listing, "factors"), *o;
    size_t n = 0, i;
    int rc;

    if (!json_is_array(arr))
        return GH_ENOMEM;
    if ((rc = store_passkeys_list(st, sub, &p, &n)) < 0)
        return rc;
    for (i = 0; i < n; i++) {
        o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "type", "passkey",
                      "state", "active", "name", p[i].name, "created",
                      (json_int_t)p[i].created, "activated",
                      (json_int_t)p[i].created, "last_used",
                      (json_int_t)p[i].last_used);
        if (o == NULL || json_array_append_new(arr, o) < 0) {
            rc = GH_ENOMEM;
            break;
        }
    }
    store_passkeys_free(p, n);
    return rc;
}
