/* SPDX-License-Identifier: MIT */
/* Users: who can sign in. Records live in Redis (store_users.c); this
 * module checks input and hashes passwords. */
#ifndef GATEHOUSE_USERS_H
#define GATEHOUSE_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* struct user, USERNAME_MAX and user_free: the record the store keeps. */
#include "gatehouse/store/records.h"

struct store;

/* What a new user may carry besides username and password; NULL fields
 * are unset. Borrowed by users_add. */
struct user_info {
    const char *email;
    const char *name;
    const char *given_name;
    const char *family_name;
    const char *locale;
    const char *zoneinfo;
    bool email_verified;
};

/* 0 if password is one users_add takes (1..PASSWORD_MAX bytes), else
 * GH_EINVAL with *why (when not NULL) set to a static reason. */
int users_check_password(const char *password, const char **why);

/*
 * Creates a user. username: 1..64 of [A-Za-z0-9._@-]; info (may be NULL):
 * email an address of up to 254 bytes, name, given_name, family_name
 * printable UTF-8 up to 128 bytes, locale a BCP 47 tag, zoneinfo a tz
 * database name, email_verified only with an email; password:
 * 1..PASSWORD_MAX bytes. Hashes with scrypt (slow: not on an HTTP thread).
 * Writes the new sub into sub_out. GH_EEXISTS if the username is taken
 * (case-insensitively), GH_EINVAL with *why set to a static reason for bad
 * input.
 */
int users_add(struct store *st, const char *username,
              const struct user_info *info, const char *password,
              char sub_out[37], const char **why);

/* Finds a user by username (case-insensitive) or by sub. *ret is owned by
 * the caller (user_free). GH_ENOTFOUND if none. */
int users_get(struct store *st, const char *name_or_sub, struct user **ret);

/* Sets a new password (hashed here). GH_ENOTFOUND, GH_EINVAL. */
int users_set_password(struct store *st, const char *name_or_sub,
                       const char *password, const char **why);

/* Marks the user's email address verified (the email_verified claim).
 * GH_ENOTFOUND, or GH_EINVAL with *why set if the user has no email. */
int users_set_email_verified(struct store *st, const char *name_or_sub,
                             const char **why);

/* Marks the user disabled: they can no longer sign in. Ending the user's
 * sessions is the caller's part (session_end_user). */
int users_disable(struct store *st, const char *name_or_sub);

/* Every user, oldest first. *ret is an array of *n users the caller frees
 * with users_free_list. */
int users_list(struct store *st, struct user ***ret, size_t *n);
void users_free_list(struct user **list, size_t n);

/*
 * The claims scope grants (OIDC Core §5.4): "profile" gives
 * preferred_username, updated_at and those of name, given_name,
 * family_name, locale and zoneinfo the user has; "email" gives email and
 * email_verified. Returns a new object with sub and those claims.
 */
json_t *users_claims(const struct user *u, const char *scope);

/* The user record as the admin API and "user list --json" show it:
 * everything but the password hash. Returns a new object, or NULL. */
json_t *users_json(const struct user *u);

#endif
