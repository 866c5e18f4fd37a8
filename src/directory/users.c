/* SPDX-License-Identifier: MIT */
/* Users: input checks, password hashing and claims, on top of
 * store_users.c. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/store/store.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"

#define EMAIL_MAX 254 /* RFC 5321 §4.5.3.1.3: the longest usable path */
#define NAME_MAX_BYTES 128

static int
is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* The 8-4-4-4-12 hex form util_uuid writes, in either case. */
static int
is_uuid(const char *s)
{
    size_t i;

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!is_hex((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

static int
username_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
           c == '-';
}

static int
valid_username(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (i >= USERNAME_MAX || !username_char((unsigned char)s[i]))
            return 0;
    }
    return i > 0;
}

/* Copies an ASCII name lower-cased into out (USERNAME_MAX + 1 or 37
 * bytes, as the caller has checked the length). */
static void
lower_copy(const char *s, char *out)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    out[i] = '\0';
}

/*
 * Well-formed UTF-8 of at most max bytes, without control characters (C0,
 * DEL, C1): these values end up in ID tokens and in the terminal of
 * whoever runs "user list".
 */
static int
printable_utf8(const char *str, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i, len = strlen(str);

    if (len > max || !util_utf8_valid(str, len))
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return 0;
        /* C1 (U+0080-U+009F) is C2 80-9F in well-formed UTF-8. */
        if (s[i] == 0xc2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
            return 0;
    }
    return 1;
}

/* Printable, and shaped like an address: something@something, no spaces.
 * Deliverability is not ours to judge, so nothing stricter. */
static int
valid_email(const char *s)
{
    const char *at = strrchr(s, '@');

    return printable_utf8(s, EMAIL_MAX) && at != NULL && at != s &&
           at[1] != '\0' && strchr(s, ' ') == NULL;
}

