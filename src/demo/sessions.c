/* SPDX-License-Identifier: MIT */
/* The demo app's memory (see sessions.h): two short lists under one mutex.
 * A real app would keep its sessions wherever it keeps them today; what
 * matters is that it can find them by Gatehouse's sid. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "oidc.h"
#include "sessions.h"

struct session_entry {
    char id[44]; /* our cookie's value */
    time_t created;
    struct local_session s;
    struct session_entry *next;
};

struct pending_entry {
    struct pending p;
    time_t created;
    struct pending_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct session_entry *sessions;
static struct pending_entry *pendings;

static void
clear(struct local_session *s)
{
    free(s->sid);
    free(s->sub);
    free(s->username);
    free(s->id_token);
}

void
session_free(struct local_session *s)
{
    if (s == NULL)
        return;
    clear(s);
    free(s);
}

static struct local_session *
copy(const struct local_session *from)
{
    struct local_session *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->sid = strdup(from->sid);
    s->sub = strdup(from->sub);
    s->username = strdup(from->username);
    s->id_token = strdup(from->id_token);
    if (s->sid == NULL || s->sub == NULL || s->username == NULL ||
        s->id_token == NULL) {
        session_free(s);
        return NULL;
    }
    return s;
}

/* Unlinks and frees the sessions that match (sid, sub, or id) or have
 * expired. Lock held. Returns how many matched. */
static int
sweep(const char *id, const char *sid, const char *sub)
{
    struct session_entry **pp = &sessions, *e;
    time_t now = time(NULL);
    int n = 0, match;

    while ((e = *pp) != NULL) {
        match = (id && CRYPTO_memcmp(e->id, id, sizeof(e->id)) == 0) ||
                (sid && strcmp(e->s.sid, sid) == 0) ||
                (sub && strcmp(e->s.sub, sub) == 0);
        if (!match && now - e->created < SESSION_TTL_S) {
            pp = &e->next;
            continue;
        }
        n += match;
        *pp = e->next;
        clear(&e->s);
        free(e);
    }
    return n;
}

int
session_add(const json_t *claims, const char *id_token, char id_out[44])
{
    struct session_entry *e = calloc(1, sizeof(*e));
    const char *sid = json_string_value(json_object_get(claims, "sid"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const char *user =
        json_string_value(json_object_get(claims, "preferred_username"));

    if (e == NULL || oidc_random(e->id) < 0) {
        free(e);
        return -1;
    }
    e->created = time(NULL);
    e->s.sid = strdup(sid ? sid : "");
    e->s.sub = strdup(sub ? sub : "");
    e->s.username = strdup(user ? user : sub ? sub : "");
    e->s.id_token = strdup(id_token);
    if (e->s.sid == NULL || e->s.sub == NULL || e->s.username == NULL ||
        e->s.id_token == NULL) {
        clear(&e->s);
        free(e);
        return -1;
    }
    memcpy(id_out, e->id, sizeof(e->id));
    pthread_mutex_lock(&lock);
    sweep(NULL, NULL, NULL);
    e->next = sessions;
    sessions = e;
    pthread_mutex_unlock(&lock);
    return 0;
}

static struct local_session *
find(const char *id, int take)
{
    struct local_session *s = NULL;
    struct session_entry *e;

    if (strlen(id) != 43)
        return NULL;
    pthread_mutex_lock(&lock);
    for (e = sessions; e != NULL && s == NULL; e = e->next)
        if (CRYPTO_memcmp(e->id, id, sizeof(e->id)) == 0 &&
            time(NULL) - e->created < SESSION_TTL_S)
            s = copy(&e->s);
    if (take)
        sweep(id, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return s;
}

struct local_session *
session_get(const char *id)
{
    return find(id, 0);
}

struct local_session *
session_take(const char *id)
{
    return find(id, 1);
}

int
sessions_end(const char *sid, const char *sub)
{
    int n;

    if ((sid == NULL || *sid == '\0') && (sub == NULL || *sub == '\0'))
        return 0;
    pthread_mutex_lock(&lock);
    n = sweep(NULL, sid, sub);
    pthread_mutex_unlock(&lock);
    return n;
}

int
session_count(void)
{
    struct session_entry *e;
    int n = 0;

    pthread_mutex_lock(&lock);
    for (e = sessions; e != NULL; e = e->next)
        n++;
    pthread_mutex_unlock(&lock);
    return n;
}

int
pending_add(const struct pending *p)
{
    struct pending_entry *e = calloc(1, sizeof(*e)), **pp, *x;
    time_t now = time(NULL);

    if (e == NULL)
        return -1;
    e->p = *p;
    e->created = now;
    pthread_mutex_lock(&lock);
    for (pp = &pendings; (x = *pp) != NULL;) { /* forget abandoned ones */
        if (now - x->created >= PENDING_TTL_S) {
            *pp = x->next;
            free(x);
        } else {
            pp = &x->next;
        }
    }
    e->next = pendings;
    pendings = e;
    pthread_mutex_unlock(&lock);
    return 0;
}

struct pending *
pending_take(const char *state)
{
    struct pending_entry **pp, *e;
    struct pending *p = NULL;

    pthread_mutex_lock(&lock);
    for (pp = &pendings; (e = *pp) != NULL; pp = &e->next) {
        if (strcmp(e->p.state, state) == 0) {
            *pp = e->next;
            if (time(NULL) - e->created < PENDING_TTL_S &&
                (p = malloc(sizeof(*p))) != NULL)
                *p = e->p;
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return p;
}

void
sessions_clear(void)
{
    struct pending_entry *e;
    struct session_entry *s;

    pthread_mutex_lock(&lock);
    while ((s = sessions) != NULL) {
        sessions = s->next;
        clear(&s->s);
        free(s);
    }
    while ((e = pendings) != NULL) {
        pendings = e->next;
        free(e);
    }
    pthread_mutex_unlock(&lock);
}
