/* SPDX-License-Identifier: MIT */
/* Passkeys of a user (SPEC §7): the challenge of a ceremony, sealed into
 * the page under the deployment's MAC key rather than stored, so an
 * anonymous visitor stores nothing; a registration, a sign-in, the list
 * and removal. A challenge is recorded as used only when its ceremony
 * succeeds, and a second use is refused (store_passkeys.c). */
#ifndef GATEHOUSE_PASSKEYS_H
#define GATEHOUSE_PASSKEYS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gatehouse/core/util.h"
#include "gatehouse/crypto/webauthn.h"
#include "gatehouse/store/store.h"

/* The seal purposes: a registration is bound to the user's sub, a
 * sign-in to the pre-sign-in binding the caller has for the browser. */
#define PASSKEY_PURPOSE_REGISTER "pkreg"
#define PASSKEY_PURPOSE_SIGN_IN "pkauth"
/* What a user may call a passkey: 1 to this many bytes of UTF-8. */
#define PASSKEY_NAME_MAX 64
#define PASSKEY_CHALLENGE_TEXT (B64URL_LEN(WEBAUTHN_CHALLENGE_LEN) + 1)

/*
 * A new challenge for purpose bound to binding: its base64url into
 * challenge (what the page hands navigator.credentials), and the sealed
 * state the form carries back, valid PASSKEY_CHALLENGE_TTL_S, into
 * *sealed (malloc'd; the caller frees it). Nothing is stored. 0,
 * GH_EREDIS (no MAC key), GH_ECRYPTO.
 */
int passkeys_challenge(struct store *st, const char *purpose,
                       const char *binding,
                       char challenge[PASSKEY_CHALLENGE_TEXT], char **sealed);

/*
 * Registers the passkey the browser made for sub: sealed is the form's
 * state from passkeys_challenge(PASSKEY_PURPOSE_REGISTER, sub),
 * client_data and attobj the browser's base64url, name what the user
 * typed (empty: "Passkey"). 0; GH_EBADTOKEN (state forged, expired or
 * used); GH_EINVAL (malformed input, or a name not 1..PASSKEY_NAME_MAX
 * bytes of UTF-8 without control characters); GH_EDENIED (the
 * authenticator's answer is not valid for us); GH_EEXISTS (registered
 * already); GH_ETOOBIG (PASSKEYS_MAX reached); GH_EREDIS. Nothing
 * changes unless 0.
 */
int passkeys_register(struct store *st, const struct webauthn_rp *rp,
                      const char *sub, const char *sealed,
                      const char *client_data, const char *attobj,
                      const char *name, int64_t now);

/*
 * A sign-in with a passkey: sealed from passkeys_challenge(
 * PASSKEY_PURPOSE_SIGN_IN, binding); cred_id, client_data, auth_data and
 * sig the browser's base64url. With want_sub (a second factor after the
 * password) the credential must be that user's. On success the
 * credential's owner into *sub (malloc'd) and whether the authenticator
 * verified the user into *uv. 0; GH_EBADTOKEN (state forged, expired or
 * used); GH_EINVAL; GH_ENOTFOUND (no such credential, or not want_sub's);
 * GH_EDENIED (signature, RP, origin or a counter that did not grow);
 * GH_EREDIS. Nothing changes unless 0.
 */
int passkeys_sign_in(struct store *st, const struct webauthn_rp *rp,
                     const char *binding, const char *sealed,
                     const char *want_sub, const char *cred_id,
                     const char *client_data, const char *auth_data,
                     const char *sig, char **sub, int *uv);

/* The credential id's owner into *sub (malloc'd), before its answer is
 * checked (to count a failed passkey sign-in against that user).
 * GH_EINVAL (not a credential id), GH_ENOTFOUND, GH_EREDIS. */
int passkeys_owner(struct store *st, const char *cred_id, char **sub);

/*
 * The user's passkeys as operators see them, appended to the "factors"
 * array of listing (factors_json's), oldest first: {"type": "passkey",
 * "state": "active", "name", "created", "activated" (= created),
 * "last_used" (0: never)} — never the credential's id or key. The
 * passkeys do not decide the sign-in's code step (factors_list does).
 * 0, GH_EREDIS, GH_EPROTO, GH_ENOMEM.
 */
int passkeys_list_json(struct store *st, const char *sub, json_t *listing);

#endif