static int
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(int c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

/*
 * A BCP 47 language tag of the shape OIDC Core §5.1 shows ("en", "fr-CA",
 * "zh-Hans-CN"): a language of 2 to 8 letters, then subtags of 1 to 8
 * letters or digits, '-' between, at most 35 characters (RFC 5646
 * §4.4.1). Not checked against the registry, which grows.
 */
static int
valid_locale(const char *s)
{
    size_t i, len = 0, tags = 0;

    for (i = 0;; i++) {
        int c = (unsigned char)s[i];

        if (c == '-' || c == '\0') {
            if (len == 0 || len > 8 || (tags == 0 && len < 2))
                return 0;
            tags++;
            len = 0;
            if (c == '\0')
                break;
            continue;
        }
        if (tags == 0 ? !is_alpha(c) : !is_alnum(c))
            return 0;
        len++;
    }
    return i <= 35;
}

/*
 * A tz database name ("Europe/Paris", "America/Port-au-Prince", "UTC",
 * "Etc/GMT+5"): '/'-separated parts that start with a letter and hold
 * letters, digits, '_', '+' or '-', at most 64 characters. Not checked
 * against this host's /usr/share/zoneinfo: the apps reading the claim
 * have their own.
 */
static int
valid_zoneinfo(const char *s)
{
    size_t i;
    int start = 1;

    for (i = 0; s[i] != '\0'; i++) {
        int c = (unsigned char)s[i];

        if (i >= 64)
            return 0;
        if (start) {
            if (!is_alpha(c))
                return 0;
            start = 0;
        } else if (c == '/') {
            start = 1;
        } else if (!is_alnum(c) && c != '_' && c != '+' && c != '-') {
            return 0;
        }
    }
    return i > 0 && !start;
}

int
users_check_password(const char *password, const char **why)
{
    const char *reason = NULL;

    if (password == NULL || password[0] == '\0')
        reason = "password: must not be empty";
    else if (strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX)
        reason = "password: longer than 1024 bytes";
    if (reason == NULL)
        return 0;
    if (why != NULL)
        *why = reason;
    return GH_EINVAL;
}

static int
set_text(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int
check_new_user(const char *username, const struct user_info *info,
               const char **why)
{
    const char *reason = NULL;
    const char *email = info->email, *name = info->name;

    if (username == NULL || !valid_username(username))
        reason = "username: must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -";
    else if (is_uuid(username))
        /* "U" on the command line is a username or a sub: a username
         * shaped like a sub would be ambiguous. */
        reason = "username: must not have the form of a sub (a UUID)";
    else if (email != NULL && email[0] != '\0' && !valid_email(email))
        reason = "email: must be an address (name@domain) of at most 254 "
                 "bytes of printable UTF-8";
    else if (name != NULL && !printable_utf8(name, NAME_MAX_BYTES))
        reason = "name: must be at most 128 bytes of printable UTF-8";
    else if (info->given_name != NULL &&
             !printable_utf8(info->given_name, NAME_MAX_BYTES))
        reason = "given_name: must be at most 128 bytes of printable UTF-8";
    else if (info->family_name != NULL &&
             !printable_utf8(info->family_name, NAME_MAX_BYTES))
        reason = "family_name: must be at most 128 bytes of printable UTF-8";
    else if (set_text(info->locale) && !valid_locale(info->locale))
        reason = "locale: must be a BCP 47 language tag such as en or fr-CA";
    else if (set_text(info->zoneinfo) && !valid_zoneinfo(info->zoneinfo))
        reason = "zoneinfo: must be a time zone name such as Europe/Paris";
    else if (info->email_verified && !set_text(email))
        /* OIDC Core §5.1: it says whether the address was verified. */
        reason = "email_verified: the user has no email";
    if (reason == NULL)
        return 0;
    if (why != NULL)
        *why = reason;
    return GH_EINVAL;
}

/*
 * The sub that name_or_sub stands for. A string that could never have
 * been created names no user: GH_ENOTFOUND, as for an unknown one, so a
 * sign-in form treats both alike.
 */
static int
find_sub(struct store *st, const char *name_or_sub, char sub[37])
{
    char lower[USERNAME_MAX + 1];

    if (name_or_sub == NULL)
        return GH_ENOTFOUND;
    if (is_uuid(name_or_sub)) {
        lower_copy(name_or_sub, sub);
        return 0;
    }
    if (!valid_username(name_or_sub))
        return GH_ENOTFOUND;
    lower_copy(name_or_sub, lower);
    return store_user_find_sub(st, lower, sub);
}

/* NULL read as "". The cast is for struct user's fields, filled with
 * borrowed strings for store_user_create, which only reads them. */
static char *
or_empty(const char *s)
{
    return (char *)(s != NULL ? s : "");
}

int
users_add(struct store *st, const char *username,
          const struct user_info *info, const char *password,
          char sub_out[37], const char **why)
{
    static const struct user_info none;
    struct user u;
    char *hash = NULL;
    int rc;

    if (info == NULL)
        info = &none;
    if ((rc = check_new_user(username, info, why)) < 0 ||
        (rc = users_check_password(password, why)) < 0)
        return rc;
    memset(&u, 0, sizeof(u));
    if ((rc = util_uuid(u.sub)) < 0)
        goto out;
    if ((rc = password_hash(password, &hash)) < 0)
        goto out;
    u.username = or_empty(username);
    u.email = or_empty(info->email);
    u.name = or_empty(info->name);
    u.given_name = or_empty(info->given_name);
    u.family_name = or_empty(info->family_name);
    u.locale = or_empty(info->locale);
    u.zoneinfo = or_empty(info->zoneinfo);
    u.email_verified = info->email_verified;
    u.hash = hash;
    u.created = u.updated = util_now();
    if ((rc = store_user_create(st, &u)) < 0)
        goto out;
    memcpy(sub_out, u.sub, sizeof(u.sub));
out:
    util_free_secret(hash);
    return rc;
}

int
users_get(struct store *st, const char *name_or_sub, struct user **ret)
{
    char sub[37];
    int rc;

    if ((rc = find_sub(st, name_or_sub, sub)) < 0)
        return rc;
    return store_user_get(st, sub, ret);
}

int
users_set_password(struct store *st, const char *name_or_sub,
                   const char *password, const char **why)
{
    struct user *u = NULL;
    char *hash = NULL;
    int rc;

    if ((rc = users_check_password(password, why)) < 0)
        return rc;
    /* Found before hashing: an unknown user costs no scrypt. */
    if ((rc = users_get(st, name_or_sub, &u)) < 0)
        goto out;
    if ((rc = password_hash(password, &hash)) < 0)
        goto out;
    rc = store_user_set(st, u->sub, "h", hash, util_now());
out:
    util_free_secret(hash);
    user_free(u);
    return rc;
}

int
users_set_email_verified(struct store *st, const char *name_or_sub,
                         const char **why)
{
    struct user *u = NULL;
    int rc;

    if ((rc = users_get(st, name_or_sub, &u)) < 0)
        goto out;
    if (u->email[0] == '\0') {
        if (why != NULL)
            *why = "email_verified: the user has no email";
        rc = GH_EINVAL;
        goto out;
    }
    if (!u->email_verified)
        rc = store_user_set(st, u->sub, "ev", "1", util_now());
out:
    user_free(u);
    return rc;
}

int
users_disable(struct store *st, const char *name_or_sub)
{
    struct user *u = NULL;
    int rc;

    if ((rc = users_get(st, name_or_sub, &u)) < 0)
        goto out;
    /* Already disabled: leave its updated time alone. */
    if (!u->disabled)
        rc = store_user_set(st, u->sub, "d", "1", util_now());
out:
    user_free(u);
    return rc;
}

int
users_list(struct store *st, struct user ***ret, size_t *n)
{
    struct user **list = NULL;
    char **subs = NULL;
    size_t nsubs = 0, count = 0, i;
    int rc;

    if ((rc = store_user_list(st, &subs, &nsubs)) < 0)
        return rc;
    if ((list = calloc(nsubs + 1, sizeof(*list))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < nsubs; i++) {
        rc = store_user_get(st, subs[i], &list[count]);
        /* user_create writes the index and the record in one step, so a
         * sub without a record is not expected; skip rather than fail. */
        if (rc == GH_ENOTFOUND)
            continue;
        if (rc < 0)
            goto out;
        count++;
    }
    *ret = list;
    *n = count;
    list = NULL;
    rc = 0;
out:
    users_free_list(list, count);
    for (i = 0; i < nsubs; i++)
        free(subs[i]);
    free(subs);
    return rc;
}

void
users_free_list(struct user **list, size_t n)
{
    size_t i;

    if (list == NULL)
        return;
    for (i = 0; i < n; i++)
        user_free(list[i]);
    free(list);
}

/* Whether the space-separated scope list (RFC 6749 §3.3) holds want. */
static int
has_scope(const char *scope, const char *want)
{
    size_t len = strlen(want);
    const char *p = scope;

    if (scope == NULL)
        return 0;
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        if (n == len && strncmp(p, want, len) == 0)
            return 1;
        p += n;
        p += strspn(p, " ");
    }
    return 0;
}

static int
set_string(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value));
}

