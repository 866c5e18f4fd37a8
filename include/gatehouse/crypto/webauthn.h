/* SPDX-License-Identifier: MIT */
/* WebAuthn Level 2 verification (SPEC §7): the browser's clientDataJSON
 * (jansson), the attestation object (libcbor), and the registration and
 * assertion checks through libfido2. No COSE or CBOR of our own. */
#ifndef GATEHOUSE_WEBAUTHN_H
#define GATEHOUSE_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>

/* A challenge is 32 random bytes, handed out and compared as base64url. */
#define WEBAUTHN_CHALLENGE_LEN 32
/* WebAuthn §5.8.1 lets a browser send a large clientDataJSON; ours never
 * is past a few hundred bytes, so anything past this is refused. */
#define WEBAUTHN_CLIENT_DATA_MAX 4096
/* Attestation objects with an x5c chain run to a few KiB. */
#define WEBAUTHN_ATTOBJ_MAX 16384
/* A credential id is at most 1023 bytes (WebAuthn §5.8.3 credential id). */
#define WEBAUTHN_CRED_ID_MAX 1023

/* What clientDataJSON says (WebAuthn §5.8.1). */
struct webauthn_client_data {
    char *type;      /* "webauthn.create" or "webauthn.get" */
    char *challenge; /* base64url, as the browser echoed it */
    char *origin;    /* "https://host[:port]" */
};

/*
 * Parses len bytes of clientDataJSON: a JSON object whose type,
 * challenge and origin are strings (other members are ignored, as
 * §5.8.1 asks). Fills *ret with malloc'd copies; the caller frees them
 * with webauthn_client_data_clear. 0, GH_EINVAL (malformed or too big),
 * GH_ENOMEM.
 */
int webauthn_client_data_parse(const void *json, size_t len,
                               struct webauthn_client_data *ret);
void webauthn_client_data_clear(struct webauthn_client_data *cd);

/* What the attestation object holds (WebAuthn §6.5). */
struct webauthn_attobj {
    char *fmt;                 /* "none", "packed", ... */
    unsigned char *auth_data;  /* raw authenticator data */
    size_t auth_data_len;
    unsigned char *att_stmt;   /* attStmt re-encoded as CBOR */
    size_t att_stmt_len;
};

/*
 * Parses len bytes of a CBOR attestation object: a map with a text fmt,
 * a map attStmt and a byte string authData. Fills *ret with malloc'd
 * copies; the caller frees them with webauthn_attobj_clear. 0, GH_EINVAL
 * (not that shape, trailing bytes, too big), GH_ENOMEM.
 */
int webauthn_attobj_parse(const void *cbor, size_t len,
                          struct webauthn_attobj *ret);
void webauthn_attobj_clear(struct webauthn_attobj *ao);

/* The relying party a ceremony is for: the issuer's origin
 * ("http://localhost:8080") and its host, the RP ID. */
struct webauthn_rp {
    const char *origin;
    const char *id;
};

/*
 * The RP of an issuer URL: origin is scheme://host[:port] (path dropped),
 * id the host alone. Writes into the caller's buffers. GH_EINVAL if the
 * URL has no http(s) scheme or no host, or the host is an IP literal
 * (an RP ID cannot be one) or the buffers are too small.
 */
int webauthn_rp_from_issuer(const char *issuer, char *origin, size_t olen,
                            char *id, size_t idlen);

/* A registered credential as we keep it. cose_alg is the COSE algorithm
 * (-7 ES256, -8 EdDSA, -257 RS256); pubkey libfido2's raw form of the
 * key for that type. */
struct webauthn_credential {
    unsigned char *id;
    size_t id_len;
    int cose_alg;
    unsigned char *pubkey;
    size_t pubkey_len;
    uint32_t counter;
};
void webauthn_credential_clear(struct webauthn_credential *c);

/*
 * Verifies a registration (WebAuthn §7.1): clientDataJSON of type
 * webauthn.create with this challenge (base64url) and rp's origin; an
 * attestation object of fmt "none" or "packed" (self attestation, or an
 * x5c chain whose leaf signed it; the chain is not checked against any
 * root: Gatehouse accepts any authenticator); authData for SHA-256(rp id)
 * with the user-present flag and an attested credential. Fills *ret with
 * the new credential (malloc'd; webauthn_credential_clear). 0, GH_EINVAL
 * (malformed), GH_EDENIED (well formed but not for us or not valid),
 * GH_ENOMEM.
 */
int webauthn_register_verify(const struct webauthn_rp *rp,
                             const char *challenge,
                             const void *client_data, size_t cd_len,
                             const void *attobj, size_t ao_len,
                             struct webauthn_credential *ret);

/*
 * Verifies an assertion (WebAuthn §7.2) by the credential cred:
 * clientDataJSON of type webauthn.get with this challenge and rp's
 * origin; authData for SHA-256(rp id) with user present; sig over
 * authData || SHA-256(clientDataJSON) by cred's key; and the sign
 * counter greater than cred->counter unless both are 0 (§6.1.1: a
 * counter that did not grow means a cloned authenticator). Writes the
 * new counter into *counter and whether the user was verified into
 * *uv. 0, GH_EINVAL, GH_EDENIED (also for a counter that went back).
 */
int webauthn_assert_verify(const struct webauthn_rp *rp,
                           const char *challenge,
                           const struct webauthn_credential *cred,
                           const void *client_data, size_t cd_len,
                           const void *auth_data, size_t ad_len,
                           const void *sig, size_t sig_len,
                           uint32_t *counter, int *uv);

#endif