/* A claim the user may not have: absent rather than "" (OIDC Core §5.3.2). */
static int
set_if_any(json_t *obj, const char *key, const char *value)
{
    return set_text(value) ? set_string(obj, key, value) : 0;
}

json_t *
users_claims(const struct user *u, const char *scope)
{
    json_t *c;
    int bad = 0;

    if ((c = json_pack("{s:s}", "sub", u->sub)) == NULL)
        return NULL;
    if (has_scope(scope, "profile")) {
        bad |= set_if_any(c, "name", u->name);
        bad |= set_if_any(c, "given_name", u->given_name);
        bad |= set_if_any(c, "family_name", u->family_name);
        bad |= set_string(c, "preferred_username", u->username);
        bad |= set_if_any(c, "locale", u->locale);
        bad |= set_if_any(c, "zoneinfo", u->zoneinfo);
        if (u->updated > 0)
            bad |= json_object_set_new(c, "updated_at",
                                       json_integer((json_int_t)u->updated));
    }
    if (has_scope(scope, "email")) {
        bad |= set_if_any(c, "email", u->email);
        /* Gatehouse sends no mail: true only where an administrator said
         * so (user add/passwd --email-verified). */
        bad |= json_object_set_new(c, "email_verified",
                                   json_boolean(u->email_verified));
    }
    if (bad) {
        json_decref(c);
        return NULL;
    }
    return c;
}

json_t *
users_json(const struct user *u)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:b, "
                     "s:I, s:I}",
                     "sub", u->sub, "username", u->username, "email",
                     or_empty(u->email), "email_verified", u->email_verified,
                     "name", or_empty(u->name), "given_name",
                     or_empty(u->given_name), "family_name",
                     or_empty(u->family_name), "locale",
                     or_empty(u->locale), "zoneinfo", or_empty(u->zoneinfo),
                     "disabled", u->disabled, "created",
                     (json_int_t)u->created, "updated",
                     (json_int_t)u->updated);
}
